import { ENTRY_OVERHEAD_BYTES, cacheBudget, stringBytes, type BudgetedCache, type MemoryBudget } from './memory-budget.js';

/** The estimated bytes of one entry (key and value); see memory-budget.ts. */
export type SizeOf<K, V> = (key: K, value: V) => number;

export interface LruCacheOptions<K, V> {
  /** Estimated bytes of an entry; the default counts string keys and values and a fixed size for anything else. */
  sizeOf?: SizeOf<K, V>;
  /** The budget to charge; the process-wide one by default (tests pass their own). */
  budget?: MemoryBudget;
}

/** Bytes charged for a value that is not a string when the cache gives no sizeOf (small rows, promises of rows). */
const DEFAULT_VALUE_BYTES = 512;

const defaultSizeOf = (key: unknown, value: unknown) =>
  ENTRY_OVERHEAD_BYTES +
  (typeof key === 'string' ? stringBytes(key) : 16) +
  (typeof value === 'string' ? stringBytes(value) : DEFAULT_VALUE_BYTES);

/**
 * A bounded map that forgets its least recently used entries, with an optional time to live. Every
 * in-memory cache of graph-meetings is one of these, so none can grow with the number of meetings,
 * tokens or users seen: each holds at most `maxEntries`, and all of them together at most the bytes of
 * the process's cache budget (memory-budget.ts, CACHE_BUDGET_BYTES).
 */
export class LruCache<K, V> implements BudgetedCache {
  readonly #entries = new Map<K, { value: V; expires: number; touched: number; bytes: number }>();
  /** Counts insertions at the end of the Map order (sets and refreshes). */
  #tick = 0;
  #bytes = 0;
  readonly #sizeOf: SizeOf<K, V>;
  readonly #budget: MemoryBudget;

  constructor(
    private readonly maxEntries: number,
    private readonly ttlMs = Infinity,
    private readonly clock: () => number = Date.now,
    options: LruCacheOptions<K, V> = {},
  ) {
    this.#sizeOf = options.sizeOf ?? defaultSizeOf;
    this.#budget = options.budget ?? cacheBudget;
    this.#budget.register(this);
  }

  get(key: K): V | undefined {
    const hit = this.#entries.get(key);
    if (hit === undefined) return undefined;
    if (hit.expires !== Infinity && hit.expires <= this.clock()) {
      this.#remove(key, hit.bytes);
      return undefined;
    }
    // Map order is recency order. An entry inserted fewer than half-capacity insertions ago is already
    // in the newer half, safe from eviction for at least that many more: moving it again would only
    // cost a delete and an insert on every hit of a hot entry (the token cache's keys are whole JWTs).
    if (this.#tick - hit.touched >= this.maxEntries >> 1) {
      this.#entries.delete(key);
      hit.touched = ++this.#tick;
      this.#entries.set(key, hit);
    }
    return hit.value;
  }

  set(key: K, value: V): void {
    this.delete(key);
    const bytes = this.#sizeOf(key, value);
    // Too large for the budget's per-entry share: not cached (the caller rebuilds it next time).
    if (!this.#budget.reserve(bytes)) return;
    if (this.#entries.size >= this.maxEntries) this.evictOldest();
    this.#entries.set(key, {
      value,
      expires: this.ttlMs === Infinity ? Infinity : this.clock() + this.ttlMs,
      touched: ++this.#tick,
      bytes,
    });
    this.#bytes += bytes;
  }

  delete(key: K): void {
    const hit = this.#entries.get(key);
    if (hit !== undefined) this.#remove(key, hit.bytes);
  }

  clear(): void {
    this.#budget.release(this.#bytes);
    this.#bytes = 0;
    this.#entries.clear();
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Bytes this cache charges to its budget. */
  get bytes(): number {
    return this.#bytes;
  }

  evictOldest(): boolean {
    const first = this.#entries.entries().next();
    if (first.done) return false;
    this.#remove(first.value[0], first.value[1].bytes);
    return true;
  }

  #remove(key: K, bytes: number): void {
    this.#entries.delete(key);
    this.#bytes -= bytes;
    this.#budget.release(bytes);
  }

  /** The cached value, or the loader's (also cached, so concurrent callers share one load). */
  async getOrLoad(key: K, load: () => Promise<V>): Promise<V> {
    const hit = this.get(key);
    if (hit !== undefined) return hit;
    const value = await load();
    this.set(key, value);
    return value;
  }
}
