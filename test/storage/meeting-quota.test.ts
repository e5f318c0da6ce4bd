/**
 * The quota'd insert (meeting-repository.ts insertMeetingWithinQuota, database.ts exclusiveWriter; issue #11
 * item 10): the organizer's count for the month is taken inside the insert, so creations issued together, which
 * SQLite's group commit puts in one transaction, and creations racing on PostgreSQL's pool, together never pass
 * the limit.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Kysely } from 'kysely';
import { utcMonth } from '../../src/domain/meetings/meeting-quota.js';
import { migrateToLatest, openStore } from '../../src/storage/database.js';
import { deleteMeeting, insertMeetingWithinQuota, type CreationQuota } from '../../src/storage/repositories/meeting-repository.js';
import type { Database } from '../../src/storage/tables.js';
import { STORES } from '../helpers/stores.js';
import { makeMeeting, tempStore } from './fixtures.js';

// makeMeeting stamps creationDateTime in January 2030.
const JANUARY = utcMonth(Date.UTC(2030, 0, 15));

for (const kind of STORES) {
  describe(`${kind}: the quota'd meeting insert`, () => {
    let t: Awaited<ReturnType<typeof tempStore>>;
    let db: Kysely<Database>;
    before(async () => {
      t = await tempStore(kind);
      db = t.store.db;
      await migrateToLatest(db);
    });
    after(() => t.cleanup());

    const insert = (organizerId: string, quota: CreationQuota, store = t.store, overrides = {}) =>
      insertMeetingWithinQuota(store.db, makeMeeting({ organizerId, ...overrides }), quota, (q) =>
        store.writeExclusive(`quota|${organizerId}`, q),
      );
    const count = async (organizerId: string) =>
      (await db.selectFrom('meetings').select('id').where('organizer_id', '=', organizerId).execute()).length;

    test('creations issued in the same turn (one group-commit batch on SQLite) stop exactly at the limit', async () => {
      const organizer = crypto.randomUUID();
      const quota = { limit: 4, ...JANUARY };
      const results = await Promise.all(Array.from({ length: 25 }, () => insert(organizer, quota)));
      assert.equal(results.filter(Boolean).length, 4);
      assert.equal(await count(organizer), 4);
      // Full: a later one is refused too, and another organizer is unaffected.
      assert.equal(await insert(organizer, quota), false);
      assert.equal(await insert(crypto.randomUUID(), quota), true);
    });

    test('a second connection on the same database shares the limit', async () => {
      const other = openStore({ databaseUrl: t.databaseUrl, sqliteFile: t.sqliteFile });
      try {
        const organizer = crypto.randomUUID();
        const quota = { limit: 7, ...JANUARY };
        const results = await Promise.all(Array.from({ length: 30 }, (_, i) => insert(organizer, quota, i % 2 ? other : t.store)));
        assert.equal(results.filter(Boolean).length, 7);
        assert.equal(await count(organizer), 7);
      } finally {
        await other.close();
      }
    });

    test('only the month counts, deleted meetings included', async () => {
      const organizer = crypto.randomUUID();
      const quota = { limit: 2, ...JANUARY };
      // December 2029 is another month: it does not count against January.
      assert.equal(await insert(organizer, quota, t.store, { creationDateTime: '2029-12-31T23:59:59.9999999Z' }), true);
      const first = makeMeeting({ organizerId: organizer });
      assert.equal(await insertMeetingWithinQuota(db, first, quota, (q) => t.store.writeExclusive('k', q)), true);
      await deleteMeeting(db, first.id, '2030-01-20T00:00:00.0000000Z');
      assert.equal(await insert(organizer, quota), true);
      assert.equal(await insert(organizer, quota), false, 'the deleted meeting still counts');
      const february = { limit: 2, ...utcMonth(Date.UTC(2030, 1, 1)) };
      assert.equal(await insert(organizer, february, t.store, { creationDateTime: '2030-02-01T00:00:00.0000000Z' }), true);
    });
  });
}
