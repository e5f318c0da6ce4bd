import { randomUUID } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import { formatDateTime } from '../domain/datetime.js';
import { validationMismatch, validationNotOk, validationTimedOut } from '../domain/errors.js';
import { RETRY_HORIZON_MS } from '../domain/notifications/change-feed.js';
import { encryptedContent, parseEncryptionCertificate, validationToken } from '../domain/notifications/rich-content.js';
import type { SigningKeyStore } from '../identity/signing-keys.js';
import type { Store } from '../storage/database.js';
import * as repo from '../storage/repositories/subscription-repository.js';
import type { OutboxRow, SubscriptionRow } from '../storage/tables.js';
import { post, type PostOutcome, type WebhookPolicy } from './webhook-client.js';

/** Timings of graph-meeting-artifacts-spec.md §3.4 and §3.8. */
export interface DeliveryTimings {
  /** §3.4: the receiver answers the validation request within 10 s. */
  validationTimeoutMs: number;
  /** §3.8: Graph's HTTP client gives a notification 3 s. */
  deliveryTimeoutMs: number;
}
export const GRAPH_TIMINGS: DeliveryTimings = { validationTimeoutMs: 10_000, deliveryTimeoutMs: 3_000 };

/** §3.8 slow endpoints: > 2900 ms is slow; after 100 notifications, ≥ 10 % slow throttles, ≥ 15 % drops; counters reset every 10 min. */
const SLOW_MS = 2900;
const SLOW_SAMPLE = 100;
const THROTTLE_SHARE = 0.1;
const DROP_SHARE = 0.15;
const WINDOW_MS = 10 * 60_000;
const THROTTLE_DELAY_MS = 10 * 60_000;
/** §3.9: reauthorizationRequired once under an hour is left, then every 15 minutes. */
const REAUTHORIZE_WITHIN_MS = 60 * 60_000;
const REAUTHORIZE_EVERY_MS = 15 * 60_000;
/** A lease outlives the longest attempt several times over. */
const LEASE_MS = 60_000;
/** Items leased and attempted in parallel per round (more would make this instance itself slow to answer). */
const BATCH = 16;
/** Finished items are kept for the control API for a day. */
const KEEP_FINISHED_MS = 86_400_000;

/** Back-off after the nth failed attempt: 1, 2, 4, 8, 16, 32 then every 60 minutes, within the 4-hour horizon (§3.8). */
export function backoffMs(attempts: number): number {
  return Math.min(60_000 * 2 ** Math.max(0, attempts - 1), 3_600_000);
}

const offsetForm = (t: string) => t.replace(/Z$/, '+00:00');

/**
 * The deliverer of the notification outbox (issue #18): leases due items (so a second instance, or this one
 * after a restart, never sends one item twice at the same time and loses none), POSTs them to the receivers,
 * records each outcome, retries with back-off for up to 4 hours, throttles and drops for slow endpoints as
 * §3.8 says, and queues the lifecycle notifications of §3.9 as the emulator clock moves.
 */
export class NotificationDelivery {
  readonly #owner = randomUUID();
  readonly #stats = new Map<string, { since: number; total: number; slow: number }>();
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<unknown> | undefined;
  #closed = false;
  #background = true;

  constructor(
    private readonly deps: {
      store: Store;
      clock: () => number;
      keys: SigningKeyStore;
      policy: WebhookPolicy;
      log: FastifyBaseLogger;
      timings: DeliveryTimings;
    },
  ) {}

  /** Polls for due items every second (real time) until stop(); `background: false` leaves delivery to flush() alone. */
  start(background = true, intervalMs = 1000): void {
    if (!background) {
      this.#background = false;
      return;
    }
    this.#timer = setInterval(() => this.wake(), intervalMs);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#timer);
    await this.#running?.catch(() => {});
  }

