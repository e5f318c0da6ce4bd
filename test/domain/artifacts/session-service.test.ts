import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { SessionService, type RecordedSession } from '../../../src/domain/artifacts/session-service.js';
import { STORES } from '../../helpers/stores.js';
import { DEMO, startTestApp, type TestApp } from '../../helpers/test-app.js';
import { ARTIFACT_SCOPES, calendarMeeting, sessionBody } from '../../helpers/artifacts.js';

const C = DEMO.contoso;

for (const kind of STORES) {
  describe(`${kind}: SessionService writes a session in one transaction (issue #17, for #18's outbox)`, () => {
    let t: TestApp;
    let joinWebUrl: string;
    before(async () => {
      t = await startTestApp(kind);
      ({ joinWebUrl } = await calendarMeeting(t, await t.userToken(C.alice.upn, ARTIFACT_SCOPES)));
    });
    after(() => t.close());
    const count = async (table: 'meeting_sessions' | 'attendance_records' | 'transcripts' | 'recordings' | 'recording_chunks') =>
      Number(
        (
          await t.testStore.store.db
            .selectFrom(table)
            .select((eb) => eb.fn.countAll().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      );
    const counts = async () =>
      Promise.all((['meeting_sessions', 'attendance_records', 'transcripts', 'recordings', 'recording_chunks'] as const).map(count));

    test('inTransaction sees what was created, with the meeting tenant and organizer; its failure rolls everything back', async () => {
      const seen: RecordedSession[] = [];
      const ok = new SessionService({
        db: t.testStore.store.db,
        clock: Date.now,
        inTransaction: async (tx, recorded) => {
          // Inside the transaction: the rows are there (a streamed recording is complete by now).
          const row = await tx.selectFrom('meeting_sessions').select('report_id').where('id', '=', recorded.id).executeTakeFirst();
          assert.equal(row?.report_id, recorded.attendanceReportId);
          if (recorded.recordingId !== null) {
            const rec = await tx.selectFrom('recordings').select('complete').where('id', '=', recorded.recordingId).executeTakeFirst();
            assert.equal(Number(rec?.complete), 1);
          }
          seen.push(recorded);
        },
      });
      const recorded = await ok.recordSession(sessionBody(joinWebUrl));
      assert.deepEqual(seen, [recorded]);
      assert.equal(recorded.tenantId, C.tenantId);
      assert.equal(recorded.organizerId, C.alice.id);
      assert.ok(recorded.transcriptId && recorded.recordingId);

      const before = await counts();
      const failing = new SessionService({
        db: t.testStore.store.db,
        clock: Date.now,
        inTransaction: async () => {
          throw new Error('outbox unavailable');
        },
      });
      await assert.rejects(failing.recordSession(sessionBody(joinWebUrl)), /outbox unavailable/);
      assert.deepEqual(await counts(), before, 'nothing of the failed session stays');

      // The streamed upload: a failing hook removes the recording and its chunks.
      const bare = await ok.recordSession(sessionBody(joinWebUrl, { recording: undefined, transcript: undefined }));
      const beforeUpload = await counts();
      async function* body() {
        yield Buffer.alloc(300 * 1024, 1);
      }
      await assert.rejects(failing.attachRecording(bare.id, 'video/mp4', body(), 1024 ** 2), /outbox unavailable/);
      assert.deepEqual(await counts(), beforeUpload);
      const uploaded = await ok.attachRecording(bare.id, 'video/mp4', body(), 1024 ** 2);
      assert.equal(uploaded.size, 300 * 1024);
      assert.equal(seen.at(-1)!.recordingId, uploaded.recordingId);
    });
  });
}
