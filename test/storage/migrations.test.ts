import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import type { Kysely, MigrationResultSet } from 'kysely';
import { migrateToLatest, openStore, type Store } from '../../src/storage/database.js';
import { migrations } from '../../src/storage/migrations/index.js';
import {
  deleteMeeting,
  findMeetingByExternalId,
  findMeetingById,
  findMeetingByThread,
  insertMeeting,
  meetingToRow,
  updateMeeting,
} from '../../src/storage/repositories/meeting-repository.js';
import { findTenant } from '../../src/storage/repositories/directory-repository.js';
import type { Database } from '../../src/storage/tables.js';
import { STORES } from '../helpers/stores.js';
import { graphTime, makeMeeting, tempStore, tenantRow, TENANT_ID } from './fixtures.js';

const ALL = Object.keys(migrations);
const FIRST = '001-initial-schema';

/** The migrations a run applied, after checking that every one of them succeeded. */
function applied(result: MigrationResultSet): string[] {
  for (const r of result.results ?? []) assert.equal(r.status, 'Success', `${r.migrationName} ${r.status}`);
  return (result.results ?? []).map((r) => r.migrationName);
}

async function recorded(db: Kysely<Database>): Promise<string[]> {
  // schema_migrations is Kysely's table, not part of Database.
  const rows = await (db as unknown as Kysely<{ schema_migrations: { name: string } }>)
    .selectFrom('schema_migrations')
    .select('name')
    .orderBy('name')
    .execute();
  return rows.map((r) => r.name);
}

async function columnsOf(db: Kysely<Database>, table: string): Promise<string[]> {
  const tables = await db.introspection.getTables();
  const t = tables.find((x) => x.name === table);
  assert.ok(t, `table ${table} exists`);
  return t.columns.map((c) => c.name).sort();
}

/** Writes through one instance and reads through another: the migrated schema is usable by the app. */
async function assertSchemaWorks(writer: Kysely<Database>, reader: Kysely<Database>) {
  const m = makeMeeting({ externalId: 'schema-check' });
  await insertMeeting(writer, m);
  assert.deepEqual(await findMeetingById(reader, m.id), m);
  assert.equal(await deleteMeeting(writer, m.id, graphTime()), true);
  assert.equal(await findMeetingById(reader, m.id), undefined);
}

