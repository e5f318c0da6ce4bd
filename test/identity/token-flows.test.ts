/**
 * Issue #13 at the HTTP level, on every store: certificate credentials (client assertions), on-behalf-of,
 * /common, /organizations and /consumers, the v1 token endpoint, and Entra's consented-scope rule. Every
 * AADSTS refusal the issue names is here; the official libraries run the same flows in
 * test/sdk/token-flows.test.ts.
 */
import assert from 'node:assert/strict';
import { createPrivateKey, randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { SignJWT, decodeJwt } from 'jose';
import { AccessTokens } from '../../src/identity/access-tokens.js';
import { SigningKeyStore } from '../../src/identity/signing-keys.js';
import { EmulatorClock } from '../../src/util/clock.js';
import { cli, makeCertificate, registerCertificate, type TestCertificate } from '../helpers/certificates.js';
import { STORES } from '../helpers/stores.js';
import { DEMO, graph, startTestApp, type TestApp } from '../helpers/test-app.js';
import { cookieHeader, cookies, form, formFields, pkce, redirectParams, signInThroughPage } from './sign-in-helpers.js';

const C = DEMO.contoso;
const F = DEMO.fabrikam;
const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const GRAPH_DEFAULT = 'https://graph.microsoft.com/.default';
const API_SCOPE = `api://${C.api.clientId}/${C.api.scope}`;

type Json = Record<string, unknown>;

for (const kind of STORES) {
  describe(`${kind}: token flows of issue #13`, () => {
    let t: TestApp;
    let cert: TestCertificate;
    let endpoint: string;
    before(async () => {
      t = await startTestApp(kind);
      cert = makeCertificate();
      const printed = await registerCertificate(t, C.scheduler.clientId, cert);
      assert.equal(printed, cert.thumbprint, 'app certificate add prints the thumbprint');
      const disco = await t.inject({ method: 'GET', url: `/${C.tenantId}/v2.0/.well-known/openid-configuration` });
      endpoint = disco.json().token_endpoint;
    });
    after(() => t.close());

    const post = (tenant: string, form: Record<string, string>, path = 'oauth2/v2.0/token') =>
      t.inject({
        method: 'POST',
        url: `/${tenant}/${path}`,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: new URLSearchParams(form).toString(),
      });
    const refusal = (res: { statusCode: number; json(): unknown }, status: number, error: string, code: number) => {
      const body = res.json() as Json;
      assert.equal(res.statusCode, status, JSON.stringify(body));
      assert.equal(body.error, error);
      assert.deepEqual(body.error_codes, [code]);
      assert.match(String(body.error_description), new RegExp(`^AADSTS${code}: `));
      return String(body.error_description);
    };

    /** A client assertion as msal-node signs one; `header`/`claims` override its parts. */
    const sign = async (
      c: TestCertificate,
      opts: { alg?: 'RS256' | 'PS256'; header?: Json; claims?: Json; clientId?: string; aud?: string } = {},
    ) => {
      const now = Math.floor(Date.now() / 1000);
      const alg = opts.alg ?? 'RS256';
      const thumb =
        alg === 'PS256'
          ? { 'x5t#S256': Buffer.from(c.thumbprintSha256, 'hex').toString('base64url') }
          : { x5t: Buffer.from(c.thumbprint, 'hex').toString('base64url') };
      const id = opts.clientId ?? C.scheduler.clientId;
      return new SignJWT({ aud: opts.aud ?? endpoint, iss: id, sub: id, jti: randomUUID(), nbf: now, exp: now + 600, ...opts.claims })
        .setProtectedHeader({ alg, typ: 'JWT', ...thumb, ...opts.header } as never)
        .sign(createPrivateKey(c.privateKey));
    };
    const certForm = (assertion: string, extra: Record<string, string> = {}) => ({
      grant_type: 'client_credentials',
      client_id: C.scheduler.clientId,
      client_assertion_type: JWT_BEARER,
      client_assertion: assertion,
      scope: GRAPH_DEFAULT,
      ...extra,
    });

    // --- certificate credentials ---------------------------------------------------------------------

    test('client credentials with a certificate: RS256 + x5t and PS256 + x5t#S256; appidacr 2; a reused assertion is accepted', async () => {
      for (const alg of ['RS256', 'PS256'] as const) {
        const assertion = await sign(cert, { alg });
        for (let i = 0; i < 2; i++) {
          const res = await post(C.tenantId, certForm(assertion));
          assert.equal(res.statusCode, 200, res.body);
          const claims = decodeJwt(res.json().access_token);
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
        }
      }
      // The token endpoint named by the tenant's domain, or the v1 endpoint, are the same audience.
      const byDomain = await sign(cert, { aud: endpoint.replace(C.tenantId, C.domain) });
      assert.equal((await post(C.tenantId, certForm(byDomain))).statusCode, 200);
    });

    test('an app token from a certificate works on Graph', async () => {
      const res = await post(C.tenantId, certForm(await sign(cert)));
      const created = await graph(t, 'POST', `/v1.0/users/${C.alice.id}/onlineMeetings`, res.json().access_token, {
        subject: 'by certificate',
      });
      assert.equal(created.statusCode, 201, created.body);
    });

    test('unknown key: AADSTS700027 naming the thumbprint; no thumbprint header at all: AADSTS700027', async () => {
      const other = makeCertificate({ commonName: 'not registered' });
      const d = refusal(await post(C.tenantId, certForm(await sign(other))), 401, 'invalid_client', 700027);
      assert.match(d, /The key was not found/);
      assert.ok(d.includes(other.thumbprint), d);
      const bare = await new SignJWT({
        aud: endpoint,
        iss: C.scheduler.clientId,
        sub: C.scheduler.clientId,
        exp: Math.floor(Date.now() / 1000) + 600,
      })
        .setProtectedHeader({ alg: 'RS256' })
        .sign(createPrivateKey(cert.privateKey));
      refusal(await post(C.tenantId, certForm(bare)), 401, 'invalid_client', 700027);
    });

    test('bad signature (signed by another key under the registered thumbprint): AADSTS700027', async () => {
      const impostor = makeCertificate();
      const forged = await sign({ ...impostor, thumbprint: cert.thumbprint, thumbprintSha256: cert.thumbprintSha256 });
      const d = refusal(await post(C.tenantId, certForm(forged)), 401, 'invalid_client', 700027);
      assert.match(d, /signature validation/);
      // A tampered payload under a genuine signature, too.
      const good = await sign(cert);
      const [h, , s] = good.split('.');
      const tampered = Buffer.from(JSON.stringify({ ...decodeJwt(good), exp: Math.floor(Date.now() / 1000) + 86400 })).toString(
        'base64url',
      );
      refusal(await post(C.tenantId, certForm(`${h}.${tampered}.${s}`)), 401, 'invalid_client', 700027);
    });

    test('expired, or not yet valid, beyond the 5-minute skew: AADSTS700024; within the skew: accepted', async () => {
      const now = Math.floor(Date.now() / 1000);
      refusal(
        await post(C.tenantId, certForm(await sign(cert, { claims: { nbf: now - 1200, exp: now - 400 } }))),
        401,
        'invalid_client',
        700024,
      );
      refusal(
        await post(C.tenantId, certForm(await sign(cert, { claims: { nbf: now + 400, exp: now + 1000 } }))),
        401,
        'invalid_client',
        700024,
      );
      const d = refusal(await post(C.tenantId, certForm(await sign(cert, { claims: { exp: undefined } }))), 401, 'invalid_client', 50027);
      assert.match(d, /malformed/);
      assert.equal((await post(C.tenantId, certForm(await sign(cert, { claims: { nbf: now - 700, exp: now - 100 } })))).statusCode, 200);
    });

    test('wrong audience (another tenant, another host, the issuer): AADSTS700023', async () => {
      for (const aud of [
        endpoint.replace(C.tenantId, F.tenantId),
        `https://login.microsoftonline.com/${C.tenantId}/oauth2/v2.0/token`,
        endpoint.replace('/oauth2/v2.0/token', '/v2.0'),
      ]) {
        refusal(await post(C.tenantId, certForm(await sign(cert, { aud }))), 401, 'invalid_client', 700023);
      }
    });

    test("iss/sub not the client id: AADSTS700021; a certificate of another app doesn't authenticate this one: AADSTS700027", async () => {
      refusal(await post(C.tenantId, certForm(await sign(cert, { claims: { sub: C.client.clientId } }))), 401, 'invalid_client', 700021);
      const forClient = await sign(cert, { clientId: C.client.clientId });
      refusal(await post(C.tenantId, certForm(forClient, { client_id: C.client.clientId })), 401, 'invalid_client', 700027);
    });

    test('malformed assertions, wrong algorithm, wrong assertion type, assertion and secret together', async () => {
      refusal(await post(C.tenantId, certForm('not-a-jwt')), 401, 'invalid_client', 50027);
      const hs = await new SignJWT({
        aud: endpoint,
        iss: C.scheduler.clientId,
        sub: C.scheduler.clientId,
        exp: Math.floor(Date.now() / 1000) + 600,
      })
        .setProtectedHeader({ alg: 'HS256', x5t: Buffer.from(cert.thumbprint, 'hex').toString('base64url') })
        .sign(new TextEncoder().encode('x'.repeat(32)));
      refusal(await post(C.tenantId, certForm(hs)), 401, 'invalid_client', 5002738);
      refusal(
        await post(C.tenantId, certForm(await sign(cert), { client_assertion_type: 'urn:something-else' })),
        400,
        'invalid_request',
        90014,
      );
      refusal(await post(C.tenantId, certForm(await sign(cert), { client_secret: C.scheduler.secret })), 401, 'invalid_client', 7000219);
      const noType = certForm(await sign(cert));
      delete (noType as Record<string, string>).client_assertion_type;
      refusal(await post(C.tenantId, noType), 400, 'invalid_request', 900144);
    });

    test('a certificate authenticates the password and refresh grants too', async () => {
      await registerCertificate(t, C.client.clientId, cert);
      const assertion = await sign(cert, { clientId: C.client.clientId });
      const res = await post(C.tenantId, {
        grant_type: 'password',
        client_id: C.client.clientId,
        client_assertion_type: JWT_BEARER,
        client_assertion: assertion,
        username: C.alice.upn,
        password: DEMO.password,
        scope: 'https://graph.microsoft.com/User.Read offline_access',
      });
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(decodeJwt(res.json().access_token).appidacr, '2');
      const refreshed = await post(C.tenantId, {
        grant_type: 'refresh_token',
        client_id: C.client.clientId,
        client_assertion_type: JWT_BEARER,
        client_assertion: assertion,
        refresh_token: res.json().refresh_token,
      });
      assert.equal(refreshed.statusCode, 200, refreshed.body);
      assert.equal(decodeJwt(refreshed.json().access_token).appidacr, '2');
    });

    test('CLI: app certificate list / remove; a removed certificate no longer authenticates; private keys are refused', async () => {
      const extra = makeCertificate({ commonName: 'rotated out' });
      await registerCertificate(t, C.scheduler.clientId, extra);
      const listed = await cli(t, ['app', 'certificate', 'list', '--client-id', C.scheduler.clientId, '--json']);
      assert.equal(listed.code, 0, listed.stderr);
      const certs = JSON.parse(listed.stdout) as Array<{ thumbprint: string; subject: string }>;
      assert.deepEqual(new Set(certs.map((c) => c.thumbprint)), new Set([cert.thumbprint, extra.thumbprint]));
      assert.ok(certs.some((c) => c.subject.includes('rotated out')));
      assert.equal((await post(C.tenantId, certForm(await sign(extra)))).statusCode, 200);

      const removed = await cli(t, [
        'app',
        'certificate',
        'remove',
        '--client-id',
        C.scheduler.clientId,
        '--thumbprint',
        extra.thumbprint.toLowerCase(),
      ]);
      assert.equal(removed.code, 0, removed.stderr);
      refusal(await post(C.tenantId, certForm(await sign(extra))), 401, 'invalid_client', 700027);
      const again = await cli(t, ['app', 'certificate', 'remove', '--client-id', C.scheduler.clientId, '--thumbprint', extra.thumbprint]);
      assert.equal(again.code, 1);

      const dup = await cli(t, [
        'app',
        'certificate',
        'add',
        '--client-id',
        C.scheduler.clientId,
        '--cert-file',
        `${t.dataDir}/cert-${cert.thumbprint}.pem`,
      ]);
      assert.equal(dup.code, 1);
      const keyFile = `${t.dataDir}/with-key.pem`;
      (await import('node:fs')).writeFileSync(keyFile, extra.combined);
      const withKey = await cli(t, ['app', 'certificate', 'add', '--client-id', C.scheduler.clientId, '--cert-file', keyFile]);
      assert.equal(withKey.code, 1);
      assert.match(withKey.stderr, /private key/);
      const missing = await cli(t, [
        'app',
        'certificate',
        'add',
        '--client-id',
        C.scheduler.clientId,
        '--cert-file',
        `${t.dataDir}/nope.pem`,
      ]);
      assert.equal(missing.code, 1);
    });

    test('an expired registered certificate no longer authenticates: AADSTS700027', async () => {
      const old = makeCertificate({ notBefore: new Date(Date.now() - 2 * 86400_000), notAfter: new Date(Date.now() - 86400_000) });
      await registerCertificate(t, C.scheduler.clientId, old);
      const d = refusal(await post(C.tenantId, certForm(await sign(old))), 401, 'invalid_client', 700027);
      assert.match(d, /expired/);
    });

    // --- Entra's scopes ------------------------------------------------------------------------------

    test('a User.Read-only token carries every consented scope and can read meetings', async () => {
      const ropcToken = async (scope: string) => {
        const res = await post(C.tenantId, {
          grant_type: 'password',
          client_id: C.client.clientId,
          username: C.alice.upn,
          password: DEMO.password,
          scope,
        });
        assert.equal(res.statusCode, 200, res.body);
        return String(res.json().access_token);
      };
      const alice = await ropcToken('https://graph.microsoft.com/OnlineMeetings.ReadWrite');
      const created = await graph(t, 'POST', '/v1.0/me/onlineMeetings', alice, { subject: 'read with User.Read' });
      assert.equal(created.statusCode, 201);
      const userRead = await ropcToken('https://graph.microsoft.com/User.Read');
      assert.equal(
        decodeJwt(userRead).scp,
        'Calendars.ReadWrite MailboxSettings.Read OnlineMeetingArtifact.Read.All OnlineMeetingRecording.Read.All OnlineMeetingTranscript.Read.All OnlineMeetings.Read OnlineMeetings.ReadWrite User.Read',
      );
      const got = await graph(t, 'GET', `/v1.0/me/onlineMeetings/${created.json().id}`, userRead);
      assert.equal(got.statusCode, 200, got.body);
      // An unconsented scope still fails (AADSTS65001), and so does a scope of two resources (AADSTS28000).
      refusal(
        await post(C.tenantId, {
          grant_type: 'password',
          client_id: C.client.clientId,
          username: C.alice.upn,
          password: DEMO.password,
          scope: 'https://graph.microsoft.com/VirtualAppointment.Read',
        }),
        400,
        'invalid_grant',
        65001,
      );
      refusal(
        await post(C.tenantId, {
          grant_type: 'password',
          client_id: C.client.clientId,
          username: C.alice.upn,
          password: DEMO.password,
          scope: `https://graph.microsoft.com/User.Read ${API_SCOPE}`,
        }),
        400,
        'invalid_request',
        28000,
      );
    });

    // --- on-behalf-of ------------------------------------------------------------------------------------

    const apiToken = async (upn: string = C.alice.upn) => {
      const res = await post(C.tenantId, {
        grant_type: 'password',
        client_id: C.client.clientId,
        username: upn,
        password: DEMO.password,
        scope: `${API_SCOPE} openid profile offline_access`,
      });
      assert.equal(res.statusCode, 200, res.body);
      return res.json() as Json;
    };
    const obo = (assertion: string, extra: Record<string, string> = {}) =>
      post(C.tenantId, {
        grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
        client_id: C.api.clientId,
        client_secret: C.api.secret,
        assertion,
        requested_token_use: 'on_behalf_of',
        scope: GRAPH_DEFAULT,
        ...extra,
      });

    test('a token for the middle-tier API (aud api://{id}, scp access_as_user) is not a Graph token', async () => {
      const body = await apiToken();
      assert.equal(body.scope, API_SCOPE);
      const claims = decodeJwt(String(body.access_token));
      assert.equal(claims.aud, `api://${C.api.clientId}`);
      assert.equal(claims.scp, C.api.scope);
      assert.equal(claims.appid, C.client.clientId);
      const res = await graph(t, 'GET', '/v1.0/me/onlineMeetings', String(body.access_token));
      assert.equal(res.statusCode, 401);
    });

    test('on-behalf-of: the API exchanges the user token for a Graph token for the same user, with its own consented scopes', async () => {
      const res = await obo(String((await apiToken()).access_token));
      assert.equal(res.statusCode, 200, res.body);
      const body = res.json();
      const claims = decodeJwt(body.access_token);
      assert.equal(claims.oid, C.alice.id);
      assert.equal(claims.appid, C.api.clientId);
      assert.equal(claims.aud, '00000003-0000-0000-c000-000000000000');
      assert.equal(claims.scp, 'OnlineMeetings.ReadWrite User.Read');
      const created = await graph(t, 'POST', '/v1.0/me/onlineMeetings', body.access_token, { subject: 'via OBO' });
      assert.equal(created.statusCode, 201, created.body);
      assert.equal(created.json().participants.organizer.identity.user.id, C.alice.id);
      // A certificate authenticates the middle tier too.
      await registerCertificate(t, C.api.clientId, cert);
      const withCert = await post(C.tenantId, {
        grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
        client_id: C.api.clientId,
        client_assertion_type: JWT_BEARER,
        client_assertion: await sign(cert, { clientId: C.api.clientId }),
        assertion: String((await apiToken()).access_token),
        requested_token_use: 'on_behalf_of',
        scope: 'https://graph.microsoft.com/User.Read',
      });
      assert.equal(withCert.statusCode, 200, withCert.body);
      assert.equal(decodeJwt(withCert.json().access_token).appidacr, '2');
    });

    test('on-behalf-of refusals: wrong audience 500131, expired 500133, bad signature / unknown key 50013, malformed 50027', async () => {
      const graphToken = await t.userToken();
      const d = refusal(await obo(graphToken), 400, 'invalid_grant', 500131);
      assert.ok(d.includes(C.api.clientId));

      const keys = new SigningKeyStore(t.testStore.store.db);
      await keys.init();
      const past = new AccessTokens(keys, 3600, () => Date.now() - 3 * 3600_000);
      const expired = await past.mintUserToken({
        tenantId: C.tenantId,
        userId: C.alice.id,
        upn: C.alice.upn,
        displayName: C.alice.displayName,
        clientId: C.client.clientId,
        appDisplayName: C.client.displayName,
        scopes: [C.api.scope],
        clientAuth: '0',
        cae: false,
        audience: `api://${C.api.clientId}`,
      });
      refusal(await obo(expired), 400, 'invalid_grant', 500133);

      const good = String((await apiToken()).access_token);
      const [h, p, s] = good.split('.');
      const flipped = `${s![0] === 'A' ? 'B' : 'A'}${s!.slice(1)}`;
      refusal(await obo(`${h}.${p}.${flipped}`), 400, 'invalid_grant', 50013);
      const unknownKid = Buffer.from(JSON.stringify({ alg: 'RS256', typ: 'JWT', kid: 'nope' })).toString('base64url');
      refusal(await obo(`${unknownKid}.${p}.${s}`), 400, 'invalid_grant', 50013);
      refusal(await obo('garbage'), 400, 'invalid_grant', 50027);

      refusal(await obo(good, { requested_token_use: 'something' }), 400, 'invalid_request', 900144);
      const noAssertion = await post(C.tenantId, {
        grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
        client_id: C.api.clientId,
        client_secret: C.api.secret,
        requested_token_use: 'on_behalf_of',
        scope: GRAPH_DEFAULT,
      });
      refusal(noAssertion, 400, 'invalid_request', 900144);
      // OBO needs a confidential client; a wrong secret is refused like everywhere.
      refusal(await obo(good, { client_secret: '' }), 401, 'invalid_client', 7000218);
      refusal(await obo(good, { client_secret: 'wrong-secret' }), 401, 'invalid_client', 7000215);
      // A scope not consented to the middle tier: AADSTS65001.
      refusal(await obo(good, { scope: 'https://graph.microsoft.com/OnlineMeetings.Read' }), 400, 'invalid_grant', 65001);
    });

    test('CLI: app expose and consent of one app to another API; unconsented or unexposed API scopes are refused', async () => {
      const made = await cli(t, ['app', 'add', '--tenant', C.tenantId, '--name', 'Reports API', '--json']);
      assert.equal(made.code, 0, made.stderr);
      const reports = JSON.parse(made.stdout) as { clientId: string };
      const scope = `api://${reports.clientId}/reports.read`;
      const form = { grant_type: 'password', client_id: C.client.clientId, username: C.alice.upn, password: DEMO.password, scope };
      refusal(await post(C.tenantId, form), 400, 'invalid_scope', 70011);
      assert.equal((await cli(t, ['app', 'expose', '--client-id', reports.clientId, '--scope', 'reports.read'])).code, 0);
      refusal(await post(C.tenantId, form), 400, 'invalid_grant', 65001);
      const consent = await cli(t, [
        'app',
        'consent',
        '--client-id',
        C.client.clientId,
        '--api',
        `api://${reports.clientId}`,
        '--scopes',
        'reports.read',
      ]);
      assert.equal(consent.code, 0, consent.stderr);
      const res = await post(C.tenantId, form);
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(decodeJwt(res.json().access_token).aud, `api://${reports.clientId}`);
      const bad = await cli(t, [
        'app',
        'consent',
        '--client-id',
        C.client.clientId,
        '--api',
        reports.clientId,
        '--scopes',
        'reports.write',
      ]);
      assert.equal(bad.code, 1);
      assert.match(bad.stderr, /does not expose/);
      const badName = await cli(t, ['app', 'expose', '--client-id', reports.clientId, '--scope', 'has space']);
      assert.equal(badName.code, 2 - 1);
      const listed = JSON.parse((await cli(t, ['app', 'list', '--tenant', C.tenantId, '--json'])).stdout) as Array<Json>;
      const client = listed.find((a) => a.clientId === C.client.clientId)!;
      assert.ok((client.apiConsents as string[]).includes(scope));
      assert.equal(client.signInAudience, 'AzureADMultipleOrgs');
    });

    // --- tenant aliases ------------------------------------------------------------------------------------

    const ropc = (tenant: string, upn: string = C.alice.upn, clientId: string = C.client.clientId) =>
      post(tenant, {
        grant_type: 'password',
        client_id: clientId,
        username: upn,
        password: DEMO.password,
        scope: 'https://graph.microsoft.com/User.Read openid offline_access',
      });

    test('/common and /organizations: the tenant comes from the user; refresh works there; discovery answers', async () => {
      for (const alias of ['common', 'organizations']) {
        const res = await ropc(alias);
        assert.equal(res.statusCode, 200, res.body);
        const claims = decodeJwt(res.json().access_token);
        assert.equal(claims.tid, C.tenantId);
        assert.equal(claims.iss, `https://sts.windows.net/${C.tenantId}/`);
        assert.equal(
          decodeJwt(res.json().id_token).iss,
          `https://127.0.0.1/${C.tenantId}/v2.0`.replace('https://127.0.0.1', new URL(endpoint).origin),
        );
        const refreshed = await post(alias, {
          grant_type: 'refresh_token',
          client_id: C.client.clientId,
          refresh_token: res.json().refresh_token,
        });
        assert.equal(refreshed.statusCode, 200, refreshed.body);
        assert.equal(decodeJwt(refreshed.json().access_token).tid, C.tenantId);
        const disco = await t.inject({ method: 'GET', url: `/${alias}/v2.0/.well-known/openid-configuration` });
        assert.equal(disco.statusCode, 200);
        assert.match(disco.json().issuer, /\/\{tenantid\}\/v2\.0$/);
        assert.match(disco.json().token_endpoint, new RegExp(`/${alias}/oauth2/v2.0/token$`));
        assert.ok(disco.json().token_endpoint_auth_methods_supported.includes('private_key_jwt'));
        assert.equal((await t.inject({ method: 'GET', url: `/${alias}/discovery/v2.0/keys` })).statusCode, 200);
      }
    });

    test('/common refusals: client credentials AADSTS50059; a single-tenant app AADSTS50194; /consumers AADSTS9002331; a user of a tenant without the app AADSTS700016', async () => {
      const cc = {
        grant_type: 'client_credentials',
        client_id: C.scheduler.clientId,
        client_secret: C.scheduler.secret,
        scope: GRAPH_DEFAULT,
      };
      refusal(await post('common', cc), 400, 'invalid_request', 50059);
      refusal(await post('organizations', cc), 400, 'invalid_request', 50059);
      const d = refusal(await ropc('common', C.alice.upn, C.api.clientId), 400, 'invalid_request', 50194);
      assert.ok(d.includes(C.api.clientId));
      refusal(await ropc('consumers'), 400, 'invalid_request', 9002331);
      refusal(await ropc('common', F.dave.upn), 400, 'unauthorized_client', 700016);
      // A refresh token issued in one tenant is not redeemed as another's.
      const res = await ropc(C.tenantId);
      refusal(
        await post(F.tenantId, { grant_type: 'refresh_token', client_id: C.client.clientId, refresh_token: res.json().refresh_token }),
        400,
        'unauthorized_client',
        700016,
      );
      // And the app can be made single-tenant with the CLI.
      assert.equal((await cli(t, ['app', 'audience', '--client-id', C.client.clientId, '--audience', 'AzureADMyOrg'])).code, 0);
      refusal(await ropc('common'), 400, 'invalid_request', 50194);
      assert.equal((await cli(t, ['app', 'audience', '--client-id', C.client.clientId, '--audience', 'AzureADMultipleOrgs'])).code, 0);
      assert.equal((await ropc('common')).statusCode, 200);
    });

    /** Signs a user in on the authorize page at `tenant` for Meeting Client (multi-tenant); the final response and PKCE verifier. */
    const codeAt = async (tenant: string, upn: string = C.alice.upn, clientId: string = C.client.clientId) => {
      const p = pkce();
      const url = `/${tenant}/oauth2/v2.0/authorize?${new URLSearchParams({
        client_id: clientId,
        response_type: 'code',
        redirect_uri: C.client.redirectUri,
        scope: 'https://graph.microsoft.com/User.Read openid profile offline_access',
        state: 'st',
        code_challenge: p.challenge,
        code_challenge_method: 'S256',
        client_info: '1',
      })}`;
      const page = await t.inject({ method: 'GET', url });
      const { res } = await signInThroughPage(t, url, { username: upn, password: DEMO.password });
      return { page, res, verifier: p.verifier };
    };
    const redeem = (tenant: string, code: string, verifier: string) =>
      post(tenant, {
        grant_type: 'authorization_code',
        client_id: C.client.clientId,
        client_secret: C.client.secret,
        code,
        redirect_uri: C.client.redirectUri,
        code_verifier: verifier,
        scope: 'https://graph.microsoft.com/User.Read openid offline_access',
      });

    test('/common and /organizations: authorize lets any work account sign in; the code carries the user tenant and is redeemed there', async () => {
      for (const alias of ['common', 'organizations']) {
        const { page, res, verifier } = await codeAt(alias);
        assert.equal(page.statusCode, 200, page.body);
        assert.ok(page.body.includes('Meeting Client'));
        assert.ok(!page.body.includes('(Contoso)'), 'the page of /common names no tenant');
        assert.equal(res.statusCode, 302, res.body);
        const params = redirectParams(res);
        assert.equal(params.state, 'st');
        assert.equal(JSON.parse(Buffer.from(params.client_info!, 'base64url').toString()).utid, C.tenantId);
        const tok = await redeem(alias, params.code!, verifier);
        assert.equal(tok.statusCode, 200, tok.body);
        const claims = decodeJwt(tok.json().access_token);
        assert.equal(claims.tid, C.tenantId);
        assert.equal(claims.oid, C.alice.id);
        assert.equal(decodeJwt(tok.json().id_token).iss, `${new URL(endpoint).origin}/${C.tenantId}/v2.0`);
        // The refresh token works at the alias too.
        const refreshed = await post(alias, {
          grant_type: 'refresh_token',
          client_id: C.client.clientId,
          client_secret: C.client.secret,
          refresh_token: tok.json().refresh_token,
        });
        assert.equal(refreshed.statusCode, 200, refreshed.body);
      }
      // A code from /common is also redeemed at the user's own tenant, never at another's.
      const a = await codeAt('common');
      assert.equal((await redeem(C.tenantId, redirectParams(a.res).code!, a.verifier)).statusCode, 200);
      const b = await codeAt('common');
      refusal(await redeem(F.tenantId, redirectParams(b.res).code!, b.verifier), 400, 'unauthorized_client', 700016);
      const c = await codeAt('organizations');
      refusal(await redeem('consumers', redirectParams(c.res).code!, c.verifier), 400, 'invalid_request', 9002331);
    });

    test('/common authorize refusals: a single-tenant app AADSTS50194 (page); a user of a tenant without the app AADSTS700016 (at the app)', async () => {
      const single = await t.inject({
        method: 'GET',
        url: `/common/oauth2/v2.0/authorize?${new URLSearchParams({ client_id: C.portal.clientId, response_type: 'code', redirect_uri: C.portal.redirectUri, scope: 'openid' })}`,
      });
      assert.equal(single.statusCode, 400);
      assert.match(single.body, /AADSTS50194/);
      assert.equal(single.headers.location, undefined);
      const consumers = await t.inject({
        method: 'GET',
        url: `/consumers/oauth2/v2.0/authorize?${new URLSearchParams({ client_id: C.client.clientId, response_type: 'code', redirect_uri: C.client.redirectUri, scope: 'openid' })}`,
      });
      assert.match(consumers.body, /AADSTS9002331/);
      const dave = await codeAt('organizations', F.dave.upn);
      assert.equal(dave.res.statusCode, 302, dave.res.body);
      const params = redirectParams(dave.res);
      assert.equal(params.error, 'unauthorized_client');
      assert.match(params.error_description!, /^AADSTS700016: /);
      assert.equal(params.code, undefined);
      assert.equal(params.state, 'st');
      // A wrong password at /common: the same answer as at a tenant.
      const wrong = await signInThroughPage(
        t,
        `/common/oauth2/v2.0/authorize?${new URLSearchParams({ client_id: C.client.clientId, response_type: 'code', redirect_uri: C.client.redirectUri, scope: 'openid' })}`,
        { username: C.alice.upn, password: 'nope' },
      );
      assert.equal(wrong.res.statusCode, 200);
      assert.match(wrong.res.body, /Your account or password is incorrect/);
    });

    test('device code at /organizations: the user signs in on the device page and the device gets a token of the user tenant', async () => {
      for (const alias of ['organizations', 'common']) {
        const start = await t.inject({
          method: 'POST',
          url: `/${alias}/oauth2/v2.0/devicecode`,
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          payload: new URLSearchParams({
            client_id: C.client.clientId,
            scope: 'https://graph.microsoft.com/User.Read openid offline_access',
          }).toString(),
        });
        assert.equal(start.statusCode, 200, start.body);
        const dc = start.json();
        const poll = () => post(alias, { grant_type: 'device_code', client_id: C.client.clientId, device_code: dc.device_code });
        assert.equal((await poll()).json().error, 'authorization_pending');
        const entry = await t.inject({ method: 'GET', url: `/devicelogin?otc=${dc.user_code}` });
        const jar = cookies(entry);
        const signIn = await t.inject({
          method: 'POST',
          url: '/devicelogin',
          headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: cookieHeader(jar) },
          payload: form({ gm_csrf: formFields(entry.body).gm_csrf!, gm_action: 'code', otc: dc.user_code }),
        });
        assert.match(signIn.body, /Meeting Client/);
        const done = await t.inject({
          method: 'POST',
          url: '/devicelogin',
          headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: cookieHeader(jar) },
          payload: form({ ...formFields(signIn.body), gm_action: 'signin', username: C.bob.upn, password: DEMO.password }),
        });
        assert.match(done.body, /You have signed in to Meeting Client/);
        const tok = await poll();
        assert.equal(tok.statusCode, 200, tok.body);
        assert.equal(decodeJwt(tok.json().access_token).tid, C.tenantId);
        assert.equal(decodeJwt(tok.json().access_token).oid, C.bob.id);
      }
      // A single-tenant app at /organizations: AADSTS50194, as for the other grants.
      const single = await t.inject({
        method: 'POST',
        url: '/organizations/oauth2/v2.0/devicecode',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: new URLSearchParams({ client_id: C.portal.clientId, scope: 'openid' }).toString(),
      });
      refusal(single, 400, 'invalid_request', 50194);
    });

    // --- v1 endpoint ----------------------------------------------------------------------------------------

    test('v1 client credentials with resource=, secret and certificate: v1 shape with strings', async () => {
      const now = Math.floor(Date.now() / 1000);
      const res = await post(
        C.tenantId,
        {
          grant_type: 'client_credentials',
          client_id: C.scheduler.clientId,
          client_secret: C.scheduler.secret,
          resource: 'https://graph.microsoft.com',
        },
        'oauth2/token',
      );
      assert.equal(res.statusCode, 200, res.body);
      const body = res.json();
      assert.deepEqual(Object.keys(body).sort(), [
        'access_token',
        'expires_in',
        'expires_on',
        'ext_expires_in',
        'not_before',
        'resource',
        'token_type',
      ]);
      assert.equal(body.token_type, 'Bearer');
      assert.equal(body.resource, 'https://graph.microsoft.com');
      for (const k of ['expires_in', 'ext_expires_in', 'expires_on', 'not_before']) assert.equal(typeof body[k], 'string', k);
      assert.ok(Math.abs(Number(body.expires_on) - (now + Number(body.expires_in))) < 5);
      assert.equal(res.headers['cache-control'], 'no-store');
      const created = await graph(t, 'POST', `/v1.0/users/${C.bob.id}/onlineMeetings`, body.access_token, { subject: 'v1 token' });
      assert.equal(created.statusCode, 201);

      const v1aud = endpoint.replace('/oauth2/v2.0/token', '/oauth2/token');
      const withCert = await post(
        C.tenantId,
        {
          grant_type: 'client_credentials',
          client_id: C.scheduler.clientId,
          client_assertion_type: JWT_BEARER,
          client_assertion: await sign(cert, { aud: v1aud }),
          resource: 'https://graph.microsoft.com/',
        },
        'oauth2/token',
      );
      assert.equal(withCert.statusCode, 200, withCert.body);
      assert.equal(withCert.json().resource, 'https://graph.microsoft.com/');
      assert.equal(decodeJwt(withCert.json().access_token).appidacr, '2');
    });

    test('v1 password and refresh with resource=: refresh tokens always, every consented scope', async () => {
      const res = await post(
        C.tenantId,
        {
          grant_type: 'password',
          client_id: C.client.clientId,
          username: C.alice.upn,
          password: DEMO.password,
          resource: '00000003-0000-0000-c000-000000000000',
        },
        'oauth2/token',
      );
      assert.equal(res.statusCode, 200, res.body);
      const body = res.json();
      assert.equal(
        body.scope,
        'Calendars.ReadWrite MailboxSettings.Read OnlineMeetingArtifact.Read.All OnlineMeetingRecording.Read.All OnlineMeetingTranscript.Read.All OnlineMeetings.Read OnlineMeetings.ReadWrite User.Read',
      );
      assert.equal(body.resource, '00000003-0000-0000-c000-000000000000');
      assert.ok(body.refresh_token);
      assert.equal(body.id_token, undefined);
      const refreshed = await post(
        C.tenantId,
        {
          grant_type: 'refresh_token',
          client_id: C.client.clientId,
          refresh_token: body.refresh_token,
          resource: 'https://graph.microsoft.com',
        },
        'oauth2/token',
      );
      assert.equal(refreshed.statusCode, 200, refreshed.body);
      assert.equal(typeof refreshed.json().expires_on, 'string');
      const got = await graph(
        t,
        'GET',
        '/v1.0/me/onlineMeetings?$filter=' + encodeURIComponent("JoinWebUrl eq 'https://x'"),
        refreshed.json().access_token,
      );
      assert.notEqual(got.statusCode, 401);
      // v1 at /common, like v2.
      const common = await post(
        'common',
        { grant_type: 'refresh_token', client_id: C.client.clientId, refresh_token: body.refresh_token },
        'oauth2/token',
      );
      assert.equal(common.statusCode, 200, common.body);
    });

    test('v1 authorize: the browser goes on to the v2 sign-in with resource= as {resource}/.default; unknown resource 500011', async () => {
      const res = await t.inject({
        method: 'GET',
        url: `/${C.domain}/oauth2/authorize?response_type=code&client_id=${C.client.clientId}&redirect_uri=${encodeURIComponent('https://app.test/cb')}&resource=${encodeURIComponent('https://graph.microsoft.com')}&state=s1`,
      });
      assert.equal(res.statusCode, 302);
      const location = new URL(String(res.headers.location), 'https://x.test');
      assert.equal(location.pathname, `/${C.domain}/oauth2/v2.0/authorize`);
      assert.equal(location.searchParams.get('scope'), 'https://graph.microsoft.com/.default openid profile offline_access');
      assert.equal(location.searchParams.get('resource'), null);
      assert.equal(location.searchParams.get('state'), 's1');
      assert.equal(location.searchParams.get('redirect_uri'), 'https://app.test/cb');
      const bad = await t.inject({
        method: 'GET',
        url: `/${C.tenantId}/oauth2/authorize?client_id=${C.client.clientId}&resource=https%3A%2F%2Fvault.azure.net`,
      });
      refusal(bad, 400, 'invalid_resource', 500011);
      refusal(await t.inject({ method: 'GET', url: `/nowhere.test/oauth2/authorize?client_id=x` }), 400, 'invalid_request', 90002);
    });

    test('authorization code with a certificate, through the v1 authorize and redeemed at v2 and at v1 with resource=', async () => {
      await registerCertificate(t, C.portal.clientId, cert);
      const redirectUri = C.portal.redirectUri;
      const code = async () => {
        const p = pkce();
        const v1 = await t.inject({
          method: 'GET',
          url: `/${C.tenantId}/oauth2/authorize?${new URLSearchParams({ response_type: 'code', client_id: C.portal.clientId, redirect_uri: redirectUri, resource: 'https://graph.microsoft.com', state: 's', code_challenge: p.challenge, code_challenge_method: 'S256' })}`,
        });
        assert.equal(v1.statusCode, 302);
        const { res } = await signInThroughPage(t, String(v1.headers.location), { username: C.alice.upn, password: DEMO.password });
        assert.equal(res.statusCode, 302, res.body);
        return { code: redirectParams(res).code!, verifier: p.verifier };
      };
      const a = await code();
      const v2 = await post(C.tenantId, {
        grant_type: 'authorization_code',
        client_id: C.portal.clientId,
        client_assertion_type: JWT_BEARER,
        client_assertion: await sign(cert, { clientId: C.portal.clientId }),
        code: a.code,
        redirect_uri: redirectUri,
        code_verifier: a.verifier,
        scope: 'https://graph.microsoft.com/.default',
      });
      assert.equal(v2.statusCode, 200, v2.body);
      assert.equal(decodeJwt(v2.json().access_token).appidacr, '2');
      assert.equal(decodeJwt(v2.json().access_token).oid, C.alice.id);

      const b = await code();
      const v1 = await post(
        C.tenantId,
        {
          grant_type: 'authorization_code',
          client_id: C.portal.clientId,
          client_assertion_type: JWT_BEARER,
          client_assertion: await sign(cert, { clientId: C.portal.clientId, aud: endpoint.replace('/oauth2/v2.0/token', '/oauth2/token') }),
          code: b.code,
          redirect_uri: redirectUri,
          code_verifier: b.verifier,
          resource: 'https://graph.microsoft.com',
        },
        'oauth2/token',
      );
      assert.equal(v1.statusCode, 200, v1.body);
      assert.equal(typeof v1.json().expires_on, 'string');
      assert.equal(decodeJwt(v1.json().access_token).appidacr, '2');
      // A wrong key for the code redemption: AADSTS700027.
      const c = await code();
      const other = makeCertificate();
      const bad = await post(C.tenantId, {
        grant_type: 'authorization_code',
        client_id: C.portal.clientId,
        client_assertion_type: JWT_BEARER,
        client_assertion: await sign(other, { clientId: C.portal.clientId }),
        code: c.code,
        redirect_uri: redirectUri,
        code_verifier: c.verifier,
      });
      refusal(bad, 401, 'invalid_client', 700027);
    });

    test('v1 refresh without resource= keeps the resource of the original token (Graph or an exposed API)', async () => {
      const apiUri = `api://${C.api.clientId}`;
      const first = await post(
        C.tenantId,
        { grant_type: 'password', client_id: C.client.clientId, username: C.alice.upn, password: DEMO.password, resource: apiUri },
        'oauth2/token',
      );
      assert.equal(first.statusCode, 200, first.body);
      assert.equal(decodeJwt(first.json().access_token).aud, apiUri);
      const refreshed = await post(
        C.tenantId,
        { grant_type: 'refresh_token', client_id: C.client.clientId, refresh_token: first.json().refresh_token },
        'oauth2/token',
      );
      assert.equal(refreshed.statusCode, 200, refreshed.body);
      assert.equal(refreshed.json().resource, apiUri);
      assert.equal(decodeJwt(refreshed.json().access_token).aud, apiUri);
      assert.equal(refreshed.json().scope, C.api.scope);
      // And a Graph token's refresh stays Graph.
      const graphFirst = await post(
        C.tenantId,
        {
          grant_type: 'password',
          client_id: C.client.clientId,
          username: C.alice.upn,
          password: DEMO.password,
          resource: 'https://graph.microsoft.com',
        },
        'oauth2/token',
      );
      const graphRefreshed = await post(
        C.tenantId,
        { grant_type: 'refresh_token', client_id: C.client.clientId, refresh_token: graphFirst.json().refresh_token },
        'oauth2/token',
      );
      assert.equal(graphRefreshed.statusCode, 200, graphRefreshed.body);
      assert.equal(graphRefreshed.json().resource, 'https://graph.microsoft.com');
      assert.deepEqual(decodeJwt(graphRefreshed.json().access_token).aud, decodeJwt(graphFirst.json().access_token).aud);
    });

    test('v1 refusals: missing resource 900144, unknown resource 500011, unsupported grant 70003, wrong secret 7000215', async () => {
      const base = { grant_type: 'client_credentials', client_id: C.scheduler.clientId, client_secret: C.scheduler.secret };
      refusal(await post(C.tenantId, base, 'oauth2/token'), 400, 'invalid_request', 900144);
      refusal(
        await post(C.tenantId, { ...base, resource: 'https://management.azure.com/' }, 'oauth2/token'),
        400,
        'invalid_resource',
        500011,
      );
      refusal(
        await post(C.tenantId, { ...base, grant_type: 'device_code', resource: 'https://graph.microsoft.com' }, 'oauth2/token'),
        400,
        'unsupported_grant_type',
        70003,
      );
      refusal(
        await post(C.tenantId, { ...base, client_secret: 'nope-nope', resource: 'https://graph.microsoft.com' }, 'oauth2/token'),
        401,
        'invalid_client',
        7000215,
      );
      refusal(
        await post('nowhere.test', { ...base, resource: 'https://graph.microsoft.com' }, 'oauth2/token'),
        400,
        'invalid_request',
        90002,
      );
    });
  });
}

for (const kind of STORES) {
  describe(`${kind}: the v1 endpoint in deterministic mode`, () => {
    const START = Date.parse('2030-01-02T09:00:00Z');
    let t: TestApp;
    before(async () => {
      t = await startTestApp(kind, { deps: { clock: new EmulatorClock({ start: START, frozen: true }) } });
    });
    after(() => t.close());

    test('expires_on and not_before follow the service clock (CLOCK), not the host time', async () => {
      const res = await t.inject({
        method: 'POST',
        url: `/${C.tenantId}/oauth2/token`,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: new URLSearchParams({
          grant_type: 'client_credentials',
          client_id: C.scheduler.clientId,
          client_secret: C.scheduler.secret,
          resource: 'https://graph.microsoft.com',
        }).toString(),
      });
      assert.equal(res.statusCode, 200, res.body);
      const body = res.json();
      assert.equal(body.not_before, String(START / 1000));
      assert.equal(body.expires_on, String(START / 1000 + Number(body.expires_in)));
      const claims = decodeJwt(body.access_token);
      assert.equal(String(claims.exp), body.expires_on);
      assert.equal(String(claims.nbf), body.not_before);
    });
  });
}
