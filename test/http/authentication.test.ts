import assert from 'node:assert/strict';
import { generateKeyPairSync, createHmac } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { SignJWT, decodeJwt, decodeProtectedHeader, importPKCS8 } from 'jose';
import { DIRECTORY_CACHE_TTL_MS } from '../../src/domain/directory/directory-lookups.js';
import { AccessTokens } from '../../src/identity/access-tokens.js';
import { SigningKeyStore } from '../../src/identity/signing-keys.js';
import { STORES } from '../helpers/stores.js';
import { DEMO, graph, startTestApp, type TestApp } from '../helpers/test-app.js';

const C = DEMO.contoso;
const body = { subject: 'auth check' };

for (const kind of STORES) {
  describe(`${kind}: every Graph request verifies its bearer token`, () => {
    let t: TestApp;
    let keys: SigningKeyStore;
    before(async () => {
      t = await startTestApp(kind);
      keys = new SigningKeyStore(t.app.graphMeetings.store.db);
      await keys.init();
    });
    after(() => t.close());

    const create = (token: string, path = `/v1.0/users/${C.alice.id}/onlineMeetings`) => graph(t, 'POST', path, token, body);
    const assertUnauthorized = async (token: string, message?: RegExp) => {
      const res = await create(token);
      assert.equal(res.statusCode, 401, res.body);
      const err = res.json().error;
      assert.equal(err.code, 'InvalidAuthenticationToken');
      if (message) assert.match(err.message, message);
      assert.match(String(res.headers['www-authenticate']), /^Bearer /);
      assert.equal(err.innerError['request-id'], res.headers['request-id']);
    };
    /** Signs arbitrary claims with the service's own key (a forger who stole nothing cannot). */
    const signWithOurKey = async (claims: Record<string, unknown>, header: Record<string, unknown> = {}) => {
      const k = keys.active;
      return new SignJWT(claims).setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: k.kid, ...header }).sign(k.privateKey);
    };
    const validAppClaims = async () => decodeJwt(await t.appToken());

    test('a valid app token creates (baseline for the refusals below)', async () => {
      const res = await create(await t.appToken());
      assert.equal(res.statusCode, 201, res.body);
    });

    test('no token, an empty one, or another scheme: 401 "Access token is empty."', async () => {
      for (const headers of [{}, { authorization: '' }, { authorization: 'Bearer' }, { authorization: 'Basic abc' }]) {
        const res = await t.inject({
          method: 'POST',
          url: `/v1.0/me/onlineMeetings`,
          headers: { 'content-type': 'application/json', ...headers },
          payload: '{}',
        });
        assert.equal(res.statusCode, 401);
        assert.equal(res.json().error.code, 'InvalidAuthenticationToken');
        assert.equal(res.json().error.message, 'Access token is empty.');
        assert.ok(res.headers['www-authenticate']);
      }
    });

    test('not a JWT', async () => assertUnauthorized('opaque-not-a-jwt', /not well formed/));

    test('expired token (past the 60 s skew)', async () => {
      const old = new AccessTokens(keys, 3599, () => Date.now() - 3600_000 - 120_000);
      const token = await old.mintAppToken({
        tenantId: C.tenantId,
        servicePrincipalId: String((await validAppClaims()).oid),
        clientId: C.scheduler.clientId,
        appDisplayName: 'x',
        roles: ['OnlineMeetings.ReadWrite.All'],
        clientAuth: '1',
      });
      await assertUnauthorized(token, /expired/);
    });

    test('not yet valid (nbf beyond the skew)', async () => {
      const future = new AccessTokens(keys, 3599, () => Date.now() + 600_000);
      const token = await future.mintAppToken({
        tenantId: C.tenantId,
        servicePrincipalId: String((await validAppClaims()).oid),
        clientId: C.scheduler.clientId,
        appDisplayName: 'x',
        roles: ['OnlineMeetings.ReadWrite.All'],
        clientAuth: '1',
      });
      await assertUnauthorized(token, /not yet valid/);
    });

    test('signed by another key under our kid', async () => {
      const { privateKey } = generateKeyPairSync('rsa', {
        modulusLength: 2048,
        privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
        publicKeyEncoding: { type: 'spki', format: 'pem' },
      });
      const claims = await validAppClaims();
      const forged = await new SignJWT(claims)
        .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: keys.active.kid })
        .sign(await importPKCS8(privateKey, 'RS256'));
      await assertUnauthorized(forged, /signature/i);
    });

    test('alg none, and HS256 keyed with our public key', async () => {
      const claims = await validAppClaims();
      const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
      await assertUnauthorized(`${b64({ alg: 'none', typ: 'JWT', kid: keys.active.kid })}.${b64(claims)}.`);
      const signingInput = `${b64({ alg: 'HS256', typ: 'JWT', kid: keys.active.kid })}.${b64(claims)}`;
      const jwk = keys.jwks('x').keys[0]!;
      const mac = createHmac('sha256', JSON.stringify(jwk)).update(signingInput).digest('base64url');
      await assertUnauthorized(`${signingInput}.${mac}`);
    });

    test('key-carrying headers (jwk, jku, x5u) are refused even with a good signature', async () => {
      const claims = await validAppClaims();
      await assertUnauthorized(await signWithOurKey(claims, { jku: 'https://attacker.example/keys' }));
      await assertUnauthorized(await signWithOurKey(claims, { x5u: 'https://attacker.example/cert' }));
    });

    test('wrong audience; both Graph audience spellings are accepted', async () => {
      const claims = await validAppClaims();
      await assertUnauthorized(await signWithOurKey({ ...claims, aud: 'api://some-other-api' }), /audience/i);
      const res = await create(await signWithOurKey({ ...claims, aud: '00000003-0000-0000-c000-000000000000' }));
      assert.equal(res.statusCode, 201);
    });

    test('issuer not bound to tid, and a tenant that does not exist', async () => {
      const claims = await validAppClaims();
      await assertUnauthorized(await signWithOurKey({ ...claims, iss: `https://sts.windows.net/${DEMO.fabrikam.tenantId}/` }), /issuer/i);
      const ghost = '11111111-2222-3333-4444-555555555555';
      await assertUnauthorized(await signWithOurKey({ ...claims, tid: ghost, iss: `https://sts.windows.net/${ghost}/` }), /tenant/i);
    });

    test('an app token that claims another tenant than its app', async () => {
      const claims = await validAppClaims();
      const f = DEMO.fabrikam.tenantId;
      await assertUnauthorized(await signWithOurKey({ ...claims, tid: f, iss: `https://sts.windows.net/${f}/` }));
    });

    test("a token of another tenant cannot reach this tenant's users", async () => {
      const fabrikam = await t.appToken(DEMO.fabrikam.scheduler.clientId, DEMO.fabrikam.scheduler.secret, DEMO.fabrikam.tenantId);
      const res = await create(fabrikam);
      assert.equal(res.statusCode, 404);
      assert.equal(res.json().error.code, 'Request_ResourceNotFound');
      const { DirectoryService } = await import('../../src/domain/directory/directory-service.js');
      const dir = new DirectoryService(t.app.graphMeetings.store.db);
      const fabApp = await dir.createApplication({
        tenant: DEMO.fabrikam.tenantId,
        displayName: 'Fabrikam client',
        allowPublicClient: true,
      });
      await dir.consentDelegated(fabApp.clientId, ['OnlineMeetings.ReadWrite']);
      const res2 = await t.inject({
        method: 'POST',
        url: `/${DEMO.fabrikam.domain}/oauth2/v2.0/token`,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: new URLSearchParams({
          grant_type: 'password',
          client_id: fabApp.clientId,
          username: DEMO.fabrikam.dave.upn,
          password: DEMO.password,
          scope: 'OnlineMeetings.ReadWrite',
        }).toString(),
      });
      const dave = res2.json().access_token as string;
      assert.equal((await create(dave, '/v1.0/me/onlineMeetings')).statusCode, 201, 'Dave may create his own meetings');
      assert.equal((await create(dave)).statusCode, 404, 'but Alice does not exist in his tenant');
    });

    test('oversized tokens are refused before parsing', async () => {
      await assertUnauthorized(`a.${'b'.repeat(20_000)}.c`);
    });

    test('a token whose user has been deleted stops working within the directory cache second', async () => {
      const dir = t.app.graphMeetings.store.db;
      const { DirectoryService } = await import('../../src/domain/directory/directory-service.js');
      const svc = new DirectoryService(dir);
      await svc.createUser({ tenant: C.tenantId, upn: 'temp@contoso.test', displayName: 'Temp', password: DEMO.password });
      const token = await t.userToken('temp@contoso.test');
      assert.equal((await create(token, '/v1.0/me/onlineMeetings')).statusCode, 201);
      await dir.deleteFrom('users').where('upn', '=', 'temp@contoso.test').execute();
      // Deleted by another process, as far as this app knows: it notices when its cached read expires.
      await new Promise((r) => setTimeout(r, DIRECTORY_CACHE_TTL_MS + 100));
      const res = await create(token, '/v1.0/me/onlineMeetings');
      assert.equal(res.statusCode, 401);
    });

    test('header kid always names one of our keys', async () => {
      assert.equal(decodeProtectedHeader(await t.appToken()).kid, keys.active.kid);
    });
  });
}
