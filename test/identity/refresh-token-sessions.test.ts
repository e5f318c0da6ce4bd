/**
 * Issue #11 item 9 at the HTTP level, on every store: refresh tokens live as Entra documents (90 days,
 * 24 hours for single-page apps, carried over on use), are replaced on each use, and end with the user's
 * sessions: Graph's revokeSignInSessions (users/{id|upn} and /me, v1.0 and beta), the CLI's
 * `user revoke-sessions` and `user set-password`. A revoked refresh token gets Entra's AADSTS50173, and
 * the user's browser sessions on the sign-in pages end too.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { decodeJwt } from 'jose';
import { cli } from '../helpers/certificates.js';
import { STORES } from '../helpers/stores.js';
import { DEMO, startTestApp, type TestApp } from '../helpers/test-app.js';
import { authorizeUrl, form, pkce, redirectParams, signInThroughPage } from './sign-in-helpers.js';

const C = DEMO.contoso;
const SCOPE = 'https://graph.microsoft.com/OnlineMeetings.ReadWrite openid profile offline_access';
const DAY = 24 * 3600;
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- parsed JSON under test

for (const kind of STORES) {
  describe(`${kind}: refresh tokens and sign-in sessions that can be ended`, () => {
    let t: TestApp;
    let now = Date.now();
    before(async () => {
      t = await startTestApp(kind, { deps: { clock: () => now } });
      // The Scheduler may revoke sessions (application permission), as an admin tool would.
      const granted = await cli(t, ['app', 'grant', '--client-id', C.scheduler.clientId, '--permission', 'User.RevokeSessions.All']);
      assert.equal(granted.code, 0, granted.stderr);
    });
    after(() => t.close());

    const token = (params: Record<string, string>, headers: Record<string, string> = {}) =>
      t.inject({
        method: 'POST',
        url: `/${C.tenantId}/oauth2/v2.0/token`,
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
        payload: form(params),
      });
    const passwordGrant = async (upn: string = C.alice.upn, password: string = DEMO.password) => {
      const res = await token({ grant_type: 'password', client_id: C.client.clientId, username: upn, password, scope: SCOPE });
      assert.equal(res.statusCode, 200, res.body);
      return (res.json() as Json).refresh_token as string;
    };
    const refresh = (refreshToken: string) =>
      token({ grant_type: 'refresh_token', client_id: C.client.clientId, refresh_token: refreshToken });
    const assertRevoked = (res: { statusCode: number; json(): unknown }) => {
      const body = res.json() as Json;
      assert.equal(res.statusCode, 400, JSON.stringify(body));
      assert.equal(body.error, 'invalid_grant');
      assert.deepEqual(body.error_codes, [50173]);
      assert.match(
        body.error_description,
        /^AADSTS50173: The provided grant has expired due to it being revoked, a fresh auth token is needed\. The user might have changed or reset their password\. The grant was issued on '\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z' and the TokensValidFrom date \(before which tokens are not valid\) for this user is '\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z'\./,
      );
    };
    const revoke = async (path: string, bearer: string) =>
      t.inject({ method: 'POST', url: path, headers: { authorization: `Bearer ${bearer}` } });

    test('a refresh token lives 90 days and is replaced on each use; the redeemed one stays usable, as in Entra', async () => {
      const first = await passwordGrant();
      const claims = decodeJwt(first);
      assert.equal(claims.exp! - claims.iat!, 90 * DAY);
      assert.equal(typeof claims.jti, 'string');
      now += 10 * DAY * 1000;
      const res = await refresh(first);
      assert.equal(res.statusCode, 200, res.body);
      const second = (res.json() as Json).refresh_token as string;
      assert.notEqual(second, first);
      const c2 = decodeJwt(second);
      assert.notEqual(c2.jti, claims.jti);
      assert.equal(c2.exp! - c2.iat!, 90 * DAY, 'each use gives a new 90 days');
      // Entra: "doesn't revoke old refresh tokens when used to fetch new access tokens".
      assert.equal((await refresh(first)).statusCode, 200);
      now += 81 * DAY * 1000; // the first one is past its 90 days, the second one is not
      assert.equal((await refresh(first)).statusCode, 400);
      assert.equal((await refresh(second)).statusCode, 200);
    });

    test('a signed, unexpired refresh token the service has no record of (the old stateless kind) is refused', async () => {
      const rt = await passwordGrant(C.carol.upn);
      await t.testStore.store.db
        .deleteFrom('refresh_tokens')
        .where('jti', '=', String(decodeJwt(rt).jti))
        .execute();
      const res = await refresh(rt);
      assert.equal(res.statusCode, 400);
      assert.deepEqual((res.json() as Json).error_codes, [9002313]);
    });

    test('POST /v1.0/users/{upn}/revokeSignInSessions: 200 Edm.Boolean true; every refresh token of the user answers AADSTS50173', async () => {
      const a = await passwordGrant();
      const r = await refresh(a);
      const b = (r.json() as Json).refresh_token as string;
      const bob = await passwordGrant(C.bob.upn);
      now += 1000;
      const res = await revoke(`/v1.0/users/${C.alice.upn}/revokeSignInSessions`, await t.appToken());
      assert.equal(res.statusCode, 200, res.body);
      assert.match(String(res.headers['content-type']), /^application\/json/);
      assert.deepEqual(res.json(), { '@odata.context': `${t.app.graphMeetings.origin()}/v1.0/$metadata#Edm.Boolean`, value: true });
      assertRevoked(await refresh(a));
      assertRevoked(await refresh(b));
      // Only that user: Bob's sessions go on.
      assert.equal((await refresh(bob)).statusCode, 200);
      // A new sign-in after the revocation works.
      now += 1000;
      assert.equal((await refresh(await passwordGrant())).statusCode, 200);
    });

    test('revokeSignInSessions by id, on beta; permission, tenant and /me rules', async () => {
      const a = await passwordGrant();
      const res = await revoke(`/beta/users/${C.alice.id}/revokeSignInSessions`, await t.appToken());
      assert.equal(res.statusCode, 200, res.body);
      assert.equal((res.json() as Json)['@odata.context'], `${t.app.graphMeetings.origin()}/beta/$metadata#Edm.Boolean`);
      assertRevoked(await refresh(a));

      // Without User.RevokeSessions.All (or Directory.ReadWrite.All): 403, delegated or not.
      const plain = await t.userToken(C.alice.upn, ['User.ReadWrite', 'User.Read']);
      for (const path of ['/v1.0/me/revokeSignInSessions', `/v1.0/users/${C.alice.upn}/revokeSignInSessions`]) {
        const refused = await revoke(path, plain);
        assert.equal(refused.statusCode, 403, refused.body);
        assert.equal((refused.json() as Json).error.code, 'Forbidden');
      }
      // /me needs a user.
      const meApp = await revoke('/v1.0/me/revokeSignInSessions', await t.appToken());
      assert.equal(meApp.statusCode, 400);
      // Another tenant's user is not found.
      const other = await revoke(`/v1.0/users/${DEMO.fabrikam.dave.upn}/revokeSignInSessions`, await t.appToken());
      assert.equal(other.statusCode, 404);
      // No token: 401.
      assert.equal((await t.inject({ method: 'POST', url: '/v1.0/me/revokeSignInSessions' })).statusCode, 401);
    });

    test("POST /v1.0/me/revokeSignInSessions with delegated User.RevokeSessions.All ends the caller's own sessions", async () => {
      now += 1000;
      const a = await passwordGrant();
      const res = await revoke('/v1.0/me/revokeSignInSessions', await t.userToken(C.alice.upn, ['User.RevokeSessions.All']));
      assert.equal(res.statusCode, 200, res.body);
      assert.equal((res.json() as Json).value, true);
      assertRevoked(await refresh(a));
    });

    test('revocation ends the browser session of the sign-in pages', async () => {
      now += 1000;
      const p = pkce();
      const url = authorizeUrl(C.tenantId, {
        client_id: C.portal.clientId,
        response_type: 'code',
        redirect_uri: C.portal.redirectUri,
        scope: SCOPE,
        code_challenge: p.challenge,
        code_challenge_method: 'S256',
      });
      const { res, jar } = await signInThroughPage(t, url, { username: C.alice.upn, password: DEMO.password });
      assert.equal(res.statusCode, 302, res.body);
      // The session signs Alice in again without the page.
      const again = await t.inject({
        method: 'GET',
        url,
        headers: {
          cookie: Object.entries(jar)
            .map(([k, v]) => `${k}=${v}`)
            .join('; '),
        },
      });
      assert.equal(again.statusCode, 302);
      assert.ok(redirectParams(again).code);
      const done = await cli(t, ['user', 'revoke-sessions', '--upn', C.alice.upn]);
      assert.equal(done.code, 0, done.stderr);
      assert.match(done.stdout, /Revoked the sign-in sessions of/);
      const after = await t.inject({
        method: 'GET',
        url,
        headers: {
          cookie: Object.entries(jar)
            .map(([k, v]) => `${k}=${v}`)
            .join('; '),
        },
      });
      assert.equal(after.statusCode, 200, 'the sign-in page again');
      assert.match(after.body, /name="password"/);
    });

    test('CLI: user revoke-sessions and user set-password end the refresh tokens; the new password signs in', async () => {
      now += 1000;
      const a = await passwordGrant();
      const done = await cli(t, ['user', 'revoke-sessions', '--upn', C.alice.upn]);
      assert.equal(done.code, 0, done.stderr);
      assertRevoked(await refresh(a));
      const unknown = await cli(t, ['user', 'revoke-sessions', '--upn', 'nobody@contoso.example']);
      assert.notEqual(unknown.code, 0);

      now += 1000;
      const b = await passwordGrant(C.bob.upn);
      const set = await cli(t, ['user', 'set-password', '--upn', C.bob.upn, '--password', 'A-new-password-1']);
      assert.equal(set.code, 0, set.stderr);
      assertRevoked(await refresh(b));
      const old = await token({
        grant_type: 'password',
        client_id: C.client.clientId,
        username: C.bob.upn,
        password: DEMO.password,
        scope: SCOPE,
      });
      assert.equal(old.statusCode, 400);
      assert.equal((await refresh(await passwordGrant(C.bob.upn, 'A-new-password-1'))).statusCode, 200);
      const short = await cli(t, ['user', 'set-password', '--upn', C.bob.upn, '--password', 'short']);
      assert.notEqual(short.code, 0);
    });

    test('SPA: 24 hours, carried over by each refresh (not extended), then refused', async () => {
      now += 1000;
      const p = pkce();
      const SPA_SCOPE = 'openid profile offline_access https://graph.microsoft.com/OnlineMeetings.ReadWrite';
      const { res } = await signInThroughPage(
        t,
        authorizeUrl(C.tenantId, {
          client_id: C.spa.clientId,
          response_type: 'code',
          redirect_uri: C.spa.redirectUri,
          scope: SPA_SCOPE,
          code_challenge: p.challenge,
          code_challenge_method: 'S256',
        }),
        { username: C.carol.upn, password: DEMO.password },
      );
      const browser = { origin: 'http://localhost:3000' };
      const redeemed = await token(
        {
          grant_type: 'authorization_code',
          client_id: C.spa.clientId,
          code: redirectParams(res).code!,
          redirect_uri: C.spa.redirectUri,
          code_verifier: p.verifier,
          scope: SPA_SCOPE,
        },
        browser,
      );
      assert.equal(redeemed.statusCode, 200, redeemed.body);
      const first = (redeemed.json() as Json).refresh_token as string;
      const exp = decodeJwt(first).exp!;
      now += 20 * 3600_000;
      const r = await token({ grant_type: 'refresh_token', client_id: C.spa.clientId, refresh_token: first, scope: SPA_SCOPE }, browser);
      assert.equal(r.statusCode, 200, r.body);
      const second = (r.json() as Json).refresh_token as string;
      assert.equal(decodeJwt(second).exp, exp, 'the first token’s end carries over');
      now += 5 * 3600_000;
      const late = await token(
        { grant_type: 'refresh_token', client_id: C.spa.clientId, refresh_token: second, scope: SPA_SCOPE },
        browser,
      );
      assert.equal(late.statusCode, 400);
    });
  });
}
