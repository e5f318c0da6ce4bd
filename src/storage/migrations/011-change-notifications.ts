import type { Kysely } from 'kysely';

// Frozen in time. Change notifications (issue #18, graph-meeting-artifacts-spec.md §3): Graph's subscriptions
// and the durable outbox that delivers their notifications (at least once, leased so that several instances
// share the work without sending one item twice at the same time).
export async function up(db: Kysely<unknown>): Promise<void> {
  const s = db.schema;
  await s
    .createTable('subscriptions')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
    /** The subscribing app's client id (applicationId). */
    .addColumn('application_id', 'text', (c) => c.notNull())
    /** The signed-in user (delegated) or the service principal (application). */
    .addColumn('creator_id', 'text', (c) => c.notNull())
    .addColumn('resource', 'text', (c) => c.notNull())
    /** 'events', 'transcripts' or 'recordings'. */
    .addColumn('resource_kind', 'text', (c) => c.notNull())
    /** Which changes of that kind: 'tenant', 'user:{oid}' or 'meeting:{id}'. */
    .addColumn('resource_key', 'text', (c) => c.notNull())
    /** Normalised comma list, e.g. 'created,updated'. */
    .addColumn('change_type', 'text', (c) => c.notNull())
    .addColumn('notification_url', 'text', (c) => c.notNull())
    .addColumn('lifecycle_notification_url', 'text')
    .addColumn('client_state', 'text')
    .addColumn('include_resource_data', 'integer', (c) => c.notNull())
    .addColumn('encryption_certificate', 'text')
    .addColumn('encryption_certificate_id', 'text')
    .addColumn('latest_supported_tls_version', 'text')
    .addColumn('notification_url_app_id', 'text')
    .addColumn('notification_query_options', 'text')
    .addColumn('expiration_date_time', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    /** When the last reauthorizationRequired lifecycle notification was queued (§3.9 cadence). */
    .addColumn('reauthorization_sent_at', 'text')
    .execute();
  await s.createIndex('subscriptions_resource').on('subscriptions').columns(['tenant_id', 'resource_kind', 'resource_key']).execute();
  await s.createIndex('subscriptions_expiration').on('subscriptions').column('expiration_date_time').execute();

  await s
    .createTable('notification_outbox')
    .addColumn('id', 'text', (c) => c.primaryKey())
    /** No foreign key: a subscriptionRemoved notification outlives its subscription. */
    .addColumn('subscription_id', 'text', (c) => c.notNull())
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    /** 'change' or 'lifecycle'. */
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('url', 'text', (c) => c.notNull())
    /** JSON: what the notification says besides the subscription's own fields (changeType, resource, resourceData, lifecycleEvent). */
    .addColumn('payload', 'text', (c) => c.notNull())
    /** JSON of the changed resource, for subscriptions with includeResourceData (encrypted at delivery). */
    .addColumn('resource_json', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    /** Graph retries for up to 4 hours (§3.8), then discards. */
    .addColumn('give_up_at', 'text', (c) => c.notNull())
    .addColumn('next_attempt_at', 'text', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    /** 'pending', 'delivered' or 'dropped'. */
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('lease_owner', 'text')
    /** Real time in ms: a lease is about processes, not the emulated timeline. */
    .addColumn('lease_until', 'bigint')
    .addColumn('last_status', 'integer')
    .addColumn('last_error', 'text')
    .addColumn('last_duration_ms', 'integer')
    .addColumn('last_attempt_at', 'text')
    .addColumn('delivered_at', 'text')
    .execute();
  await s.createIndex('notification_outbox_due').on('notification_outbox').columns(['status', 'next_attempt_at']).execute();
  await s.createIndex('notification_outbox_subscription').on('notification_outbox').column('subscription_id').execute();
  await s.createIndex('notification_outbox_created').on('notification_outbox').column('created_at').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('notification_outbox').execute();
  await db.schema.dropTable('subscriptions').execute();
}
