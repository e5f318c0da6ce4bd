import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { STORES } from '../helpers/stores.js';
import { DEMO, startTestApp, type TestApp } from '../helpers/test-app.js';

const C = DEMO.contoso;

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the parsed JSON under test
type Json = any;

/** §6.1: every error is the OData envelope, with request ids in headers and body. */
function assertEnvelope(res: { statusCode: number; headers: Record<string, unknown>; json(): Json }, status: number, code: string) {
  assert.equal(res.statusCode, status);
  assert.match(String(res.headers['content-type']), /^application\/json/);
  const { error } = res.json();
  assert.equal(error.code, code);
  assert.equal(typeof error.message, 'string');
  assert.ok(error.message.length > 0);
  assert.match(error.innerError.date, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/);
  assert.equal(error.innerError['request-id'], res.headers['request-id']);
  assert.ok(!JSON.stringify(error).includes('    at '), 'no stack trace');
  return error;
}

for (const kind of STORES) {
  describe(`${kind}: the Graph surface answers like Graph`, () => {
    let t: TestApp;
    let alice: string;
    before(async () => {
      t = await startTestApp(kind);
      alice = await t.userToken();
    });
    after(() => t.close());
    const auth = () => ({ authorization: `Bearer ${alice}` });

    test('request-id on every response; client-request-id echoed', async () => {
      const res = await t.inject({
        method: 'POST',
        url: '/v1.0/me/onlineMeetings',
        headers: { ...auth(), 'content-type': 'application/json', 'client-request-id': 'abc-123' },
        payload: '{}',
      });
      assert.equal(res.statusCode, 201);
      assert.match(String(res.headers['request-id']), /^[0-9a-f-]{36}$/);
      assert.equal(res.headers['client-request-id'], 'abc-123');
      assert.match(String(res.headers['content-type']), /^application\/json;odata\.metadata=minimal/);
      const noEcho = await t.inject({ method: 'GET', url: '/v1.0/nothing-here' });
      assert.equal(noEcho.headers['client-request-id'], noEcho.headers['request-id']);
    });

    test('unknown route: 404 in the envelope, even without a token', async () => {
      assertEnvelope(await t.inject({ method: 'GET', url: '/v1.0/me/messages' }), 404, 'NotFound');
      assertEnvelope(await t.inject({ method: 'GET', url: '/nope' }), 404, 'NotFound');
    });

    test('wrong method on a known path: 405', async () => {
      assertEnvelope(await t.inject({ method: 'PUT', url: '/v1.0/me/onlineMeetings', headers: auth() }), 405, 'Request_BadRequest');
      assertEnvelope(await t.inject({ method: 'DELETE', url: '/v1.0/me/onlineMeetings', headers: auth() }), 405, 'Request_BadRequest');
    });

    test("paths are case-insensitive, as Graph's are", async () => {
      const res = await t.inject({
        method: 'POST',
        url: '/v1.0/ME/onlinemeetings',
        headers: { ...auth(), 'content-type': 'application/json' },
        payload: '{}',
      });
      assert.equal(res.statusCode, 201);
    });

    test('a body that is not JSON: 400', async () => {
      for (const payload of ['{"subject":', 'not json', '[1,2', '{"a":1}}']) {
        const res = await t.inject({
          method: 'POST',
          url: '/v1.0/me/onlineMeetings',
          headers: { ...auth(), 'content-type': 'application/json' },
          payload,
        });
        assertEnvelope(res, 400, 'BadRequest');
      }
    });

    test('a JSON body that is not an object: 400', async () => {
      for (const payload of ['[]', '"text"', '42', 'null']) {
        const res = await t.inject({
          method: 'POST',
          url: '/v1.0/me/onlineMeetings',
          headers: { ...auth(), 'content-type': 'application/json' },
          payload,
        });
        assertEnvelope(res, 400, 'BadRequest');
      }
    });

    test('missing or wrong Content-Type: 415', async () => {
      const none = await t.inject({ method: 'POST', url: '/v1.0/me/onlineMeetings', headers: auth(), payload: '{}' });
      assertEnvelope(none, 415, 'UnsupportedMediaType');
      const text = await t.inject({
        method: 'POST',
        url: '/v1.0/me/onlineMeetings',
        headers: { ...auth(), 'content-type': 'text/plain' },
        payload: '{}',
      });
      assertEnvelope(text, 415, 'UnsupportedMediaType');
    });

    test('an empty body declared as JSON: fine on DELETE, a clear 400 on create', async () => {
      const created = await t.inject({
        method: 'POST',
        url: '/v1.0/me/onlineMeetings',
        headers: { ...auth(), 'content-type': 'application/json' },
        payload: '{}',
      });
      const del = await t.inject({
        method: 'DELETE',
        url: `/v1.0/me/onlineMeetings/${created.json().id}`,
        headers: { ...auth(), 'content-type': 'application/json' },
      });
      assert.equal(del.statusCode, 204);
      const empty = await t.inject({
        method: 'POST',
        url: '/v1.0/me/onlineMeetings',
        headers: { ...auth(), 'content-type': 'application/json' },
        payload: '',
      });
      const error = assertEnvelope(empty, 400, 'BadRequest');
      assert.match(error.message, /JSON object/);
    });

    test('URLs the router refuses still get the envelope: bad percent-encoding (400), an over-long segment (414)', async () => {
      const bad = await t.inject({ method: 'GET', url: '/v1.0/me/onlineMeetings/%E0%A4%A', headers: auth() });
      assertEnvelope(bad, 400, 'BadRequest');
      const long = await t.inject({ method: 'GET', url: `/v1.0/me/onlineMeetings/${'A'.repeat(2001)}`, headers: auth() });
      assertEnvelope(long, 414, 'RequestUriTooLong');
      const token = await t.inject({
        method: 'POST',
        url: '/%ZZ/oauth2/v2.0/token',
        payload: 'a=b',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
      assertEnvelope(token, 400, 'BadRequest');
    });

    test('a body over the limit: 413', async () => {
      const payload = JSON.stringify({ subject: 'x', padding: 'y'.repeat(1_100_000) });
      const res = await t.inject({
        method: 'POST',
        url: '/v1.0/me/onlineMeetings',
        headers: { ...auth(), 'content-type': 'application/json' },
        payload,
      });
      const error = assertEnvelope(res, 413, 'RequestEntityTooLarge');
      assert.match(error.message, /limit of 1048576 bytes/);
    });

    test('a wrong type names the property', async () => {
      const res = await t.inject({
        method: 'POST',
        url: '/v1.0/me/onlineMeetings',
        headers: { ...auth(), 'content-type': 'application/json' },
        payload: JSON.stringify({ subject: 42 }),
      });
      const error = assertEnvelope(res, 400, 'BadRequest');
      assert.match(error.message, /'subject'/);
    });

    test('__proto__ and constructor keys are ignored like any unknown property', async () => {
      const payload = '{"subject":"proto","__proto__":{"isAdmin":true},"constructor":{"prototype":{"x":1}}}';
      const res = await t.inject({
        method: 'POST',
        url: '/v1.0/me/onlineMeetings',
        headers: { ...auth(), 'content-type': 'application/json' },
        payload,
      });
      assert.equal(res.statusCode, 201, res.body);
      assert.equal(res.json().subject, 'proto');
      assert.equal(({} as Record<string, unknown>).isAdmin, undefined);
    });

    test('security headers', async () => {
      const res = await t.inject({ method: 'GET', url: `/${C.tenantId}/v2.0/.well-known/openid-configuration` });
      assert.equal(res.headers['x-content-type-options'], 'nosniff');
      assert.equal(res.headers['strict-transport-security'], 'max-age=31536000');
    });
  });
}
