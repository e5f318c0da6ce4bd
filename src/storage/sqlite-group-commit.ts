import type SqliteDatabase from 'better-sqlite3';
import type { CompiledQuery, QueryResult } from 'kysely';

type Pending = {
  /**
   * One statement, or several that commit together (writeTogether): when the first changes no row, the
   * others are skipped (a lost optimistic-concurrency race must not queue its notifications).
   */
  queries: CompiledQuery[];
  resolve: (r: QueryResult<never>) => void;
  reject: (e: unknown) => void;
  /** When this write first found the write lock taken (for the give-up deadline). */
  waitingSince?: number;
};

/** Writes committed together at most; a larger backlog is committed in several transactions. */
const MAX_BATCH = 256;

/**
 * Group commit for SQLite. Every commit writes each B-tree page the statement touched to the WAL (a
 * meeting touches the table and seven indexes), and with several processes every commit also takes
 * the file's write lock. So the meeting writes issued
 * in one turn of the event loop are committed in one transaction, each under its own savepoint so that
 * one failing statement (a generated number that collides) leaves the others intact. A caller's promise
 * settles only after the COMMIT has returned: a request is never answered before its write is in the
 * WAL, so a process crash loses nothing that was acknowledged.
 *
 * When another process holds the write lock, SQLite's busy handler would sleep in the middle of the
 * event loop, stalling every request of this process. The lock is therefore tried without waiting, and
 * the batch retried a moment later while the event loop goes on serving (and collecting more writes).
 */
export class SqliteGroupCommit {
  #queue: Pending[] = [];
  #scheduled = false;

  constructor(
    private readonly sqlite: SqliteDatabase.Database,
    private readonly prepare: (sql: string) => SqliteDatabase.Statement,
    /** How long a write waits for another process's lock before it fails as SQLITE_BUSY (a 503). */
    private readonly lockWaitMs = BUSY_TIMEOUT_MS,
  ) {}

  write(query: CompiledQuery): Promise<QueryResult<never>> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ queries: [query], resolve, reject });
      this.#schedule();
    });
  }

  /** Several statements under one savepoint of the group's transaction: all of them or none. Resolves with the first's result. */
  writeTogether(queries: CompiledQuery[]): Promise<QueryResult<never>> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ queries, resolve, reject });
      this.#schedule();
    });
  }

  #schedule(delayMs = 0) {
    if (this.#scheduled) return;
    this.#scheduled = true;
    const run = () => {
      this.#scheduled = false;
      this.#flush();
    };
    if (delayMs > 0) setTimeout(run, delayMs);
    else setImmediate(run);
  }

  #flush() {
    if (this.#queue.length === 0) return;
    // A Kysely transaction (directory administration) is open on this connection between two awaits:
    // never mix meeting writes into it; try again shortly.
    if (this.sqlite.inTransaction) return this.#schedule(1);
    const batch = this.#queue.splice(0, MAX_BATCH);
    try {
      this.#beginWithoutWaiting();
    } catch (err) {
      if (!isBusy(err)) {
        for (const p of batch) p.reject(err);
        return this.#queue.length > 0 ? this.#schedule() : undefined;
      }
      const now = Date.now();
      const expired = batch.filter((p) => now - (p.waitingSince ??= now) >= this.lockWaitMs);
      for (const p of expired) p.reject(err);
      this.#queue.unshift(...batch.filter((p) => !expired.includes(p)));
      return this.#schedule(1);
    }
    if (this.#queue.length > 0) this.#schedule();
    const outcomes: Array<{ ok: QueryResult<never> } | { err: unknown }> = [];
    for (const p of batch) {
      this.prepare('SAVEPOINT gm_write').run();
      try {
        const [first, ...rest] = p.queries;
        const r = this.prepare(first!.sql).run(first!.parameters as unknown[]);
        if (r.changes > 0) for (const q of rest) this.prepare(q.sql).run(q.parameters as unknown[]);
        outcomes.push({ ok: { rows: [], numAffectedRows: BigInt(r.changes), insertId: BigInt(r.lastInsertRowid) } });
      } catch (err) {
        this.prepare('ROLLBACK TO gm_write').run();
        outcomes.push({ err });
      }
      this.prepare('RELEASE gm_write').run();
    }
    try {
      this.prepare('COMMIT').run();
    } catch (err) {
      try {
        this.prepare('ROLLBACK').run();
      } catch {
        // already rolled back
      }
      for (const p of batch) p.reject(err);
      return;
    }
    batch.forEach((p, i) => {
      const o = outcomes[i]!;
      if ('ok' in o) p.resolve(o.ok);
      else p.reject(o.err);
    });
  }

  /** BEGIN IMMEDIATE with the busy handler off, so a taken lock fails at once instead of sleeping. */
  #beginWithoutWaiting() {
    this.prepare('PRAGMA busy_timeout = 0').get();
    try {
      this.prepare('BEGIN IMMEDIATE').run();
    } finally {
      this.prepare(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`).get();
    }
  }
}

/** The busy timeout of the store's connections (database.ts), restored after each lock attempt. */
export const BUSY_TIMEOUT_MS = 5000;

function isBusy(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && code.startsWith('SQLITE_BUSY');
}
