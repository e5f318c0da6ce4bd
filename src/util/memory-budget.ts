/**
 * One byte budget shared by every in-memory cache of the process (issue #11 item 1). Caches bounded
 * only by entry count could be filled with 1 MiB response bodies until the heap ran out; each cache now
 * charges the estimated bytes of what it keeps to this budget, and when the total would pass the limit
 * the cache holding the most bytes gives up its least recently used entries first. An entry larger than
 * `maxEntryBytes` (a fraction of the budget) is not cached at all: caching it would evict everything
 * else for one value that is cheap to rebuild relative to its size.
 */
export interface BudgetedCache {
  /** Bytes this cache currently charges to the budget. */
  readonly bytes: number;
  /** Drops the least recently used entry; false when empty. */
  evictOldest(): boolean;
}

/** Entries above this share of the budget are never cached. */
const MAX_ENTRY_SHARE = 1 / 32;

export class MemoryBudget {
  #limit: number;
  #used = 0;
  #peak = 0;
  readonly #caches = new Set<BudgetedCache>();

  constructor(limitBytes: number) {
    this.#limit = limitBytes;
  }

  get limit(): number {
    return this.#limit;
  }
  get used(): number {
    return this.#used;
  }
  /** The most bytes ever charged at once since the last resetPeak() (tests assert it never passes the limit). */
  get peak(): number {
    return this.#peak;
  }
  get maxEntryBytes(): number {
    return Math.floor(this.#limit * MAX_ENTRY_SHARE);
  }

  resetPeak(): void {
    this.#peak = this.#used;
  }

  /** Sets the limit (CACHE_BUDGET_BYTES) and evicts down to it at once. */
  configure(limitBytes: number): void {
    this.#limit = limitBytes;
    this.#shrinkTo(limitBytes);
  }

  register(cache: BudgetedCache): void {
    this.#caches.add(cache);
  }

  /**
   * Makes room for `bytes` more, evicting from the largest caches, then charges them. False (nothing
   * charged) when the entry is too large to be cached at all.
   */
  reserve(bytes: number): boolean {
    if (bytes > this.maxEntryBytes) return false;
    this.#shrinkTo(this.#limit - bytes);
    this.#used += bytes;
    if (this.#used > this.#peak) this.#peak = this.#used;
    return true;
  }

  release(bytes: number): void {
    this.#used -= bytes;
  }

  #shrinkTo(target: number): void {
    while (this.#used > target) {
      let largest: BudgetedCache | undefined;
      for (const c of this.#caches) if (c.bytes > 0 && (!largest || c.bytes > largest.bytes)) largest = c;
      if (!largest || !largest.evictOldest()) return;
    }
  }
}

/** 64 MiB: enough for thousands of typical meetings' bodies, small beside a default Node heap. */
export const DEFAULT_CACHE_BUDGET_BYTES = 64 * 1024 * 1024;

/** The process's budget. buildApp sets its limit from CACHE_BUDGET_BYTES; every LruCache charges it. */
export const cacheBudget = new MemoryBudget(DEFAULT_CACHE_BUDGET_BYTES);

/**
 * A conservative estimate of what a value costs on the heap: strings at two bytes a character (V8 keeps
 * non-Latin-1 text in UTF-16), plus a fixed overhead per entry for the map slot and wrapper objects.
 */
export const ENTRY_OVERHEAD_BYTES = 128;
export function stringBytes(s: string): number {
  return s.length * 2;
}
