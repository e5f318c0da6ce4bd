import type SqliteDatabase from 'better-sqlite3';
import type { CompiledQuery, QueryResult } from 'kysely';

type Pending = { query: CompiledQuery; resolve: (r: QueryResult<never>) => void; reject: (e: unknown) => void };

/** Writes committed together at most; a larger backlog is committed in several transactions. */
const MAX_BATCH = 256;

/**
 * Group commit for SQLite. Every commit writes each B-tree page the statement touched to the WAL (a
 * meeting touches the table and seven indexes), and with several processes every commit also takes
 * the file's write lock, whose busy handler sleeps in whole milliseconds. So the meeting writes issued
 * in one turn of the event loop are committed in one transaction, each under its own savepoint so that
 * one failing statement (a generated number that collides) leaves the others intact. A caller's promise
 * settles only after the COMMIT has returned: a request is never answered before its write is in the
 * WAL, so a process crash loses nothing that was acknowledged.
 */
export class SqliteGroupCommit {
  #queue: Pending[] = [];
  #scheduled = false;

  constructor(
    private readonly sqlite: SqliteDatabase.Database,
    private readonly prepare: (sql: string) => SqliteDatabase.Statement,
  ) {}

  write(query: CompiledQuery): Promise<QueryResult<never>> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ query, resolve, reject });
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
    if (this.#queue.length > 0) this.#schedule();
    try {
      this.prepare('BEGIN IMMEDIATE').run();
    } catch (err) {
      for (const p of batch) p.reject(err);
      return;
    }
    const outcomes: Array<{ ok: QueryResult<never> } | { err: unknown }> = [];
    for (const p of batch) {
      this.prepare('SAVEPOINT gm_write').run();
      try {
        const r = this.prepare(p.query.sql).run(p.query.parameters as unknown[]);
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
}
