/**
 * Meetings that happen, through the official clients (issue #17 "Done when"): Kiota (@microsoft/msgraph-sdk
 * with @microsoft/msgraph-sdk-users) and graph-client v3 in the NODE_EXTRA_CA_CERTS worker. Create a
 * calendar-backed meeting through an event, record a session with two participants, a transcript and a
 * recording (streamed upload), read the attendance report with its records, list transcripts, fetch the
 * VTT and the speaker-less text, list and download the recording, and walk getAllTranscripts with delta
 * through two sessions.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DEMO_APP, SdkCallError, startSdkWorker, type CredentialSpec, type SdkWorker } from '../helpers/sdk-worker-client.js';
import { STORES } from '../helpers/stores.js';
import { DEMO, startTestApp, type TestApp } from '../helpers/test-app.js';
import { admin, ADMIN_KEY, recordSession, SAMPLE_VTT, sessionBody } from '../helpers/artifacts.js';
import type { Ops } from './protocol.js';

const C = DEMO.contoso;
type ArtifactArgs = Ops['kiotaArtifactsTraced']['args'];
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- parsed JSON under test
type Json = any;

/** Alice through the demo Meeting Client, consented to the artifact scopes (README demo directory). */
const ALICE: CredentialSpec = {
  type: 'user',
  tenant: C.tenantId,
  clientId: C.client.clientId,
  username: C.alice.upn,
  password: DEMO.password,
  scopes: [
    'https://graph.microsoft.com/Calendars.ReadWrite',
    'https://graph.microsoft.com/OnlineMeetings.ReadWrite',
    'https://graph.microsoft.com/OnlineMeetingArtifact.Read.All',
    'https://graph.microsoft.com/OnlineMeetingTranscript.Read.All',
    'https://graph.microsoft.com/OnlineMeetingRecording.Read.All',
  ],
};

