/**
 * Issue #13 with the official libraries, over HTTPS, in a child process that trusts the server only
 * through NODE_EXTRA_CA_CERTS: @azure/identity ClientCertificateCredential and msal-node with a
 * certificate (registered with the CLI), OnBehalfOfCredential and msal-node acquireTokenOnBehalfOf,
 * msal-node at /common and /organizations, and a User.Read-only token that reads meetings. The ops in
 * test/sdk/token-flows-worker.ts are the README's snippets.
 */
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { decodeJwt } from 'jose';
import { cli, makeCertificate, registerCertificate, type TestCertificate } from '../helpers/certificates.js';
import { startSdkWorker, SdkCallError } from '../helpers/sdk-worker-client.js';
import { STORES } from '../helpers/stores.js';
import { DEMO, startTestApp, type TestApp } from '../helpers/test-app.js';
import { cookieHeader, cookies, form, formFields, redirectParams, signInThroughPage } from '../identity/sign-in-helpers.js';

const C = DEMO.contoso;
const WORKER = fileURLToPath(new URL('./token-flows-worker.ts', import.meta.url));
const API_SCOPE = `api://${C.api.clientId}/${C.api.scope}`;

interface Worker {
  call(op: string, args: Record<string, unknown>): Promise<any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  close(): Promise<void>;
}

