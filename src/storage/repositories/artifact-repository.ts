import { sql, type Insertable, type Kysely, type Transaction } from 'kysely';
import type {
  AttendanceRecordsTable,
  Database,
  MeetingRow,
  MeetingSessionsTable,
  RecordingRow,
  RecordingsTable,
  TranscriptRow,
  TranscriptsTable,
} from '../tables.js';

/**
 * Sessions and their artifacts (migration 010, issue #17). Recording bytes are rows of recording_chunks,
 * written and read one chunk at a time: every instance on the database serves them, none holds a whole one.
 */
type Db = Kysely<Database> | Transaction<Database>;

/** A meeting row whatever its state: sessions must tell "deleted" from "unknown" (issue #17). */
export async function findMeetingRowById(db: Db, id: string): Promise<MeetingRow | undefined> {
  return db.selectFrom('meetings').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function findMeetingRowByThread(db: Db, threadId: string): Promise<MeetingRow | undefined> {
  // A thread id is unique among live meetings; prefer the live one over tombstones.
  return db
    .selectFrom('meetings')
    .selectAll()
    .where('thread_id', '=', threadId)
    .orderBy(sql`case when deleted_at is null then 0 else 1 end`)
    .executeTakeFirst();
}

/** The next creation sequence number (delta cursor); a racing writer fails on the unique index and retries. */
export async function nextSequence(db: Db): Promise<number> {
  const row = await db
    .selectNoFrom([
      sql<string | number | null>`(select max(sequence) from transcripts)`.as('t'),
      sql<string | number | null>`(select max(sequence) from recordings)`.as('r'),
    ])
    .executeTakeFirstOrThrow();
  return Math.max(Number(row.t ?? 0), Number(row.r ?? 0)) + 1;
}

export async function insertSession(db: Db, row: Insertable<MeetingSessionsTable>): Promise<void> {
  await db.insertInto('meeting_sessions').values(row).execute();
}

export async function insertAttendanceRecords(db: Db, rows: Insertable<AttendanceRecordsTable>[]): Promise<void> {
  // Batches well under both dialects' parameter limits (11 columns a row).
  for (let i = 0; i < rows.length; i += 500)
    await db
      .insertInto('attendance_records')
      .values(rows.slice(i, i + 500))
      .execute();
}

export async function insertTranscript(db: Db, row: Insertable<TranscriptsTable>): Promise<void> {
  await db.insertInto('transcripts').values(row).execute();
}

export async function insertRecording(db: Db, row: Insertable<RecordingsTable>): Promise<void> {
  await db.insertInto('recordings').values(row).execute();
}

export async function insertChunk(db: Db, recordingId: string, position: number, data: Uint8Array): Promise<void> {
  await db.insertInto('recording_chunks').values({ recording_id: recordingId, position, data }).execute();
}

/** Marks a streamed recording complete with its size and creation sequence. */
export async function completeRecording(db: Db, id: string, size: number, sequence: number): Promise<void> {
  await db.updateTable('recordings').set({ size, sequence, complete: 1 }).where('id', '=', id).execute();
}

/** Removes an upload that failed (its chunks go with it). */
export async function deleteRecording(db: Db, id: string): Promise<void> {
  await db.deleteFrom('recordings').where('id', '=', id).execute();
}

export async function findSession(db: Db, id: string) {
  return db.selectFrom('meeting_sessions').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function sessionHasRecording(db: Db, sessionId: string): Promise<boolean> {
  const row = await db
    .selectFrom('recordings')
    .select('id')
    .where('session_id', '=', sessionId)
    .where('complete', '=', 1)
    .executeTakeFirst();
  return row !== undefined;
}

/** Removes a session's unfinished uploads (a crash or a dropped connection left them; Graph never saw them). */
export async function deleteIncompleteRecordings(db: Db, sessionId: string): Promise<void> {
  await db.deleteFrom('recordings').where('session_id', '=', sessionId).where('complete', '=', 0).execute();
}

/** The most recent reports of a meeting (§1.2: at most 50, newest first). */
export async function listReports(db: Db, meetingId: string, limit: number) {
  return db
    .selectFrom('meeting_sessions')
    .selectAll()
    .where('meeting_id', '=', meetingId)
    .orderBy('start_date_time', 'desc')
    .orderBy('id')
    .limit(limit)
    .execute();
}

export async function findReport(db: Db, meetingId: string, reportId: string) {
  return db
    .selectFrom('meeting_sessions')
    .selectAll()
    .where('meeting_id', '=', meetingId)
    .where('report_id', '=', reportId)
    .executeTakeFirst();
}

export async function attendanceRecords(db: Db, sessionId: string) {
  return db.selectFrom('attendance_records').selectAll().where('session_id', '=', sessionId).orderBy('position').execute();
}

/** The columns a listing shows: never the content, which may be megabytes per transcript. */
const META = [
  'id',
  'session_id',
  'meeting_id',
  'organizer_id',
  'tenant_id',
  'call_id',
  'content_correlation_id',
  'created_date_time',
  'end_date_time',
  'sequence',
] as const;

export async function listTranscripts(db: Db, meetingId: string, contentCorrelationId?: string) {
  let q = db.selectFrom('transcripts').select(META).where('meeting_id', '=', meetingId);
  if (contentCorrelationId !== undefined) q = q.where('content_correlation_id', '=', contentCorrelationId);
  return q.orderBy('sequence').execute();
}

export async function findTranscript(db: Db, meetingId: string, id: string): Promise<TranscriptRow | undefined> {
  return db.selectFrom('transcripts').selectAll().where('meeting_id', '=', meetingId).where('id', '=', id).executeTakeFirst();
}

export async function listRecordings(db: Db, meetingId: string, contentCorrelationId?: string): Promise<RecordingRow[]> {
  let q = db.selectFrom('recordings').selectAll().where('meeting_id', '=', meetingId).where('complete', '=', 1);
  if (contentCorrelationId !== undefined) q = q.where('content_correlation_id', '=', contentCorrelationId);
  return q.orderBy('sequence').execute();
}

export async function findRecording(db: Db, meetingId: string, id: string): Promise<RecordingRow | undefined> {
  return db
    .selectFrom('recordings')
    .selectAll()
    .where('meeting_id', '=', meetingId)
    .where('id', '=', id)
    .where('complete', '=', 1)
    .executeTakeFirst();
}

/** One chunk of a recording's bytes, or undefined past its end. */
export async function readChunk(db: Db, recordingId: string, position: number): Promise<Uint8Array | undefined> {
  const row = await db
    .selectFrom('recording_chunks')
    .select('data')
    .where('recording_id', '=', recordingId)
    .where('position', '=', position)
    .executeTakeFirst();
  return row?.data;
}

/**
 * An organizer's transcripts or recordings for getAllTranscripts / getAllRecordings (§2.4): creation time in
 * [start, end), after a sequence (paging and delta cursors), in creation order.
 */
export async function organizerArtifacts<T extends 'transcripts' | 'recordings'>(
  db: Db,
  table: T,
  filter: { tenantId: string; organizerId: string; start?: string; end?: string; afterSequence: number; limit: number },
) {
  let q = db
    .selectFrom(table as 'transcripts')
    .select(META)
    .where('tenant_id', '=', filter.tenantId)
    .where('organizer_id', '=', filter.organizerId)
    .where('sequence', '>', filter.afterSequence)
    // A deleted meeting's artifacts are not served (its per-meeting paths answer 404 too).
    .where((eb) =>
      eb.exists(
        eb
          .selectFrom('meetings')
          .select('meetings.id')
          .whereRef('meetings.id', '=', sql.ref(`${table}.meeting_id`))
          .where('meetings.deleted_at', 'is', null),
      ),
    );
  if (table === 'recordings') q = q.where(sql.ref('complete'), '=', 1);
  if (filter.start !== undefined) q = q.where('created_date_time', '>=', filter.start);
  if (filter.end !== undefined) q = q.where('created_date_time', '<', filter.end);
  return q.orderBy('sequence').limit(filter.limit).execute();
}

/** The highest creation sequence so far (a delta's starting point when nothing matched). */
export async function maxSequence(db: Db): Promise<number> {
  return (await nextSequence(db)) - 1;
}

export async function usedMinutes(db: Db, key: { tenantId: string; clientId: string; kind: 'transcript' | 'recording'; month: string }) {
  const row = await db
    .selectFrom('artifact_usage')
    .select('minutes')
    .where('tenant_id', '=', key.tenantId)
    .where('client_id', '=', key.clientId)
    .where('kind', '=', key.kind)
    .where('month', '=', key.month)
    .executeTakeFirst();
  return row ? Number(row.minutes) : 0;
}

export async function addUsedMinutes(
  db: Db,
  key: { tenantId: string; clientId: string; kind: 'transcript' | 'recording'; month: string },
  minutes: number,
): Promise<void> {
  await db
    .insertInto('artifact_usage')
    .values({ tenant_id: key.tenantId, client_id: key.clientId, kind: key.kind, month: key.month, minutes })
    .onConflict((oc) =>
      oc.columns(['tenant_id', 'client_id', 'kind', 'month']).doUpdateSet({ minutes: sql`artifact_usage.minutes + ${minutes}` }),
    )
    .execute();
}

export async function setTenantSettings(db: Db, tenantId: string, settings: string): Promise<void> {
  await db.updateTable('tenants').set({ settings }).where('id', '=', tenantId).execute();
}
