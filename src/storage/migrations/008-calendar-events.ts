import type { Kysely } from 'kysely';

// Frozen in time. Outlook calendar events (issue #16, graph-events-spec.md) and the mark on meetings that
// an event backs (graph-meeting-artifacts-spec.md §5.2: transcripts and recordings serve only those).
export async function up(db: Kysely<unknown>): Promise<void> {
  const s = db.schema;
  await s
    .createTable('events')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
    .addColumn('owner_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('ical_uid', 'text', (c) => c.notNull())
    .addColumn('transaction_id', 'text')
    .addColumn('start_utc', 'text', (c) => c.notNull())
    .addColumn('end_utc', 'text', (c) => c.notNull())
    .addColumn('is_online_meeting', 'integer', (c) => c.notNull())
    .addColumn('meeting_id', 'text')
    .addColumn('created_date_time', 'text', (c) => c.notNull())
    .addColumn('last_modified_date_time', 'text', (c) => c.notNull())
    .addColumn('resource', 'text', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull().defaultTo(1))
    .execute();
  await s.createIndex('events_ical_uid').on('events').column('ical_uid').unique().execute();
  // transactionId makes a create idempotent per mailbox; NULLs never collide on either store.
  await s.createIndex('events_owner_transaction').on('events').columns(['owner_id', 'transaction_id']).unique().execute();
  // calendarView (start < windowEnd and end > windowStart), $filter and $orderby on start or end.
  await s.createIndex('events_owner_start').on('events').columns(['owner_id', 'start_utc', 'id']).execute();
  await s.createIndex('events_owner_end').on('events').columns(['owner_id', 'end_utc', 'id']).execute();
  await s.createIndex('events_meeting').on('events').column('meeting_id').execute();

  await s.alterTable('meetings').addColumn('ical_uid', 'text').execute();
  await s.createIndex('meetings_ical_uid').on('meetings').column('ical_uid').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('meetings_ical_uid').execute();
  await db.schema.alterTable('meetings').dropColumn('ical_uid').execute();
  await db.schema.dropTable('events').execute();
}