for (const kind of STORES) {
  describe(`${kind}: schema migrations`, () => {
    let t: Awaited<ReturnType<typeof tempStore>>;
    let extra: Store[] = [];
    beforeEach(async () => {
      t = await tempStore(kind);
    });
    afterEach(async () => {
      await Promise.all(extra.map((s) => s.close()));
      extra = [];
      await t.cleanup();
    });
    /** Another instance on the same database: its own pg pool, or its own better-sqlite3 connection to the same file. */
    const instances = (n: number): Store[] => {
      const opened = Array.from({ length: n }, () => openStore({ databaseUrl: t.databaseUrl, sqliteFile: t.sqliteFile }));
      extra.push(...opened);
      return opened;
    };

    test('an upgrade from the first schema keeps the data and the app reads it', async () => {
      const db = t.store.db;
      assert.deepEqual(applied(await migrateToLatest(db, FIRST)), [FIRST]);
      assert.deepEqual(await recorded(db), [FIRST]);
      assert.ok(!(await columnsOf(db, 'meetings')).includes('deleted_at'), 'deleted_at is not in the first schema');

      // Rows as the first release wrote them: only the 001 columns (meetingToRow sets no deleted_at).
      const tenant = tenantRow();
      await db.insertInto('tenants').values(tenant).execute();
      const m = makeMeeting({ externalId: 'ext-before-upgrade' });
      await db.insertInto('meetings').values(meetingToRow(m)).execute();

      assert.deepEqual(applied(await migrateToLatest(db)), ALL.slice(1));
      assert.deepEqual(await recorded(db), ALL);
      assert.ok((await columnsOf(db, 'meetings')).includes('deleted_at'));

      assert.deepEqual(await db.selectFrom('tenants').selectAll().execute(), [tenant]);
      const rows = await db.selectFrom('meetings').selectAll().execute();
      assert.deepEqual(rows, [{ ...meetingToRow(m), version: 1, deleted_at: null, ical_uid: null }]);

      assert.equal((await findTenant(db, TENANT_ID))?.display_name, tenant.display_name);
      assert.deepEqual(await findMeetingById(db, m.id), m);
      assert.deepEqual(await findMeetingByThread(db, m.threadId), m);
      assert.deepEqual(await findMeetingByExternalId(db, m.tenantId, m.organizerId, 'ext-before-upgrade'), m);
      // The old row takes part in the new features: optimistic updates and tombstones.
      assert.equal(await updateMeeting(db, { ...m, subject: 'After the upgrade' }), true);
      assert.equal((await findMeetingById(db, m.id))?.version, 2);
      assert.equal(await deleteMeeting(db, m.id, graphTime()), true);
      assert.equal(await findMeetingById(db, m.id), undefined);
    });

    test('migrating twice is a no-op and records each migration once', async () => {
      const db = t.store.db;
      assert.deepEqual(applied(await migrateToLatest(db)), ALL);
      const m = makeMeeting();
      await insertMeeting(db, m);
      assert.deepEqual(applied(await migrateToLatest(db)), []);
      assert.deepEqual(applied(await migrateToLatest(db, ALL.at(-1))), []);
      assert.deepEqual(await recorded(db), ALL);
      assert.deepEqual(await findMeetingById(db, m.id), m);
    });

    // PostgreSQL: Kysely's migrator holds an advisory lock, so one instance migrates and the others wait.
    // SQLite: Kysely takes no lock and no transaction there, so migrateToLatest wraps the run in
    // BEGIN IMMEDIATE; the other instances wait for the write lock and then find nothing to apply.
    test('several instances migrating a fresh database at once all succeed', async () => {
      const dbs = instances(4).map((s) => s.db);
      const results = await Promise.all(dbs.map((db) => migrateToLatest(db)));
      // Between them the instances applied each migration exactly once; the others found nothing left to do.
      assert.deepEqual(results.map(applied).flat().sort(), ALL);
      assert.deepEqual(await recorded(t.store.db), ALL);
      await assertSchemaWorks(dbs[0]!, dbs[3]!);
    });

    test('several instances upgrading a database at the first schema at once all succeed', async () => {
      assert.deepEqual(applied(await migrateToLatest(t.store.db, FIRST)), [FIRST]);
      const m = makeMeeting();
      await t.store.db.insertInto('meetings').values(meetingToRow(m)).execute();
      const dbs = instances(4).map((s) => s.db);
      const results = await Promise.allSettled(dbs.map((db) => migrateToLatest(db)));
      const failures = results.flatMap((r) => (r.status === 'rejected' ? [String(r.reason)] : []));
      assert.deepEqual(failures, [], 'every instance starts');
      const fulfilled = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
      assert.deepEqual(fulfilled.map(applied).flat(), ALL.slice(1));
      assert.deepEqual(await recorded(t.store.db), ALL);
      assert.deepEqual(await findMeetingById(dbs[1]!, m.id), m);
      await assertSchemaWorks(dbs[0]!, dbs[3]!);
    });

    test('instances starting after one has migrated all agree at once', async () => {
      assert.deepEqual(applied(await migrateToLatest(t.store.db)), ALL);
      const dbs = instances(4).map((s) => s.db);
      const results = await Promise.all(dbs.map((db) => migrateToLatest(db)));
      assert.deepEqual(results.map(applied), [[], [], [], []]);
      assert.deepEqual(await recorded(t.store.db), ALL);
      await assertSchemaWorks(dbs[2]!, dbs[0]!);
    });
  });
}
