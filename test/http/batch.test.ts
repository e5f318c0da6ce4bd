import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DirectoryService } from '../../src/domain/directory/directory-service.js';
import { STORES } from '../helpers/stores.js';
import { DEMO, graph, startTestApp, type TestApp } from '../helpers/test-app.js';

const C = DEMO.contoso;
type Inner = { id: string; status: number; headers: Record<string, string>; body?: any }; // eslint-disable-line @typescript-eslint/no-explicit-any -- parsed JSON under test

for (const kind of STORES) {
  describe(`${kind}: JSON batching (fact sheet §4)`, () => {
    let t: TestApp;
    let alice: string;
    let app: string;
    before(async () => {
      t = await startTestApp(kind);
      await new DirectoryService(t.testStore.store.db).grantApplicationPermission(C.scheduler.clientId, 'User.Read.All');
      [alice, app] = await Promise.all([t.userToken(C.alice.upn, ['OnlineMeetings.ReadWrite', 'User.Read']), t.appToken()]);
    });
    after(() => t.close());
    const batch = (token: string, body: unknown, version = 'v1.0') => graph(t, 'POST', `/${version}/$batch`, token, body);
    const byId = (res: { json(): { responses: Inner[] } }) => new Map(res.json().responses.map((r) => [r.id, r]));

    test('inner requests go through the same routes: reads, a create, errors, relative urls with and without a slash', async () => {
      const res = await batch(alice, {
        requests: [
          { id: '1', method: 'GET', url: '/me' },
          { id: '2', method: 'GET', url: 'me?$select=displayName' },
          {
            id: '3',
            method: 'POST',
            url: '/me/onlineMeetings',
            headers: { 'Content-Type': 'application/json' },
            body: { subject: 'Batched', startDateTime: '2030-01-01T10:00:00Z' },
          },
          { id: '4', method: 'GET', url: `/users/${C.bob.id}` },
          { id: '5', method: 'GET', url: '/nowhere' },
          { id: '6', method: 'GET', url: '/v1.0/me' },
          { id: '7', method: 'GET', url: '/beta/me' },
        ],
      });
      assert.equal(res.statusCode, 200, res.body);
      assert.match(String(res.headers['content-type']), /^application\/json/);
      const r = byId(res);
      assert.equal(r.get('1')!.status, 200);
      assert.equal(r.get('1')!.body.id, C.alice.id);
      assert.match(r.get('1')!.headers['Content-Type']!, /^application\/json;odata\.metadata=minimal/);
      assert.deepEqual(Object.keys(r.get('2')!.body), ['@odata.context', 'displayName']);
      assert.equal(r.get('3')!.status, 201);
      assert.equal(r.get('3')!.body.subject, 'Batched');
      // The created meeting is really there: a direct call finds it.
      const direct = await graph(t, 'GET', `/v1.0/me/onlineMeetings/${r.get('3')!.body.id}`, alice);
      assert.equal(direct.statusCode, 200);
      // Each inner request is authorized with the outer token: alice's User.Read does not reach bob.
      assert.equal(r.get('4')!.status, 403);
      assert.equal(r.get('4')!.body.error.code, 'Forbidden');
      assert.equal(r.get('5')!.status, 404);
      assert.equal(r.get('5')!.body.error.message, 'Requested API is not supported. Please check the path.');
      // graph-client v3 keeps the version segment of full URLs: the batch's own version is absorbed, another is not.
      assert.equal(r.get('6')!.body.id, C.alice.id);
      assert.equal(r.get('7')!.status, 404);
    });

    test('/beta/$batch runs under beta; the version is the batch’s own', async () => {
      const res = await batch(app, { requests: [{ id: 'a', method: 'GET', url: `/users/${C.alice.upn}` }] }, 'beta');
      assert.equal(res.statusCode, 200, res.body);
      assert.match(byId(res).get('a')!.body['@odata.context'], /\/beta\/\$metadata#users\/\$entity$/);
    });

    test('dependsOn orders requests; a failed dependency gives 424 and its dependants never run', async () => {
      const res = await batch(alice, {
        requests: [
          { id: '1', method: 'GET', url: '/users/nobody@contoso.test' },
          {
            id: '2',
            method: 'POST',
            url: '/me/onlineMeetings',
            dependsOn: ['1'],
            headers: { 'content-type': 'application/json' },
            body: { subject: 'never' },
          },
          { id: '3', method: 'GET', url: '/me', dependsOn: ['2'] },
        ],
      });
      const r = byId(res);
      assert.equal(r.get('1')!.status, 404);
      assert.equal(r.get('1')!.body.error.code, 'Request_ResourceNotFound');
      assert.equal(r.get('2')!.status, 424);
      assert.equal(r.get('3')!.status, 424);
      const ok = await batch(alice, {
        requests: [
          { id: 'A', method: 'GET', url: '/me' },
          { id: 'b', method: 'GET', url: '/me', dependsOn: ['a'] },
        ],
      });
      assert.deepEqual(
        ok.json().responses.map((x: Inner) => x.status),
        [200, 200],
      );
    });

    test('inner bodies: JSON as JSON, text as text, others base64; an inner 415 when not JSON', async () => {
      const res = await batch(alice, {
        requests: [
          {
            id: 'b64',
            method: 'POST',
            url: '/me/onlineMeetings',
            headers: { 'content-type': 'application/json' },
            body: Buffer.from(JSON.stringify({ subject: 'from a string' })).toString('utf8'),
          },
          { id: 'text', method: 'POST', url: '/me/onlineMeetings', headers: { 'content-type': 'text/plain' }, body: 'hello' },
          {
            id: 'octets',
            method: 'POST',
            url: '/me/onlineMeetings',
            headers: { 'content-type': 'application/octet-stream' },
            body: Buffer.from('{}').toString('base64'),
          },
          { id: 'del', method: 'DELETE', url: '/me/onlineMeetings/bad' },
        ],
      });
      const r = byId(res);
      assert.equal(r.get('b64')!.status, 201, JSON.stringify(r.get('b64')));
      assert.equal(r.get('b64')!.body.subject, 'from a string');
      assert.equal(r.get('text')!.status, 415);
      assert.equal(r.get('octets')!.status, 415);
      assert.equal(r.get('del')!.status, 400);
    });

    test('batch-level refusals: 400 and nothing runs', async () => {
      const many = Array.from({ length: 21 }, (_, i) => ({ id: String(i), method: 'GET', url: '/me' }));
      const cases: Array<[unknown, RegExp]> = [
        [{ requests: many }, /^Number of requests inside batch exceeds the limit\.$/],
        [{}, /^Invalid batch payload format\.$/],
        [[], /^Invalid batch payload format\.$/],
        [{ requests: [] }, /at least one request/],
        [
          {
            requests: [
              { id: '1', method: 'GET', url: '/me' },
              { id: '1', method: 'GET', url: '/me' },
            ],
          },
          /not unique/,
        ],
        [
          {
            requests: [
              { id: 'x', method: 'GET', url: '/me' },
              { id: 'X', method: 'GET', url: '/me' },
            ],
          },
          /not unique/,
        ],
        [{ requests: [{ method: 'GET', url: '/me' }] }, /needs an id/],
        [{ requests: [{ id: '1', method: 'TRACE', url: '/me' }] }, /invalid method/],
        [{ requests: [{ id: '1', method: 'GET', url: 'https://evil.example/v1.0/me' }] }, /invalid url/],
        [{ requests: [{ id: '1', method: 'GET', url: '//evil.example/me' }] }, /invalid url/],
        [{ requests: [{ id: '1', method: 'GET', url: '/../oauth2/v2.0/token' }] }, /invalid url/],
        [{ requests: [{ id: '1', method: 'GET', url: '/%2e%2e/beta/me' }] }, /invalid url/],
        [
          { requests: [{ id: '1', method: 'POST', url: '/$batch', headers: { 'content-type': 'application/json' }, body: {} }] },
          /invalid url/,
        ],
        [
          { requests: [{ id: '1', method: 'POST', url: '/me/onlineMeetings', body: { subject: 'x' } }] },
          /^Write request id : 1 does not contain Content-Type header or body\.$/,
        ],
        [
          { requests: [{ id: '1', method: 'PATCH', url: '/me/onlineMeetings/x', headers: { 'content-type': 'application/json' } }] },
          /Write request id : 1/,
        ],
        [
          {
            requests: [
              { id: '1', method: 'GET', url: '/me', dependsOn: ['2'] },
              { id: '2', method: 'GET', url: '/me' },
            ],
          },
          /^Invalid dependency for request Id 1\.$/,
        ],
        [{ requests: [{ id: '1', method: 'GET', url: '/me', headers: { 'x-bad': 'a\r\nb' } }] }, /invalid headers/],
        [{ requests: [{ id: '1', method: 'GET', url: '/me', headers: 'nope' }] }, /invalid headers/],
      ];
      for (const [body, message] of cases) {
        const res = await batch(alice, body);
        assert.equal(res.statusCode, 400, `${JSON.stringify(body).slice(0, 100)}: ${res.body}`);
        assert.equal(res.json().error.code, 'BadRequest');
        assert.match(res.json().error.message, message);
      }
      const notJson = await t.inject({
        method: 'POST',
        url: '/v1.0/$batch',
        headers: { authorization: `Bearer ${alice}`, 'content-type': 'text/plain' },
        payload: 'x',
      });
      assert.equal(notJson.statusCode, 400);
      const anonymous = await t.inject({
        method: 'POST',
        url: '/v1.0/$batch',
        headers: { 'content-type': 'application/json' },
        payload: '{}',
      });
      assert.equal(anonymous.statusCode, 401);
      assert.equal((await graph(t, 'GET', '/v1.0/$batch', alice)).statusCode, 405);
    });

    test('an inner Authorization header cannot swap in another identity', async () => {
      const res = await batch(alice, { requests: [{ id: '1', method: 'GET', url: '/me', headers: { Authorization: `Bearer ${app}` } }] });
      assert.equal(byId(res).get('1')!.body.id, C.alice.id);
      const appBatch = await batch(app, {
        requests: [{ id: '1', method: 'GET', url: '/me', headers: { authorization: `Bearer ${alice}` } }],
      });
      assert.equal(byId(appBatch).get('1')!.status, 400);
    });
  });

  describe(`${kind}: an inner 429 carries its own Retry-After (fact sheet §4.1)`, () => {
    let t: TestApp;
    before(async () => {
      t = await startTestApp(kind, { env: { SIMULATE_THROTTLING: 'header' } });
    });
    after(() => t.close());
    test('throttled inner request', async () => {
      const alice = await t.userToken(C.alice.upn, ['User.Read']);
      const res = await graph(t, 'POST', '/v1.0/$batch', alice, {
        requests: [
          { id: '1', method: 'GET', url: '/me', headers: { 'x-graph-meetings-simulate-throttle': '1' } },
          { id: '2', method: 'GET', url: '/me' },
        ],
      });
      assert.equal(res.statusCode, 200, res.body);
      const [first, second] = res.json().responses as Inner[];
      assert.equal(first!.status, 429);
      assert.match(first!.headers['Retry-After']!, /^\d+$/);
      assert.equal(first!.body.error.code, 'TooManyRequests');
      assert.equal(second!.status, 200);
    });
  });
}
