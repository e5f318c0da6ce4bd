import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import path from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import {
  Kysely,
  Migrator,
  PostgresAdapter,
  PostgresDialect,
  SqliteAdapter,
  SqliteDialect,
  sql,
  type CompiledQuery,
  type MigrationResultSet,
  type QueryResult,
} from 'kysely';
import { LazySqliteCheckpointer } from './sqlite-checkpointer.js';
import { BUSY_TIMEOUT_MS, SqliteGroupCommit } from './sqlite-group-commit.js';
import { migrations } from './migrations/index.js';
import { ensurePrivateDir, ensurePrivateFile, makePrivate } from './data-dir.js';
import type { Database } from './tables.js';

export type StoreKind = 'sqlite' | 'postgres';
export type Writer = (query: CompiledQuery) => Promise<QueryResult<unknown>>;
/**
 * Runs one write statement so that no other writer, in this process or any other on the same database, writes
 * anything under the same `key` between the statement's reads and its write (the meeting quota's count and
 * insert, meeting-repository.ts insertMeetingWithinQuota).
 */
export type ExclusiveWriter = (key: string, query: CompiledQuery) => Promise<QueryResult<unknown>>;
/** Runs one SELECT of the request path and returns its rows. */
export type Reader = <R>(query: CompiledQuery<R>) => Promise<R[]>;

export interface Store {
  readonly kind: StoreKind;
  readonly db: Kysely<Database>;
  /**
   * Runs one write statement of the request path. On SQLite, writes issued together are committed
   * together (sqlite-group-commit.ts); on PostgreSQL each runs on its own pooled connection.
   */
  readonly write: Writer;
  /** Runs one write statement exclusively for its key (see exclusiveWriter). */
  readonly writeExclusive: ExclusiveWriter;
  /**
   * Runs several write statements in one transaction and resolves with the first one's result; when the first
   * changes no row the others are skipped. The transactional outbox (issue #18): a change and the
   * notifications it causes commit together or not at all.
   */
  readonly writeTogether: (queries: CompiledQuery[]) => Promise<QueryResult<unknown>>;
  /**
   * Runs one read of the request path, compiled once (meeting-repository.ts MeetingReads). On SQLite the
   * cached prepared statement runs at once, without Kysely's connection mutex and promise chain; on
   * PostgreSQL it is a named statement, parsed and planned once per pooled connection.
   */
  readonly read: Reader;
  /** Where the data lives, for logs (never includes a password). */
  readonly location: string;
  close(): Promise<void>;
}

export interface StoreOptions {
  /** postgres://… or undefined for SQLite. */
  databaseUrl: string | undefined;
  /** SQLite file; ':memory:' for a throwaway store. */
  sqliteFile: string;
  /** PostgreSQL pool size per process. */
  poolSize?: number;
  /**
   * SQLite: checkpoint the WAL from a background thread rather than inside request commits
   * (sqlite-checkpointer.ts), started once the WAL first holds frames. On by default for files; off for
   * throwaway in-memory stores.
   */
  backgroundCheckpoints?: boolean;
}

/** The size the WAL is kept to (sqlite-checkpointer.ts). */
const WAL_LIMIT_BYTES = 64 * 1024 * 1024;

/**
 * Opens the store. The dialect-specific part of graph-meetings is this function and storage/errors.ts;
 * every query above it is one Kysely query that runs on both.
 */
