import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { STORES } from '../helpers/stores.js';
import { DEMO, graph, startTestApp, type TestApp } from '../helpers/test-app.js';
import { admin, ADMIN_KEY, ARTIFACT_SCOPES, calendarMeeting, recordSession, sessionBody } from '../helpers/artifacts.js';

const C = DEMO.contoso;
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- parsed JSON under test
type Json = any;

for (const kind of STORES) {
  describe(`${kind}: POST /_emulator/sessions and the recording upload (issue #17)`, () => {
    let t: TestApp;
    let alice: string;
    let m: Awaited<ReturnType<typeof calendarMeeting>>;
    before(async () => {
      t = await startTestApp(kind, { env: { ADMIN_KEY, RECORDING_UPLOAD_LIMIT_BYTES: String(2 * 1024 * 1024) } });
      alice = await t.userToken(C.alice.upn, ARTIFACT_SCOPES);
      m = await calendarMeeting(t, alice);
    });
    after(() => t.close());

    const expect400 = async (body: unknown, message: RegExp) => {
      const res = await admin(t, 'POST', '/_emulator/sessions', body);
      assert.equal(res.statusCode, 400, res.body);
      const error = (res.json() as Json).error;
      assert.equal(error.code, 'BadRequest');
      assert.match(error.message, message);
    };

    test("the issue's example body: 201 with the four ids; by meeting id too; transcript and recording optional", async () => {
      const s = await recordSession(t, sessionBody(m.joinWebUrl));
      assert.deepEqual(Object.keys(s).sort(), ['attendanceReportId', 'id', 'recordingId', 'transcriptId']);
      assert.match(s.id, /^[0-9a-f-]{36}$/);
      assert.match(s.attendanceReportId, /^[0-9a-f-]{36}$/);
      // §2.3: V2 ids embed organizer, tenant and the event's iCalUId.
      const decoded = Buffer.from(s.transcriptId!, 'base64').toString();
      assert.equal(decoded, `V2##1${C.alice.id}${C.tenantId}${m.event.iCalUId}##${decoded.split('##')[2]}`);
      assert.match(Buffer.from(s.recordingId!, 'base64').toString(), /^V2##1/);
      const plain = await recordSession(
        t,
        sessionBody(m.joinWebUrl, { meeting: { id: m.meetingId }, transcript: undefined, recording: undefined }),
      );
      assert.equal(plain.transcriptId, null);
      assert.equal(plain.recordingId, null);
    });

    test('the control API needs the admin key', async () => {
      const res = await t.inject({
        method: 'POST',
        url: '/_emulator/sessions',
        headers: { 'content-type': 'application/json' },
        payload: '{}',
      });
      assert.equal(res.statusCode, 401);
    });

    test('every inconsistency is a 400 naming it', async () => {
      const body = sessionBody(m.joinWebUrl);
      await expect400({ ...body, meeting: { joinWebUrl: 'https://example.com/not-a-meeting' } }, /meeting\.joinWebUrl.*no meeting/);
      await expect400({ ...body, meeting: { id: 'MSoxMjM=' } }, /meeting\.id.*not an onlineMeeting id/);
      await expect400({ ...body, meeting: {} }, /exactly one of 'joinWebUrl' and 'id'/);
      await expect400({ ...body, endDateTime: '2030-01-02T09:00:00Z' }, /'endDateTime' must be after 'startDateTime'/);
      await expect400({ ...body, startDateTime: 'yesterday' }, /'startDateTime' must be an ISO 8601/);
      await expect400(
        { ...body, participants: [{ user: 'nobody@contoso.test', intervals: body.participants[0]!.intervals }] },
        /participants\[0\]\.user': unknown user 'nobody@contoso\.test'/,
      );
      await expect400(
        {
          ...body,
          participants: [
            { user: C.alice.upn, intervals: [{ joinDateTime: '2030-01-02T09:59:00Z', leaveDateTime: '2030-01-02T10:10:00Z' }] },
          ],
        },
        /participants\[0\]\.intervals\[0\]' lies outside the session/,
      );
      await expect400(
        {
          ...body,
          participants: [
            { user: C.alice.upn, intervals: [{ joinDateTime: '2030-01-02T10:30:00Z', leaveDateTime: '2030-01-02T10:10:00Z' }] },
          ],
        },
        /participants\[0\]\.intervals\[0\]' ends before it starts/,
      );
      await expect400(
        {
          ...body,
          participants: [
            {
              user: C.alice.upn,
              intervals: [
                { joinDateTime: '2030-01-02T10:00:00Z', leaveDateTime: '2030-01-02T10:20:00Z' },
                { joinDateTime: '2030-01-02T10:10:00Z', leaveDateTime: '2030-01-02T10:30:00Z' },
              ],
            },
          ],
        },
        /intervals\[1\]' overlaps/,
      );
      await expect400(
        { ...body, participants: [body.participants[0], body.participants[0]] },
        /participants\[1\]' repeats participants\[0\]/,
      );
      await expect400({ ...body, participants: [] }, /at least one participant/);
      await expect400({ ...body, transcript: { content: 'not a vtt' } }, /transcript\.content' is not a WebVTT transcript: line 1/);
      await expect400(
        { ...body, transcript: { content: 'WEBVTT\n\n00:00:05.000 --> 00:00:01.000\n<v A>x</v>\n' } },
        /line 3: the cue ends before it starts/,
      );
      await expect400({ ...body, transcript: { content: 'WEBVTT\n\n00:00:0x --> soon\nhello\n' } }, /line 3: .* is not a timing line/);
      await expect400(
        { ...body, transcript: { cues: [{ speaker: 'A', start: '00:00:02.000', end: '00:00:01.000', text: 'x' }] } },
        /cues\[0\]' ends before it starts/,
      );
      await expect400({ ...body, recording: { contentType: 'video/mp4', contentBase64: '!!!' } }, /contentBase64' is not base64/);
      await expect400(
        { ...body, recording: { contentType: 'not a type', contentBase64: 'AAAA' } },
        /recording\.contentType' must be a media type/,
      );
      await expect400({ ...body, surprise: true }, /Unknown property 'surprise'/);
      await expect400([], /The body must be a JSON object/);
    });

    test('generated bad bodies (fast-check, fixed seed): never a 5xx, always a 400 in the envelope or a 201', async () => {
      const base = sessionBody(m.joinWebUrl) as Record<string, unknown>;
      const participant = base.participants as Array<Record<string, unknown>>;
      const junk = fc.jsonValue({ maxDepth: 3 });
      const body = fc.oneof(
        junk,
        fc.record({ key: fc.constantFrom(...Object.keys(base), 'x'), value: junk }).map(({ key, value }) => ({ ...base, [key]: value })),
        fc
          .record({ key: fc.constantFrom('user', 'displayName', 'email', 'intervals'), value: junk })
          .map(({ key, value }) => ({ ...base, participants: [{ ...participant[0], [key]: value }] })),
        fc.record({ key: fc.constantFrom('joinDateTime', 'leaveDateTime'), value: junk }).map(({ key, value }) => ({
          ...base,
          participants: [
            { user: C.bob.upn, intervals: [{ joinDateTime: '2030-01-02T10:00:00Z', leaveDateTime: '2030-01-02T10:10:00Z', [key]: value }] },
          ],
        })),
        fc.string({ maxLength: 300 }).map((content) => ({ ...base, transcript: { content: `WEBVTT\n\n${content}` } })),
        junk.map((cues) => ({ ...base, transcript: { cues } })),
      );
      await fc.assert(
        fc.asyncProperty(body, async (b) => {
          const res = await admin(t, 'POST', '/_emulator/sessions', b);
          assert.ok(
            res.statusCode === 201 || res.statusCode === 400,
            `${res.statusCode} ${res.body} for ${JSON.stringify(b).slice(0, 500)}`,
          );
          if (res.statusCode === 400) assert.ok((res.json() as Json).error.innerError['request-id']);
        }),
        { seed: 17, numRuns: 300 },
      );
    });

    test('a session of a deleted meeting is a 400', async () => {
      const other = await calendarMeeting(t, alice, 'To be deleted');
      const del = await graph(t, 'DELETE', `/v1.0/me/onlineMeetings/${other.meetingId}`, alice);
      assert.equal(del.statusCode, 204, del.body);
      await expect400(sessionBody(other.joinWebUrl), /The meeting was deleted/);
      await expect400(sessionBody(other.joinWebUrl, { meeting: { id: other.meetingId } }), /The meeting was deleted/);
    });

    test('a transcript or recording of a meeting whose options forbid them is a 400 (JSON and the streamed upload)', async () => {
      const locked = await calendarMeeting(t, alice, 'No records');
      const patch = await graph(t, 'PATCH', `/v1.0/me/onlineMeetings/${locked.meetingId}`, alice, {
        allowRecording: false,
        allowTranscription: false,
      });
      assert.equal(patch.statusCode, 200, patch.body);
      await expect400(sessionBody(locked.joinWebUrl, { recording: undefined }), /does not allow transcription/);
      await expect400(sessionBody(locked.joinWebUrl, { transcript: undefined }), /does not allow recording/);
      const s = await recordSession(t, sessionBody(locked.joinWebUrl, { recording: undefined, transcript: undefined }));
      const up = await admin(t, 'PUT', `/_emulator/sessions/${s.id}/recording`, Buffer.from('bytes'), { 'content-type': 'video/mp4' });
      assert.equal(up.statusCode, 400, up.body);
      assert.match((up.json() as Json).error.message, /does not allow recording/);
    });

    test('transcript cues become Teams-style VTT; speakers by id, UPN or display name', async () => {
      const s = await recordSession(
        t,
        sessionBody(m.joinWebUrl, {
          recording: undefined,
          transcript: {
            cues: [
              { speaker: C.alice.id, start: '00:00:01.000', end: '00:00:04.000', text: "Welcome, everyone. Let's start" },
              { speaker: C.bob.upn, start: '00:00:04.500', end: '00:00:06.000', text: 'Q&A <later>' },
              { speaker: 'Guest Person', start: '00:00:07.000', end: '00:00:08.000', text: 'Hi' },
            ],
          },
        }),
      );
      const res = await graph(t, 'GET', `/v1.0/me/onlineMeetings/${m.meetingId}/transcripts/${s.transcriptId}/content`, alice);
      assert.equal(res.statusCode, 200, res.body);
      const lines = res.body.split('\n');
      assert.equal(lines[0], 'WEBVTT');
      assert.match(lines[2]!, /^[0-9a-f-]{36}\/10-0$/);
      assert.equal(lines[3], '00:00:01.000 --> 00:00:04.000');
      assert.equal(lines[4], '<v Alice Adams>Welcome, everyone. Let&apos;s start</v>');
      assert.ok(res.body.includes('<v Bob Baker>Q&amp;A &lt;later&gt;</v>'));
      assert.ok(res.body.includes('<v Guest Person>Hi</v>'));
    });

    test('PUT …/recording streams a large body into 256 KiB chunks; Graph serves the same bytes; limits and conflicts', async () => {
      const s = await recordSession(t, sessionBody(m.joinWebUrl, { recording: undefined }));
      const bytes = Buffer.alloc(700 * 1024 + 13);
      for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 31 + 7) % 251;
      const up = await admin(t, 'PUT', `/_emulator/sessions/${s.id}/recording`, bytes, { 'content-type': 'video/mp4' });
      assert.equal(up.statusCode, 201, up.body);
      const { recordingId, size } = up.json() as Json;
      assert.equal(size, bytes.length);
      const chunks = await t.testStore.store.db
        .selectFrom('recording_chunks')
        .select(['position'])
        .where('recording_id', '=', recordingId)
        .orderBy('position')
        .execute();
      assert.deepEqual(
        chunks.map((c) => Number(c.position)),
        [0, 1, 2],
      );
      const app = await t.appToken();
      const got = await graph(t, 'GET', `/v1.0/users/${C.alice.id}/onlineMeetings/${m.meetingId}/recordings/${recordingId}/content`, app);
      assert.equal(got.statusCode, 200);
      assert.equal(got.headers['content-type'], 'video/mp4');
      assert.ok(got.rawPayload.equals(bytes));
      const again = await admin(t, 'PUT', `/_emulator/sessions/${s.id}/recording`, Buffer.from('x'), { 'content-type': 'video/mp4' });
      assert.equal(again.statusCode, 409, again.body);
      const unknown = await admin(t, 'PUT', `/_emulator/sessions/00000000-0000-4000-8000-000000000000/recording`, Buffer.from('x'));
      assert.equal(unknown.statusCode, 404, unknown.body);
      // RECORDING_UPLOAD_LIMIT_BYTES (2 MiB here): the upload is refused and nothing of it stays.
      const s2 = await recordSession(t, sessionBody(m.joinWebUrl, { recording: undefined, transcript: undefined }));
      const big = await admin(t, 'PUT', `/_emulator/sessions/${s2.id}/recording`, Buffer.alloc(2 * 1024 * 1024 + 1), {
        'content-type': 'video/mp4',
      });
      assert.equal(big.statusCode, 413, big.body);
      const left = await t.testStore.store.db.selectFrom('recordings').select('id').where('session_id', '=', s2.id).execute();
      assert.deepEqual(left, []);
      const empty = await admin(t, 'PUT', `/_emulator/sessions/${s2.id}/recording`, Buffer.alloc(0), { 'content-type': 'video/mp4' });
      assert.equal(empty.statusCode, 400, empty.body);
    });

    test('an upload that never finished (a crash) is replaced by the next one, and Graph never saw it', async () => {
      const s = await recordSession(t, sessionBody(m.joinWebUrl, { recording: undefined, transcript: undefined }));
      const db = t.testStore.store.db;
      const session = await db.selectFrom('meeting_sessions').selectAll().where('id', '=', s.id).executeTakeFirstOrThrow();
      await db
        .insertInto('recordings')
        .values({
          id: 'MSMjMCMjY3Jhc2hlZA==',
          session_id: s.id,
          tenant_id: session.tenant_id,
          meeting_id: session.meeting_id,
          organizer_id: session.organizer_id,
          call_id: session.call_id,
          content_correlation_id: 'x-0',
          created_date_time: session.start_date_time,
          end_date_time: session.end_date_time,
          sequence: null,
          content_type: 'video/mp4',
          size: 0,
          chunk_size: 262144,
          complete: 0,
        })
        .execute();
      await db
        .insertInto('recording_chunks')
        .values({ recording_id: 'MSMjMCMjY3Jhc2hlZA==', position: 0, data: Buffer.from('half') })
        .execute();
      const list = await graph(t, 'GET', `/v1.0/me/onlineMeetings/${m.meetingId}/recordings`, alice);
      assert.ok(!(list.json() as Json).value.some((r: Json) => r.id === 'MSMjMCMjY3Jhc2hlZA=='), 'an unfinished upload is not served');
      const up = await admin(t, 'PUT', `/_emulator/sessions/${s.id}/recording`, Buffer.from('whole'), { 'content-type': 'video/webm' });
      assert.equal(up.statusCode, 201, up.body);
      const left = await db.selectFrom('recordings').select(['id', 'content_type']).where('session_id', '=', s.id).execute();
      assert.deepEqual(left, [{ id: (up.json() as Json).recordingId, content_type: 'video/webm' }]);
    });

    test('export carries sessions and recording bytes (base64); import restores them; reset removes them', async () => {
      const s = await recordSession(t, sessionBody(m.joinWebUrl));
      const exported = await admin(t, 'GET', '/_emulator/export');
      assert.equal(exported.statusCode, 200);
      const doc = exported.json() as Json;
      for (const table of ['meeting_sessions', 'attendance_records', 'transcripts', 'recordings', 'recording_chunks', 'artifact_usage']) {
        assert.ok(Array.isArray(doc.tables[table]), table);
      }
      const chunk = doc.tables.recording_chunks.find((c: Json) => c.recording_id === s.recordingId);
      assert.equal(Buffer.from(chunk.data, 'base64').toString(), 'fake-mp4-bytes');
      const reset = await admin(t, 'POST', '/_emulator/reset');
      assert.equal(reset.statusCode, 204);
      const afterReset = (await admin(t, 'GET', '/_emulator/export')).json() as Json;
      assert.deepEqual(afterReset.tables.meeting_sessions, []);
      assert.deepEqual(afterReset.tables.recording_chunks, []);
      const imported = await admin(t, 'POST', '/_emulator/import', doc);
      assert.equal(imported.statusCode, 200, imported.body);
      const token = await t.userToken(C.alice.upn, ARTIFACT_SCOPES);
      const got = await graph(t, 'GET', `/v1.0/me/onlineMeetings/${m.meetingId}/recordings/${s.recordingId}/content`, token);
      assert.equal(got.statusCode, 200, got.body);
      assert.equal(got.body, 'fake-mp4-bytes');
      const bad = structuredClone(doc);
      bad.tables.recording_chunks[0].data = 'not base64!';
      const refused = await admin(t, 'POST', '/_emulator/import', bad);
      assert.equal(refused.statusCode, 400, refused.body);
      assert.match((refused.json() as Json).error.message, /recording_chunks\[0\]\.data must be base64/);
    });

    test('PATCH /_emulator/tenants/{tenant}/artifactSettings changes the switches and refuses unknown ones', async () => {
      const res = await admin(t, 'PATCH', `/_emulator/tenants/${C.domain}/artifactSettings`, { metering: 'evaluation' });
      assert.equal(res.statusCode, 200, res.body);
      assert.deepEqual(res.json(), {
        graphTranscriptAccess: true,
        attributedTranscripts: true,
        requireCalendarBackedMeeting: true,
        metering: 'evaluation',
      });
      const back = await admin(t, 'PATCH', `/_emulator/tenants/${C.tenantId}/artifactSettings`, { metering: 'off' });
      assert.equal(back.statusCode, 200);
      const bad = await admin(t, 'PATCH', `/_emulator/tenants/${C.tenantId}/artifactSettings`, { transcripts: false });
      assert.equal(bad.statusCode, 400);
      const wrongType = await admin(t, 'PATCH', `/_emulator/tenants/${C.tenantId}/artifactSettings`, { metering: 'sometimes' });
      assert.equal(wrongType.statusCode, 400);
      const none = await admin(t, 'PATCH', '/_emulator/tenants/nowhere.test/artifactSettings', {});
      assert.equal(none.statusCode, 404);
    });
  });
}

for (const kind of STORES) {
  describe(`${kind}: a 10 MiB recording over real HTTPS, chunked, streamed in and out`, () => {
    let t: TestApp;
    before(async () => {
      t = await startTestApp(kind, { listen: true, env: { ADMIN_KEY } });
    });
    after(() => t.close());

    test('PUT with Transfer-Encoding: chunked, then the whole download and ranges across chunk rows match', async () => {
      const alice = await t.userToken(C.alice.upn, ARTIFACT_SCOPES);
      const m = await calendarMeeting(t, alice);
      const s = await recordSession(t, sessionBody(m.joinWebUrl, { recording: undefined }));
      const piece = (i: number) => Buffer.alloc(100_003, i % 251);
      const pieces = 105; // ~10 MiB, in pieces that do not line up with the 256 KiB rows
      const hash = createHash('sha256');
      for (let i = 0; i < pieces; i++) hash.update(piece(i));
      const expected = hash.digest('hex');
      const url = new URL(`${t.origin}/_emulator/sessions/${s.id}/recording`);
      const status = await new Promise<{ code: number; body: string }>((resolve, reject) => {
        const req = https.request(
          url,
          {
            method: 'PUT',
            ca: fs.readFileSync(t.caPath, 'utf8'),
            headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'video/mp4', 'transfer-encoding': 'chunked' },
          },
          (res) => {
            let body = '';
            res.on('data', (c: Buffer) => (body += c.toString()));
            res.on('end', () => resolve({ code: res.statusCode ?? 0, body }));
          },
        );
        req.on('error', reject);
        let i = 0;
        const write = () => {
          while (i < pieces) {
            if (!req.write(piece(i++))) return void req.once('drain', write);
          }
          req.end();
        };
        write();
      });
      assert.equal(status.code, 201, status.body);
      const { recordingId, size } = JSON.parse(status.body) as Json;
      assert.equal(size, pieces * 100_003);
      const content = `/v1.0/me/onlineMeetings/${m.meetingId}/recordings/${recordingId}/content`;
      const whole = await graph(t, 'GET', content, alice);
      assert.equal(whole.statusCode, 200);
      assert.equal(whole.headers['content-length'], String(size));
      assert.equal(createHash('sha256').update(whole.rawPayload).digest('hex'), expected);
      // A range across the boundary of the first and second 256 KiB rows.
      const part = await graph(t, 'GET', content, alice, undefined, { range: 'bytes=262140-262150' });
      assert.equal(part.statusCode, 206);
      assert.ok(part.rawPayload.equals(whole.rawPayload.subarray(262140, 262151)));
    });
  });
}
