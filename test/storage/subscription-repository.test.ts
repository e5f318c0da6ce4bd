import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { migrateToLatest, openStore, type Store } from '../../src/storage/database.js';
import {
  buildEnqueueChangeQuery,
  enqueueChangeQuery,
  finishAttempt,
  insertOutbox,
  leaseDue,
  type Change,
} from '../../src/storage/repositories/subscription-repository.js';
import { STORES } from '../helpers/stores.js';
import { tempStore } from './fixtures.js';

const NOW = '2030-01-01T00:00:00.0000000Z';
const item = (id: string) => ({
  id,
  subscription_id: 'sub',
  tenant_id: 'tenant',
  kind: 'change' as const,
  url: 'https://127.0.0.1/hook',
  payload: '{}',
  resource_json: null,
  created_at: NOW,
  give_up_at: '2030-01-01T04:00:00.0000000Z',
  next_attempt_at: NOW,
  status: 'pending' as const,
});

const change = (n: number, keys: string[], resourceJson: string | null): Change => ({
  changeId: `change-${n}`,
  tenantId: `tenant-${n}`,
  kind: n % 2 ? 'events' : 'transcripts',
  keys,
  changeType: n % 3 ? 'created' : 'deleted',
  payload: JSON.stringify({ n, text: 'with {{gm:payload}} and % and \\u0001 inside' }),
  resourceJson,
  now: `2030-01-0${n}T00:00:00.0000000Z`,
  giveUpAt: `2030-01-0${n}T04:00:00.0000000Z`,
  subscribedBy: `2030-01-0${n}T00:00:01.0000000Z`,
});

for (const kind of STORES) {
  describe(`${kind}: the notification outbox (issue #18: transactional, leased)`, () => {
    let ts: Awaited<ReturnType<typeof tempStore>>;
    let store: Store;
    before(async () => {
      ts = await tempStore(kind);
      store = ts.store;
      await migrateToLatest(store.db);
    });
    after(() => ts.cleanup());

    const exists = async (id: string) =>
      (await store.db.selectFrom('notification_outbox').select('id').where('id', '=', id).executeTakeFirst()) !== undefined;

    test("the compiled outbox INSERT (issue #20) carries each change's own values, as Kysely would build it", () => {
      const changes = [
        change(1, ['tenant'], null),
        change(2, ['user:a', 'tenant'], '{"rich":true}'),
        change(3, ['user:b'], '{"other":1}'),
        change(4, ['a', 'b', 'c'], null),
        change(5, ['{{gm:key0}}', 'tenant'], '{{gm:resourceJson}}'),
      ];
      for (let round = 0; round < 2; round++) {
        for (const c of changes) {
          const fast = enqueueChangeQuery(store.db, c);
          const built = buildEnqueueChangeQuery(store.db, c);
          assert.equal(fast.sql, built.sql);
          assert.deepStrictEqual(fast.parameters, built.parameters);
        }
      }
    });

    test('writeTogether: nothing follows a first statement that changed no row; a failing follower undoes the first', async () => {
      const none = store.db.updateTable('notification_outbox').set({ url: 'x' }).where('id', '=', 'no-such-row').compile();
      const result = await store.writeTogether([none, store.db.insertInto('notification_outbox').values(item('follower')).compile()]);
      assert.equal(Number(result.numAffectedRows), 0);
      assert.equal(await exists('follower'), false, 'a lost optimistic update queues no notification');

      const first = store.db.insertInto('notification_outbox').values(item('first')).compile();
      const duplicate = store.db.insertInto('notification_outbox').values(item('first')).compile();
      await assert.rejects(store.writeTogether([first, duplicate]));
      assert.equal(await exists('first'), false, 'the change is not committed without its notifications');
      await store.writeTogether([first, store.db.insertInto('notification_outbox').values(item('second')).compile()]);
      assert.ok((await exists('first')) && (await exists('second')));
    });

    test('two instances leasing at once get disjoint items; an expired lease is taken over; a lost lease records nothing', async () => {
      for (let i = 0; i < 40; i++) await insertOutbox(store.db, item(`lease-${String(i).padStart(2, '0')}`));
      // A second connection pool (PostgreSQL) or connection (SQLite) on the same database: another instance.
      const other =
        kind === 'postgres'
          ? openStore({ databaseUrl: ts.databaseUrl, sqliteFile: '' })
          : openStore({ databaseUrl: undefined, sqliteFile: ts.sqliteFile });
      try {
        const real = Date.now();
        const lease = (s: Store, owner: string) =>
          leaseDue(s.db, kind, { owner, now: NOW, realNow: real, leaseUntil: real + 60_000, limit: 7 });
        const rounds = await Promise.all([
          lease(store, 'a'),
          lease(other, 'b'),
          lease(store, 'a'),
          lease(other, 'b'),
          lease(store, 'a'),
          lease(other, 'b'),
        ]);
        const ids = rounds
          .flat()
          .map((r) => r.id)
          .filter((id) => id.startsWith('lease-'));
        assert.equal(new Set(ids).size, ids.length, 'no item leased twice');
        assert.ok(ids.length >= 38, `most items leased (${ids.length})`);

        const taken = rounds[0]!.find((r) => r.id.startsWith('lease-'))!;
        assert.equal(
          await finishAttempt(store.db, taken.id, 'b', {
            status: 'delivered',
            next_attempt_at: NOW,
            last_status: 202,
            last_error: null,
            last_duration_ms: 1,
            last_attempt_at: NOW,
          }),
          false,
        );
        // After the lease runs out, another instance takes the item over, and the first one's late outcome is ignored.
        const later = await leaseDue(other.db, kind, {
          owner: 'c',
          now: NOW,
          realNow: real + 61_000,
          leaseUntil: real + 120_000,
          limit: 100,
        });
        assert.ok(later.some((r) => r.id === taken.id));
        assert.equal(
          await finishAttempt(store.db, taken.id, 'a', {
            status: 'delivered',
            next_attempt_at: NOW,
            last_status: 202,
            last_error: null,
            last_duration_ms: 1,
            last_attempt_at: NOW,
          }),
          false,
        );
        assert.equal(
          await finishAttempt(other.db, taken.id, 'c', {
            status: 'delivered',
            next_attempt_at: NOW,
            last_status: 202,
            last_error: null,
            last_duration_ms: 1,
            last_attempt_at: NOW,
            delivered_at: NOW,
          }),
          true,
        );
      } finally {
        await other.close();
      }
    });
  });
}
