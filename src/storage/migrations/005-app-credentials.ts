import type { Kysely } from 'kysely';

// Frozen in time. App credentials beyond secrets (issue #13): certificates (the public certificate and
// its thumbprints only; the private key never reaches us, as in Entra), the delegated scopes an app
// exposes as an API (api://{clientId}/{scope}), the admin consents of one app to another's scopes, and
// the app's sign-in audience (single- or multi-tenant), which decides whether /common may serve it.
export async function up(db: Kysely<unknown>): Promise<void> {
  const s = db.schema;
  await s
    .createTable('application_certificates')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('application_id', 'text', (c) => c.notNull().references('applications.id').onDelete('cascade'))
    .addColumn('thumbprint', 'text', (c) => c.notNull())
    .addColumn('thumbprint_sha256', 'text', (c) => c.notNull())
    .addColumn('certificate', 'text', (c) => c.notNull())
    .addColumn('subject', 'text', (c) => c.notNull())
    .addColumn('not_before', 'text', (c) => c.notNull())
    .addColumn('not_after', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addUniqueConstraint('application_certificates_thumbprint', ['application_id', 'thumbprint'])
    .execute();
  await s
    .createTable('exposed_scopes')
    .addColumn('application_id', 'text', (c) => c.notNull().references('applications.id').onDelete('cascade'))
    .addColumn('scope', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('exposed_scopes_pk', ['application_id', 'scope'])
    .execute();
  await s
    .createTable('api_consents')
    .addColumn('application_id', 'text', (c) => c.notNull().references('applications.id').onDelete('cascade'))
    .addColumn('api_application_id', 'text', (c) => c.notNull().references('applications.id').onDelete('cascade'))
    .addColumn('scope', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('api_consents_pk', ['application_id', 'api_application_id', 'scope'])
    .execute();
  await s
    .alterTable('applications')
    .addColumn('sign_in_audience', 'text', (c) => c.notNull().defaultTo('AzureADMyOrg'))
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('applications').dropColumn('sign_in_audience').execute();
  await db.schema.dropTable('api_consents').execute();
  await db.schema.dropTable('exposed_scopes').execute();
  await db.schema.dropTable('application_certificates').execute();
}
