import type { FastifyInstance, FastifyRequest } from 'fastify';
import { MAX_SIMULATED_ATTEMPTS, type ThrottlingConfig } from '../config/config.js';
import { badRequest, tooManyRequests } from '../domain/errors.js';
import type { Principal } from '../identity/access-tokens.js';
import { LruCache } from '../util/lru-cache.js';

/**
 * Throttling as Graph does it (fact sheet §6.5), for Graph requests only (/v1.0 and /beta; the Entra token
 * endpoint is never throttled):
 *
 * - Rate limits (THROTTLE=on): a token bucket per app (THROTTLE_APP_RPS, default 13,000/s, i.e. Graph's
 *   documented global 130,000 requests per 10 s per app) and one per tenant, all apps together
 *   (THROTTLE_TENANT_RPS, default none: Graph documents no tenant-wide limit for onlineMeetings). A bucket holds
 *   10 seconds' worth of requests, so a burst up to the 10-second budget passes, as in Graph's window. Throttled
 *   requests still count against usage (§6.5), down to at most one extra window of debt, and Retry-After says
 *   when the next request will pass. The buckets live in this process's memory: with WORKERS or several
 *   instances each process enforces the limits on its own share of the traffic (N processes allow up to N times
 *   the rate). Counting in the database would cost a write per request, more than the requests themselves.
 * - Meeting quota (THROTTLE=on): an organizer may create MEETING_QUOTA_PER_USER_MONTH meetings (default 2,000)
 *   per calendar month, UTC. It is not a hook here: the meeting service counts inside the insert's write
 *   (meeting-service.ts insertAllocating), which is what makes it exact across processes and instances.
 * - Simulation (SIMULATE_THROTTLING, independent of THROTTLE): answers 429 with Retry-After: 1 on demand, so
 *   that clients can exercise their retry paths deterministically. See ThrottleSimulator.
 *
 * Every refusal is a GraphError, written by sendGraphError like any other error: 429, Retry-After, and Graph's
 * body {"error":{"code":"TooManyRequests","message":"Please retry again later.","innerError":{"code":"429",
 * "message":"Please retry after","status":"429","date":…,"request-id":…,"client-request-id":…}}}.
 */
export interface ThrottlingOptions {
  config: ThrottlingConfig;
  clock?: () => number;
  /** For SIMULATE_THROTTLING=P%. */
  random?: () => number;
}

/** Per-request opt-in: answer the first N attempts of this request with 429 (0 = none). */
export const SIMULATE_HEADER = 'x-graph-meetings-simulate-throttle';
/** Graph's global limit is stated per 10 seconds; each bucket holds that long a budget. */
export const RATE_WINDOW_SECONDS = 10;
/** What a simulated 429 asks clients to wait: the SDKs then retry after one second (client-compat §2.5, §3.6). */
const SIMULATED_RETRY_AFTER_SECONDS = 1;

/**
 * Adds the throttling hooks to the root instance; call it before the Graph routes are registered so that
 * their contexts inherit the hooks. Registers nothing when neither limits nor simulation are on.
 */
export function registerThrottling(app: FastifyInstance, opts: ThrottlingOptions): void {
  const { config } = opts;
  const clock = opts.clock ?? Date.now;
  const simulator = config.simulate.mode === 'off' ? undefined : new ThrottleSimulator(config.simulate, clock, opts.random);
  const rates = config.enabled ? new RateLimits(config.appRps, config.tenantRps, clock) : undefined;
  if (!simulator && !rates) return;

  // preParsing: after every onRequest hook (the Graph scope's authentication sets request.principal), before
  // the body is read, so that a throttled request costs no parsing and is refused ahead of any 400.
  app.addHook('preParsing', (request, _reply, payload, done) => {
    const principal = graphPrincipal(request);
    if (principal) {
      try {
        simulator?.check(request, principal);
        rates?.check(principal);
      } catch (err) {
        return done(err as Error);
      }
    }
    done(null, payload);
  });
}

/** The caller of a Graph request; undefined for everything outside the Graph scope (Entra, pages, 404s). */
function graphPrincipal(request: FastifyRequest): Principal | undefined {
  return (request as { principal?: Principal }).principal;
}

// ---------------------------------------------------------------------------------------------------
// Simulation.

/**
 * Answers the first N attempts of a request with 429, or a share of all requests at random. N comes from the
 * request's x-graph-meetings-simulate-throttle header (any mode but off) or from SIMULATE_THROTTLING=N.
 *
 * Which attempt a request is: both official SDKs send `Retry-Attempt: 1, 2, 3` on their retries (and repeat
 * every other header), so that header decides, without any state. A first attempt, or a client that sends no
 * Retry-Attempt, is counted here per client-request-id (graph-client v3 keeps one across its retries), or else
 * per caller, method and URL (Kiota sends no client-request-id): repeating the same request then meets N 429s
 * and one success, then N 429s again. Those counts are per process and forgotten after a minute.
 */
class ThrottleSimulator {
  readonly #attempts: LruCache<string, number>;