export function openStore(options: StoreOptions): Store {
  if (options.databaseUrl) {
    // Loaded only for PostgreSQL: `pg` is about 60 ms of every start on SQLite (issue #15: start in about a second).
    const pg = createRequire(import.meta.url)('pg') as typeof import('pg');
    const pool = new pg.Pool({ connectionString: options.databaseUrl, max: options.poolSize ?? 10 });
    // An idle client that loses its server must not crash the process.
    pool.on('error', () => {});
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    const url = new URL(options.databaseUrl);
    const names = new Map<string, string>();
    const statementName = (text: string) => {
      let name = names.get(text);
      if (name === undefined) {
        name = `gm_${createHash('sha256').update(text).digest('hex').slice(0, 24)}`;
        if (names.size < 500) names.set(text, name);
      }
      return name;
    };
    const write: Writer = (q) => db.executeQuery(q);
    return {
      kind: 'postgres',
      db,
      write,
      writeExclusive: exclusiveWriter(db, write),
      writeTogether: (queries) =>
        db.transaction().execute(async (trx) => {
          const [first, ...rest] = queries;
          const result = await trx.executeQuery(first!);
          if (Number(result.numAffectedRows ?? 0) > 0) for (const q of rest) await trx.executeQuery(q);
          return result;
        }),
      read: async <R>(q: CompiledQuery<R>) =>
        (await pool.query({ text: q.sql, values: q.parameters as unknown[], name: statementName(q.sql) })).rows as R[],
      location: `postgres://${url.host}${url.pathname}`,
      close: () => db.destroy(),
    };
  }
  // The database holds the private signing keys: its folder 0700, the file (and so its -wal, -shm) 0600.
  if (options.sqliteFile !== ':memory:') {
    ensurePrivateDir(path.dirname(options.sqliteFile));
    ensurePrivateFile(options.sqliteFile);
  }
  const sqlite = new SqliteDatabase(options.sqliteFile);
  // WAL lets readers run beside the writer and survives a process crash with synchronous=NORMAL
  // (only an OS crash or power loss can drop the last commits); several processes may share the
  // file, so writers wait for the lock instead of failing at once.
  sqlite.pragma('journal_mode = WAL');
  if (options.sqliteFile !== ':memory:') for (const suffix of ['-wal', '-shm']) makePrivate(options.sqliteFile + suffix);
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
  sqlite.pragma('foreign_keys = ON');
  const checkpointer =
    options.sqliteFile !== ':memory:' && options.backgroundCheckpoints !== false
      ? new LazySqliteCheckpointer({ file: options.sqliteFile, restartBytes: WAL_LIMIT_BYTES })
      : undefined;
  // With the checkpointer, a commit checkpoints only once the WAL passes 160 MiB, far beyond the thread's
  // own limit (so only if the thread died or cannot keep up): the WAL stays bounded either way. When a
  // writer starts the WAL over, it shrinks the file back to the limit.
  if (checkpointer) sqlite.pragma('wal_autocheckpoint = 40000');
  sqlite.pragma(`journal_size_limit = ${WAL_LIMIT_BYTES}`);
  const cached = withStatementCache(sqlite);
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: cached }) });
  const groupCommit = new SqliteGroupCommit(sqlite, cached.prepare);
  const write: Writer = (q) => groupCommit.write(q);
  return {
    kind: 'sqlite',
    db,
    write,
    writeExclusive: exclusiveWriter(db, write),
    writeTogether: (queries) => groupCommit.writeTogether(queries),
    // Meeting writes never leave a transaction open between turns of the event loop (group commit runs
    // BEGIN…COMMIT synchronously), so a read here never sees another request's uncommitted meeting.
    read: <R>(q: CompiledQuery<R>) => {
      try {
        return Promise.resolve(cached.prepare(q.sql).all(q.parameters as unknown[]) as R[]);
      } catch (err) {
        return Promise.reject(err);
      }
    },
    location: options.sqliteFile,
    close: async () => {
      await checkpointer?.stop();
      await db.destroy();
    },
  };
}

/**
 * ExclusiveWriter for either store. SQLite: every write statement already runs under the database file's write
 * lock (the group commit's BEGIN IMMEDIATE, or a single autocommit statement), which no other connection or
 * process can hold at the same time, and the statement reads the latest committed state plus the earlier
 * writes of its own transaction; so the store's writer is exclusive as it is. PostgreSQL (READ COMMITTED): two
 * transactions can each count before the other's insert commits, so the statement runs in a transaction that
 * first takes a transaction-scoped advisory lock on the key (released by COMMIT or ROLLBACK, also when the
 * connection dies); each statement of the transaction then reads what every earlier holder committed. Within
 * one process the holders of a key also queue in memory first, so that a burst for one key waits here and not
 * on pooled connections that every other request needs.
 */