for (const kind of STORES) {
  describe(`${kind}: official libraries, token flows of issue #13`, () => {
    let t: TestApp;
    let w: Worker;
    let origin: string;
    let cert: TestCertificate;
    before(async () => {
      t = await startTestApp(kind, { listen: true });
      origin = t.origin;
      w = (await startSdkWorker(t.caPath, WORKER)) as unknown as Worker;
      cert = makeCertificate();
      await registerCertificate(t, C.scheduler.clientId, cert);
    });
    after(async () => {
      await w?.close();
      await t?.close();
    });

    const graphGet = (path: string, token: string) => w.call('fetchJson', { url: `${origin}/v1.0${path}`, token });

    test('@azure/identity ClientCertificateCredential: an app token signed by the registered certificate', async () => {
      const token: string = await w.call('identityCertificate', {
        origin,
        tenantId: C.tenantId,
        clientId: C.scheduler.clientId,
        pem: cert.combined,
      });
      const claims = decodeJwt(token);
      assert.equal(claims.appid, C.scheduler.clientId);
      assert.equal(claims.appidacr, '2');
      assert.deepEqual(claims.roles, [
        'Calendars.ReadWrite',
        'MailboxSettings.Read',
        'OnlineMeetingArtifact.Read.All',
        'OnlineMeetingRecording.Read.All',
        'OnlineMeetingTranscript.Read.All',
        'OnlineMeetings.ReadWrite.All',
      ]);
    });

    test('msal-node with a certificate: SHA-256 thumbprint (PS256) and SHA-1 (RS256); the signed assertion is reused', async () => {
      const sha256: string[] = await w.call('msalCertificate', {
        origin,
        tenantId: C.tenantId,
        clientId: C.scheduler.clientId,
        privateKey: cert.privateKey,
        thumbprintSha256: cert.thumbprintSha256,
        times: 3,
      });
      assert.equal(sha256.length, 3);
      for (const token of sha256) assert.equal(decodeJwt(token).appidacr, '2');
      const sha1: string[] = await w.call('msalCertificate', {
        origin,
        tenantId: C.tenantId,
        clientId: C.scheduler.clientId,
        privateKey: cert.privateKey,
        thumbprint: cert.thumbprint,
      });
      assert.equal(decodeJwt(sha1[0]!).appid, C.scheduler.clientId);
      // A certificate that was never registered: msal-node surfaces Entra's AADSTS700027.
      const other = makeCertificate();
      await assert.rejects(
        w.call('msalCertificate', {
          origin,
          tenantId: C.tenantId,
          clientId: C.scheduler.clientId,
          privateKey: other.privateKey,
          thumbprintSha256: other.thumbprintSha256,
        }),
        (err: unknown) => err instanceof SdkCallError && /AADSTS700027|700027/.test(err.sdkError.message),
      );
    });

    const userTokenForApi = (): Promise<string> =>
      w.call('identityUserAt', {
        origin,
        authority: C.tenantId,
        clientId: C.client.clientId,
        username: C.alice.upn,
        password: DEMO.password,
        scopes: [API_SCOPE],
      });

    test('OnBehalfOfCredential: the middle-tier API exchanges a user token for a Graph token for the same user', async () => {
      const userAssertionToken = await userTokenForApi();
      assert.equal(decodeJwt(userAssertionToken).aud, `api://${C.api.clientId}`);
      const token: string = await w.call('identityObo', {
        origin,
        tenantId: C.tenantId,
        clientId: C.api.clientId,
        clientSecret: C.api.secret,
        userAssertionToken,
        scopes: ['https://graph.microsoft.com/.default'],
      });
      const claims = decodeJwt(token);
      assert.equal(claims.oid, C.alice.id);
      assert.equal(claims.appid, C.api.clientId);
      const list = await graphGet(`/me/onlineMeetings?$filter=${encodeURIComponent("JoinWebUrl eq 'https://nowhere.test/x'")}`, token);
      assert.notEqual(list.status, 401, JSON.stringify(list.body));
      assert.notEqual(list.status, 403, JSON.stringify(list.body));
    });

    test('msal-node acquireTokenOnBehalfOf, with a secret and with a certificate', async () => {
      const oboAssertion = await userTokenForApi();
      const bySecret: string = await w.call('msalObo', {
        origin,
        tenantId: C.tenantId,
        clientId: C.api.clientId,
        clientSecret: C.api.secret,
        oboAssertion,
        scopes: ['https://graph.microsoft.com/User.Read'],
      });
      assert.equal(decodeJwt(bySecret).scp, 'OnlineMeetings.ReadWrite User.Read');
      await registerCertificate(t, C.api.clientId, cert);
      const byCert: string = await w.call('msalObo', {
        origin,
        tenantId: C.tenantId,
        clientId: C.api.clientId,
        privateKey: cert.privateKey,
        thumbprintSha256: cert.thumbprintSha256,
        oboAssertion,
      });
      assert.equal(decodeJwt(byCert).appidacr, '2');
      assert.equal(decodeJwt(byCert).oid, C.alice.id);
    });

    test('/organizations and /common: sign in without naming a tenant, then msal-node refreshes at /common and /organizations', async () => {
      for (const authority of ['organizations', 'common']) {
        const token: string = await w.call('identityUserAt', {
          origin,
          authority,
          clientId: C.client.clientId,
          username: C.alice.upn,
          password: DEMO.password,
          scopes: ['https://graph.microsoft.com/User.Read'],
        });
        assert.equal(decodeJwt(token).tid, C.tenantId);
      }
      // A refresh token from a sign-in (the scheduler stored it), redeemed with msal-node at the alias.
      const form = new URLSearchParams({
        grant_type: 'password',
        client_id: C.client.clientId,
        username: C.alice.upn,
        password: DEMO.password,
        scope: 'https://graph.microsoft.com/User.Read offline_access',
      });
      const signIn = await t.inject({
        method: 'POST',
        url: `/${C.tenantId}/oauth2/v2.0/token`,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: form.toString(),
      });
      const refreshToken = signIn.json().refresh_token as string;
      for (const authority of ['common', 'organizations']) {
        const result = await w.call('msalRefreshAt', {
          origin,
          authority,
          clientId: C.client.clientId,
          clientSecret: C.client.secret,
          refreshToken,
          scopes: ['https://graph.microsoft.com/User.Read'],
        });
        assert.equal(result.tenantId, C.tenantId);
        assert.equal(decodeJwt(result.accessToken).oid, C.alice.id);
      }
    });

    test("msal-node acquireTokenByRefreshToken: works until the user's sessions are revoked, then AADSTS50173 (issue #11 item 9)", async () => {
      const signIn = await t.inject({
        method: 'POST',
        url: `/${C.tenantId}/oauth2/v2.0/token`,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: new URLSearchParams({
          grant_type: 'password',
          client_id: C.client.clientId,
          username: C.bob.upn,
          password: DEMO.password,
          scope: 'https://graph.microsoft.com/User.Read offline_access',
        }).toString(),
      });
      const refreshToken = signIn.json().refresh_token as string;
      const args = {
        origin,
        authority: C.tenantId,
        clientId: C.client.clientId,
        clientSecret: C.client.secret,
        refreshToken,
        scopes: ['https://graph.microsoft.com/User.Read'],
      };
      const before = await w.call('msalRefreshAt', args);
      assert.equal(decodeJwt(before.accessToken).oid, C.bob.id);
      const revoked = await cli(t, ['user', 'revoke-sessions', '--upn', C.bob.upn]);
      assert.equal(revoked.code, 0, revoked.stderr);
      await assert.rejects(
        w.call('msalRefreshAt', args),
        (err: unknown) => err instanceof SdkCallError && err.sdkError.code === 'invalid_grant' && /AADSTS50173/.test(err.sdkError.message),
      );
    });

    test('msal-node ConfidentialClientApplication at /common and /organizations: the code flow, signed in on the page', async () => {
      const scopes = ['https://graph.microsoft.com/User.Read'];
      for (const authority of ['common', 'organizations']) {
        const args = {
          origin,
          authority,
          clientId: C.client.clientId,
          clientSecret: C.client.secret,
          redirectUri: C.client.redirectUri,
          scopes,
        };
        const { url, verifier } = await w.call('msalCodeUrlAt', args);
        const authorize = new URL(url);
        assert.equal(authorize.pathname, `/${authority}/oauth2/v2.0/authorize`);
        // The browser's part: the sign-in page, where any work account may sign in.
        const { res } = await signInThroughPage(t, `${authorize.pathname}${authorize.search}`, {
          username: C.bob.upn,
          password: DEMO.password,
        });
        assert.equal(res.statusCode, 302, res.body);
        const back = redirectParams(res);
        assert.equal(back.state, 'from-msal');
        const result = await w.call('msalCodeRedeemAt', { ...args, code: back.code, verifier });
        assert.equal(result.tenantId, C.tenantId);
        assert.equal(result.username, C.bob.upn);
        assert.equal(result.homeAccountId, `${C.bob.id}.${C.tenantId}`);
        const claims = decodeJwt(result.accessToken);
        assert.equal(claims.tid, C.tenantId);
        assert.equal(claims.oid, C.bob.id);
        const me = await graphGet('/me', result.accessToken);
        assert.equal(me.status, 200, JSON.stringify(me.body));
        assert.equal(me.body.userPrincipalName, C.bob.upn);
      }
    });

    test('msal-node PublicClientApplication at /organizations: the device flow, the code entered on the device page', async () => {
      const { userCode } = await w.call('msalDeviceCodeAt', {
        origin,
        authority: 'organizations',
        clientId: C.client.clientId,
        scopes: ['https://graph.microsoft.com/User.Read'],
      });
      const entry = await t.inject({ method: 'GET', url: `/devicelogin?otc=${userCode}` });
      const jar = cookies(entry);
      const headers = { 'content-type': 'application/x-www-form-urlencoded', cookie: cookieHeader(jar) };
      const page = await t.inject({
        method: 'POST',
        url: '/devicelogin',
        headers,
        payload: form({ gm_csrf: formFields(entry.body).gm_csrf!, gm_action: 'code', otc: userCode }),
      });
      const done = await t.inject({
        method: 'POST',
        url: '/devicelogin',
        headers,
        payload: form({ ...formFields(page.body), gm_action: 'signin', username: C.alice.upn, password: DEMO.password }),
      });
      assert.match(done.body, /You have signed in to Meeting Client/);
      const result = await w.call('msalDeviceCodeResult', {});
      assert.equal(result.tenantId, C.tenantId);
      assert.equal(result.username, C.alice.upn);
      assert.equal(decodeJwt(result.accessToken).oid, C.alice.id);
    });

    test('a User.Read-only token reads meetings, because the tenant consented to more (Entra puts every consented scope in scp)', async () => {
      const writer: string = await w.call('identityUserAt', {
        origin,
        authority: C.tenantId,
        clientId: C.client.clientId,
        username: C.alice.upn,
        password: DEMO.password,
        scopes: ['https://graph.microsoft.com/OnlineMeetings.ReadWrite'],
      });
      const created = await t.inject({
        method: 'POST',
        url: '/v1.0/me/onlineMeetings',
        headers: { authorization: `Bearer ${writer}`, 'content-type': 'application/json' },
        payload: JSON.stringify({ subject: 'read me with User.Read' }),
      });
      assert.equal(created.statusCode, 201);
      const userRead: string = await w.call('identityUserAt', {
        origin,
        authority: C.tenantId,
        clientId: C.client.clientId,
        username: C.bob.upn,
        password: DEMO.password,
        scopes: ['User.Read'],
      });
      assert.match(String(decodeJwt(userRead).scp), /OnlineMeetings\.ReadWrite/);
      const alice: string = await w.call('identityUserAt', {
        origin,
        authority: C.tenantId,
        clientId: C.client.clientId,
        username: C.alice.upn,
        password: DEMO.password,
        scopes: ['https://graph.microsoft.com/User.Read'],
      });
      const got = await graphGet(`/me/onlineMeetings/${created.json().id}`, alice);
      assert.equal(got.status, 200, JSON.stringify(got.body));
      assert.equal(got.body.subject, 'read me with User.Read');
    });
  });
}
