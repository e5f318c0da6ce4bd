import type { Kysely } from 'kysely';
import * as directory from '../../storage/repositories/directory-repository.js';
import type { ApplicationRow, Database, TenantRow, UserRow } from '../../storage/tables.js';
import { LruCache } from '../../util/lru-cache.js';

/**
 * The directory reads every Graph request makes (who is calling, whom they act for, may they). They are
 * cached for a second: the directory changes rarely, and a request otherwise spends more time on these
 * reads than on its meeting. The price is that a change made by another process (the CLI, another
 * instance) takes effect within DIRECTORY_CACHE_TTL_MS; Graph itself takes up to 30 minutes for an
 * access-policy change (fact sheet §5). Changes made through this process should call clear().
 */
export const DIRECTORY_CACHE_TTL_MS = 1000;

export class DirectoryLookups {
  readonly #cache: LruCache<string, unknown>;

  constructor(
    private readonly db: Kysely<Database>,
    ttlMs = DIRECTORY_CACHE_TTL_MS,
    clock: () => number = Date.now,
  ) {
    this.#cache = new LruCache(20_000, ttlMs, clock);
  }

  #memo<T>(key: string, load: () => Promise<T>): Promise<T> {
    // Cached as a promise so that concurrent requests share one database read; undefined ("not found")
    // is cached too, so probing for unknown ids costs one read per second, not one per request.
    const hit = this.#cache.get(key) as Promise<T> | undefined;
    if (hit) return hit;
    const loading = load();
    this.#cache.set(key, loading);
    loading.catch(() => this.#cache.delete(key));
    return loading;
  }

  tenant(idOrDomain: string): Promise<TenantRow | undefined> {
    return this.#memo(`t|${idOrDomain.toLowerCase()}`, () => directory.findTenant(this.db, idOrDomain));
  }

  userInTenant(tenantId: string, idOrUpn: string): Promise<UserRow | undefined> {
    return this.#memo(`u|${tenantId}|${idOrUpn.toLowerCase()}`, () => directory.findUserInTenant(this.db, tenantId, idOrUpn));
  }

  userById(id: string): Promise<UserRow | undefined> {
    return this.#memo(`ui|${id.toLowerCase()}`, () => directory.findUserById(this.db, id));
  }

  application(clientId: string): Promise<ApplicationRow | undefined> {
    return this.#memo(`a|${clientId.toLowerCase()}`, () => directory.findApplicationByClientId(this.db, clientId));
  }

  accessPolicyAllows(tenantId: string, userId: string, clientId: string): Promise<boolean> {
    return this.#memo(`p|${tenantId}|${userId}|${clientId.toLowerCase()}`, () =>
      directory.accessPolicyAllows(this.db, tenantId, userId, clientId),
    );
  }

  meetingTemplate(tenantId: string, id: string) {
    return this.#memo(`m|${tenantId}|${id.toLowerCase()}`, () => directory.findMeetingTemplate(this.db, tenantId, id));
  }

  /** Forget everything, e.g. after changing the directory in this process. */
  clear(): void {
    this.#cache.clear();
  }
}
