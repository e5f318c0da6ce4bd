import os from 'node:os';
import { LruCache } from '../util/lru-cache.js';
import { entra } from './entra-errors.js';
import { DUMMY_PASSWORD_HASH, verifyPassword } from './secrets.js';

/**
 * Every password check of the emulated Entra ID goes through `SignInProtection.checkPassword`: the ROPC
 * grant today, an interactive sign-in page tomorrow (issue #11 item 2). It does what Entra does:
 *
 * - Smart lockout (Entra docs "Microsoft Entra smart lockout"): after `threshold` (10, Entra's default
 *   for commercial tenants) failed sign-ins an account is locked for `lockoutSeconds` (60, Entra's
 *   default), longer each time it locks again, and every sign-in to it answers AADSTS50053 (IdsLocked)
 *   without checking the password. Failures are counted separately for familiar and unfamiliar
 *   locations, keyed by source address: an address that has signed in to the account successfully is
 *   familiar, so an attacker elsewhere locks only the unfamiliar side and the owner can still sign in.
 *   An unknown user name is counted and answered exactly like a known one, so lockout does not reveal
 *   whether an account exists.
 * - Bounded hashing: scrypt runs on Node's shared thread pool, which token signing and verification use
 *   too. At most `maxConcurrentHashes` run at once and at most `maxQueuedHashes` wait; an attempt beyond
 *   that is answered at once with Entra's throttling error instead of queueing without limit, so a flood
 *   of bad passwords cannot starve everyone else. Each hash keeps a core busy for its ~45 ms, so the bound
 *   is half the machine's cores shared by the serving processes (hashingSlots): a flood leaves the other
 *   half to the event loop (TLS handshakes, token signing, every other request). Measured with
 *   scripts/password-flood.ts on 2 cores: 2 slots let a flood take both cores and a client-credentials
 *   token took ~500 ms during it, 1 slot ~190 ms (README, Reliability and security).
 *
 * The state is in memory, per process (bounded by the process's cache budget): several instances each
 * count their own failures, as Entra's own datacenters each keep their own counters.
 */
export interface SignInProtectionOptions {
  threshold?: number;
  lockoutSeconds?: number;
  /** Default: hashingSlots(the machine's cores, `processes`). */
  maxConcurrentHashes?: number;
  maxQueuedHashes?: number;
  /** The processes serving on this machine (WORKERS), which share its cores. */
  processes?: number;
  clock?: () => number;
}

/**
 * How many password hashes one process runs at once: half the cores, shared by the serving processes, and
 * at least one (so that sign-in works at all).
 */
export function hashingSlots(cores: number, processes = 1): number {
  return Math.max(1, Math.floor(cores / 2 / Math.max(1, processes)));
}

export interface PasswordAttempt {
  tenantId: string;
  /** What the user typed as user name (an unknown name is protected like a known one). */
  username: string;
  password: string;
  /** The client's address (familiar or unfamiliar location). */
  sourceAddress: string;
  /** The user's stored hash, or undefined for an unknown user. */
  passwordHash: string | undefined;
}

interface Counter {
  failures: number;
  lockedUntil: number;
  lockouts: number;
}

/** Locks double each time an account locks again, up to this. */
const MAX_LOCKOUT_SECONDS = 3600;

export class SignInProtection {
  readonly threshold: number;
  readonly lockoutSeconds: number;
  readonly maxConcurrentHashes: number;
  readonly maxQueuedHashes: number;
  readonly #clock: () => number;
  readonly #counters = new LruCache<string, Counter>(100_000);
  /** Addresses that signed in successfully, per account. */
  readonly #familiar = new LruCache<string, true>(100_000);
  #running = 0;
  readonly #waiting: Array<() => void> = [];

  constructor(options: SignInProtectionOptions = {}) {
    this.threshold = options.threshold ?? 10;
    this.lockoutSeconds = options.lockoutSeconds ?? 60;
    this.maxConcurrentHashes = options.maxConcurrentHashes ?? hashingSlots(os.availableParallelism(), options.processes);
    this.maxQueuedHashes = options.maxQueuedHashes ?? 8;
    this.#clock = options.clock ?? Date.now;
  }

  /**
   * Checks a password under smart lockout and bounded hashing. Resolves true for the right password of
   * a known user; false for a wrong one (the caller answers AADSTS50126); throws Entra's AADSTS50053
   * while locked and its throttling error when too many hashes are already running or waiting.
   */
  async checkPassword(attempt: PasswordAttempt): Promise<boolean> {
    const account = `${attempt.tenantId}|${attempt.username.toLowerCase()}`;
    const familiar = this.#familiar.get(`${account}|${attempt.sourceAddress}`) === true;
    const key = `${account}|${familiar ? 'familiar' : 'unfamiliar'}`;
    const now = this.#clock();
    const counter = this.#counters.get(key);
    if (counter && counter.lockedUntil > now) throw entra.accountLocked();

    const ok = await this.#hash(() => verifyPassword(attempt.password, attempt.passwordHash ?? DUMMY_PASSWORD_HASH));
    if (ok && attempt.passwordHash !== undefined) {
      this.#counters.delete(key);
      this.#familiar.set(`${account}|${attempt.sourceAddress}`, true);
      return true;
    }
    const next: Counter = counter ? { ...counter } : { failures: 0, lockedUntil: 0, lockouts: 0 };
    next.failures++;
    if (next.failures >= this.threshold) {
      next.lockouts++;
      next.failures = 0;
      const seconds = Math.min(MAX_LOCKOUT_SECONDS, this.lockoutSeconds * 2 ** (next.lockouts - 1));
      next.lockedUntil = now + seconds * 1000;
    }
    this.#counters.set(key, next);
    return false;
  }

  async #hash<T>(run: () => Promise<T>): Promise<T> {
    if (this.#running >= this.maxConcurrentHashes) {
      if (this.#waiting.length >= this.maxQueuedHashes) throw entra.throttled();
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    } else {
      this.#running++;
    }
    try {
      return await run();
    } finally {
      // Hand the slot to the next waiter, or give it back.
      const next = this.#waiting.shift();
      if (next) next();
      else this.#running--;
    }
  }
}
