/**
 * Throttling (fact sheet §6.5; src/http/throttling.ts): off by default, per-app and per-tenant rate limits,
 * the monthly meeting quota per organizer, and the simulation switch. Every refusal must be Graph's exact
 * 429: Retry-After, code TooManyRequests, message "Please retry again later.", innerError code/message/status.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config/config.js';
import { GRAPH_CONTENT_TYPE } from '../../src/http/errors.js';
import { utcMonth } from '../../src/domain/meetings/meeting-quota.js';
import { SIMULATE_HEADER, TokenBuckets } from '../../src/http/throttling.js';
import { STORES } from '../helpers/stores.js';
import { DEMO, graph, startTestApp, type TestApp } from '../helpers/test-app.js';

const C = DEMO.contoso;
const F = DEMO.fabrikam;
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- parsed JSON under test
type Json = any;
type Res = { statusCode: number; headers: Record<string, unknown>; body: string; json(): Json };

const LOOKUP = `onlineMeetings?$filter=${encodeURIComponent("JoinWebUrl eq 'https://example.com/nothing'")}`;
const aliceLookup = `/v1.0/users/${C.alice.id}/${LOOKUP}`;
const meLookup = `/v1.0/me/${LOOKUP}`;

/** Graph's 429 (§6.5), exactly: status, headers, and a body with nothing more and nothing less. */
function assertTooManyRequests(res: Res, retryAfter: string) {
  assert.equal(res.statusCode, 429, res.body);
  assert.equal(res.headers['retry-after'], retryAfter);
  assert.equal(res.headers['content-type'], GRAPH_CONTENT_TYPE);
  const body = res.json();
  assert.deepEqual(Object.keys(body), ['error']);
  assert.deepEqual(Object.keys(body.error).sort(), ['code', 'innerError', 'message']);
  assert.equal(body.error.code, 'TooManyRequests');
  assert.equal(body.error.message, 'Please retry again later.');
  const inner = body.error.innerError;
  assert.deepEqual(Object.keys(inner).sort(), ['client-request-id', 'code', 'date', 'message', 'request-id', 'status']);
  assert.equal(inner.code, '429');
  assert.equal(inner.message, 'Please retry after');
  assert.equal(inner.status, '429');
  assert.match(inner.date, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$/);
  assert.equal(inner['request-id'], res.headers['request-id']);
}

