import type { Kysely } from 'kysely';

// Frozen in time. Deleted meetings stay as tombstones for a while so that their join meeting id,
// conference id and VTC id are not handed to a new meeting while old invitations still circulate.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('meetings').addColumn('deleted_at', 'text').execute();
  await db.schema.createIndex('meetings_deleted_at').on('meetings').column('deleted_at').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  // Without the column a tombstone would read as a live meeting: remove them first.
  await (db as Kysely<{ meetings: { deleted_at: string | null } }>).deleteFrom('meetings').where('deleted_at', 'is not', null).execute();
  await db.schema.dropIndex('meetings_deleted_at').execute();
  await db.schema.alterTable('meetings').dropColumn('deleted_at').execute();
}