  constructor(
    private readonly mode: Exclude<ThrottlingConfig['simulate'], { mode: 'off' }>,
    clock: () => number,
    private readonly random: () => number = Math.random,
  ) {
    this.#attempts = new LruCache(10_000, 60_000, clock);
  }

  check(request: FastifyRequest, principal: Principal): void {
    const header = request.headers[SIMULATE_HEADER];
    let wanted: number | undefined;
    if (header !== undefined) {
      if (typeof header !== 'string' || !/^\d{1,3}$/.test(header.trim()) || Number(header) > MAX_SIMULATED_ATTEMPTS) {
        throw badRequest(`The header '${SIMULATE_HEADER}' must be a whole number from 0 to ${MAX_SIMULATED_ATTEMPTS}.`);
      }
      wanted = Number(header);
    } else if (this.mode.mode === 'attempts') {
      wanted = this.mode.attempts;
    } else if (this.mode.mode === 'share') {
      if (this.random() < this.mode.share) throw tooManyRequests(SIMULATED_RETRY_AFTER_SECONDS, 'simulated (SIMULATE_THROTTLING share)');
      return;
    }
    if (!wanted) return;

    const key = this.#requestKey(request, principal);
    const retryAttempt = request.headers['retry-attempt'];
    const declared = typeof retryAttempt === 'string' && /^\d{1,4}$/.test(retryAttempt) ? Number(retryAttempt) : undefined;
    const attempt = declared ?? this.#attempts.get(key) ?? 0;
    if (attempt < wanted) {
      if (declared === undefined) this.#attempts.set(key, attempt + 1);
      throw tooManyRequests(SIMULATED_RETRY_AFTER_SECONDS, `simulated: attempt ${attempt + 1} of ${wanted} answered 429`);
    }
    this.#attempts.delete(key);
  }

  #requestKey(request: FastifyRequest, principal: Principal): string {
    // Scoped to the caller, so that nobody can spend another caller's simulated attempts.
    const who = `${principal.tenantId}|${principal.clientId}|${principal.kind === 'user' ? principal.userId : 'app'}`;
    const clientRequestId = request.headers['client-request-id'];
    if (typeof clientRequestId === 'string' && clientRequestId !== '') return `c|${who}|${clientRequestId}`;
    return `r|${who}|${request.method}|${request.url}`;
  }
}

// ---------------------------------------------------------------------------------------------------
// Rate limits.

/** Token buckets per key; a bucket holds RATE_WINDOW_SECONDS of budget and refills continuously. */
export class TokenBuckets {
  readonly #capacity: number;
  // A forgotten bucket comes back full, which only ever forgives; 50,000 keys is far more apps or tenants than
  // one deployment has.
  readonly #buckets = new LruCache<string, { tokens: number; at: number }>(50_000);

  constructor(
    private readonly perSecond: number,
    private readonly clock: () => number,
  ) {
    this.#capacity = perSecond * RATE_WINDOW_SECONDS;
  }

  /**
   * Charges one request to `key` (refused ones too: throttled requests count against usage, §6.5). Returns
   * whether it passed and the whole seconds until the next request would.
   */
  take(key: string): { allowed: boolean; waitSeconds: number } {
    const now = this.clock();
    const bucket = this.#buckets.get(key);
    const elapsed = bucket ? Math.max(0, now - bucket.at) / 1000 : 0;
    const tokens = bucket ? Math.min(this.#capacity, bucket.tokens + elapsed * this.perSecond) : this.#capacity;
    const allowed = tokens >= 1;
    // The debt is bounded, so a client that kept hammering waits at most one more window once it stops.
    const left = Math.max(-this.#capacity, tokens - 1);
    this.#buckets.set(key, { tokens: left, at: now });
    return { allowed, waitSeconds: left >= 1 ? 0 : Math.max(1, Math.ceil((1 - left) / this.perSecond)) };
  }
}

class RateLimits {
  readonly #app: TokenBuckets | undefined;
  readonly #tenant: TokenBuckets | undefined;

  constructor(appRps: number, tenantRps: number, clock: () => number) {
    this.#app = appRps > 0 ? new TokenBuckets(appRps, clock) : undefined;
    this.#tenant = tenantRps > 0 ? new TokenBuckets(tenantRps, clock) : undefined;
  }

  check(principal: Principal): void {
    // Apps are single-tenant here, so "per app" and "per app per tenant" are the same key.
    const app = this.#app?.take(`${principal.tenantId}|${principal.clientId.toLowerCase()}`);
    const tenant = this.#tenant?.take(principal.tenantId);
    const refused = [app, tenant].filter((r) => r && !r.allowed);
    if (refused.length === 0) return;
    // The next request must pass both buckets, so wait for the later of the two.
    const wait = Math.max(app?.waitSeconds ?? 0, tenant?.waitSeconds ?? 0, 1);
    throw tooManyRequests(
      wait,
      app && !app.allowed ? 'per-app rate limit (THROTTLE_APP_RPS)' : 'per-tenant rate limit (THROTTLE_TENANT_RPS)',
    );
  }
}
