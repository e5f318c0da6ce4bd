import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { STORES } from '../helpers/stores.js';
import { DEMO, graph, startTestApp, type TestApp } from '../helpers/test-app.js';
import { admin, ADMIN_KEY, ARTIFACT_SCOPES, calendarMeeting, recordSession, SAMPLE_VTT, sessionBody } from '../helpers/artifacts.js';

const C = DEMO.contoso;
const F = DEMO.fabrikam;
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- parsed JSON under test
type Json = any;

const relative = (link: string) => {
  const u = new URL(link);
  return `${u.pathname}${u.search}`;
};

for (const kind of STORES) {
  describe(`${kind}: attendance reports, transcripts and recordings on Graph (artifacts spec §1, §2)`, () => {
    let t: TestApp;
    let alice: string;
    let app: string;
    let m: Awaited<ReturnType<typeof calendarMeeting>>;
    let s: Awaited<ReturnType<typeof recordSession>>;
    before(async () => {
      t = await startTestApp(kind, { env: { ADMIN_KEY } });
      alice = await t.userToken(C.alice.upn, ARTIFACT_SCOPES);
      app = await t.appToken();
      m = await calendarMeeting(t, alice, 'Weekly sync', [C.bob.upn, C.carol.upn]);
      s = await recordSession(
        t,
        sessionBody(m.joinWebUrl, {
          participants: [
            {
              user: C.alice.upn,
              intervals: [
                { joinDateTime: '2030-01-02T10:00:00Z', leaveDateTime: '2030-01-02T10:30:00Z' },
                { joinDateTime: '2030-01-02T10:35:00.5Z', leaveDateTime: '2030-01-02T10:45:00Z' },
              ],
            },
            { user: C.bob.id, intervals: [{ joinDateTime: '2030-01-02T10:02:00Z', leaveDateTime: '2030-01-02T10:40:00Z' }] },
            {
              displayName: 'Guest Person',
              email: 'guest@example.com',
              intervals: [{ joinDateTime: '2030-01-02T10:05:00Z', leaveDateTime: '2030-01-02T10:20:00Z' }],
            },
            { user: F.dave.upn, intervals: [{ joinDateTime: '2030-01-02T10:10:00Z', leaveDateTime: '2030-01-02T10:11:00Z' }] },
          ],
        }),
      );
    });
    after(() => t.close());
    const get = (url: string, token = alice, headers: Record<string, string> = {}) => graph(t, 'GET', url, token, undefined, headers);
    const me = (rest: string) => `/v1.0/me/onlineMeetings/${m.meetingId}${rest}`;
    const users = (rest: string, version = 'v1.0') => `/${version}/users/${C.alice.id}/onlineMeetings/${m.meetingId}${rest}`;
    const expectError = (res: { statusCode: number; body: string }, status: number, code: string, message?: RegExp, inner?: string) => {
      assert.equal(res.statusCode, status, res.body);
      const error = (JSON.parse(res.body) as Json).error;
      assert.equal(error.code, code);
      if (message) assert.match(error.message, message);
      if (inner) assert.equal(error.innerError.code, inner);
      assert.ok(error.innerError['request-id']);
    };

    describe('attendance (§1)', () => {
      test('list: the session as a report, attendanceRecords [] (§1.2); /me, /users, beta alike', async () => {
        for (const url of [me('/attendanceReports'), users('/attendanceReports'), users('/attendanceReports', 'beta')]) {
          const res = await get(url, url.includes('/users/') ? app : alice);
          assert.equal(res.statusCode, 200, res.body);
          const body = res.json() as Json;
          assert.match(
            body['@odata.context'],
            new RegExp(`\\$metadata#users\\('${C.alice.id}'\\)/onlineMeetings\\('${m.meetingId}'\\)/attendanceReports$`),
          );
          assert.deepEqual(body.value, [
            {
              id: s.attendanceReportId,
              totalParticipantCount: 4,
              meetingStartDateTime: '2030-01-02T10:00:00.0000000Z',
              meetingEndDateTime: '2030-01-02T10:45:00.0000000Z',
              externalEventInformation: [],
              attendanceRecords: [],
            },
          ]);
        }
      });

      test('get with $expand=attendanceRecords: totals, roles from the meeting, intervals, emails, identities', async () => {
        const res = await get(me(`/attendanceReports/${s.attendanceReportId}?$expand=attendanceRecords`));
        assert.equal(res.statusCode, 200, res.body);
        const report = res.json() as Json;
        assert.match(report['@odata.context'], new RegExp(`/attendanceReports\\('${s.attendanceReportId}'\\)$`));
        const records = report.attendanceRecords as Json[];
        assert.equal(records.length, 4);
        const [a, b, guest, dave] = records;
        assert.equal(a.role, 'Organizer');
        assert.equal(a.emailAddress, C.alice.upn);
        assert.deepEqual(a.identity, { id: C.alice.id, displayName: 'Alice Adams', tenantId: C.tenantId });
        assert.deepEqual(a.attendanceIntervals, [
          { joinDateTime: '2030-01-02T10:00:00.0000000Z', leaveDateTime: '2030-01-02T10:30:00.0000000Z', durationInSeconds: 1800 },
          { joinDateTime: '2030-01-02T10:35:00.5000000Z', leaveDateTime: '2030-01-02T10:45:00.0000000Z', durationInSeconds: 599 },
        ]);
        assert.equal(a.totalAttendanceInSeconds, 2399, 'the sum of the intervals');
        // The default meeting policy lets everyone present (allowedPresenters 'everyone').
        assert.equal(b.role, 'Presenter');
        assert.equal(b.totalAttendanceInSeconds, 38 * 60);
        assert.deepEqual(guest.identity, { id: null, displayName: 'Guest Person', tenantId: null });
        assert.equal(guest.emailAddress, 'guest@example.com');
        assert.equal(guest.role, 'Presenter');
        assert.deepEqual(dave.identity, { id: F.dave.id, displayName: 'Dave Diaz', tenantId: F.tenantId });
        const plain = await get(me(`/attendanceReports/${s.attendanceReportId}`));
        assert.equal(plain.statusCode, 200);
        assert.ok(!('attendanceRecords' in (plain.json() as Json)), 'records only with $expand');
        const list = await get(me(`/attendanceReports/${s.attendanceReportId}/attendanceRecords`));
        assert.equal(list.statusCode, 200, list.body);
        assert.deepEqual((list.json() as Json).value, records);
        const expanded = await get(me('/attendanceReports?$expand=attendanceRecords'));
        assert.deepEqual((expanded.json() as Json).value[0].attendanceRecords, records);
        expectError(await get(me(`/attendanceReports/${s.attendanceReportId}?$expand=participants`)), 400, 'InvalidArgument');
        expectError(await get(me('/attendanceReports/00000000-0000-4000-8000-000000000000')), 404, 'NotFound');
      });

      test("roles follow the meeting's allowedPresenters: roleIsPresenter makes invited attendees Attendee", async () => {
        const patch = await graph(t, 'PATCH', `/v1.0/me/onlineMeetings/${m.meetingId}`, alice, { allowedPresenters: 'organization' });
        assert.equal(patch.statusCode, 200, patch.body);
        const s2 = await recordSession(
          t,
          sessionBody(m.joinWebUrl, {
            transcript: undefined,
            recording: undefined,
            startDateTime: '2030-01-03T10:00:00Z',
            endDateTime: '2030-01-03T10:45:00Z',
            participants: [
              { user: C.bob.upn, intervals: [{ joinDateTime: '2030-01-03T10:00:00Z', leaveDateTime: '2030-01-03T10:45:00Z' }] },
              { displayName: 'Guest', intervals: [{ joinDateTime: '2030-01-03T10:00:00Z', leaveDateTime: '2030-01-03T10:45:00Z' }] },
            ],
          }),
        );
        const res = await get(me(`/attendanceReports/${s2.attendanceReportId}/attendanceRecords`));
        assert.deepEqual(
          (res.json() as Json).value.map((r: Json) => [r.identity.displayName, r.role, r.emailAddress]),
          [
            ['Bob Baker', 'Presenter', C.bob.upn],
            ['Guest', 'Attendee', ''],
          ],
        );
        // Newest report first (§1.2).
        const list = await get(me('/attendanceReports'));
        assert.deepEqual(
          (list.json() as Json).value.map((r: Json) => r.id),
          [s2.attendanceReportId, s.attendanceReportId],
        );
        await graph(t, 'PATCH', `/v1.0/me/onlineMeetings/${m.meetingId}`, alice, { allowedPresenters: 'everyone' });
      });

      test('refusals: missing permission, other users, no access policy, /me with an app, another tenant', async () => {
        const onlyMeetings = await t.userToken(C.alice.upn, ['OnlineMeetings.ReadWrite']);
        expectError(await get(me('/attendanceReports'), onlyMeetings), 403, 'Forbidden');
        const bob = await t.userToken(C.bob.upn, ARTIFACT_SCOPES);
        expectError(await get(users('/attendanceReports'), bob), 403, 'Forbidden');
        expectError(await get(`/v1.0/me/onlineMeetings/${m.meetingId}/attendanceReports`, bob), 404, 'NotFound', /Organizer Id mismatch/);
        expectError(await get(me('/attendanceReports'), app), 400, 'Request_BadRequest', /only valid with delegated/);
        // Carol is not covered by the Scheduler policy.
        const carolMeeting = await calendarMeeting(t, await t.userToken(C.carol.upn, ARTIFACT_SCOPES), 'Carol', []);
        expectError(
          await get(`/v1.0/users/${C.carol.id}/onlineMeetings/${carolMeeting.meetingId}/attendanceReports`, app),
          403,
          'Forbidden',
          /No application access policy/,
        );
        // An app without the artifact permission (Meeting Client holds none as an application).
        const client = await t.appToken(C.client.clientId, C.client.secret);
        expectError(await get(users('/attendanceReports'), client), 403, 'Forbidden');
        const fabrikam = await t.appToken(F.scheduler.clientId, F.scheduler.secret, F.tenantId);
        expectError(await get(users('/attendanceReports'), fabrikam), 404, 'Request_ResourceNotFound');
        const post = await graph(t, 'POST', me('/attendanceReports'), alice, {});
        expectError(post, 405, 'Request_BadRequest');
      });
    });

    describe('transcripts (§2.1, §2.4, §2.7)', () => {
      test('list and get: the callTranscript entity, content URL leading back here, $top and $select', async () => {
        const res = await get(users('/transcripts'), app);
        assert.equal(res.statusCode, 200, res.body);
        const body = res.json() as Json;
        assert.match(body['@odata.context'], /onlineMeetings\('.+'\)\/transcripts$/);
        assert.equal(body['@odata.count'], 1);
        const [tr] = body.value;
        assert.equal(tr.id, s.transcriptId);
        assert.equal(tr.meetingId, m.meetingId);
        assert.match(tr.callId, /^[0-9a-f-]{36}$/);
        assert.match(tr.contentCorrelationId, /^[0-9a-f-]{36}-0$/);
        assert.equal(tr.createdDateTime, '2030-01-02T10:00:00.0000000Z');
        assert.equal(tr.endDateTime, '2030-01-02T10:45:00.0000000Z');
        assert.deepEqual(tr.meetingOrganizer, {
          application: null,
          device: null,
          user: {
            '@odata.type': '#microsoft.graph.teamworkUserIdentity',
            id: C.alice.id,
            displayName: null,
            userIdentityType: 'aadUser',
            tenantId: C.tenantId,
          },
        });
        assert.equal(
          tr.transcriptContentUrl,
          `${t.app.graphMeetings.origin()}/v1.0/users/${C.alice.id}/onlineMeetings/${m.meetingId}/transcripts/${s.transcriptId}/content`,
        );
        const one = await get(me(`/transcripts/${s.transcriptId}`));
        assert.equal(one.statusCode, 200, one.body);
        assert.match((one.json() as Json)['@odata.context'], /\/transcripts\/\$entity$/);
        const selected = await get(me(`/transcripts/${s.transcriptId}?$select=callId`));
        assert.deepEqual(Object.keys(selected.json() as Json).sort(), ['@odata.context', 'callId', 'id']);
        expectError(await get(me('/transcripts?$select=nope')), 400, 'InvalidArgument');
        expectError(await get(me('/transcripts/MSMjMCMjbm9uZQ==')), 404, 'NotFound');
        const correlated = await get(
          me(`/transcripts?$filter=${encodeURIComponent(`contentCorrelationId eq '${tr.contentCorrelationId}'`)}`),
        );
        assert.deepEqual(
          (correlated.json() as Json).value.map((x: Json) => x.id),
          [s.transcriptId],
        );
        const none = await get(me(`/recordings?$filter=${encodeURIComponent("contentCorrelationId eq 'nothing-0'")}`));
        assert.deepEqual((none.json() as Json).value, []);
        expectError(await get(me(`/transcripts?$filter=${encodeURIComponent("callId eq 'x'")}`)), 400, 'InvalidArgument');
        const recs = await get(me('/recordings?$top=1'));
        assert.equal((recs.json() as Json).value.length, 1);
      });

      test('content: VTT with <v> tags by default, Accept: text/vtt or $format; speaker-less text by Accept; others 400', async () => {
        for (const headers of [{}, { accept: 'text/vtt' }] as Array<Record<string, string>>) {
          const res = await get(me(`/transcripts/${s.transcriptId}/content`), alice, headers);
          assert.equal(res.statusCode, 200, res.body);
          assert.equal(res.headers['content-type'], 'text/vtt');
          assert.equal(res.body, SAMPLE_VTT);
        }
        const formatted = await get(me(`/transcripts/${s.transcriptId}/content?$format=text/vtt`), alice, { accept: '*/*' });
        assert.equal(formatted.statusCode, 200, '$format wins over Accept');
        const text = await get(me(`/transcripts/${s.transcriptId}/content`), alice, {
          accept: 'application/vnd.microsoft.graph.transcript+text',
        });
        assert.equal(text.statusCode, 200, text.body);
        assert.equal(text.headers['content-type'], 'application/vnd.microsoft.graph.transcript+text');
        assert.equal(
          text.body,
          '00:00:01.000 --> 00:00:04.000\nWelcome, everyone &amp; thanks.\n\n00:00:05.000 --> 00:00:07.500\nGlad to be here.\n',
        );
        // The SDKs' default Accept values, as Graph answers them (§2.7, §6 row 4).
        for (const accept of ['*/*', 'application/octet-stream, application/json']) {
          expectError(
            await get(me(`/transcripts/${s.transcriptId}/content`), alice, { accept }),
            400,
            'BadRequest',
            new RegExp(`Invalid format '${accept.replace(/[*/+]/g, '\\$&')}' specified`),
          );
        }
        expectError(await get(me(`/transcripts/${s.transcriptId}/content?$format=application/json`)), 400, 'BadRequest', /Invalid format/);
      });

      test('metadataContent: WebVTT whose cues are JSON with absolute times and speakers', async () => {
        const res = await get(me(`/transcripts/${s.transcriptId}/metadataContent`));
        assert.equal(res.statusCode, 200, res.body);
        assert.equal(res.headers['content-type'], 'text/vtt');
        const lines = res.body.split('\n');
        assert.equal(lines[0], 'WEBVTT');
        assert.equal(lines[2], '5fd7f1de-6442-4b37-a79a-7f43656096ca/13-0');
        assert.deepEqual(JSON.parse(lines[4]!), {
          startDateTime: '2030-01-02T10:00:01.0000000+00:00',
          endDateTime: '2030-01-02T10:00:04.0000000+00:00',
          speakerName: 'Alice Adams',
          spokenText: 'Welcome, everyone & thanks.',
          spokenLanguage: 'en-us',
        });
      });

      test('permissions: OnlineMeetingTranscript.Read.All, not the artifact or meeting permissions', async () => {
        const wrong = await t.userToken(C.alice.upn, ['OnlineMeetingArtifact.Read.All', 'OnlineMeetingRecording.Read.All']);
        expectError(await get(me('/transcripts'), wrong), 403, 'Forbidden');
        expectError(await get(me(`/transcripts/${s.transcriptId}/content`), wrong), 403, 'Forbidden');
        const recordingOnly = await t.userToken(C.alice.upn, ['OnlineMeetingRecording.Read.All']);
        assert.equal((await get(me('/recordings'), recordingOnly)).statusCode, 200);
        expectError(await get(me('/attendanceReports'), recordingOnly), 403, 'Forbidden');
      });
    });

    describe('recordings (§2.2)', () => {
      test('list, get, content with the uploaded bytes and type; single byte ranges (206, 416)', async () => {
        const list = await get(users('/recordings'), app);
        assert.equal(list.statusCode, 200, list.body);
        const [rec] = (list.json() as Json).value;
        assert.equal(rec.id, s.recordingId);
        assert.equal(
          rec.recordingContentUrl,
          `${t.app.graphMeetings.origin()}/v1.0/users/${C.alice.id}/onlineMeetings/${m.meetingId}/recordings/${s.recordingId}/content`,
        );
        const transcript = ((await get(users('/transcripts'), app)).json() as Json).value[0];
        assert.equal(
          rec.contentCorrelationId,
          transcript.contentCorrelationId,
          'the transcript and recording of one session are correlated',
        );
        const content = await get(users(`/recordings/${s.recordingId}/content`), app);
        assert.equal(content.statusCode, 200);
        assert.equal(content.headers['content-type'], 'video/mp4');
        assert.equal(content.headers['accept-ranges'], 'bytes');
        assert.equal(content.body, 'fake-mp4-bytes');
        const part = await get(users(`/recordings/${s.recordingId}/content`), app, { range: 'bytes=5-7' });
        assert.equal(part.statusCode, 206);
        assert.equal(part.headers['content-range'], 'bytes 5-7/14');
        assert.equal(part.body, 'mp4');
        const suffix = await get(users(`/recordings/${s.recordingId}/content`), app, { range: 'bytes=-5' });
        assert.equal(suffix.body, 'bytes');
        const open = await get(users(`/recordings/${s.recordingId}/content`), app, { range: 'bytes=9-' });
        assert.equal(open.body, 'bytes');
        const outside = await get(users(`/recordings/${s.recordingId}/content`), app, { range: 'bytes=14-20' });
        expectError(outside, 416, 'RequestedRangeNotSatisfiable');
        assert.equal(outside.headers['content-range'], 'bytes */14');
      });
    });

    describe('tenant switches, the calendar-backed rule and metering (§2.6, §2.8)', () => {
      test('Fabrikam (both switches off): transcripts 403 GraphAccessToTranscriptsDisabled; with access on, VTT 403 SpeakerAttributionNotAllowed', async () => {
        const fab = await t.appToken(F.scheduler.clientId, F.scheduler.secret, F.tenantId);
        const dm = await calendarMeeting(t, fab, 'Fabrikam sync', [], `/users/${F.dave.id}`);
        const ds = await recordSession(
          t,
          sessionBody(dm.joinWebUrl, {
            participants: [
              { user: F.dave.upn, intervals: [{ joinDateTime: '2030-01-02T10:00:00Z', leaveDateTime: '2030-01-02T10:45:00Z' }] },
            ],
          }),
        );
        const base = `/v1.0/users/${F.dave.id}/onlineMeetings/${dm.meetingId}`;
        for (const url of [
          `${base}/transcripts`,
          `${base}/transcripts/${ds.transcriptId}`,
          `${base}/transcripts/${ds.transcriptId}/content`,
          `${base}/transcripts/${ds.transcriptId}/metadataContent`,
        ]) {
          expectError(
            await get(url, fab),
            403,
            'Forbidden',
            /Graph API access to transcripts is disabled/,
            'GraphAccessToTranscriptsDisabled',
          );
        }
        expectError(
          await get(`/v1.0/users/${F.dave.id}/onlineMeetings/getAllTranscripts(meetingOrganizerUserId='${F.dave.id}')`, fab),
          403,
          'Forbidden',
          undefined,
          'GraphAccessToTranscriptsDisabled',
        );
        assert.equal((await get(`${base}/recordings`, fab)).statusCode, 200, 'recordings are not affected');
        assert.equal((await get(`${base}/attendanceReports`, fab)).statusCode, 200);
        await admin(t, 'PATCH', `/_emulator/tenants/${F.tenantId}/artifactSettings`, { graphTranscriptAccess: true });
        expectError(
          await get(`${base}/transcripts/${ds.transcriptId}/content`, fab),
          403,
          'Forbidden',
          /Retry with Accept/,
          'SpeakerAttributionNotAllowed',
        );
        const text = await get(`${base}/transcripts/${ds.transcriptId}/content`, fab, {
          accept: 'application/vnd.microsoft.graph.transcript+text',
        });
        assert.equal(text.statusCode, 200, text.body);
        assert.equal((await get(`${base}/transcripts/${ds.transcriptId}/metadataContent`, fab)).statusCode, 200, 'metadata is unaffected');
        await admin(t, 'PATCH', `/_emulator/tenants/${F.tenantId}/artifactSettings`, { graphTranscriptAccess: false });
      });

      test('a meeting made by POST /onlineMeetings: attendance yes, transcripts and recordings "No iCalUid found" unless the tenant relaxes it', async () => {
        const created = await graph(t, 'POST', '/v1.0/me/onlineMeetings', alice, { subject: 'standalone' });
        assert.equal(created.statusCode, 201, created.body);
        const sm = created.json() as Json;
        const ss = await recordSession(t, sessionBody(sm.joinWebUrl));
        assert.match(ss.transcriptId!, /^MSMjMCMj/, 'the older id form, with no iCalUId to embed (§2.3)');
        const base = `/v1.0/me/onlineMeetings/${sm.id}`;
        assert.equal((await get(`${base}/attendanceReports`)).statusCode, 200);
        for (const url of [`${base}/transcripts`, `${base}/recordings`, `${base}/recordings/${ss.recordingId}/content`]) {
          expectError(
            await get(url),
            400,
            'BadRequest',
            /^No iCalUid found for the meeting\. This API is supported only for calendar backed OnlineMeeting\.$/,
          );
        }
        const all = `/v1.0/users/${C.alice.id}/onlineMeetings/getAllTranscripts(meetingOrganizerUserId='${C.alice.id}')`;
        assert.ok(!((await get(all, app)).json() as Json).value.some((x: Json) => x.id === ss.transcriptId));
        await admin(t, 'PATCH', `/_emulator/tenants/${C.tenantId}/artifactSettings`, { requireCalendarBackedMeeting: false });
        try {
          assert.equal((await get(`${base}/transcripts/${ss.transcriptId}/content`)).statusCode, 200);
          assert.ok(((await get(all, app)).json() as Json).value.some((x: Json) => x.id === ss.transcriptId));
        } finally {
          await admin(t, 'PATCH', `/_emulator/tenants/${C.tenantId}/artifactSettings`, { requireCalendarBackedMeeting: true });
        }
      });

      test('metering: paymentRequired answers 402 to app downloads; evaluation allows 600 minutes per app and kind', async () => {
        const content = users(`/transcripts/${s.transcriptId}/content`);
        const recording = users(`/recordings/${s.recordingId}/content`);
        await admin(t, 'PATCH', `/_emulator/tenants/${C.tenantId}/artifactSettings`, { metering: 'paymentRequired' });
        try {
          expectError(await get(content, app), 402, 'PaymentRequired', /Azure subscription/);
          expectError(await get(recording, app), 402, 'PaymentRequired');
          assert.equal((await get(users('/transcripts'), app)).statusCode, 200, 'metadata reads are not metered');
          assert.equal((await get(me(`/transcripts/${s.transcriptId}/content`), alice)).statusCode, 200, 'delegated calls are not metered');
          await admin(t, 'PATCH', `/_emulator/tenants/${C.tenantId}/artifactSettings`, { metering: 'evaluation' });
          // The session lasts 45 minutes: 14 downloads reach 630 minutes, the 15th is refused.
          for (let i = 0; i < 14; i++) assert.equal((await get(content, app)).statusCode, 200, `download ${i + 1}`);
          expectError(await get(content, app), 402, 'PaymentRequired', /evaluation capacity for the month has exceeded/);
          assert.equal((await get(recording, app)).statusCode, 200, 'recordings are counted apart');
        } finally {
          await admin(t, 'PATCH', `/_emulator/tenants/${C.tenantId}/artifactSettings`, { metering: 'off' });
        }
      });
    });

    describe('getAllTranscripts / getAllRecordings and delta (§2.4)', () => {
      const allPath = (fn: string, args: string) => `/v1.0/users/${C.alice.id}/onlineMeetings/${fn}(${args})`;
      test('inline, alias (Kiota) and $filter forms; the organizer is required; app-only', async () => {
        const inline = await get(
          allPath(
            'getAllTranscripts',
            `meetingOrganizerUserId='${C.alice.id}',startDateTime=2030-01-01T00:00:00Z,endDateTime=2030-01-05T00:00:00Z`,
          ),
          app,
        );
        assert.equal(inline.statusCode, 200, inline.body);
        const body = inline.json() as Json;
        assert.equal(body['@odata.context'], `${t.app.graphMeetings.origin()}/v1.0/$metadata#Collection(callTranscript)`);
        assert.ok(body.value.some((x: Json) => x.id === s.transcriptId));
        assert.equal(body.value[0]['@odata.type'], '#microsoft.graph.callTranscript');
        assert.equal(body['@odata.count'], body.value.length);
        const alias = await get(
          `${allPath('getAllTranscripts', "meetingOrganizerUserId='@meetingOrganizerUserId',startDateTime=@startDateTime,endDateTime=@endDateTime")}?meetingOrganizerUserId=${C.alice.id}&startDateTime=2030-01-01T00:00:00Z`,
          app,
        );
        assert.equal(alias.statusCode, 200, alias.body);
        assert.deepEqual((alias.json() as Json).value, body.value);
        const filtered = await get(
          `/v1.0/users/${C.alice.id}/onlineMeetings/getAllTranscripts?$filter=${encodeURIComponent(`MeetingOrganizer/User/Id eq '${C.alice.id}'`)}`,
          app,
        );
        assert.equal(filtered.statusCode, 200, filtered.body);
        const window = await get(
          allPath('getAllTranscripts', `meetingOrganizerUserId='${C.alice.id}',startDateTime=2030-01-02T10:00:01Z`),
          app,
        );
        assert.ok(!((window.json() as Json).value as Json[]).some((x) => x.id === s.transcriptId), 'the window filters on createdDateTime');
        const recordings = await get(allPath('getAllRecordings', `meetingOrganizerUserId='${C.alice.id}'`), app);
        assert.equal(recordings.statusCode, 200, recordings.body);
        assert.ok(
          (recordings.json() as Json).value.some(
            (x: Json) => x.id === s.recordingId && x['@odata.type'] === '#microsoft.graph.callRecording',
          ),
        );
        expectError(
          await get(`/v1.0/users/${C.alice.id}/onlineMeetings/getAllTranscripts()`, app),
          400,
          'BadRequest',
          /requires the meetingOrganizerUserId/,
        );
        // A subscription resource, not a GET endpoint (§2.4).
        expectError(
          await get(`/v1.0/communications/onlineMeetings/getAllTranscripts(meetingOrganizerUserId='${C.alice.id}')`, app),
          404,
          'NotFound',
          /Requested API is not supported/,
        );
        expectError(
          await get(allPath('getAllTranscripts', `meetingOrganizerUserId='${C.bob.id}'`), app),
          400,
          'BadRequest',
          /must be the user of the path/,
        );
        expectError(
          await get(allPath('getAllTranscripts', `meetingOrganizerUserId='${C.alice.id}',startDateTime=soon`), app),
          400,
          'BadRequest',
          /startDateTime/,
        );
        expectError(await get(allPath('getAllTranscripts', `organizer='${C.alice.id}'`), app), 400, 'BadRequest', /not a parameter/);
        expectError(
          await get(allPath('getAllTranscripts', `meetingOrganizerUserId='${C.alice.id}'`), alice),
          403,
          'Forbidden',
          /application permissions only/,
        );
        const client = await t.appToken(C.client.clientId, C.client.secret);
        expectError(await get(allPath('getAllTranscripts', `meetingOrganizerUserId='${C.alice.id}'`), client), 403, 'Forbidden');
        expectError(
          await get(`/v1.0/users/${C.carol.id}/onlineMeetings/getAllTranscripts(meetingOrganizerUserId='${C.carol.id}')`, app),
          403,
          'Forbidden',
          /access policy/,
        );
      });

      test("a deleted meeting's transcripts leave getAllTranscripts", async () => {
        const gone = await calendarMeeting(t, alice, 'Deleted later', []);
        const gs = await recordSession(t, sessionBody(gone.joinWebUrl, { recording: undefined }));
        const all = allPath('getAllTranscripts', `meetingOrganizerUserId='${C.alice.id}'`) + '?$top=100';
        assert.ok(((await get(all, app)).json() as Json).value.some((x: Json) => x.id === gs.transcriptId));
        assert.equal((await graph(t, 'DELETE', `/v1.0/me/onlineMeetings/${gone.meetingId}`, alice)).statusCode, 204);
        assert.ok(!((await get(all, app)).json() as Json).value.some((x: Json) => x.id === gs.transcriptId));
        expectError(await get(`/v1.0/me/onlineMeetings/${gone.meetingId}/transcripts/${gs.transcriptId}`), 404, 'NotFound');
      });

      test('paging with @odata.nextLink, delta with @odata.deltaLink through new sessions', async () => {
        const first = await get(`${allPath('getAllTranscripts', `meetingOrganizerUserId='${C.alice.id}'`)}/delta?$top=1`, app);
        assert.equal(first.statusCode, 200, first.body);
        const seen: string[] = [];
        let page = first.json() as Json;
        let pages = 1;
        while (page['@odata.nextLink']) {
          assert.equal(page.value.length, 1);
          seen.push(...page.value.map((x: Json) => x.id));
          assert.match(page['@odata.nextLink'], /\/getAllTranscripts\(meetingOrganizerUserId='[0-9a-f-]+'\)\/delta\?\$skiptoken=/);
          const next = await get(relative(page['@odata.nextLink']), app);
          assert.equal(next.statusCode, 200, next.body);
          page = next.json() as Json;
          pages++;
        }
        seen.push(...page.value.map((x: Json) => x.id));
        assert.ok(pages >= 2, 'more than one page');
        assert.ok(seen.includes(s.transcriptId!));
        const deltaLink = page['@odata.deltaLink'] as string;
        assert.match(deltaLink, /\/delta\?\$deltatoken=/);
        const nothingNew = await get(relative(deltaLink), app);
        assert.deepEqual((nothingNew.json() as Json).value, []);
        const later = await recordSession(t, sessionBody(m.joinWebUrl, { recording: undefined }));
        const changes = await get(relative(deltaLink), app);
        assert.equal(changes.statusCode, 200, changes.body);
        const body = changes.json() as Json;
        assert.deepEqual(
          body.value.map((x: Json) => x.id),
          [later.transcriptId],
        );
        assert.ok(body['@odata.deltaLink']);
        const plain = await get(`${allPath('getAllTranscripts', `meetingOrganizerUserId='${C.alice.id}'`)}?$top=1`, app);
        assert.ok((plain.json() as Json)['@odata.nextLink']);
        assert.ok(!(plain.json() as Json)['@odata.deltaLink'], 'no deltaLink outside delta');
        // A token edited to name another organizer is refused like the parameter would be (no reading past the policy).
        const forged = Buffer.from(JSON.stringify({ k: 'transcript', o: C.carol.id, a: 0, n: 10, d: true })).toString('base64url');
        expectError(
          await get(`${allPath('getAllTranscripts', `meetingOrganizerUserId='${C.alice.id}'`)}/delta?$deltatoken=${forged}`, app),
          400,
          'BadRequest',
          /must be the user of the path/,
        );
        expectError(
          await get(`${allPath('getAllTranscripts', `meetingOrganizerUserId='${C.alice.id}'`)}/delta?$deltatoken=garbage`, app),
          400,
          'BadRequest',
          /token is not valid/,
        );
      });
    });
  });
}