for (const kind of STORES) {
  describe(`${kind}: meeting artifacts through Kiota and graph-client v3 (issue #17)`, () => {
    let t: TestApp;
    let w: SdkWorker;
    let origin: string;
    let meetingId: string;
    let joinWebUrl: string;
    let first: Awaited<ReturnType<typeof recordSession>>;
    const video = Buffer.alloc(600 * 1024 + 5);
    for (let i = 0; i < video.length; i++) video[i] = (i * 7 + 3) % 256;

    before(async () => {
      t = await startTestApp(kind, { listen: true, env: { ADMIN_KEY } });
      origin = t.origin;
      w = await startSdkWorker(t.caPath);
    });
    after(async () => {
      await w?.close();
      await t?.close();
    });

    const kiota = (cred: CredentialSpec, action: ArtifactArgs['action'], rest: Partial<ArtifactArgs> = {}) =>
      w.call('kiotaArtifactsTraced', { origin, cred, action, meetingId, ...rest });
    const v3 = (cred: CredentialSpec, path: string, responseType?: 'text' | 'arraybuffer', headers?: Record<string, string>) =>
      w.call('v3GetAs', { origin, cred, path, ...(responseType ? { responseType } : {}), ...(headers ? { headers } : {}) });

    test('create a calendar-backed meeting through Kiota, record a session with a transcript and a streamed recording', async () => {
      const created = await w.call('kiotaEventsTraced', {
        origin,
        cred: ALICE,
        action: 'create',
        body: {
          subject: 'Design review',
          start: { dateTime: '2030-01-02T10:00:00', timeZone: 'UTC' },
          end: { dateTime: '2030-01-02T11:00:00', timeZone: 'UTC' },
          attendees: [{ emailAddress: { address: C.bob.upn }, type: 'required' }],
          isOnlineMeeting: true,
          onlineMeetingProvider: 'teamsForBusiness',
        },
      });
      joinWebUrl = (created.body as Json).onlineMeeting.joinUrl;
      const found = await w.call('v3RequestTraced', {
        origin,
        cred: ALICE,
        method: 'get',
        path: '/me/onlineMeetings',
        filter: `JoinWebUrl eq '${joinWebUrl}'`,
      });
      meetingId = (found.result as Json).value[0].id;
      first = await recordSession(t, sessionBody(joinWebUrl, { recording: undefined }));
      const up = await admin(t, 'PUT', `/_emulator/sessions/${first.id}/recording`, video, { 'content-type': 'video/mp4' });
      assert.equal(up.statusCode, 201, up.body);
      first.recordingId = (up.json() as Json).recordingId;
    });

    test('Kiota: the attendance report, its records with $expand and through attendanceRecords', async () => {
      for (const [cred, userId] of [
        [ALICE, undefined],
        [DEMO_APP, C.alice.id],
      ] as const) {
        const list = (await kiota(cred, 'reports', { userId })).body as Json;
        assert.equal(list.value.length, 1);
        assert.equal(list.value[0].id, first.attendanceReportId);
        assert.equal(list.value[0].totalParticipantCount, 2);
        assert.equal(list.value[0].meetingStartDateTime, '2030-01-02T10:00:00.000Z');
        const report = (await kiota(cred, 'report', { userId, id: first.attendanceReportId })).body as Json;
        const [alice, guest] = report.attendanceRecords;
        assert.equal(alice.role, 'Organizer');
        assert.equal(alice.emailAddress, C.alice.upn);
        assert.equal(alice.totalAttendanceInSeconds, 45 * 60);
        assert.equal(alice.identity.id, C.alice.id);
        assert.equal(alice.identity.displayName, 'Alice Adams');
        assert.equal(alice.attendanceIntervals[0].durationInSeconds, 45 * 60);
        assert.equal(alice.attendanceIntervals[0].joinDateTime, '2030-01-02T10:00:00.000Z');
        assert.equal(guest.emailAddress, 'guest@example.com');
        assert.equal(guest.identity.displayName, 'Guest Person');
        assert.equal(guest.totalAttendanceInSeconds, 15 * 60);
        const records = (await kiota(cred, 'records', { userId, id: first.attendanceReportId })).body as Json;
        assert.deepEqual(records.value, report.attendanceRecords);
      }
    });

    test("Kiota: transcripts list; content needs Accept (the SDK's default is Graph's 400); VTT and speaker-less text; metadataContent", async () => {
      const list = (await kiota(DEMO_APP, 'transcripts', { userId: C.alice.id })).body as Json;
      assert.equal(list.value.length, 1);
      assert.equal(list.value[0].id, first.transcriptId);
      assert.equal(list.value[0].meetingOrganizer.user.id, C.alice.id);
      await assert.rejects(kiota(DEMO_APP, 'transcriptContent', { userId: C.alice.id, id: first.transcriptId! }), (err: unknown) => {
        assert.ok(err instanceof SdkCallError);
        assert.equal(err.sdkError.statusCode, 400);
        assert.match(err.sdkError.message, /Invalid format 'application\/octet-stream, application\/json' specified/);
        return true;
      });
      const vtt = await kiota(DEMO_APP, 'transcriptContent', {
        userId: C.alice.id,
        id: first.transcriptId!,
        headers: { Accept: 'text/vtt' },
      });
      assert.equal(Buffer.from((vtt.body as Json).base64, 'base64').toString(), SAMPLE_VTT);
      const text = await kiota(ALICE, 'transcriptContent', {
        id: first.transcriptId!,
        headers: { Accept: 'application/vnd.microsoft.graph.transcript+text' },
      });
      const plain = Buffer.from((text.body as Json).base64, 'base64').toString();
      assert.ok(!plain.includes('<v '));
      assert.ok(plain.startsWith('00:00:01.000 --> 00:00:04.000\nWelcome, everyone'));
      const metadata = await kiota(ALICE, 'metadataContent', { id: first.transcriptId! });
      assert.match(Buffer.from((metadata.body as Json).base64, 'base64').toString(), /"speakerName":"Alice Adams"/);
    });

    test('graph-client v3: VTT with Accept: text/vtt, the SDK default Accept refused, speaker-less text', async () => {
      const path = `/users/${C.alice.id}/onlineMeetings/${meetingId}/transcripts/${first.transcriptId}/content`;
      const vtt = await v3(DEMO_APP, path, 'text', { Accept: 'text/vtt' });
      assert.equal(vtt.result, SAMPLE_VTT);
      // v3 sets no Accept of its own; fetch sends `*/*`, which Graph refuses (§2.7).
      await assert.rejects(v3(DEMO_APP, path), (err: unknown) => {
        assert.ok(err instanceof SdkCallError);
        assert.equal(err.sdkError.statusCode, 400);
        assert.match(err.sdkError.message, /Invalid format '\*\/\*' specified/);
        return true;
      });
      const text = await v3(ALICE, `/me/onlineMeetings/${meetingId}/transcripts/${first.transcriptId}/content`, 'text', {
        Accept: 'application/vnd.microsoft.graph.transcript+text',
      });
      assert.match(text.result as string, /^00:00:01\.000 --> 00:00:04\.000\nWelcome/);
    });

    test('recordings: list and download the streamed bytes through both clients', async () => {
      const list = (await kiota(DEMO_APP, 'recordings', { userId: C.alice.id })).body as Json;
      assert.equal(list.value.length, 1);
      assert.equal(list.value[0].id, first.recordingId);
      const viaKiota = await kiota(DEMO_APP, 'recordingContent', { userId: C.alice.id, id: first.recordingId! });
      assert.ok(Buffer.from((viaKiota.body as Json).base64, 'base64').equals(video));
      assert.equal(viaKiota.wire.headers['content-type'], 'video/mp4');
      const viaV3 = await v3(ALICE, `/me/onlineMeetings/${meetingId}/recordings/${first.recordingId}/content`, 'arraybuffer');
      assert.ok(Buffer.from((viaV3.result as Json).base64, 'base64').equals(video));
    });

    test("getAllTranscripts: Kiota's alias form with paging, then delta through a second session", async () => {
      // A second meeting's transcript for the same organizer, so that a page of one has a next link.
      const page1 = await kiota(DEMO_APP, 'getAllTranscripts', {
        userId: C.alice.id,
        query: { meetingOrganizerUserId: C.alice.id, startDateTime: '2030-01-01T00:00:00Z' },
      });
      assert.match(page1.wire.url, /getAllTranscripts\(meetingOrganizerUserId='@meetingOrganizerUserId',startDateTime=@startDateTime/);
      assert.deepEqual(
        (page1.body as Json).value.map((x: Json) => x.id),
        [first.transcriptId],
      );
      // delta: the first round returns what exists and ends with a deltaLink (v3), then only what is new (Kiota withUrl).
      const delta = await v3(
        DEMO_APP,
        `/users/${C.alice.id}/onlineMeetings/getAllTranscripts(meetingOrganizerUserId='${C.alice.id}')/delta`,
      );
      const round1 = delta.result as Json;
      assert.deepEqual(
        round1.value.map((x: Json) => x.id),
        [first.transcriptId],
      );
      const deltaLink = round1['@odata.deltaLink'] as string;
      assert.ok(deltaLink.startsWith(`${origin}/v1.0/users/${C.alice.id}/onlineMeetings/getAllTranscripts(`));
      const second = await recordSession(
        t,
        sessionBody(joinWebUrl, {
          recording: undefined,
          startDateTime: '2030-01-09T10:00:00Z',
          endDateTime: '2030-01-09T10:45:00Z',
          participants: [
            { user: C.alice.upn, intervals: [{ joinDateTime: '2030-01-09T10:00:00Z', leaveDateTime: '2030-01-09T10:45:00Z' }] },
            { user: C.bob.upn, intervals: [{ joinDateTime: '2030-01-09T10:01:00Z', leaveDateTime: '2030-01-09T10:44:00Z' }] },
          ],
        }),
      );
      const round2 = (await kiota(DEMO_APP, 'getAllTranscriptsUrl', { userId: C.alice.id, url: deltaLink })).body as Json;
      assert.deepEqual(
        round2.value.map((x: Json) => x.id),
        [second.transcriptId],
      );
      const nextDelta = round2.additionalData['@odata.deltaLink'] as string;
      assert.ok(nextDelta);
      const round3 = (await kiota(DEMO_APP, 'getAllTranscriptsUrl', { userId: C.alice.id, url: nextDelta })).body as Json;
      assert.deepEqual(round3.value, []);
      // Paging: $top=1 over both transcripts, following @odata.nextLink with withUrl.
      const paged = (
        await kiota(DEMO_APP, 'getAllTranscripts', { userId: C.alice.id, query: { meetingOrganizerUserId: C.alice.id, top: 1 } })
      ).body as Json;
      assert.equal(paged.value.length, 1);
      assert.ok(paged.odataNextLink);
      const rest = (await kiota(DEMO_APP, 'getAllTranscriptsUrl', { userId: C.alice.id, url: paged.odataNextLink })).body as Json;
      assert.deepEqual(
        [...paged.value, ...rest.value].map((x: Json) => x.id),
        [first.transcriptId, second.transcriptId],
      );
    });
  });
}
