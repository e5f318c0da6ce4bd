/**
 * Issue #11 item 10: the monthly meeting quota (MEETING_QUOTA_PER_USER_MONTH) is exact across instances.
 * Two instances share one database (SQLite: the same file, each with its own connection and group commit;
 * PostgreSQL: the same database, each with its own pool) and race many creations for one organizer: exactly
 * the quota is created, every other creation gets Graph's 429 (fact sheet §6.5), and createOrGet of an
 * existing meeting is still answered 200. The count is taken inside the insert's write (meeting-service.ts
 * insertAllocating; database.ts writeExclusive), so no instance can pass a count another one has outdated.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config/config.js';
import { GRAPH_CONTENT_TYPE } from '../../src/http/errors.js';
import { openStore, type Store } from '../../src/storage/database.js';
import { STORES } from '../helpers/stores.js';
import { DEMO, graph, startTestApp, type TestApp } from '../helpers/test-app.js';

const C = DEMO.contoso;
const QUOTA = 6;
/** Creations per organizer, half through each instance. */
const ATTEMPTS = 40;
// One minute before the end of the month: the refusal's Retry-After is the 60 s left.
const NOW = Date.parse('2031-03-31T23:59:00Z');
const env = { THROTTLE: 'on', MEETING_QUOTA_PER_USER_MONTH: String(QUOTA) };

type Res = Awaited<ReturnType<typeof graph>>;

/** Graph's quota 429 exactly as a single instance answers it (test/http/throttling.test.ts). */
function assertQuotaRefusal(res: Res) {
  assert.equal(res.statusCode, 429, res.body);
  assert.equal(res.headers['retry-after'], '60');
  assert.equal(res.headers['content-type'], GRAPH_CONTENT_TYPE);
  const body = res.json();
  assert.deepEqual(Object.keys(body), ['error']);
  assert.equal(body.error.code, 'TooManyRequests');
  assert.equal(body.error.message, 'Please retry again later.');
  const { date, 'request-id': requestId, 'client-request-id': clientRequestId, ...inner } = body.error.innerError;
  assert.deepEqual(inner, { code: '429', message: 'Please retry after', status: '429' });
  assert.match(date, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$/);
  assert.equal(requestId, res.headers['request-id']);
  assert.equal(typeof clientRequestId, 'string');
}

