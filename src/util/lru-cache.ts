/**
 * A bounded map that forgets its least recently used entries, with an optional time to live. Every
 * in-memory cache of graph-meetings is one of these, so none can grow with the number of meetings,
 * tokens or users seen.
 */
export class LruCache<K, V> {
  readonly #entries = new Map<K, { value: V; expires: number; touched: number }>();
  /** Counts insertions at the end of the Map order (sets and refreshes). */
  #tick = 0;

  constructor(
    private readonly maxEntries: number,
    private readonly ttlMs = Infinity,
    private readonly clock: () => number = Date.now,
  ) {}

  get(key: K): V | undefined {
    const hit = this.#entries.get(key);
    if (hit === undefined) return undefined;
    if (hit.expires !== Infinity && hit.expires <= this.clock()) {
      this.#entries.delete(key);
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
    this.#entries.delete(key);
    if (this.#entries.size >= this.maxEntries) this.#entries.delete(this.#entries.keys().next().value!);
    this.#entries.set(key, { value, expires: this.ttlMs === Infinity ? Infinity : this.clock() + this.ttlMs, touched: ++this.#tick });
  }

  delete(key: K): void {
    this.#entries.delete(key);
  }

  clear(): void {
    this.#entries.clear();
  }

  get size(): number {
    return this.#entries.size;
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
