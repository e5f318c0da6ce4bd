/**
 * The interactive flows at HTTP level (issue 12), on every store: authorize + sign-in page + session,
 * authorization codes with PKCE and their refusals, SPA codes and CORS, device code, sign-out,
 * instance discovery, redirect-URI rules. The official libraries drive the same flows in a real
 * browser in test/web/interactive-sign-in.test.ts.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { decodeJwt } from 'jose';
import { STORES } from '../helpers/stores.js';
import { DEMO, graph, startTestApp, type TestApp } from '../helpers/test-app.js';
import { authorizeUrl, cookieHeader, cookies, form, formFields, pkce, redirectParams, signInThroughPage } from './sign-in-helpers.js';

const C = DEMO.contoso;
const ALICE = { username: C.alice.upn, password: DEMO.password };
const SCOPE = 'openid profile email offline_access https://graph.microsoft.com/OnlineMeetings.ReadWrite';
const PORTAL_REDIRECT = C.portal.redirectUri;
/** The origin of t.inject's requests (Host: localhost:80), which the issuer follows (client-compat §1.5). */
const ORIGIN = 'https://localhost:80';
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- parsed JSON under test

for (const kind of STORES) {
  describe(`${kind}: interactive sign-in`, () => {
    let t: TestApp;
    let now = Date.now();
    before(async () => {
      t = await startTestApp(kind, { deps: { clock: () => now } });
    });
    after(() => t.close());

    const token = (params: Record<string, string>, headers: Record<string, string> = {}) =>
      t.inject({
        method: 'POST',
        url: `/${C.tenantId}/oauth2/v2.0/token`,
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
        payload: form(params),
      });
    const portalAuthorize = (extra: Record<string, string> = {}) => {
      const p = pkce();
      return {
        ...p,
        url: authorizeUrl(C.domain, {
          client_id: C.portal.clientId,
          response_type: 'code',
          redirect_uri: PORTAL_REDIRECT,
          scope: SCOPE,
          state: 'state-1',
          nonce: 'nonce-1',
          code_challenge: p.challenge,
          code_challenge_method: 'S256',
          ...extra,
        }),
      };
    };
    /** Signs Alice in through the page for the Portal and returns the code, verifier and cookie jar. */
    const portalCode = async (extra: Record<string, string> = {}, jar: Record<string, string> = {}) => {
      const a = portalAuthorize(extra);
      const { res } = await signInThroughPage(t, a.url, ALICE, jar);
      assert.equal(res.statusCode, 302, res.body);
      return { code: redirectParams(res).code!, verifier: a.verifier, jar, res };
    };
    const redeemPortal = (code: string, verifier: string, extra: Record<string, string> = {}, headers: Record<string, string> = {}) =>
      token(
        {
          grant_type: 'authorization_code',
          client_id: C.portal.clientId,
          client_secret: C.portal.secret,
          code,
          redirect_uri: PORTAL_REDIRECT,
          code_verifier: verifier,
          scope: SCOPE,
          ...extra,
        },
        headers,
      );
    const aadsts = (res: { json(): unknown }) => (res.json() as Json).error_codes?.[0];

    test('authorize shows the sign-in page: strict CSP, no framing, CSRF cookie, hostile values escaped', async () => {
      const hostile = '"><script>alert(1)</script>';
      const res = await t.inject({ method: 'GET', url: portalAuthorize({ state: hostile, login_hint: hostile }).url });
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(res.headers['content-type'], 'text/html; charset=utf-8');
      assert.equal(
        res.headers['content-security-policy'],
        "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'self' http://localhost; frame-ancestors 'none'",
      );
      assert.equal(res.headers['x-frame-options'], 'DENY');
      assert.ok(!res.body.includes('<script>alert(1)'), 'hostile state and login_hint are escaped');
      assert.ok(res.body.includes('&lt;script&gt;alert(1)&lt;/script&gt;'));
      assert.ok(!/<script/i.test(res.body), 'the sign-in page runs no script');
      const setCookie = String(res.headers['set-cookie']);
      assert.match(setCookie, /^gm_csrf=[\w-]{43}; Path=\/; Secure; HttpOnly; SameSite=Lax$/);
      assert.ok(res.body.includes('Meeting Portal'));
    });

    test('wrong password: the page again with the error, no code, no session', async () => {
      const { res, jar } = await signInThroughPage(t, portalAuthorize().url, { username: C.alice.upn, password: 'nope' });
      assert.equal(res.statusCode, 200);
      assert.match(res.body, /Your account or password is incorrect/);
      assert.equal(jar.gm_session, undefined);
      const unknown = await signInThroughPage(t, portalAuthorize().url, { username: 'nobody@contoso.test', password: 'x' });
      assert.match(unknown.res.body, /Your account or password is incorrect/, 'same answer for an unknown user');
      const otherTenant = await signInThroughPage(t, portalAuthorize().url, { username: DEMO.fabrikam.dave.upn, password: DEMO.password });
      assert.match(otherTenant.res.body, /Your account or password is incorrect/, 'a user of another tenant cannot sign in here');
    });

    test("sign-in without the CSRF token (or with another browser's) is refused", async () => {
      const page = await t.inject({ method: 'GET', url: portalAuthorize().url });
      const fields = formFields(page.body);
      const jar = cookies(page);
      for (const [cookie, csrf] of [
        ['', fields.gm_csrf!],
        [cookieHeader(jar), 'x'.repeat(43)],
        [cookieHeader(jar), ''],
      ] as const) {
        const res = await t.inject({
          method: 'POST',
          url: `/${C.domain}/oauth2/v2.0/authorize`,
          headers: { 'content-type': 'application/x-www-form-urlencoded', cookie },
          payload: form({ ...fields, gm_csrf: csrf, username: ALICE.username, password: ALICE.password }),
        });
        assert.equal(res.statusCode, 400);
        assert.equal(res.headers.location, undefined);
        assert.match(res.body, /sign-in page expired/);
      }
    });

    test('auth code + PKCE: redirect with code and state, session cookie, tokens with an Entra v2.0 id token', async () => {
      const { code, verifier, jar, res } = await portalCode();
      const location = new URL(String(res.headers.location));
      assert.equal(`${location.origin}${location.pathname}`, PORTAL_REDIRECT);
      assert.equal(redirectParams(res).state, 'state-1');
      const setCookie = [res.headers['set-cookie']].flat().join('\n');
      assert.match(setCookie, /gm_session=[\w-]+; Path=\/; Secure; HttpOnly; SameSite=Lax/);
      assert.ok(jar.gm_session);

      // Only hashes are stored: neither the code nor the session id is in the database in clear.
      const db = t.testStore.store.db;
      const codes = await db.selectFrom('authorization_codes').select('code_hash').execute();
      assert.ok(codes.some((r) => r.code_hash === createHash('sha256').update(code).digest('hex')));
      const sessions = await db.selectFrom('browser_sessions').select('id_hash').execute();
      assert.ok(sessions.every((r) => r.id_hash !== jar.gm_session));
      assert.ok(sessions.some((r) => r.id_hash === createHash('sha256').update(jar.gm_session!).digest('hex')));
      const tok = await redeemPortal(code, verifier);
      assert.equal(tok.statusCode, 200, tok.body);
      const body = tok.json() as Json;
      assert.ok(body.access_token && body.refresh_token && body.id_token);
      const id = decodeJwt(body.id_token);
      assert.equal(id.aud, C.portal.clientId);
      assert.equal(id.iss, `${ORIGIN}/${C.tenantId}/v2.0`);
      assert.equal(id.tid, C.tenantId);
      assert.equal(id.oid, C.alice.id);
      assert.equal(id.sub, C.alice.id);
      assert.equal(id.preferred_username, C.alice.upn);
      assert.equal(id.name, C.alice.displayName);
      assert.equal(id.nonce, 'nonce-1');
      assert.equal(id.email, C.alice.upn);
      assert.equal(id.ver, '2.0');
      const created = await graph(t, 'POST', '/v1.0/me/onlineMeetings', body.access_token, { subject: 'from the portal' });
      assert.equal(created.statusCode, 201, created.body);
    });

    test('POST authorize (form parameters) works like GET', async () => {
      const { jar } = await portalCode();
      const a = portalAuthorize();
      const res = await t.inject({
        method: 'POST',
        url: `/${C.domain}/oauth2/v2.0/authorize`,
        headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: cookieHeader(jar) },
        payload: new URL(a.url, 'https://x').search.slice(1),
      });
      assert.equal(res.statusCode, 302, res.body);
      assert.ok(redirectParams(res).code);
    });

    test('a refresh token only with offline_access', async () => {
      const { code, verifier } = await portalCode({ scope: 'openid profile https://graph.microsoft.com/User.Read' });
      const tok = await redeemPortal(code, verifier, { scope: 'openid profile https://graph.microsoft.com/User.Read' });
      assert.equal(tok.statusCode, 200, tok.body);
      assert.equal((tok.json() as Json).refresh_token, undefined);
      assert.ok((tok.json() as Json).id_token);
    });

    test('the browser session makes the second authorize silent; prompt=login asks again; prompt=none without a session fails', async () => {
      const { jar } = await portalCode();
      const silent = await t.inject({ method: 'GET', url: portalAuthorize().url, headers: { cookie: cookieHeader(jar) } });
      assert.equal(silent.statusCode, 302, silent.body);
      assert.ok(redirectParams(silent).code);
      const none = await t.inject({ method: 'GET', url: portalAuthorize({ prompt: 'none' }).url, headers: { cookie: cookieHeader(jar) } });
      assert.ok(redirectParams(none).code, 'prompt=none with a session: a code');
      const login = await t.inject({
        method: 'GET',
        url: portalAuthorize({ prompt: 'login' }).url,
        headers: { cookie: cookieHeader(jar) },
      });
      assert.equal(login.statusCode, 200, 'prompt=login shows the page despite the session');
      const pick = await t.inject({
        method: 'GET',
        url: portalAuthorize({ prompt: 'select_account' }).url,
        headers: { cookie: cookieHeader(jar) },
      });
      assert.equal(pick.statusCode, 200);
      assert.match(pick.body, /Continue as <strong>Alice Adams<\/strong>/);
      // prompt=select_account: "Continue" with the session.
      const cont = await t.inject({
        method: 'POST',
        url: `/${C.domain}/oauth2/v2.0/authorize`,
        headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: cookieHeader(cookies(pick, jar)) },
        payload: form({ ...formFields(pick.body), gm_action: 'continue' }),
      });
      assert.equal(cont.statusCode, 302, cont.body);
      assert.ok(redirectParams(cont).code);

      const noSession = await t.inject({ method: 'GET', url: portalAuthorize({ prompt: 'none' }).url });
      assert.equal(noSession.statusCode, 302);
      const err = redirectParams(noSession);
      assert.equal(err.error, 'login_required');
      assert.match(err.error_description!, /^AADSTS50058:/);
      assert.equal(err.state, 'state-1');
      const otherUser = await t.inject({
        method: 'GET',
        url: portalAuthorize({ prompt: 'none', login_hint: C.bob.upn }).url,
        headers: { cookie: cookieHeader(jar) },
      });
      assert.equal(redirectParams(otherUser).error, 'interaction_required');
    });

    test('refusals of the code: reuse (54005), verifier (501481), redirect (500112), client, expiry (70008), secret', async () => {
      const a = await portalCode();
      const wrongVerifier = await redeemPortal(a.code, pkce().verifier);
      assert.equal(wrongVerifier.statusCode, 400);
      assert.equal(aadsts(wrongVerifier), 501481);
      const noVerifier = await redeemPortal(a.code, '');
      assert.equal((noVerifier.json() as Json).error, 'invalid_request');
      const wrongRedirect = await redeemPortal(a.code, a.verifier, { redirect_uri: 'http://localhost/other' });
      assert.equal(aadsts(wrongRedirect), 500112);
      const noSecret = await redeemPortal(a.code, a.verifier, { client_secret: '' });
      assert.equal(noSecret.statusCode, 401);
      assert.equal(aadsts(noSecret), 7000218);
      const otherClient = await token({
        grant_type: 'authorization_code',
        client_id: C.client.clientId,
        client_secret: C.client.secret,
        code: a.code,
        redirect_uri: PORTAL_REDIRECT,
        code_verifier: a.verifier,
      });
      assert.equal((otherClient.json() as Json).error, 'invalid_grant');
      assert.equal((await redeemPortal(a.code, a.verifier)).statusCode, 200, 'the failed attempts did not use the code up');
      const again = await redeemPortal(a.code, a.verifier);
      assert.equal(again.statusCode, 400);
      assert.equal((again.json() as Json).error, 'invalid_grant');
      assert.equal(aadsts(again), 54005);
      const garbage = await redeemPortal('not-a-code', a.verifier);
      assert.equal(aadsts(garbage), 70000);

      const b = await portalCode();
      now += 11 * 60_000;
      try {
        const expired = await redeemPortal(b.code, b.verifier);
        assert.equal((expired.json() as Json).error, 'invalid_grant');
        assert.equal(aadsts(expired), 70008);
      } finally {
        now = Date.now();
      }
    });

    test('a web code redeemed cross-origin is refused (9002326)', async () => {
      const a = await portalCode();
      const res = await redeemPortal(a.code, a.verifier, {}, { origin: 'http://localhost:3000' });
      assert.equal(res.statusCode, 400);
      assert.equal(aadsts(res), 9002326);
    });

    test('unregistered redirect URIs never receive a redirect: AADSTS50011 page', async () => {
      for (const uri of [
        'https://evil.example/callback',
        'http://localhost/auth/callback/../../evil',
        'http://localhost.evil.example/auth/callback',
        'javascript:alert(1)//http://localhost/auth/callback',
        'http://localhost/auth/callback?x=1',
      ]) {
        const res = await t.inject({ method: 'GET', url: portalAuthorize({ redirect_uri: uri }).url });
        assert.equal(res.statusCode, 400, uri);
        assert.equal(res.headers.location, undefined, uri);
        assert.equal(res.headers['content-type'], 'text/html; charset=utf-8');
        assert.match(res.body, /AADSTS50011/, uri);
        assert.ok(!res.body.includes('<script'), uri);
      }
      const unknownApp = await t.inject({ method: 'GET', url: portalAuthorize({ client_id: '00000000-0000-0000-0000-000000000001' }).url });
      assert.equal(unknownApp.statusCode, 400);
      assert.match(unknownApp.body, /AADSTS700016/);
      const unknownTenant = await t.inject({ method: 'GET', url: portalAuthorize().url.replace(C.domain, 'nowhere.test') });
      assert.match(unknownTenant.body, /AADSTS90002/);
    });

    test('loopback redirect URIs match any port (RFC 8252); errors after validation go back to the app', async () => {
      const p = pkce();
      const url = authorizeUrl(C.tenantId, {
        client_id: C.client.clientId,
        response_type: 'code',
        redirect_uri: 'http://localhost:54321/',
        scope: SCOPE,
        code_challenge: p.challenge,
        code_challenge_method: 'S256',
      });
      const { res } = await signInThroughPage(t, url, ALICE);
      assert.equal(res.statusCode, 302, res.body);
      assert.ok(String(res.headers.location).startsWith('http://localhost:54321/?code='));
      const code = redirectParams(res).code!;
      // A public client redeems without a secret, with the very redirect URI (port included).
      const wrongPort = await token({
        grant_type: 'authorization_code',
        client_id: C.client.clientId,
        code,
        redirect_uri: 'http://localhost:1/',
        code_verifier: p.verifier,
      });
      assert.equal(aadsts(wrongPort), 500112);
      const ok = await token({
        grant_type: 'authorization_code',
        client_id: C.client.clientId,
        code,
        redirect_uri: 'http://localhost:54321/',
        code_verifier: p.verifier,
      });
      assert.equal(ok.statusCode, 200, ok.body);

      const bad = await t.inject({ method: 'GET', url: portalAuthorize({ response_type: 'token' }).url });
      assert.equal(bad.statusCode, 302);
      assert.equal(redirectParams(bad).error, 'unsupported_response_type');
      const badPrompt = await t.inject({ method: 'GET', url: portalAuthorize({ prompt: 'bogus' }).url });
      assert.equal(redirectParams(badPrompt).error, 'invalid_request');
      const badScope = await t.inject({
        method: 'GET',
        url: portalAuthorize({ scope: 'openid https://graph.microsoft.com/Nope.Nope' }).url,
      });
      assert.equal(redirectParams(badScope).error, 'invalid_scope');
      const badChallenge = await t.inject({ method: 'GET', url: portalAuthorize({ code_challenge: 'short' }).url });
      assert.equal(redirectParams(badChallenge).error, 'invalid_request');
    });

    test('response_mode=fragment and form_post (auto-submit under a nonce CSP); code id_token returns the id token', async () => {
      const { jar } = await portalCode();
      const frag = await t.inject({
        method: 'GET',
        url: portalAuthorize({ response_mode: 'fragment' }).url,
        headers: { cookie: cookieHeader(jar) },
      });
      assert.ok(String(frag.headers.location).startsWith(`${PORTAL_REDIRECT}#code=`));
      const fp = await t.inject({
        method: 'GET',
        url: portalAuthorize({ response_mode: 'form_post', state: '"><b>x' }).url,
        headers: { cookie: cookieHeader(jar) },
      });
      assert.equal(fp.statusCode, 200);
      const csp = String(fp.headers['content-security-policy']);
      const nonce = /script-src 'nonce-([^']+)'/.exec(csp)?.[1];
      assert.ok(nonce, csp);
      assert.match(csp, /form-action http:\/\/localhost;/);
      assert.ok(fp.body.includes(`<script nonce="${nonce}">`));
      assert.ok(fp.body.includes(`action="${PORTAL_REDIRECT}"`));
      assert.ok(fp.body.includes('value="&quot;&gt;&lt;b&gt;x"'), 'state is escaped');
      assert.match(fp.body, /name="code" value="[^"]+"/);
      const hybrid = await t.inject({
        method: 'GET',
        url: portalAuthorize({ response_type: 'code id_token' }).url,
        headers: { cookie: cookieHeader(jar) },
      });
      const params = redirectParams(hybrid);
      assert.ok(String(hybrid.headers.location).includes('#'), 'code id_token defaults to the fragment');
      assert.equal(decodeJwt(params.id_token!).nonce, 'nonce-1');
      const hybridQuery = await t.inject({
        method: 'GET',
        url: portalAuthorize({ response_type: 'code id_token', response_mode: 'query' }).url,
        headers: { cookie: cookieHeader(jar) },
      });
      assert.equal(redirectParams(hybridQuery).error, 'invalid_request');
    });

    test('SPA: PKCE required, code redeemed only with Origin (9002327), CORS on the token endpoint, 24 h refresh token', async () => {
      const p = pkce();
      const base = { client_id: C.spa.clientId, response_type: 'code', redirect_uri: C.spa.redirectUri, scope: SCOPE };
      const noPkce = await t.inject({ method: 'GET', url: authorizeUrl(C.tenantId, base) });
      assert.equal(redirectParams(noPkce).error, 'invalid_request');
      assert.match(redirectParams(noPkce).error_description!, /^AADSTS9002325:/);
      const { res } = await signInThroughPage(
        t,
        authorizeUrl(C.tenantId, { ...base, code_challenge: p.challenge, code_challenge_method: 'S256' }),
        ALICE,
      );
      const code = redirectParams(res).code!;
      const redeem = {
        grant_type: 'authorization_code',
        client_id: C.spa.clientId,
        code,
        redirect_uri: C.spa.redirectUri,
        code_verifier: p.verifier,
        scope: SCOPE,
      };
      const fromServer = await token(redeem);
      assert.equal(fromServer.statusCode, 400);
      assert.equal(aadsts(fromServer), 9002327);
      const preflight = await t.inject({
        method: 'OPTIONS',
        url: `/${C.tenantId}/oauth2/v2.0/token`,
        headers: {
          origin: 'http://localhost:3000',
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'content-type',
        },
      });
      assert.equal(preflight.statusCode, 200);
      assert.equal(preflight.headers['access-control-allow-origin'], '*');
      const fromBrowser = await token(redeem, { origin: 'http://localhost:3000' });
      assert.equal(fromBrowser.statusCode, 200, fromBrowser.body);
      assert.equal(fromBrowser.headers['access-control-allow-origin'], '*');
      const rt = decodeJwt((fromBrowser.json() as Json).refresh_token);
      assert.equal(rt.exp! - rt.iat!, 24 * 3600);
      const refreshed = await token(
        { grant_type: 'refresh_token', client_id: C.spa.clientId, refresh_token: (fromBrowser.json() as Json).refresh_token, scope: SCOPE },
        { origin: 'http://localhost:3000' },
      );
      assert.equal(refreshed.statusCode, 200, refreshed.body);
      const refreshedFromServer = await token({
        grant_type: 'refresh_token',
        client_id: C.spa.clientId,
        refresh_token: (fromBrowser.json() as Json).refresh_token,
        scope: SCOPE,
      });
      assert.equal(aadsts(refreshedFromServer), 9002327);
    });

    test('Graph answers CORS: preflight 200 before authentication, exposed headers on answers and errors', async () => {
      const pre = await t.inject({
        method: 'OPTIONS',
        url: '/v1.0/me/onlineMeetings',
        headers: {
          origin: 'http://localhost:3000',
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'authorization,content-type',
        },
      });
      assert.equal(pre.statusCode, 200);
      assert.equal(pre.headers['access-control-allow-origin'], '*');
      assert.match(String(pre.headers['access-control-allow-methods']), /POST/);
      assert.equal(pre.headers['access-control-allow-headers'], 'authorization,content-type');
      const alice = await t.userToken();
      const ok = await graph(t, 'POST', '/v1.0/me/onlineMeetings', alice, { subject: 'cors' }, { origin: 'http://localhost:3000' });
      assert.equal(ok.statusCode, 201);
      assert.equal(ok.headers['access-control-allow-origin'], '*');
      assert.match(String(ok.headers['access-control-expose-headers']), /request-id, client-request-id/);
      const unauth = await t.inject({ method: 'GET', url: '/v1.0/me/onlineMeetings', headers: { origin: 'http://localhost:3000' } });
      assert.equal(unauth.statusCode, 401);
      assert.equal(unauth.headers['access-control-allow-origin'], '*');
    });

    test('device code: Entra answer, pending, slow_down, page sign-in, both grant spellings, single use', async () => {
      const start = await t.inject({
        method: 'POST',
        url: `/${C.tenantId}/oauth2/v2.0/devicecode`,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: form({ client_id: C.client.clientId, scope: SCOPE }),
      });
      assert.equal(start.statusCode, 200, start.body);
      const dc = start.json() as Json;
      assert.match(dc.user_code, /^[A-Z0-9]{9}$/);
      assert.equal(dc.verification_uri, `${ORIGIN}/devicelogin`);
      assert.equal(dc.expires_in, 900);
      assert.equal(dc.interval, 5);
      assert.equal(
        dc.message,
        `To sign in, use a web browser to open the page ${ORIGIN}/devicelogin and enter the code ${dc.user_code} to authenticate.`,
      );
      const poll = (grant = 'device_code', device_code = dc.device_code) =>
        token({ grant_type: grant, client_id: C.client.clientId, device_code });
      const pending = await poll('urn:ietf:params:oauth:grant-type:device_code');
      assert.equal((pending.json() as Json).error, 'authorization_pending');
      assert.equal(aadsts(pending), 70016);
      assert.equal((await poll()).json().error, 'slow_down', 'polling again at once');
      assert.equal((await poll('device_code', 'bogus')).json().error, 'bad_verification_code');

      // The user enters the code (lower case, with a dash: both accepted) and signs in.
      const entry = await t.inject({ method: 'GET', url: '/devicelogin' });
      assert.equal(entry.statusCode, 200);
      const jar = cookies(entry);
      const csrf = formFields(entry.body).gm_csrf!;
      const wrong = await t.inject({
        method: 'POST',
        url: '/devicelogin',
        headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: cookieHeader(jar) },
        payload: form({ gm_csrf: csrf, gm_action: 'code', otc: 'ZZZZZZZZZ' }),
      });
      assert.match(wrong.body, /didn&#39;t work|didn't work/);
      const typed = `${dc.user_code.slice(0, 4).toLowerCase()}-${dc.user_code.slice(4)}`;
      const signInPage = await t.inject({
        method: 'POST',
        url: '/devicelogin',
        headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: cookieHeader(jar) },
        payload: form({ gm_csrf: csrf, gm_action: 'code', otc: typed }),
      });
      assert.match(signInPage.body, /Meeting Client/);
      const done = await t.inject({
        method: 'POST',
        url: '/devicelogin',
        headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: cookieHeader(jar) },
        payload: form({ ...formFields(signInPage.body), gm_action: 'signin', username: ALICE.username, password: ALICE.password }),
      });
      assert.match(done.body, /You have signed in to Meeting Client/);
      const tok = await poll('urn:ietf:params:oauth:grant-type:device_code');
      assert.equal(tok.statusCode, 200, tok.body);
      assert.equal(decodeJwt((tok.json() as Json).id_token).oid, C.alice.id);
      assert.equal((await poll()).json().error, 'bad_verification_code', 'a device code is single use');
    });

    test('device code: declined, expired, and only for public clients', async () => {
      const start = async () =>
        (
          await t.inject({
            method: 'POST',
            url: `/${C.tenantId}/oauth2/v2.0/devicecode`,
            headers: { 'content-type': 'application/x-www-form-urlencoded' },
            payload: form({ client_id: C.client.clientId, scope: SCOPE }),
          })
        ).json() as Json;
      const dc = await start();
      const entry = await t.inject({ method: 'GET', url: `/devicelogin?otc=${dc.user_code}` });
      const jar = cookies(entry);
      assert.ok(entry.body.includes(`value="${dc.user_code}"`), 'otc= prefills the code');
      const page = await t.inject({
        method: 'POST',
        url: '/devicelogin',
        headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: cookieHeader(jar) },
        payload: form({ gm_csrf: formFields(entry.body).gm_csrf!, gm_action: 'code', otc: dc.user_code }),
      });
      const fields = formFields(page.body);
      const denied = await t.inject({
        method: 'POST',
        url: '/devicelogin',
        headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: cookieHeader(jar) },
        payload: form({ gm_csrf: fields.gm_csrf!, otc: fields.otc!, gm_action: 'deny' }),
      });
      assert.match(denied.body, /You declined/);
      const poll = (device_code: string) => token({ grant_type: 'device_code', client_id: C.client.clientId, device_code });
      assert.equal((await poll(dc.device_code)).json().error, 'authorization_declined');

      const late = await start();
      now += 16 * 60_000;
      try {
        const expired = await poll(late.device_code);
        assert.equal((expired.json() as Json).error, 'expired_token');
        assert.equal(aadsts(expired), 70020);
      } finally {
        now = Date.now();
      }
      const confidential = await t.inject({
        method: 'POST',
        url: `/${C.tenantId}/oauth2/v2.0/devicecode`,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: form({ client_id: C.portal.clientId, scope: SCOPE }),
      });
      assert.equal(confidential.statusCode, 400);
    });

    test('sign-out ends the session (the cookie is useless after) and redirects only to registered URIs', async () => {
      const { jar } = await portalCode();
      const oldCookie = cookieHeader(jar);
      const out = await t.inject({
        method: 'GET',
        url: `/${C.tenantId}/oauth2/v2.0/logout?post_logout_redirect_uri=${encodeURIComponent(PORTAL_REDIRECT)}&state=s1`,
        headers: { cookie: oldCookie },
      });
      assert.equal(out.statusCode, 302);
      assert.equal(out.headers.location, `${PORTAL_REDIRECT}?state=s1`);
      assert.match(String(out.headers['set-cookie']), /gm_session=; Path=\/; Secure; HttpOnly; SameSite=Lax; Max-Age=0/);
      const after = await t.inject({ method: 'GET', url: portalAuthorize({ prompt: 'none' }).url, headers: { cookie: oldCookie } });
      assert.equal(redirectParams(after).error, 'login_required', 'the old cookie no longer signs in');
      for (const target of ['https://evil.example/', 'http://localhost.evil.example/auth/callback']) {
        const evil = await t.inject({
          method: 'GET',
          url: `/${C.tenantId}/oauth2/v2.0/logout?post_logout_redirect_uri=${encodeURIComponent(target)}`,
        });
        assert.equal(evil.statusCode, 200, target);
        assert.equal(evil.headers.location, undefined);
        assert.match(evil.body, /You signed out/);
      }
      // id_token_hint names the app whose redirect URIs count (Entra's way, what msal-browser sends).
      const { code, verifier } = await portalCode();
      const idToken = ((await redeemPortal(code, verifier)).json() as Json).id_token as string;
      const hinted = await t.inject({
        method: 'GET',
        url: `/${C.tenantId}/oauth2/v2.0/logout?id_token_hint=${idToken}&post_logout_redirect_uri=${encodeURIComponent(PORTAL_REDIRECT)}`,
      });
      assert.equal(hinted.statusCode, 302);
      assert.equal(hinted.headers.location, PORTAL_REDIRECT);
      const forged = await t.inject({
        method: 'GET',
        url: `/${C.tenantId}/oauth2/v2.0/logout?id_token_hint=${idToken.slice(0, -4)}AAAA&post_logout_redirect_uri=${encodeURIComponent('https://evil.example/')}`,
      });
      assert.equal(forged.statusCode, 200);
      const notThatApp = await t.inject({
        method: 'GET',
        url: `/${C.tenantId}/oauth2/v2.0/logout?client_id=${C.scheduler.clientId}&post_logout_redirect_uri=${encodeURIComponent(PORTAL_REDIRECT)}`,
      });
      assert.equal(notThatApp.statusCode, 200, 'registered for another app than the one named');
    });

    test("MSAL instance discovery answers in Entra's shape", async () => {
      const res = await t.inject({
        method: 'GET',
        url: `/common/discovery/instance?api-version=1.1&authorization_endpoint=${encodeURIComponent(`${ORIGIN}/${C.tenantId}/oauth2/v2.0/authorize`)}`,
        headers: { origin: 'http://localhost:3000' },
      });
      assert.equal(res.statusCode, 200);
      assert.equal(res.headers['access-control-allow-origin'], '*');
      assert.deepEqual(res.json(), {
        tenant_discovery_endpoint: `${ORIGIN}/${C.tenantId}/v2.0/.well-known/openid-configuration`,
        'api-version': '1.1',
        metadata: [{ preferred_network: 'localhost:80', preferred_cache: 'localhost:80', aliases: ['localhost:80'] }],
      });
    });
  });
}
