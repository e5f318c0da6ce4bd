import type { Kysely } from 'kysely';

// Frozen in time: never edit a released migration; add a new one instead.
export async function up(db: Kysely<unknown>): Promise<void> {
  const s = db.schema;
  await s
    .createTable('tenants')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('display_name', 'text', (c) => c.notNull())
    .addColumn('settings', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await s
    .createTable('tenant_domains')
    .addColumn('domain', 'text', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
    .addColumn('is_default', 'integer', (c) => c.notNull())
    .execute();
  await s
    .createTable('users')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
    .addColumn('upn', 'text', (c) => c.notNull().unique())
    .addColumn('display_name', 'text', (c) => c.notNull())
    .addColumn('password_hash', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await s.createIndex('users_tenant').on('users').column('tenant_id').execute();
  await s
    .createTable('applications')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('client_id', 'text', (c) => c.notNull().unique())
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
    .addColumn('display_name', 'text', (c) => c.notNull())
    .addColumn('allow_public_client', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await s
    .createTable('application_secrets')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('application_id', 'text', (c) => c.notNull().references('applications.id').onDelete('cascade'))
    .addColumn('secret_hash', 'text', (c) => c.notNull())
    .addColumn('hint', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await s.createIndex('application_secrets_app').on('application_secrets').column('application_id').execute();
  await s
    .createTable('application_permissions')
    .addColumn('application_id', 'text', (c) => c.notNull().references('applications.id').onDelete('cascade'))
    .addColumn('permission', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('application_permissions_pk', ['application_id', 'permission'])
    .execute();
  await s
    .createTable('delegated_consents')
    .addColumn('application_id', 'text', (c) => c.notNull().references('applications.id').onDelete('cascade'))
    .addColumn('scope', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('delegated_consents_pk', ['application_id', 'scope'])
    .execute();
  await s
    .createTable('access_policies')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('name_key', 'text', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addUniqueConstraint('access_policies_name', ['tenant_id', 'name_key'])
    .execute();
  await s
    .createTable('access_policy_apps')
    .addColumn('policy_id', 'text', (c) => c.notNull().references('access_policies.id').onDelete('cascade'))
    .addColumn('client_id', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('access_policy_apps_pk', ['policy_id', 'client_id'])
    .execute();
  await s
    .createTable('access_policy_assignments')
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('policy_id', 'text', (c) => c.notNull().references('access_policies.id').onDelete('cascade'))
    .addPrimaryKeyConstraint('access_policy_assignments_pk', ['tenant_id', 'user_id'])
    .execute();
  await s
    .createTable('meeting_templates')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
    .addColumn('display_name', 'text', (c) => c.notNull())
    .addColumn('definition', 'text', (c) => c.notNull())
    .execute();
  await s
    .createTable('signing_keys')
    .addColumn('kid', 'text', (c) => c.primaryKey())
    .addColumn('private_jwk', 'text', (c) => c.notNull())
    .addColumn('public_jwk', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await s
    .createTable('meetings')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('organizer_id', 'text', (c) => c.notNull())
    .addColumn('external_id', 'text')
    .addColumn('thread_id', 'text', (c) => c.notNull())
    .addColumn('join_meeting_id', 'text', (c) => c.notNull())
    .addColumn('conference_id', 'text', (c) => c.notNull())
    .addColumn('video_teleconference_id', 'text', (c) => c.notNull())
    .addColumn('creation_date_time', 'text', (c) => c.notNull())
    .addColumn('start_date_time', 'text', (c) => c.notNull())
    .addColumn('end_date_time', 'text', (c) => c.notNull())
    .addColumn('expiry_date_time', 'text', (c) => c.notNull())
    .addColumn('resource', 'text', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull().defaultTo(1))
    .execute();
  // Every lookup of fact sheet §3.4 is an index probe, never a scan; each generated number is unique service-wide.
  await s.createIndex('meetings_thread').unique().on('meetings').column('thread_id').execute();
  await s.createIndex('meetings_join_meeting_id').unique().on('meetings').column('join_meeting_id').execute();
  await s.createIndex('meetings_conference_id').unique().on('meetings').column('conference_id').execute();
  await s.createIndex('meetings_vtc_id').unique().on('meetings').column('video_teleconference_id').execute();
  // The createOrGet key (§3.2); NULL external ids (plain creates) never collide.
  await s.createIndex('meetings_external_key').unique().on('meetings').columns(['tenant_id', 'organizer_id', 'external_id']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const t of [
    'meetings',
    'signing_keys',
    'meeting_templates',
    'access_policy_assignments',
    'access_policy_apps',
    'access_policies',
    'delegated_consents',
    'application_permissions',
    'application_secrets',
    'applications',
    'users',
    'tenant_domains',
    'tenants',
  ]) {
    await db.schema.dropTable(t).ifExists().execute();
  }
}
