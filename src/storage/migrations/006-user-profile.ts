import { sql, type Kysely } from 'kysely';

// Frozen in time. The user profile that Graph's user resource serves by default (fact sheet §5.1):
// every property is nullable as in Graph, except businessPhones, a JSON array that is never null.
// Existing users get their UPN as mail, as `user add` does for new ones.
const TEXT_COLUMNS = ['given_name', 'surname', 'job_title', 'mail', 'mobile_phone', 'office_location', 'preferred_language'];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const column of TEXT_COLUMNS) await db.schema.alterTable('users').addColumn(column, 'text').execute();
  await db.schema
    .alterTable('users')
    .addColumn('business_phones', 'text', (c) => c.notNull().defaultTo('[]'))
    .execute();
  await sql`update users set mail = upn`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const column of [...TEXT_COLUMNS, 'business_phones']) await db.schema.alterTable('users').dropColumn(column).execute();
}