  /** Delivers what is due soon after a change was queued (the poll would find it within a second anyway). */
  wake(): void {
    if (this.#closed || this.#running || !this.#background) return;
    this.#running = this.run(false)
      .catch((err: unknown) => this.deps.log.error({ err }, 'delivering change notifications failed'))
      .finally(() => (this.#running = undefined));
  }

  /**
   * POST /_emulator/notifications/flush: the lifecycle scan, then every pending item now, back-off or not, so
   * that tests need not wait for timers (with honorBackoff, only what the emulator clock says is due); returns
   * what was attempted.
   */
  async flush(
    options: { honorBackoff?: boolean } = {},
  ): Promise<{ attempted: number; delivered: number; failed: number; dropped: number; postponed: number }> {
    await this.#running?.catch(() => {});
    return this.run(!options.honorBackoff);
  }

  private nowText() {
    return formatDateTime({ ms: this.deps.clock(), ticks: 0 });
  }

  private async run(all: boolean) {
    const tally = { attempted: 0, delivered: 0, failed: 0, dropped: 0, postponed: 0 };
    await this.lifecycleScan();
    // A failed attempt schedules its retry after now, so one run attempts each item at most once.
    const now = this.nowText();
    if (all) await repo.makePendingDue(this.deps.store.db, now);
    const seen = new Set<string>();
    for (;;) {
      const leased = await repo.leaseDue(this.deps.store.db, this.deps.store.kind, {
        owner: this.#owner,
        now,
        realNow: Date.now(),
        leaseUntil: Date.now() + LEASE_MS,
        limit: BATCH,
      });
      const fresh = leased.filter((r) => !seen.has(r.id));
      if (fresh.length === 0) break;
      await Promise.all(
        fresh.map(async (row) => {
          seen.add(row.id);
          const outcome = await this.attempt(row).catch((err: unknown) => {
            this.deps.log.error({ err, id: row.id }, 'a change notification attempt failed unexpectedly');
            return 'failed' as const;
          });
          tally[outcome]++;
          if (outcome !== 'postponed') tally.attempted++;
        }),
      );
      if (this.#closed) break;
    }
    if (Math.random() < 0.01)
      await repo.purgeFinished(this.deps.store.db, formatDateTime({ ms: this.deps.clock() - KEEP_FINISHED_MS, ticks: 0 }));
    return tally;
  }

  /** One delivery attempt of a leased item; records the outcome. */
  private async attempt(row: OutboxRow): Promise<'delivered' | 'failed' | 'dropped' | 'postponed'> {
    const db = this.deps.store.db;
    const nowMs = this.deps.clock();
    const now = formatDateTime({ ms: nowMs, ticks: 0 });
    const sub = await repo.findSubscription(db, row.subscription_id);
    const finish = (set: Parameters<typeof repo.finishAttempt>[3]) => repo.finishAttempt(db, row.id, this.#owner, set);
    if (row.kind === 'change' && (!sub || sub.expiration_date_time <= now)) {
      await finish({
        status: 'dropped',
        next_attempt_at: row.next_attempt_at,
        last_status: null,
        last_error: 'the subscription was deleted or expired',
        last_duration_ms: null,
        last_attempt_at: now,
      });
      return 'dropped';
    }
    const endpoint = endpointOf(row.url);
    const stats = this.statsFor(endpoint, nowMs);
    const share = stats.total >= SLOW_SAMPLE ? stats.slow / stats.total : 0;
    if (share >= DROP_SHARE) {
      await finish({
        status: 'dropped',
        next_attempt_at: row.next_attempt_at,
        last_status: null,
        last_error: `endpoint dropped: ${Math.round(share * 100)} % of its last ${stats.total} notifications were slow`,
        last_duration_ms: null,
        last_attempt_at: now,
      });
      await this.missed(sub, row);
      return 'dropped';
    }
    // §3.8: a throttled endpoint's notifications are delayed 10 minutes (the counters reset after 10 minutes too).
    const throttled = share >= THROTTLE_SHARE;
    const holdUntil = Date.parse(row.created_at) + THROTTLE_DELAY_MS;
    if (throttled && nowMs < holdUntil) {
      await repo.postpone(
        db,
        row.id,
        this.#owner,
        formatDateTime({ ms: holdUntil, ticks: 0 }),
        `endpoint throttled: ${Math.round(share * 100)} % of its last ${stats.total} notifications were slow`,
      );
      return 'postponed';
    }
    let body: string;
    try {
      body = JSON.stringify(await this.body(row, sub));
    } catch (err) {
      await finish({
        status: 'dropped',
        next_attempt_at: row.next_attempt_at,
        last_status: null,
        last_error: `cannot build the notification: ${(err as Error).message}`,
        last_duration_ms: null,
        last_attempt_at: now,
      });
      return 'dropped';
    }
    const outcome: PostOutcome = await post(row.url, body, {
      policy: this.deps.policy,
      contentType: 'application/json; charset=utf-8',
      timeoutMs: this.deps.timings.deliveryTimeoutMs,
    });
    stats.total++;
    const slow = !outcome.ok ? outcome.error === 'timeout' : outcome.durationMs > SLOW_MS;
    if (slow) stats.slow++;
    const ok = outcome.ok && outcome.status >= 200 && outcome.status < 300;
    const base = {
      last_status: outcome.ok ? outcome.status : null,
      last_error: ok ? null : outcome.ok ? `the receiver answered ${outcome.status}` : `${outcome.error}: ${outcome.detail}`,
      last_duration_ms: outcome.durationMs,
      last_attempt_at: now,
    };
    if (ok) {
      await finish({ ...base, status: 'delivered', next_attempt_at: row.next_attempt_at, delivered_at: now });
      return 'delivered';
    }
    if (outcome.ok === false && outcome.error === 'refused') {
      await finish({ ...base, status: 'dropped', next_attempt_at: row.next_attempt_at });
      return 'dropped';
    }
    // §3.8: throttled endpoints have their failures retried after 10 minutes.
    const delay = throttled ? Math.max(THROTTLE_DELAY_MS, backoffMs(row.attempts + 1)) : backoffMs(row.attempts + 1);
    if (nowMs + delay > Date.parse(row.give_up_at)) {
      await finish({
        ...base,
        status: 'dropped',
        next_attempt_at: row.next_attempt_at,
        last_error: `${base.last_error} (retried for 4 hours; discarded)`,
      });
      await this.missed(sub, row);
      return 'dropped';
    }
    await finish({ ...base, status: 'pending', next_attempt_at: formatDateTime({ ms: nowMs + delay, ticks: 0 }) });
    return 'failed';
  }

  /** §3.5 changeNotificationCollection; rich items carry encryptedContent and the collection validationTokens (§3.6, §3.7). */
  private async body(row: OutboxRow, sub: SubscriptionRow | undefined): Promise<Record<string, unknown>> {
    const stored = JSON.parse(row.payload) as Record<string, unknown>;
    if (row.kind === 'lifecycle') return { value: [stored] };
    const s = sub!;
    const item: Record<string, unknown> = {
      subscriptionId: s.id,
      subscriptionExpirationDateTime: offsetForm(s.expiration_date_time),
      changeType: stored.changeType,
      resource: stored.resource,
      resourceData: stored.resourceData,
      clientState: s.client_state,
      tenantId: s.tenant_id,
    };
    const collection: Record<string, unknown> = { value: [item] };
    if (s.include_resource_data === 1 && row.resource_json !== null && s.encryption_certificate) {
      const cert = parseEncryptionCertificate(s.encryption_certificate);
      if (typeof cert === 'string') throw new Error(`the subscription's certificate: ${cert}`);
      item.encryptedContent = encryptedContent(selected(row.resource_json, s.resource), cert, s.encryption_certificate_id);
      collection.validationTokens = [
        await validationToken(this.deps.keys.active, { appId: s.application_id, tenantId: s.tenant_id, nowMs: this.deps.clock() }),
      ];
    }
    return collection;
  }

  /** §3.9 `missed` (Outlook resources only): a change notification was discarded. */
  private async missed(sub: SubscriptionRow | undefined, row: OutboxRow) {
    if (row.kind !== 'change' || !sub || sub.resource_kind !== 'events' || !sub.lifecycle_notification_url) return;
    await this.queueLifecycle(sub, 'missed', `${row.id}:missed`);
  }

  async queueLifecycle(sub: SubscriptionRow, event: 'reauthorizationRequired' | 'subscriptionRemoved' | 'missed', id: string) {
    const nowMs = this.deps.clock();
    await repo.insertOutbox(this.deps.store.db, {
      id,
      subscription_id: sub.id,
      tenant_id: sub.tenant_id,
      kind: 'lifecycle',
      url: sub.lifecycle_notification_url!,
      payload: JSON.stringify({
        subscriptionId: sub.id,
        subscriptionExpirationDateTime: offsetForm(sub.expiration_date_time),
        tenantId: sub.tenant_id,
        clientState: sub.client_state,
        lifecycleEvent: event,
      }),
      resource_json: null,
      created_at: formatDateTime({ ms: nowMs, ticks: 0 }),
      give_up_at: formatDateTime({ ms: nowMs + RETRY_HORIZON_MS, ticks: 0 }),
      next_attempt_at: formatDateTime({ ms: nowMs, ticks: 0 }),
      status: 'pending',
    });
  }

  /**
   * §3.9 as the emulator clock moves: reauthorizationRequired once less than an hour is left (then every 15
   * minutes until renewed); at expiry the subscription is removed, and Outlook subscriptions with a
   * lifecycle URL are told so (subscriptionRemoved). Each step is claimed in the database, so one instance
   * queues it.
   */
  private async lifecycleScan() {
    const db = this.deps.store.db;
    const nowMs = this.deps.clock();
    const now = formatDateTime({ ms: nowMs, ticks: 0 });
    const rows = await repo.subscriptionsExpiringBy(db, formatDateTime({ ms: nowMs + REAUTHORIZE_WITHIN_MS, ticks: 0 }));
    for (const sub of rows) {
      if (sub.expiration_date_time <= now) {
        if ((await repo.removeExpired(db, sub.id, now)) && sub.lifecycle_notification_url && sub.resource_kind === 'events')
          await this.queueLifecycle(sub, 'subscriptionRemoved', `${sub.id}:removed`);
        continue;
      }
      if (!sub.lifecycle_notification_url) continue;
      const last = sub.reauthorization_sent_at;
      if (last !== null && nowMs - Date.parse(last) < REAUTHORIZE_EVERY_MS) continue;
      if (await repo.claimReauthorization(db, sub.id, last, now))
        await this.queueLifecycle(sub, 'reauthorizationRequired', `${sub.id}:reauth:${now}`);
    }
  }

  private statsFor(endpoint: string, nowMs: number) {
    let s = this.#stats.get(endpoint);
    if (!s || nowMs - s.since >= WINDOW_MS) {
      s = { since: nowMs, total: 0, slow: 0 };
      this.#stats.set(endpoint, s);
    }
    return s;
  }

  /**
   * §3.4: POST {url}?validationToken=… (the URL's own query kept), text/plain; the receiver answers 200 with
   * the decoded token as text/plain within 10 s. Throws the GraphError the create answers with.
   */
  async validate(url: string): Promise<void> {
    const token = `Validation: Testing client application reachability for subscription Request-Id: ${randomUUID()}`;
    const target = new URL(url);
    target.hash = '';
    // Percent-encoded (%20, %3A): the receiver must decode it (§3.4 step 2).
    target.search = `${target.search ? `${target.search}&` : '?'}validationToken=${encodeURIComponent(token)}`;
    const outcome = await post(target.toString(), '', {
      policy: this.deps.policy,
      contentType: 'text/plain; charset=utf-8',
      timeoutMs: this.deps.timings.validationTimeoutMs,
    });
    if (!outcome.ok) {
      if (outcome.error === 'timeout') throw validationTimedOut();
      throw validationNotOk(`${outcome.error}: ${outcome.detail}`);
    }
    if (outcome.status !== 200) throw validationNotOk(`the receiver answered ${outcome.status}`);
    if (!/^text\/plain\b/i.test(outcome.contentType))
      throw validationNotOk(`the answer's Content-Type is '${outcome.contentType}', not text/plain`);
    if (outcome.body !== token) throw validationMismatch();
  }
}

/**
 * Events spec §7: a rich Outlook subscription names the properties it wants with `$select` in its resource
 * (`me/events?$select=subject,start`); the rest is left out of the encrypted data (ids and annotations stay).
 */
function selected(resourceJson: string, resource: string): string {
  const query = resource.split('?')[1];
  if (query === undefined) return resourceJson;
  const select = new URLSearchParams(query).get('$select');
  if (!select) return resourceJson;
  const wanted = new Set(select.split(',').map((p) => p.trim().toLowerCase()));
  const data = JSON.parse(resourceJson) as Record<string, unknown>;
  return JSON.stringify(
    Object.fromEntries(Object.entries(data).filter(([k]) => k === 'id' || k.startsWith('@odata.') || wanted.has(k.toLowerCase()))),
  );
}

function endpointOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return url;
  }
}