for (const kind of STORES) {
  describe(`${kind}: throttling (fact sheet §6.5)`, () => {
    describe('off by default', () => {
      let t: TestApp;
      before(async () => {
        t = await startTestApp(kind);
      });
      after(() => t.close());

      test('a burst far past any small limit gets no 429', async () => {
        const app = await t.appToken();
        const results = await Promise.all(Array.from({ length: 300 }, () => graph(t, 'GET', aliceLookup, app)));
        assert.deepEqual(new Set(results.map((r) => r.statusCode)), new Set([200]));
        const bob = await t.userToken(C.bob.upn);
        for (let i = 0; i < 30; i++) {
          const res = await graph(t, 'POST', '/v1.0/me/onlineMeetings', bob, {});
          assert.equal(res.statusCode, 201, res.body);
        }
      });
    });

    describe('per-app rate limit (THROTTLE_APP_RPS)', () => {
      let t: TestApp;
      let now = Date.now();
      before(async () => {
        // A frozen clock makes the buckets exact: no refill happens unless the test moves time.
        t = await startTestApp(kind, { env: { THROTTLE: 'on', THROTTLE_APP_RPS: '1' }, deps: { clock: () => now } });
      });
      after(() => t.close());

      test('10 requests per 10 s pass, the 11th gets Graph 429; other apps and the token endpoint are unaffected', async () => {
        const scheduler = await t.appToken();
        const alice = await t.userToken();
        for (let i = 0; i < 10; i++) assert.equal((await graph(t, 'GET', aliceLookup, scheduler)).statusCode, 200, `request ${i + 1}`);
        const refused = await graph(t, 'GET', aliceLookup, scheduler, undefined, { 'client-request-id': 'throttled-1' });
        // The refused request counts too (§6.5), so the bucket is one request in debt: 2 s at 1 request/s.
        assertTooManyRequests(refused, '2');
        assert.equal(refused.json().error.innerError['client-request-id'], 'throttled-1');
        // The delegated Meeting Client is another app with its own budget; Entra is never throttled.
        assert.equal((await graph(t, 'GET', meLookup, alice)).statusCode, 200);
        await t.appToken();
        // Writes, unknown meetings and /beta share the app's one budget.
        assertTooManyRequests(await graph(t, 'POST', `/v1.0/users/${C.alice.id}/onlineMeetings`, scheduler, {}), '3');
        assertTooManyRequests(await graph(t, 'GET', `/beta/users/${C.alice.id}/${LOOKUP}`, scheduler), '4');
      });

      test('waiting Retry-After lets the next request through', async () => {
        const scheduler = await t.appToken();
        const refused = await graph(t, 'GET', aliceLookup, scheduler);
        assert.equal(refused.statusCode, 429);
        now += Number(refused.headers['retry-after']) * 1000;
        assert.equal((await graph(t, 'GET', aliceLookup, scheduler)).statusCode, 200);
        // A full window later the whole budget is back.
        now += 10_000;
        for (let i = 0; i < 10; i++) assert.equal((await graph(t, 'GET', aliceLookup, scheduler)).statusCode, 200, `request ${i + 1}`);
        assert.equal((await graph(t, 'GET', aliceLookup, scheduler)).statusCode, 429);
      });

      test('a request without a valid token is a 401, never a 429', async () => {
        const res = await graph(t, 'GET', aliceLookup, 'not-a-token');
        assert.equal(res.statusCode, 401);
      });
    });

    describe('per-tenant rate limit (THROTTLE_TENANT_RPS)', () => {
      let t: TestApp;
      const now = Date.now();
      before(async () => {
        t = await startTestApp(kind, {
          env: { THROTTLE: 'on', THROTTLE_APP_RPS: '0', THROTTLE_TENANT_RPS: '1' },
          deps: { clock: () => now },
        });
      });
      after(() => t.close());

      test('all apps of a tenant share the budget; other tenants keep theirs', async () => {
        const [scheduler, alice, bob, fabrikam] = await Promise.all([
          t.appToken(),
          t.userToken(),
          t.userToken(C.bob.upn),
          t.appToken(F.scheduler.clientId, F.scheduler.secret, F.tenantId),
        ]);
        for (let i = 0; i < 5; i++) {
          assert.equal((await graph(t, 'GET', aliceLookup, scheduler)).statusCode, 200);
          assert.equal((await graph(t, 'GET', meLookup, alice)).statusCode, 200);
        }
        assertTooManyRequests(await graph(t, 'GET', meLookup, bob), '2');
        assertTooManyRequests(await graph(t, 'GET', aliceLookup, scheduler), '3');
        assert.equal((await graph(t, 'GET', `/v1.0/users/${F.dave.id}/${LOOKUP}`, fabrikam)).statusCode, 200);
      });
    });

    describe('meeting quota (MEETING_QUOTA_PER_USER_MONTH)', () => {
      let t: TestApp;
      // One minute before February 2031 (UTC): the quota refusal's Retry-After is the 60 s left in January.
      let now = Date.parse('2031-01-31T23:59:00Z');
      let alice: string;
      let bob: string;
      let scheduler: string;
      before(async () => {
        t = await startTestApp(kind, { env: { THROTTLE: 'on', MEETING_QUOTA_PER_USER_MONTH: '5' }, deps: { clock: () => now } });
        [alice, bob, scheduler] = await Promise.all([t.userToken(), t.userToken(C.bob.upn), t.appToken()]);
      });
      after(() => t.close());
      const create = (token: string, path = '/v1.0/me/onlineMeetings', body: object = {}) => graph(t, 'POST', path, token, body);
      const createOrGet = (externalId: string) => graph(t, 'POST', '/v1.0/me/onlineMeetings/createOrGet', alice, { externalId });

      test('the 6th meeting of the month is refused with Retry-After until next month; other organizers are unaffected', async () => {
        const ids: string[] = [];
        for (let i = 0; i < 4; i++) {
          const res = await create(alice);
          assert.equal(res.statusCode, 201, res.body);
          ids.push(res.json().id);
        }
        const keyed = await createOrGet('quota-key');
        assert.equal(keyed.statusCode, 201, keyed.body);

        assertTooManyRequests(await create(alice), '60');
        // Per organizer, whichever app asks and whichever path names her.
        assertTooManyRequests(await create(scheduler, `/v1.0/users/${C.alice.id}/onlineMeetings`), '60');
        assertTooManyRequests(await create(scheduler, `/beta/users/${C.alice.upn}/onlineMeetings`), '60');
        assertTooManyRequests(await createOrGet('another-key'), '60');
        assert.equal((await create(bob)).statusCode, 201);

        // Reading and updating are not creating.
        assert.equal((await graph(t, 'GET', `/v1.0/me/onlineMeetings/${ids[0]}`, alice)).statusCode, 200);
        assert.equal((await graph(t, 'PATCH', `/v1.0/me/onlineMeetings/${ids[0]}`, alice, { subject: 'still mine' })).statusCode, 200);
      });

      test('createOrGet of an existing key still answers 200 with the stored meeting: it creates nothing', async () => {
        const res = await createOrGet('quota-key');
        assert.equal(res.statusCode, 200, res.body);
        assert.equal(res.json().externalId, 'quota-key');
      });

      test('authorization and validation come first: a caller who may not create for her gets 403, not 429', async () => {
        const res = await create(bob, `/v1.0/users/${C.alice.id}/onlineMeetings`);
        assert.equal(res.statusCode, 403, res.body);
        const unknown = await create(scheduler, '/v1.0/users/nobody@contoso.test/onlineMeetings');
        assert.equal(unknown.statusCode, 404, unknown.body);
      });

      test('deleted meetings still count: deleting does not give the quota back', async () => {
        const made = await create(bob);
        assert.equal(made.statusCode, 201);
        const id = made.json().id;
        assert.equal((await graph(t, 'DELETE', `/v1.0/me/onlineMeetings/${id}`, bob)).statusCode, 204);
        // Bob: 1 (first test) + 1 made and deleted here.
        for (let i = 0; i < 3; i++) assert.equal((await create(bob)).statusCode, 201);
        assertTooManyRequests(await create(bob), '60');
      });

      test('concurrent creations cannot overshoot the quota', async () => {
        const carolApp = await t.userToken(C.carol.upn);
        const results = await Promise.all(Array.from({ length: 12 }, () => create(carolApp)));
        const statuses = results.map((r) => r.statusCode).sort();
        assert.deepEqual(statuses, [201, 201, 201, 201, 201, 429, 429, 429, 429, 429, 429, 429]);
      });

      test('a new month (UTC) brings a new quota', async () => {
        now = Date.parse('2031-02-01T00:00:30Z');
        const res = await create(alice);
        assert.equal(res.statusCode, 201, res.body);
        assert.match(res.json().creationDateTime, /^2031-02-01T00:00:30\.\d{7}Z$/);
      });
    });

    describe('simulated throttling (SIMULATE_THROTTLING)', () => {
      let t: TestApp;
      before(async () => {
        t = await startTestApp(kind);
      });
      after(() => t.close());

      test(`by default only a request carrying ${SIMULATE_HEADER}: N is throttled, for its first N attempts`, async () => {
        const alice = await t.userToken();
        assert.equal((await graph(t, 'GET', meLookup, alice)).statusCode, 200);
        // Counted per client-request-id, as graph-client v3 keeps one across its retries.
        const headers = { [SIMULATE_HEADER]: '2', 'client-request-id': 'retry-me' };
        assertTooManyRequests(await graph(t, 'POST', '/v1.0/me/onlineMeetings', alice, {}, headers), '1');
        assertTooManyRequests(await graph(t, 'POST', '/v1.0/me/onlineMeetings', alice, {}, headers), '1');
        assert.equal((await graph(t, 'POST', '/v1.0/me/onlineMeetings', alice, {}, headers)).statusCode, 201);
        // The official SDKs number their retries with Retry-Attempt: that decides without any state.
        const sdkLike = { [SIMULATE_HEADER]: '2' };
        assertTooManyRequests(await graph(t, 'GET', meLookup, alice, undefined, { ...sdkLike, 'retry-attempt': '1' }), '1');
        assert.equal((await graph(t, 'GET', meLookup, alice, undefined, { ...sdkLike, 'retry-attempt': '2' })).statusCode, 200);
        // With neither, the same request repeated by the same caller: N 429s, one success, and again.
        const plain = ['GET', meLookup, alice, undefined, sdkLike] as const;
        const statuses = [];
        for (let i = 0; i < 6; i++) statuses.push((await graph(t, ...plain)).statusCode);
        assert.deepEqual(statuses, [429, 429, 200, 429, 429, 200]);
        assert.equal((await graph(t, 'GET', meLookup, alice, undefined, { [SIMULATE_HEADER]: '0' })).statusCode, 200);
      });

      test('a malformed header is a 400 that says what it wants', async () => {
        const res = await graph(t, 'GET', meLookup, await t.userToken(), undefined, { [SIMULATE_HEADER]: 'lots' });
        assert.equal(res.statusCode, 400);
        assert.match(res.json().error.message, /x-graph-meetings-simulate-throttle' must be a whole number from 0 to 100/);
      });

      test('SIMULATE_THROTTLING: N throttles the first N attempts of all requests, 100% all, off ignores the header', async () => {
        const every = await startTestApp(kind, { env: { SIMULATE_THROTTLING: '1' } });
        const all = await startTestApp(kind, { env: { SIMULATE_THROTTLING: '100%' } });
        const off = await startTestApp(kind, { env: { SIMULATE_THROTTLING: 'off' } });
        try {
          const token = await every.appToken();
          assertTooManyRequests(await graph(every, 'GET', aliceLookup, token, undefined, { 'client-request-id': 'a' }), '1');
          assert.equal((await graph(every, 'GET', aliceLookup, token, undefined, { 'client-request-id': 'a' })).statusCode, 200);
          assertTooManyRequests(await graph(every, 'GET', aliceLookup, token, undefined, { 'client-request-id': 'b' }), '1');
          for (let i = 0; i < 5; i++) assertTooManyRequests(await graph(all, 'GET', aliceLookup, await all.appToken()), '1');
          const offToken = await off.appToken();
          assert.equal((await graph(off, 'GET', aliceLookup, offToken, undefined, { [SIMULATE_HEADER]: '3' })).statusCode, 200);
        } finally {
          await Promise.all([every.close(), all.close(), off.close()]);
        }
      });
    });
  });
}

describe('throttling building blocks', () => {
  test('token buckets: a 10-second budget, refused requests count, Retry-After is when the next one passes', () => {
    let now = 0;
    const buckets = new TokenBuckets(0.5, () => now);
    for (let i = 0; i < 5; i++) assert.deepEqual(buckets.take('k'), { allowed: true, waitSeconds: i < 4 ? 0 : 2 });
    assert.deepEqual(buckets.take('k'), { allowed: false, waitSeconds: 4 });
    assert.deepEqual(buckets.take('other'), { allowed: true, waitSeconds: 0 });
    now += 4000;
    assert.equal(buckets.take('k').allowed, true);
    // Debt is capped at one window's budget: however long a client hammered, 12 s of quiet let the next one through.
    for (let i = 0; i < 1000; i++) buckets.take('k');
    assert.deepEqual(buckets.take('k'), { allowed: false, waitSeconds: 12 });
    now += 12_000;
    assert.equal(buckets.take('k').allowed, true);
  });

  test('the UTC month and the seconds left in it', () => {
    assert.deepEqual(utcMonth(Date.parse('2031-12-31T23:59:59.500Z')), {
      start: '2031-12-01T00:00:00.0000000Z',
      end: '2032-01-01T00:00:00.0000000Z',
      secondsLeft: 1,
    });
    assert.equal(utcMonth(Date.parse('2032-02-01T00:00:00Z')).secondsLeft, 29 * 86400);
  });
});

describe('throttling configuration', () => {
  const load = (env: Record<string, string>) => loadConfig({ DATA_DIR: '/tmp/x', ...env }, '/');
  const problems = (env: Record<string, string>) => {
    try {
      load(env);
    } catch (err) {
      assert.ok(err instanceof ConfigError);
      return err.problems;
    }
    assert.fail('expected a ConfigError');
  };

  test('defaults: off, Graph-like limits ready, header-only simulation', () => {
    assert.deepEqual(load({}).throttling, {
      enabled: false,
      appRps: 13_000,
      tenantRps: 0,
      meetingQuotaPerUserMonth: 2000,
      simulate: { mode: 'header' },
    });
    assert.deepEqual(
      load({
        THROTTLE: 'on',
        THROTTLE_APP_RPS: '0.5',
        THROTTLE_TENANT_RPS: '200',
        MEETING_QUOTA_PER_USER_MONTH: '0',
        SIMULATE_THROTTLING: '2.5%',
      }).throttling,
      { enabled: true, appRps: 0.5, tenantRps: 200, meetingQuotaPerUserMonth: 0, simulate: { mode: 'share', share: 0.025 } },
    );
    assert.deepEqual(load({ SIMULATE_THROTTLING: '3' }).throttling.simulate, { mode: 'attempts', attempts: 3 });
    assert.deepEqual(load({ SIMULATE_THROTTLING: 'OFF' }).throttling.simulate, { mode: 'off' });
  });

  test('bad values are reported, each with what is wanted', () => {
    assert.deepEqual(problems({ THROTTLE: 'sometimes' }), ["THROTTLE must be on or off (got 'sometimes')"]);
    assert.deepEqual(
      problems({ THROTTLE: 'on', THROTTLE_APP_RPS: 'fast', THROTTLE_TENANT_RPS: '0.01', MEETING_QUOTA_PER_USER_MONTH: '-1' }),
      [
        "THROTTLE_APP_RPS must be requests per second from 0.1 to 10000000, or 0 for no limit (got 'fast')",
        "THROTTLE_TENANT_RPS must be requests per second from 0.1 to 10000000, or 0 for no limit (got '0.01')",
        "MEETING_QUOTA_PER_USER_MONTH must be a whole number of meetings per organizer per month, or 0 for no quota (got '-1')",
      ],
    );
    for (const bad of ['0', '101', '1.5', '0%', '150%', 'sometimes']) {
      const [problem] = problems({ SIMULATE_THROTTLING: bad });
      assert.match(problem!, /^SIMULATE_THROTTLING must be off, header, a number of attempts from 1 to 100 .* \(got '.*'\)$/, bad);
    }
  });

  test('limits given without THROTTLE=on are a mistake, not silently ignored', () => {
    assert.deepEqual(problems({ MEETING_QUOTA_PER_USER_MONTH: '5', THROTTLE_APP_RPS: '1' }), [
      'THROTTLE_APP_RPS only applies with THROTTLE=on (THROTTLE is off)',
      'MEETING_QUOTA_PER_USER_MONTH only applies with THROTTLE=on (THROTTLE is off)',
    ]);
  });
});
