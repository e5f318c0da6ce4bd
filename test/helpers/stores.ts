import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openStore, type Store, type StoreKind } from '../../src/storage/database.js';

/**
 * The stores every storage and HTTP suite runs against: SQLite always, PostgreSQL when
 * TEST_DATABASE_URL is set (each suite gets a fresh database, dropped afterwards).
 */
export const STORES: StoreKind[] = process.env.TEST_DATABASE_URL ? ['sqlite', 'postgres'] : ['sqlite'];

export interface TestStore {
  store: Store;
  /** The URL of the fresh PostgreSQL database, for suites that start several instances on it. */
  databaseUrl?: string;
  cleanup(): Promise<void>;
}

/** A fresh, empty store of the given kind (SQLite: a file in `dir`). */
export async function freshStore(kind: StoreKind, dir: string): Promise<TestStore> {
  if (kind === 'sqlite') {
    const store = openStore({ databaseUrl: undefined, sqliteFile: `${dir}/test.sqlite` });
    return { store, cleanup: () => store.close() };
  }
  const databaseUrl = await createPostgresDatabase();
  const store = openStore({ databaseUrl, sqliteFile: '' });
  return {
    store,
    databaseUrl,
    cleanup: async () => {
      await store.close();
      await dropPostgresDatabase(databaseUrl);
    },
  };
}

export async function createPostgresDatabase(): Promise<string> {
  const admin = process.env.TEST_DATABASE_URL;
  if (!admin) throw new Error('TEST_DATABASE_URL is not set');
  const name = `gm_test_${randomBytes(6).toString('hex')}`;
  const client = new pg.Client({ connectionString: admin });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
  const url = new URL(admin);
  url.pathname = `/${name}`;
  return url.toString();
}

export async function dropPostgresDatabase(databaseUrl: string): Promise<void> {
  const admin = process.env.TEST_DATABASE_URL!;
  const name = new URL(databaseUrl).pathname.slice(1);
  const client = new pg.Client({ connectionString: admin });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  } finally {
    await client.end();
  }
}
