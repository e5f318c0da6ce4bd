import { sql, type CompiledQuery, type Kysely, type Transaction } from 'kysely';
import type { StoreKind } from '../database.js';
import type { Database, NotificationOutboxTable, OutboxRow, SubscriptionRow, SubscriptionsTable } from '../tables.js';
import type { Insertable } from 'kysely';

type Db = Kysely<Database>;

export async function insertSubscription(db: Db, row: Insertable<SubscriptionsTable>): Promise<void> {
  await db.insertInto('subscriptions').values(row).execute();
}

export async function findSubscription(db: Db, id: string): Promise<SubscriptionRow | undefined> {
  return db.selectFrom('subscriptions').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function listSubscriptions(
  db: Db,
  q: { tenantId: string; applicationId?: string; creatorId?: string; afterId?: string; limit: number },
): Promise<SubscriptionRow[]> {
  let query = db.selectFrom('subscriptions').selectAll().where('tenant_id', '=', q.tenantId);
  if (q.applicationId !== undefined) query = query.where('application_id', '=', q.applicationId);
  if (q.creatorId !== undefined) query = query.where('creator_id', '=', q.creatorId);
  if (q.afterId !== undefined) query = query.where('id', '>', q.afterId);
  return query.orderBy('id').limit(q.limit).execute();
}

/** Live subscriptions matching a filter, for the quotas of §3.3. */
export async function countSubscriptions(
  db: Db,
  q: { tenantId: string; kinds: string[]; resourceKey?: string; applicationId?: string; now: string },
): Promise<number> {
  let query = db
    .selectFrom('subscriptions')
    .where('tenant_id', '=', q.tenantId)
    .where('resource_kind', 'in', q.kinds)
    .where('expiration_date_time', '>', q.now);
  if (q.resourceKey !== undefined) query = query.where('resource_key', '=', q.resourceKey);
  if (q.applicationId !== undefined) query = query.where('application_id', '=', q.applicationId);
  const row = await query.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirst();
  return Number(row?.n ?? 0);
}

export async function updateSubscription(
  db: Db,
  id: string,
  set: Partial<
    Pick<
      SubscriptionsTable,
      'expiration_date_time' | 'encryption_certificate' | 'encryption_certificate_id' | 'reauthorization_sent_at' | 'notification_url'
    >
  >,
): Promise<boolean> {
  const res = await db.updateTable('subscriptions').set(set).where('id', '=', id).executeTakeFirst();
  return Number(res.numUpdatedRows) === 1;
}

/** Deletes a subscription and drops its undelivered change notifications (Graph sends nothing after a delete). */
export async function deleteSubscription(db: Db, id: string): Promise<boolean> {
  return db.transaction().execute(async (trx) => {
    const res = await trx.deleteFrom('subscriptions').where('id', '=', id).executeTakeFirst();
    await trx
      .updateTable('notification_outbox')
      .set({ status: 'dropped', last_error: 'subscription deleted', lease_owner: null, lease_until: null })
      .where('subscription_id', '=', id)
      .where('kind', '=', 'change')
      .where('status', '=', 'pending')
      .execute();
    return Number(res.numDeletedRows) === 1;
  });
}

export interface Change {
  /** Unique per change; outbox ids are `{subscriptionId}:{changeId}`. */
  changeId: string;
  tenantId: string;
  kind: 'events' | 'transcripts' | 'recordings';
  /** The resource keys a subscription may name to see this change ('tenant', 'user:{oid}', 'meeting:{id}'). */
  keys: string[];
  changeType: 'created' | 'updated' | 'deleted';
  /** JSON of changeType, resource, resourceData. */
  payload: string;
  /** JSON of the resource for rich notifications; null when there is none. */
  resourceJson: string | null;
  now: string;
  giveUpAt: string;
  /** Only subscriptions created at or before this time see the change (§3.3: subscribed before transcription started). */
  subscribedBy: string;
}

/**
 * The one statement that queues a change for every live subscription that watches it (INSERT … SELECT): run
 * in the same transaction as the change itself (Store.writeTogether), so that a change is never committed
 * without its notifications, nor notifications without their change. Portable SQL: `||` concatenates on
 * both stores.
 */
export function enqueueChangeQuery(db: Db, c: Change): CompiledQuery {
  const adapter = db.getExecutor().adapter;
  let byArity = compiledEnqueues.get(adapter);
  if (byArity === undefined) compiledEnqueues.set(adapter, (byArity = new Map()));
  let template = byArity.get(c.keys.length);
  if (template === undefined) {
    template = compileEnqueue(db, c.keys.length);
    byArity.set(c.keys.length, template);
  }
  return { ...template.compiled, parameters: template.fill.map((f) => f(c)) };
}

/**
 * enqueueChangeQuery is built by Kysely once per dialect and number of keys, from a change whose every field
 * is a marker; each parameter then becomes a function of the real change (the field itself, or the text around
 * a marker with the field put in). Building the query on every event write cost as much as the write (issue
 * #20); the markers keep this in step with buildEnqueueChangeQuery, whatever order its parameters come in.
 */
const CHANGE_FIELDS = ['changeId', 'tenantId', 'kind', 'changeType', 'payload', 'resourceJson', 'now', 'giveUpAt', 'subscribedBy'] as const;
const MARKER = /\{\{gm:(\w+)\}\}/g;
const marker = (name: string) => `{{gm:${name}}}`;
const compiledEnqueues = new WeakMap<object, Map<number, { compiled: CompiledQuery; fill: ((c: Change) => unknown)[] }>>();

function compileEnqueue(db: Db, keyCount: number) {
  const sample = Object.fromEntries(CHANGE_FIELDS.map((f) => [f, marker(f)])) as unknown as Change;
  sample.keys = Array.from({ length: keyCount }, (_, i) => marker(`key${i}`));
  const field = (c: Change, name: string): unknown =>
    name.startsWith('key') ? c.keys[Number(name.slice(3))] : c[name as (typeof CHANGE_FIELDS)[number]];
  const compiled = buildEnqueueChangeQuery(db, sample);
  const fill = compiled.parameters.map((p): ((c: Change) => unknown) => {
    if (typeof p !== 'string' || !p.includes('{{gm:')) return () => p;
    const whole = /^\{\{gm:(\w+)\}\}$/.exec(p);
    if (whole) return (c) => field(c, whole[1]!);
    return (c) => p.replace(MARKER, (_m, name: string) => String(field(c, name)));
  });
  return { compiled, fill };
}

/** The query as Kysely builds it for one change; what enqueueChangeQuery answers from its compiled template (exported for its test). */
export function buildEnqueueChangeQuery(db: Db, c: Change): CompiledQuery {
  const select = db
    .selectFrom('subscriptions as s')
    .select((eb) => [
      sql<string>`s.id || ${`:${c.changeId}`}`.as('id'),
      's.id as subscription_id',
      's.tenant_id as tenant_id',
      sql<string>`${'change'}`.as('kind'),
      's.notification_url as url',
      sql<string>`${c.payload}`.as('payload'),
      eb
        .case()
        .when('s.include_resource_data', '=', 1)
        .then(sql<string>`${c.resourceJson}`)
        .else(sql<string>`NULL`)
        .end()
        .as('resource_json'),
      sql<string>`${c.now}`.as('created_at'),
      sql<string>`${c.giveUpAt}`.as('give_up_at'),
      sql<string>`${c.now}`.as('next_attempt_at'),
      sql<string>`${'pending'}`.as('status'),
    ])
    .where('s.tenant_id', '=', c.tenantId)
    .where('s.resource_kind', '=', c.kind)
    .where('s.resource_key', 'in', c.keys)
    .where('s.expiration_date_time', '>', c.now)
    .where('s.created_at', '<=', c.subscribedBy)
    .where(sql<string>`',' || s.change_type || ','`, 'like', `%,${c.changeType},%`);
  return db
    .insertInto('notification_outbox')
    .columns([
      'id',
      'subscription_id',
      'tenant_id',
      'kind',
      'url',
      'payload',
      'resource_json',
      'created_at',
      'give_up_at',
      'next_attempt_at',
      'status',
    ])
    .expression(select)
    .compile();
}

export async function insertOutbox(db: Db, row: Insertable<NotificationOutboxTable>): Promise<void> {
  await db
    .insertInto('notification_outbox')
    .values(row)
    .onConflict((oc) => oc.column('id').doNothing())
    .execute();
}

/**
 * Leases up to `limit` due items to `owner` until `leaseUntil` (real ms) and returns them. One UPDATE: on
 * SQLite it is its own write transaction (one writer at a time); on PostgreSQL the inner SELECT skips rows
 * another instance has locked, and the outer condition is checked again on the locked row, so an item is
 * never leased twice at once. An instance that dies holding a lease loses it when the lease runs out.
 */
export async function leaseDue(
  db: Db,
  kind: StoreKind,
  q: { owner: string; now: string; realNow: number; leaseUntil: number; limit: number },
): Promise<OutboxRow[]> {
  let due = db
    .selectFrom('notification_outbox')
    .select('id')
    .where('status', '=', 'pending')
    .where('next_attempt_at', '<=', q.now)
    .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', q.realNow)]))
    .orderBy('next_attempt_at')
    .limit(q.limit);
  if (kind === 'postgres') due = due.forUpdate().skipLocked();
  return db
    .updateTable('notification_outbox')
    .set({ lease_owner: q.owner, lease_until: q.leaseUntil })
    .where('id', 'in', due)
    .where('status', '=', 'pending')
    .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', q.realNow)]))
    .returningAll()
    .execute();
}

/** POST /_emulator/notifications/flush: every pending item is due now, whatever its back-off. */
export async function makePendingDue(db: Db, now: string): Promise<void> {
  await db
    .updateTable('notification_outbox')
    .set({ next_attempt_at: now })
    .where('status', '=', 'pending')
    .where('next_attempt_at', '>', now)
    .execute();
}

/** Moves a leased item to a later time without counting an attempt (§3.8: a throttled endpoint's notifications wait 10 minutes). */
export async function postpone(db: Db, id: string, owner: string, nextAttemptAt: string, reason: string): Promise<void> {
  await db
    .updateTable('notification_outbox')
    .set({ next_attempt_at: nextAttemptAt, last_error: reason, lease_owner: null, lease_until: null })
    .where('id', '=', id)
    .where('lease_owner', '=', owner)
    .execute();
}

/** Records an attempt's outcome, if this owner still holds the lease. */
export async function finishAttempt(
  db: Db,
  id: string,
  owner: string,
  set: Pick<
    NotificationOutboxTable,
    'status' | 'next_attempt_at' | 'last_status' | 'last_error' | 'last_duration_ms' | 'last_attempt_at'
  > & {
    delivered_at?: string | null;
  },
): Promise<boolean> {
  const res = await db
    .updateTable('notification_outbox')
    .set({ ...set, attempts: sql<number>`attempts + 1`, lease_owner: null, lease_until: null })
    .where('id', '=', id)
    .where('lease_owner', '=', owner)
    .executeTakeFirst();
  return Number(res.numUpdatedRows) === 1;
}

export async function recentOutbox(db: Db, q: { subscriptionId?: string; limit: number }): Promise<OutboxRow[]> {
  let query = db.selectFrom('notification_outbox').selectAll();
  if (q.subscriptionId !== undefined) query = query.where('subscription_id', '=', q.subscriptionId);
  return query.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(q.limit).execute();
}

/** Subscriptions whose expiry is at or before `before` (lifecycle scans). */
export async function subscriptionsExpiringBy(db: Db, before: string, limit = 500): Promise<SubscriptionRow[]> {
  return db
    .selectFrom('subscriptions')
    .selectAll()
    .where('expiration_date_time', '<=', before)
    .orderBy('expiration_date_time')
    .limit(limit)
    .execute();
}

/** Removes an expired subscription; true for the one caller that removed it (so one instance sends its lifecycle notice). */
export async function removeExpired(db: Db, id: string, now: string): Promise<boolean> {
  const res = await db.deleteFrom('subscriptions').where('id', '=', id).where('expiration_date_time', '<=', now).executeTakeFirst();
  return Number(res.numDeletedRows) === 1;
}

/** Marks reauthorizationRequired as queued, once per cadence step: true for the one caller that did. */
export async function claimReauthorization(db: Db, id: string, previous: string | null, now: string): Promise<boolean> {
  let q = db.updateTable('subscriptions').set({ reauthorization_sent_at: now }).where('id', '=', id);
  q = previous === null ? q.where('reauthorization_sent_at', 'is', null) : q.where('reauthorization_sent_at', '=', previous);
  const res = await q.executeTakeFirst();
  return Number(res.numUpdatedRows) === 1;
}

/** Delivered or dropped items older than `cutoff` are of no use (the control API lists recent ones). */
export async function purgeFinished(db: Db, cutoff: string): Promise<void> {
  await db.deleteFrom('notification_outbox').where('status', '<>', 'pending').where('created_at', '<', cutoff).execute();
}

/** What a notification says about a stored transcript or recording (artifacts spec §3.5), read inside the transaction that stored it. */
export async function artifactFacts(db: Db | Transaction<Database>, kind: 'transcripts' | 'recordings', id: string) {
  return db
    .selectFrom(kind)
    .select(['id', 'tenant_id', 'meeting_id', 'organizer_id', 'call_id', 'content_correlation_id', 'created_date_time', 'end_date_time'])
    .where('id', '=', id)
    .executeTakeFirst();
}
