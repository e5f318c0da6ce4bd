import fs from 'node:fs';
import path from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, Migrator, PostgresDialect, SqliteDialect, type MigrationResultSet } from 'kysely';
import pg from 'pg';
import { migrations } from './migrations/index.js';
import type { Database } from './tables.js';

export type StoreKind = 'sqlite' | 'postgres';

export interface Store {
  readonly kind: StoreKind;
  readonly db: Kysely<Database>;
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
}

/**
 * Opens the store. The dialect-specific part of graph-meetings is this function and storage/errors.ts;
 * every query above it is one Kysely query that runs on both.
 */
export function openStore(options: StoreOptions): Store {
  if (options.databaseUrl) {
    const pool = new pg.Pool({ connectionString: options.databaseUrl, max: options.poolSize ?? 10 });
    // An idle client that loses its server must not crash the process.
    pool.on('error', () => {});
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    const url = new URL(options.databaseUrl);
    return {
      kind: 'postgres',
      db,
      location: `postgres://${url.host}${url.pathname}`,
      close: () => db.destroy(),
    };
  }
  if (options.sqliteFile !== ':memory:') fs.mkdirSync(path.dirname(options.sqliteFile), { recursive: true });
  const sqlite = new SqliteDatabase(options.sqliteFile);
  // WAL lets readers run beside the writer and survives a process crash with synchronous=NORMAL
  // (only an OS crash or power loss can drop the last commits); several processes may share the
  // file, so writers wait for the lock instead of failing at once.
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('busy_timeout = 5000');
  sqlite.pragma('foreign_keys = ON');
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
  return {
    kind: 'sqlite',
    db,
    location: options.sqliteFile,
    close: () => db.destroy(),
  };
}

/**
 * Applies pending migrations, safely when several instances start at once. On PostgreSQL Kysely's
 * migrator holds an advisory lock. SQLite has none: each migration runs in a transaction, so an
 * instance that loses the race rolls back ("already exists", or the lock wait runs out) and tries
 * again, by which time the winner has applied everything and there is nothing left to do.
 */
export async function migrateToLatest(db: Kysely<Database>, target?: string, attempts = 40): Promise<MigrationResultSet> {
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => migrations },
    migrationTableName: 'schema_migrations',
    migrationLockTableName: 'schema_migrations_lock',
  });
  for (let attempt = 1; ; attempt++) {
    const result = await (target ? migrator.migrateTo(target) : migrator.migrateToLatest()).catch((error: unknown) => ({
      error,
      results: [],
    }));
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