for (const kind of STORES) {
  describe(`${kind}: the meeting quota across two instances on one database`, { timeout: 120_000 }, () => {
    let a: TestApp;
    let bApp: FastifyInstance;
    let bStore: Store;
    let token: string;
    let carol: string;

    before(async () => {
      a = await startTestApp(kind, { env, deps: { clock: () => NOW } });
      // B opens the same database on its own: a second connection (SQLite) or pool (PostgreSQL).
      bStore = openStore({ databaseUrl: a.testStore.databaseUrl, sqliteFile: `${a.dataDir}/test.sqlite` });
      bApp = await buildApp(loadConfig({ PORT: '0', DATA_DIR: a.dataDir, LOG_LEVEL: 'silent', ...env }, process.cwd()), {
        store: bStore,
        clock: () => NOW,
      });
      token = await a.appToken();
      carol = await a.userToken(C.carol.upn);
    });
    after(async () => {
      await bApp?.close();
      await bStore?.close();
      await a?.close();
    });

    /** Sends the i-th creation through A (even i) or B (odd i). */
    const send = (i: number, url: string, body: object, bearer = token) =>
      i % 2 === 0
        ? graph(a, 'POST', url, bearer, body)
        : bApp.inject({
            method: 'POST',
            url,
            headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' },
            payload: JSON.stringify(body),
          });

    const liveMeetings = async (organizerId: string) =>
      (await a.testStore.store.db.selectFrom('meetings').select('id').where('organizer_id', '=', organizerId).execute()).length;

    for (const [name, user] of [
      ['create', C.alice],
      ['createOrGet', C.bob],
      ['create and createOrGet mixed', C.carol],
    ] as const) {
      test(`${ATTEMPTS} racing ${name} requests through both instances: exactly ${QUOTA} created, the rest 429`, async () => {
        // Alice and Bob through the scheduler app (application access policy), Carol signed in herself.
        const mixed = user === C.carol;
        const base = mixed ? '/v1.0/me/onlineMeetings' : `/v1.0/users/${user.id}/onlineMeetings`;
        const bearer = mixed ? carol : token;
        const results = await Promise.all(
          Array.from({ length: ATTEMPTS }, (_, i) => {
            const keyed = name === 'createOrGet' || (mixed && i % 3 === 0);
            return keyed
              ? send(i, `${base}/createOrGet`, { externalId: `race-${i}` }, bearer)
              : send(i, base, { subject: `race ${i}` }, bearer);
          }),
        );
        const created = results.filter((r) => r.statusCode === 201);
        const refused = results.filter((r) => r.statusCode !== 201);
        assert.equal(created.length, QUOTA, JSON.stringify(results.map((r) => r.statusCode)));
        for (const r of refused) assertQuotaRefusal(r);
        assert.equal(await liveMeetings(user.id), QUOTA);

        // Over quota, createOrGet of a meeting that exists creates nothing and is answered 200, on either instance.
        const keyedWinner = created.map((r) => r.json()).find((m) => m.externalId);
        if (keyedWinner) {
          for (const i of [0, 1]) {
            const again = await send(i, `${base}/createOrGet`, { externalId: keyedWinner.externalId }, bearer);
            assert.equal(again.statusCode, 200, again.body);
            assert.equal(again.json().id, keyedWinner.id);
          }
        }
        assertQuotaRefusal(await send(1, base, {}, bearer));
        assert.equal(await liveMeetings(user.id), QUOTA);
      });
    }
  });
}

for (const kind of STORES) {
  describe(`${kind}: the quota's write path`, () => {
    /** An app on a store whose two writers report the statements they run. */
    async function observedApp(env: Record<string, string>) {
      const t = await startTestApp(kind);
      const store = t.testStore.store;
      const seen = { write: [] as string[], exclusive: [] as Array<{ key: string; sql: string }> };
      const observed: Store = {
        ...store,
        write: (q) => (seen.write.push(q.sql), store.write(q)),
        writeExclusive: (key, q) => (seen.exclusive.push({ key, sql: q.sql }), store.writeExclusive(key, q)),
      };
      const app = await buildApp(loadConfig({ PORT: '0', DATA_DIR: t.dataDir, LOG_LEVEL: 'silent', ...env }, process.cwd()), {
        store: observed,
      });
      const alice = await t.userToken();
      const create = () =>
        app.inject({
          method: 'POST',
          url: '/v1.0/me/onlineMeetings',
          headers: { authorization: `Bearer ${alice}`, 'content-type': 'application/json' },
          payload: '{}',
        });
      return { seen, create, close: async () => (await app.close(), await t.close()) };
    }

    test('THROTTLE off: a creation is one plain INSERT, with no count and no lock', async () => {
      const o = await observedApp({});
      try {
        assert.equal((await o.create()).statusCode, 201);
        assert.deepEqual(o.seen.exclusive, []);
        assert.equal(o.seen.write.length, 1);
        assert.match(o.seen.write[0]!, /^insert into "meetings" .* values \(/i);
        assert.doesNotMatch(o.seen.write[0]!, /count/i);
      } finally {
        await o.close();
      }
    });

    test('THROTTLE on: a creation is one INSERT that counts, run exclusively for its organizer', async () => {
      const o = await observedApp(env);
      try {
        assert.equal((await o.create()).statusCode, 201);
        assert.deepEqual(o.seen.write, []);
        assert.equal(o.seen.exclusive.length, 1);
        assert.equal(o.seen.exclusive[0]!.key, `quota|${C.tenantId}|${C.alice.id}`);
        assert.match(o.seen.exclusive[0]!.sql, /^insert into "meetings" .* select .* where \(select count\(\*\)/i);
      } finally {
        await o.close();
      }
    });
  });
}
