/**
 * The official clients' retry handlers against this service's 429s (fact sheet §6.5; client-compat §2.5, §3.6):
 * with simulated throttling, graph-client v3 and Kiota each meet two 429s with Retry-After: 1, wait, retry and
 * resolve normally after about 2 s; a 429 that never ends surfaces as each client's own 429 error after their
 * three retries (about 3 s). Simulation happens before any storage, so one store (SQLite) is enough here; the
 * store suites are in test/http/throttling.test.ts.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { SIMULATE_HEADER } from '../../src/http/throttling.js';
import { startSdkWorker, type SdkWorker, type WireExchange, DEMO_ALICE, DEMO_APP } from '../helpers/sdk-worker-client.js';
import { DEMO, startTestApp, type TestApp } from '../helpers/test-app.js';
import type { RetriedCall } from './protocol.js';

const C = DEMO.contoso;
const APP = DEMO_APP;
const ALICE = DEMO_ALICE;
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- parsed JSON under test
type Json = any;

/** The Graph exchanges only (token requests of @azure/identity are not Graph's). */
const graphExchanges = (call: RetriedCall): WireExchange[] => call.exchanges.filter((x) => new URL(x.url).pathname.startsWith('/v1.0/'));

function assertGraph429(x: WireExchange) {
  assert.equal(x.status, 429);
  assert.equal(x.headers['retry-after'], '1');
  const body = x.body as Json;
  assert.equal(body.error.code, 'TooManyRequests');
  assert.equal(body.error.message, 'Please retry again later.');
  assert.deepEqual(
    { code: body.error.innerError.code, message: body.error.innerError.message, status: body.error.innerError.status },
    { code: '429', message: 'Please retry after', status: '429' },
  );
}

/** Two 429s, then the 201 the SDK handed back as an ordinary result, after waiting Retry-After twice. */
function assertRecovered(call: RetriedCall, subject: string) {
  assert.equal(call.error, null, JSON.stringify(call.error));
  const wire = graphExchanges(call);
  assert.deepEqual(
    wire.map((x) => x.status),
    [429, 429, 201],
  );
  wire.slice(0, 2).forEach(assertGraph429);
  assert.equal((call.value as Json).subject, subject);
  assert.equal((call.value as Json).id, (wire[2]!.body as Json).id);
  assert.ok(call.elapsedMs >= 1900 && call.elapsedMs < 6000, `took ${call.elapsedMs} ms; expected about 2 s`);
  return wire;
}

/** Four attempts (the first and three retries), all 429, then the SDK's own error. */
function assertGaveUp(call: RetriedCall, kind: 'GraphError' | 'ODataError') {
  const wire = graphExchanges(call);
  assert.deepEqual(
    wire.map((x) => x.status),
    [429, 429, 429, 429],
  );
  wire.forEach(assertGraph429);
  assert.ok(call.error, 'the call should have failed');
  assert.equal(call.error.kind, kind);
  assert.equal(call.error.statusCode, 429);
  assert.equal(call.error.code, 'TooManyRequests');
  assert.ok(call.elapsedMs >= 2900 && call.elapsedMs < 7000, `took ${call.elapsedMs} ms; expected about 3 s`);
}

/** Gets both credentials' tokens now (the worker caches them), so that the timings below are Graph's alone. */
async function warmUp(worker: SdkWorker, t: TestApp) {
  await worker.call('identityAppToken', { origin: t.origin, tenant: APP.tenant, clientId: APP.clientId, secret: APP.secret });
  await worker.call('identityUserToken', {
    origin: t.origin,
    tenant: ALICE.tenant,
    clientId: ALICE.clientId,
    username: ALICE.username,
    password: ALICE.password,
    scopes: ALICE.scopes,
  });
}

describe('the official SDKs recover from throttling (client-compat §2.5, §3.6)', () => {
  describe(`per request: ${SIMULATE_HEADER} (the default SIMULATE_THROTTLING=header)`, () => {
    let t: TestApp;
    let worker: SdkWorker;
    before(async () => {
      t = await startTestApp('sqlite', { listen: true });
      worker = await startSdkWorker(t.caPath);
      await warmUp(worker, t);
    });
    after(async () => {
      await worker?.close();
      await t?.close();
    });

    test('graph-client v3: two 429s, then the meeting; its retries keep one client-request-id', async () => {
      const call = await worker.call('v3RequestRetried', {
        origin: t.origin,
        cred: ALICE,
        method: 'post',
        path: '/me/onlineMeetings',
        body: { subject: 'v3 after two 429s' },
        headers: { [SIMULATE_HEADER]: '2' },
      });
      const wire = assertRecovered(call, 'v3 after two 429s');
      assert.equal(new Set(wire.map((x) => x.headers['client-request-id'])).size, 1);
    });

    test('Kiota: two 429s, then the meeting (it sends no client-request-id; its Retry-Attempt header counts)', async () => {
      const call = await worker.call('kiotaCreateRetried', {
        origin: t.origin,
        cred: APP,
        userId: C.alice.id,
        body: { subject: 'Kiota after two 429s' },
        headers: { [SIMULATE_HEADER]: '2' },
      });
      const wire = assertRecovered(call, 'Kiota after two 429s');
      // Without a client-request-id the service echoes each request's own id.
      for (const x of wire) assert.equal(x.headers['client-request-id'], x.headers['request-id']);
    });

    test('graph-client v3: a 429 that does not end surfaces as GraphError 429 after three retries', async () => {
      const call = await worker.call('v3RequestRetried', {
        origin: t.origin,
        cred: APP,
        method: 'post',
        path: `/users/${C.alice.id}/onlineMeetings`,
        body: { subject: 'never' },
        headers: { [SIMULATE_HEADER]: '100' },
      });
      assertGaveUp(call, 'GraphError');
    });

    test('Kiota: a 429 that does not end surfaces as ODataError 429 after three retries', async () => {
      const call = await worker.call('kiotaCreateRetried', {
        origin: t.origin,
        cred: ALICE,
        body: { subject: 'never' },
        headers: { [SIMULATE_HEADER]: '100' },
      });
      assertGaveUp(call, 'ODataError');
    });
  });

  describe('for every request: SIMULATE_THROTTLING=2, no header needed', () => {
    let t: TestApp;
    let worker: SdkWorker;
    before(async () => {
      t = await startTestApp('sqlite', { listen: true, env: { SIMULATE_THROTTLING: '2' } });
      worker = await startSdkWorker(t.caPath);
      await warmUp(worker, t);
    });
    after(async () => {
      await worker?.close();
      await t?.close();
    });

    test('graph-client v3 recovers unchanged', async () => {
      const call = await worker.call('v3RequestRetried', {
        origin: t.origin,
        cred: APP,
        method: 'post',
        path: `/users/${C.alice.id}/onlineMeetings`,
        body: { subject: 'v3, every request throttled twice' },
      });
      assertRecovered(call, 'v3, every request throttled twice');
    });

    test('Kiota recovers unchanged', async () => {
      const call = await worker.call('kiotaCreateRetried', {
        origin: t.origin,
        cred: ALICE,
        body: { subject: 'Kiota, every request throttled twice' },
      });
      assertRecovered(call, 'Kiota, every request throttled twice');
    });
  });
});
