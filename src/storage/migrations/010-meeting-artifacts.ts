import { SqliteAdapter, type Kysely } from 'kysely';

// Frozen in time. Meetings that happened (issue #17, graph-meeting-artifacts-spec.md §1, §2): one row per
// recorded session, its attendance records, its transcript (WebVTT text) and its recording, whose bytes
// live in recording_chunks (256 KiB rows) so that every instance sharing the database serves them and no
// request holds a whole recording in memory. artifact_usage counts metered minutes (§2.6).
export async function up(db: Kysely<unknown>): Promise<void> {
  const s = db.schema;
  // The one dialect difference: binary columns are BLOB on SQLite and BYTEA on PostgreSQL.
  const binary = db.getExecutor().adapter instanceof SqliteAdapter ? 'blob' : 'bytea';
  await s
    .createTable('meeting_sessions')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
    .addColumn('meeting_id', 'text', (c) => c.notNull().references('meetings.id').onDelete('cascade'))
    .addColumn('organizer_id', 'text', (c) => c.notNull())
    .addColumn('call_id', 'text', (c) => c.notNull())
    .addColumn('report_id', 'text', (c) => c.notNull().unique())
    .addColumn('start_date_time', 'text', (c) => c.notNull())
    .addColumn('end_date_time', 'text', (c) => c.notNull())
    .addColumn('participant_count', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  // Reports of a meeting, newest first (the list returns the 50 most recent, §1.2).
  await s.createIndex('meeting_sessions_meeting').on('meeting_sessions').columns(['meeting_id', 'start_date_time']).execute();

  await s
    .createTable('attendance_records')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('session_id', 'text', (c) => c.notNull().references('meeting_sessions.id').onDelete('cascade'))
    .addColumn('position', 'integer', (c) => c.notNull())
    .addColumn('user_id', 'text')
    .addColumn('user_tenant_id', 'text')
    .addColumn('display_name', 'text', (c) => c.notNull())
    .addColumn('email_address', 'text', (c) => c.notNull())
    .addColumn('role', 'text', (c) => c.notNull())
    .addColumn('total_seconds', 'integer', (c) => c.notNull())
    /** JSON array of {joinDateTime, leaveDateTime, durationInSeconds}. */
    .addColumn('intervals', 'text', (c) => c.notNull())
    .execute();
  await s.createIndex('attendance_records_session').on('attendance_records').columns(['session_id', 'position']).execute();

  for (const table of ['transcripts', 'recordings'] as const) {
    let t = s
      .createTable(table)
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('session_id', 'text', (c) => c.notNull().references('meeting_sessions.id').onDelete('cascade'))
      .addColumn('tenant_id', 'text', (c) => c.notNull())
      .addColumn('meeting_id', 'text', (c) => c.notNull())
      .addColumn('organizer_id', 'text', (c) => c.notNull())
      .addColumn('call_id', 'text', (c) => c.notNull())
      .addColumn('content_correlation_id', 'text', (c) => c.notNull())
      .addColumn('created_date_time', 'text', (c) => c.notNull())
      .addColumn('end_date_time', 'text', (c) => c.notNull())
      // Order of creation across the service: the delta cursor of getAllTranscripts/getAllRecordings. Null
      // while a streamed recording upload is under way (NULLs never collide on either store).
      .addColumn('sequence', 'bigint', (c) => c.unique());
    t =
      table === 'transcripts'
        ? t.addColumn('content', 'text', (c) => c.notNull())
        : t
            .addColumn('content_type', 'text', (c) => c.notNull())
            .addColumn('size', 'bigint', (c) => c.notNull())
            .addColumn('chunk_size', 'integer', (c) => c.notNull())
            /** 0 while a streamed upload is under way: Graph does not see it until it is complete. */
            .addColumn('complete', 'integer', (c) => c.notNull());
    await t.execute();
    await s.createIndex(`${table}_meeting`).on(table).columns(['meeting_id', 'created_date_time']).execute();
    await s.createIndex(`${table}_organizer`).on(table).columns(['organizer_id', 'sequence']).execute();
  }
  await s
    .createTable('recording_chunks')
    .addColumn('recording_id', 'text', (c) => c.notNull().references('recordings.id').onDelete('cascade'))
    .addColumn('position', 'integer', (c) => c.notNull())
    .addColumn('data', binary, (c) => c.notNull())
    .addPrimaryKeyConstraint('recording_chunks_pk', ['recording_id', 'position'])
    .execute();

  await s
    .createTable('artifact_usage')
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
    .addColumn('client_id', 'text', (c) => c.notNull())
    /** 'transcript' or 'recording': evaluation capacity is counted separately (§2.6). */
    .addColumn('kind', 'text', (c) => c.notNull())
    /** YYYY-MM (UTC). */
    .addColumn('month', 'text', (c) => c.notNull())
    .addColumn('minutes', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('artifact_usage_pk', ['tenant_id', 'client_id', 'kind', 'month'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const t of ['artifact_usage', 'recording_chunks', 'recordings', 'transcripts', 'attendance_records', 'meeting_sessions']) {
    await db.schema.dropTable(t).execute();
  }
}
