import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { decodeJwt } from 'jose';
import { hashSecret } from '../../src/identity/secrets.js';
import { STORES } from '../helpers/stores.js';
import { DEMO, startTestApp, type TestApp } from '../helpers/test-app.js';

const C = DEMO.contoso;

for (const kind of STORES) {
  describe(`${kind}: emulated Entra ID token endpoint`, () => {
    let t: TestApp;
    before(async () => {
      t = await startTestApp(kind);
    });
    after(() => t.close());

    const post = (tenant: string, form: Record<string, string>, headers: Record<string, string> = {}) =>
      t.inject({
        method: 'POST',
        url: `/${tenant}/oauth2/v2.0/token?client-request-id=abc`,
        headers: { 'content-type': 'application/x-www-form-urlencoded;charset=utf-8', ...headers },
        payload: new URLSearchParams(form).toString(),
      });
    const appForm = (extra: Record<string, string> = {}) => ({
      grant_type: 'client_credentials',
      client_id: C.scheduler.clientId,
      client_secret: C.scheduler.secret,
      scope: 'https://graph.microsoft.com/.default',
      ...extra,
    });
    const userForm = (extra: Record<string, string> = {}) => ({
      grant_type: 'password',
      client_id: C.client.clientId,
      username: C.alice.upn,
      password: DEMO.password,
      scope: 'https://graph.microsoft.com/OnlineMeetings.ReadWrite openid profile offline_access',
      ...extra,
    });
    const assertEntraError = (res: { statusCode: number; json(): unknown }, status: number, error: string, code: number) => {
      assert.equal(res.statusCode, status);
      const body = res.json() as Record<string, unknown>;
      assert.equal(body.error, error);
      assert.deepEqual(body.error_codes, [code]);
      assert.match(
        String(body.error_description),
        new RegExp(
          `^AADSTS${code}: .* Trace ID: [0-9a-f-]{36} Correlation ID: \\S+ Timestamp: \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\dZ$`,
        ),
      );
      assert.match(String(body.trace_id), /^[0-9a-f-]{36}$/);
      assert.ok(body.correlation_id);
      assert.ok(body.timestamp);
    };

    test('a token request that is not form-encoded gets AADSTS900144 on the v2 and v1 endpoints', async () => {
      for (const path of ['oauth2/v2.0/token', 'oauth2/token']) {
        // JSON has a parser (Graph's), so the endpoint itself refuses it; text/plain has none, so the parser's
        // refusal is mapped to the same answer.
        for (const [type, payload] of [
          ['application/json', JSON.stringify(appForm({ resource: 'https://graph.microsoft.com' }))],
          ['text/plain', new URLSearchParams(appForm()).toString()],
        ] as const) {
          const res = await t.inject({ method: 'POST', url: `/${C.domain}/${path}`, headers: { 'content-type': type }, payload });
          assertEntraError(res, 400, 'invalid_request', 900144);
          assert.match((res.json() as { error_description: string }).error_description, /must be form-encoded/, `${path} ${type}`);
        }
      }
    });

    test('OIDC discovery has the four keys clients need, on the origin the client used (client-compat §1.5)', async () => {
      for (const tenant of [C.tenantId, C.domain]) {
        const res = await t.inject({
          method: 'GET',
          url: `/${tenant}/v2.0/.well-known/openid-configuration`,
          headers: { host: 'localhost:9999' },
        });
        assert.equal(res.statusCode, 200);
        const doc = res.json();
        assert.equal(doc.issuer, `https://localhost:9999/${C.tenantId}/v2.0`);
        assert.equal(doc.token_endpoint, `https://localhost:9999/${tenant}/oauth2/v2.0/token`);
        assert.equal(doc.jwks_uri, `https://localhost:9999/${tenant}/discovery/v2.0/keys`);
        assert.ok(doc.authorization_endpoint);
      }
      // A foreign Host header is not reflected.
      const foreign = await t.inject({
        method: 'GET',
        url: `/${C.tenantId}/v2.0/.well-known/openid-configuration`,
        headers: { host: 'evil.example:443' },
      });
      assert.doesNotMatch(foreign.json().issuer, /evil/);
    });

    test('unknown tenant: AADSTS90002', async () => {
      assertEntraError(await post('nowhere.test', appForm()), 400, 'invalid_request', 90002);
      const disc = await t.inject({ method: 'GET', url: '/nowhere.test/v2.0/.well-known/openid-configuration' });
      assertEntraError(disc, 400, 'invalid_request', 90002);
    });

    test('client_credentials: an RS256 JWT with Graph claims and only the granted roles', async () => {
      const res = await post(C.tenantId, appForm());
      assert.equal(res.statusCode, 200);
      assert.equal(res.headers['cache-control'], 'no-store');
      const body = res.json();
      assert.equal(body.token_type, 'Bearer');
      assert.equal(body.expires_in, 3599);
      const claims = decodeJwt(body.access_token);
      assert.equal(claims.aud, 'https://graph.microsoft.com');
      assert.equal(claims.iss, `https://sts.windows.net/${C.tenantId}/`);
      assert.equal(claims.tid, C.tenantId);
      assert.equal(claims.appid, C.scheduler.clientId);
      assert.equal(claims.idtyp, 'app');
      assert.equal(claims.sub, claims.oid);
      assert.deepEqual(claims.roles, [
        'Calendars.ReadWrite',
        'MailboxSettings.Read',
        'OnlineMeetingArtifact.Read.All',
        'OnlineMeetingRecording.Read.All',
        'OnlineMeetingTranscript.Read.All',
        'OnlineMeetings.ReadWrite.All',
      ]);
      assert.equal(claims.scp, undefined);
      for (const c of ['iat', 'nbf', 'exp']) assert.equal(typeof claims[c], 'number');
      const jwks = await t.inject({ method: 'GET', url: `/${C.domain}/discovery/v2.0/keys` });
      assert.equal(jwks.json().keys[0].kty, 'RSA');
      assert.equal(jwks.json().keys[0].d, undefined, 'the JWKS never carries the private part');
    });

    test('client secret in HTTP Basic works; a secret in both places must agree', async () => {
      const basic = `Basic ${Buffer.from(`${C.scheduler.clientId}:${C.scheduler.secret}`).toString('base64')}`;
      const { client_id: _id, client_secret: _s, ...rest } = appForm();
      const res = await post(C.domain, rest, { authorization: basic });
      assert.equal(res.statusCode, 200);
      const mismatch = await post(C.domain, { ...rest, client_id: C.client.clientId }, { authorization: basic });
      assertEntraError(mismatch, 401, 'invalid_client', 7000219);
    });

    test('wrong secret: 401 AADSTS7000215; unknown client: AADSTS700016; app of another tenant is unknown here', async () => {
      assertEntraError(await post(C.tenantId, appForm({ client_secret: 'not-the-secret' })), 401, 'invalid_client', 7000215);
      assertEntraError(
        await post(C.tenantId, appForm({ client_id: '00000000-0000-0000-0000-000000000001' })),
        400,
        'unauthorized_client',
        700016,
      );
      assertEntraError(
        await post(C.tenantId, appForm({ client_id: DEMO.fabrikam.scheduler.clientId, client_secret: DEMO.fabrikam.scheduler.secret })),
        400,
        'unauthorized_client',
        700016,
      );
    });

    test('client_credentials needs {resource}/.default', async () => {
      assertEntraError(
        await post(C.tenantId, appForm({ scope: 'https://graph.microsoft.com/OnlineMeetings.ReadWrite.All' })),
        400,
        'invalid_scope',
        1002012,
      );
    });

    test('unsupported grant and missing parameters', async () => {
      assertEntraError(await post(C.tenantId, appForm({ grant_type: 'urn:example:no-such-grant' })), 400, 'unsupported_grant_type', 70003);
      assertEntraError(await post(C.tenantId, { client_id: C.scheduler.clientId }), 400, 'invalid_request', 900144);
    });

    test('password grant: delegated token with every consented scope (as Entra, issue #13); id_token and client_info', async () => {
      const res = await post(C.tenantId, userForm());
      assert.equal(res.statusCode, 200);
      const body = res.json();
      assert.equal(
        body.scope,
        'https://graph.microsoft.com/Calendars.ReadWrite https://graph.microsoft.com/MailboxSettings.Read https://graph.microsoft.com/OnlineMeetingArtifact.Read.All https://graph.microsoft.com/OnlineMeetingRecording.Read.All https://graph.microsoft.com/OnlineMeetingTranscript.Read.All https://graph.microsoft.com/OnlineMeetings.Read https://graph.microsoft.com/OnlineMeetings.ReadWrite https://graph.microsoft.com/User.Read',
      );
      const claims = decodeJwt(body.access_token);
      assert.equal(claims.idtyp, 'user');
      assert.equal(
        claims.scp,
        'Calendars.ReadWrite MailboxSettings.Read OnlineMeetingArtifact.Read.All OnlineMeetingRecording.Read.All OnlineMeetingTranscript.Read.All OnlineMeetings.Read OnlineMeetings.ReadWrite User.Read',
      );
      assert.equal(claims.oid, C.alice.id);
      assert.equal(claims.upn, C.alice.upn);
      assert.equal(claims.name, C.alice.displayName);
      assert.equal(claims.roles, undefined);
      const id = decodeJwt(body.id_token);
      assert.equal(id.aud, C.client.clientId);
      assert.equal(id.preferred_username, C.alice.upn);
      assert.deepEqual(JSON.parse(Buffer.from(body.client_info, 'base64url').toString()), { uid: C.alice.id, utid: C.tenantId });
      assert.ok(body.refresh_token, 'offline_access yields a refresh token');

      const refreshed = await post(C.tenantId, {
        grant_type: 'refresh_token',
        client_id: C.client.clientId,
        refresh_token: body.refresh_token,
        scope: 'https://graph.microsoft.com/OnlineMeetings.Read offline_access',
      });
      assert.equal(refreshed.statusCode, 200);
      // Entra's rule (issue #13): a refresh asking for one consented scope still gets every consented scope.
      assert.equal(
        decodeJwt(refreshed.json().access_token).scp,
        'Calendars.ReadWrite MailboxSettings.Read OnlineMeetingArtifact.Read.All OnlineMeetingRecording.Read.All OnlineMeetingTranscript.Read.All OnlineMeetings.Read OnlineMeetings.ReadWrite User.Read',
      );
      assertEntraError(
        await post(C.tenantId, { grant_type: 'refresh_token', client_id: C.client.clientId, refresh_token: `${body.refresh_token}x` }),
        400,
        'invalid_grant',
        9002313,
      );
    });

    test('.default for a user gives every consented scope', async () => {
      const res = await post(C.tenantId, userForm({ scope: 'https://graph.microsoft.com/.default' }));
      assert.deepEqual(String(decodeJwt(res.json().access_token).scp).split(' ').sort(), [
        'Calendars.ReadWrite',
        'MailboxSettings.Read',
        'OnlineMeetingArtifact.Read.All',
        'OnlineMeetingRecording.Read.All',
        'OnlineMeetingTranscript.Read.All',
        'OnlineMeetings.Read',
        'OnlineMeetings.ReadWrite',
        'User.Read',
      ]);
    });

    test('wrong password and unknown user get the same AADSTS50126; user of another tenant too', async () => {
      assertEntraError(await post(C.tenantId, userForm({ password: 'wrong' })), 400, 'invalid_grant', 50126);
      assertEntraError(await post(C.tenantId, userForm({ username: 'nobody@contoso.test' })), 400, 'invalid_grant', 50126);
      assertEntraError(await post(C.tenantId, userForm({ username: DEMO.fabrikam.dave.upn })), 400, 'invalid_grant', 50126);
    });

    test('a scope that is not consented: AADSTS65001; an unknown scope: AADSTS70011', async () => {
      assertEntraError(
        await post(C.tenantId, userForm({ scope: 'https://graph.microsoft.com/VirtualAppointment.Read' })),
        400,
        'invalid_grant',
        65001,
      );
      assertEntraError(await post(C.tenantId, userForm({ scope: 'https://graph.microsoft.com/Mail.Send' })), 400, 'invalid_scope', 70011);
    });

    test('a confidential client that gives a wrong secret in ROPC is refused', async () => {
      assertEntraError(await post(C.tenantId, userForm({ client_secret: 'nope-nope' })), 401, 'invalid_client', 7000215);
    });

    test('secrets and passwords are stored only as hashes', async () => {
      const db = t.app.graphMeetings.store.db;
      const secrets = await db.selectFrom('application_secrets').select(['secret_hash', 'hint']).execute();
      assert.ok(secrets.some((s) => s.secret_hash === hashSecret(C.scheduler.secret)));
      for (const s of secrets)
        assert.ok(!([C.scheduler.secret, C.client.secret, DEMO.fabrikam.scheduler.secret] as string[]).includes(s.secret_hash));
      const users = await db.selectFrom('users').select(['password_hash']).execute();
      for (const u of users) {
        assert.match(u.password_hash, /^scrypt\$16384\$8\$1\$/);
        assert.ok(!u.password_hash.includes(DEMO.password));
      }
    });
  });
}