export function exclusiveWriter(db: Kysely<Database>, write: Writer): ExclusiveWriter {
  if (!(db.getExecutor().adapter instanceof PostgresAdapter)) return (_key, query) => write(query);
  const tails = new Map<string, Promise<unknown>>();
  return (key, query) => {
    const run = async () =>
      db.transaction().execute(async (trx) => {
        // hashtextextended: a 64-bit key, so that unrelated keys rarely share a lock (sharing only serializes).
        await sql`select pg_advisory_xact_lock(hashtextextended(${`graph-meetings|${key}`}, 0))`.execute(trx);
        return trx.executeQuery(query);
      });
    const previous = tails.get(key);
    const mine = previous ? previous.then(run, run) : run();
    const tail = mine.catch(() => {});
    tails.set(key, tail);
    void tail.then(() => {
      if (tails.get(key) === tail) tails.delete(key);
    });
    return mine;
  };
}

/**
 * Kysely's SQLite driver prepares every query anew; preparing costs as much as running a simple query.
 * The service runs a small, fixed set of SQL strings, so each is prepared once and reused (better-sqlite3
 * statements are safe to reuse sequentially, and the driver runs one query at a time). The cache is
 * bounded so that queries with variable IN lists cannot grow it without limit.
 */
function withStatementCache(sqlite: SqliteDatabase.Database, limit = 500) {
  const cache = new Map<string, SqliteDatabase.Statement>();
  return {
    close: () => sqlite.close(),
    prepare: (sql: string) => {
      let stmt = cache.get(sql);
      if (stmt === undefined) {
        stmt = sqlite.prepare(sql);
        if (cache.size >= limit) cache.delete(cache.keys().next().value!);
        cache.set(sql, stmt);
      }
      return stmt;
    },
  };
}

/**
 * Applies pending migrations, safely when several instances start at once, and atomically. On
 * PostgreSQL Kysely's migrator holds an advisory lock and runs in a transaction. On SQLite it does
 * neither, so the whole run happens inside BEGIN IMMEDIATE: the write lock makes other processes wait
 * (busy timeout) until this one is done, after which they find nothing to apply; and a crash half-way
 * rolls the schema back instead of leaving it half-applied (SQLite's DDL is transactional).
 */
export async function migrateToLatest(db: Kysely<Database>, target?: string, attempts = 40): Promise<MigrationResultSet> {
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => migrations },
    migrationTableName: 'schema_migrations',
    migrationLockTableName: 'schema_migrations_lock',
    // Names sort by code unit (migrations/index.ts), the order Kysely resolves them in. Its default for ordering
    // the executed ones, localeCompare, builds ICU's collator on first use: about 40 ms of every start (issue #20).
    nameComparator: (a, b) => (a < b ? -1 : a > b ? 1 : 0),
  });
  const sqlite = db.getExecutor().adapter instanceof SqliteAdapter;
  const once = async (): Promise<MigrationResultSet> => {
    if (!sqlite) return target ? migrator.migrateTo(target) : migrator.migrateToLatest();
    await sql`BEGIN IMMEDIATE`.execute(db);
    try {
      const result = target ? await migrator.migrateTo(target) : await migrator.migrateToLatest();
      if (result.error) throw result.error;
      await sql`COMMIT`.execute(db);
      return result;
    } catch (err) {
      await sql`ROLLBACK`.execute(db).catch(() => {});
      throw err;
    }
  };
  for (let attempt = 1; ; attempt++) {
    const result = await once().catch((error: unknown) => ({ error, results: [] }));
    if (!result.error) return result as MigrationResultSet;
    if (attempt >= attempts || !lostMigrationRace(result.error)) throw result.error;
    await new Promise((r) => setTimeout(r, 50 + Math.random() * 200));
  }
}

/** An error that means another process was migrating the same SQLite file at the same moment. */
function lostMigrationRace(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown };
  return (
    e.code === 'SQLITE_BUSY' ||
    e.code === 'SQLITE_LOCKED' ||
    /already exists|UNIQUE constraint failed: schema_migrations/.test(String(e.message))
  );
}
