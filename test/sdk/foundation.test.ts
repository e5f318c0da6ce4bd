/**
 * The official Microsoft clients against the real server: @azure/identity, @azure/msal-node,
 * @microsoft/microsoft-graph-client v3 and the Kiota @microsoft/msgraph-sdk, app-only and delegated.
 * They run in a child process (test/sdk/worker.ts) started with NODE_EXTRA_CA_CERTS pointing at the
 * server's local CA, the only way a real app trusts it without code changes (client-compat §1.3, §4.7).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startSdkWorker, SdkCallError, type SdkErrorSummary, type SdkWorker, DEMO_ALICE, DEMO_APP } from '../helpers/sdk-worker-client.js';
import { STORES } from '../helpers/stores.js';
import { DEMO, startTestApp, type TestApp } from '../helpers/test-app.js';

const C = DEMO.contoso;
const GRAPH = 'https://graph.microsoft.com';
const APP = DEMO_APP;
const ALICE = DEMO_ALICE;

type Json = Record<string, unknown>;

/** The payload of a JWT (clients treat it as opaque; the test peeks to check who it was issued to). */
function claims(jwt: string): Json {
  const parts = jwt.split('.');
  assert.equal(parts.length, 3, `not a JWT: ${jwt.slice(0, 40)}`);
  return JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as Json;
}

/** Awaits a call that must fail and returns the summary of what the SDK threw. */
async function refused(promise: Promise<unknown>): Promise<SdkErrorSummary> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof SdkCallError, `expected an SDK error, got ${String(err)}`);
    return err.sdkError;
  }
  assert.fail('expected the call to be refused');
}

/** Reads a nested property, e.g. at(meeting, 'participants', 'organizer'). */
function at(value: unknown, ...keys: string[]): unknown {
  return keys.reduce<unknown>((v, k) => (v !== null && typeof v === 'object' ? (v as Json)[k] : undefined), value);
}

function organizerId(meeting: unknown): unknown {
  return at(meeting, 'participants', 'organizer', 'identity', 'user', 'id');
}

for (const kind of STORES) {
  describe(`${kind}: official Microsoft clients`, () => {
    let t: TestApp;
    let w: SdkWorker;
    let origin: string;
    before(async () => {
      t = await startTestApp(kind, { listen: true });
      origin = t.origin;
      w = await startSdkWorker(t.caPath);
    });
    after(async () => {
      await w?.close();
      await t?.close();
    });
    const window = { startDateTime: '2030-05-06T10:00:00Z', endDateTime: '2030-05-06T11:00:00Z' };

    test('@azure/identity ClientSecretCredential + Kiota: POST /users/{alice}/onlineMeetings', async () => {
      const token = await w.call('identityAppToken', {
        origin,
        tenant: C.tenantId,
        clientId: C.scheduler.clientId,
        secret: C.scheduler.secret,
      });
      const c = claims(token);
      assert.equal(c.tid, C.tenantId);
      assert.equal(c.appid, C.scheduler.clientId);
      assert.ok(Array.isArray(c.roles) && (c.roles as unknown[]).includes('OnlineMeetings.ReadWrite.All'), JSON.stringify(c.roles));

      const subject = `Kiota app-only ${kind}`;
      const { body, populated } = await w.call('kiotaCreate', { origin, cred: APP, userId: C.alice.id, body: { subject, ...window } });
      assert.equal(typeof body.id, 'string');
      assert.ok((body.id as string).length > 0);
      assert.ok(String(body.joinWebUrl).startsWith(`${origin}/`), String(body.joinWebUrl));
      assert.equal(body.subject, subject);
      assert.equal(body.startDateTime, '2030-05-06T10:00:00.000Z');
      assert.equal(body.endDateTime, '2030-05-06T11:00:00.000Z');
      assert.equal(organizerId(body), C.alice.id);
      for (const f of ['id', 'joinWebUrl', 'subject', 'startDateTime', 'endDateTime', 'participants', 'chatInfo']) {
        assert.ok(populated.includes(f), `Kiota did not populate ${f}: ${populated.join(', ')}`);
      }
      assert.match(String(at(body, 'additionalData', '@odata.context')), /\$metadata#users\(/);

      const got = await w.call('kiotaGet', { origin, cred: APP, userId: C.alice.id, meetingId: body.id as string });
      assert.equal(got.body.id, body.id);
      assert.equal(got.body.subject, subject);
      assert.equal(got.body.joinWebUrl, body.joinWebUrl);
    });

    test('graph-client v3 + ClientSecretCredential: POST /users/{bob}/onlineMeetings', async () => {
      const subject = `v3 app-only ${kind}`;
      const created = (await w.call('v3Request', {
        origin,
        cred: APP,
        method: 'post',
        path: `/users/${C.bob.id}/onlineMeetings`,
        body: { subject, ...window },
      })) as Json;
      assert.equal(created.subject, subject);
      assert.equal(organizerId(created), C.bob.id);
      assert.ok(String(created.joinWebUrl).startsWith(`${origin}/`), String(created.joinWebUrl));
      assert.match(String(created['@odata.context']), /\$metadata#users\(/);
      assert.equal(new Date(created.startDateTime as string).toISOString(), '2030-05-06T10:00:00.000Z');

      const got = (await w.call('v3Request', {
        origin,
        cred: APP,
        method: 'get',
        path: `/users/${C.bob.id}/onlineMeetings/${String(created.id)}`,
      })) as Json;
      assert.equal(got.id, created.id);
      assert.equal(got.subject, subject);
    });

    test('delegated: UsernamePasswordCredential + v3 POST /me/onlineMeetings', async () => {
      const token = await w.call('identityUserToken', {
        origin,
        tenant: C.tenantId,
        clientId: C.client.clientId,
        username: C.alice.upn,
        password: DEMO.password,
        scopes: [`${GRAPH}/OnlineMeetings.ReadWrite`],
      });
      const c = claims(token);
      assert.equal(c.tid, C.tenantId);
      assert.equal(c.oid, C.alice.id);
      assert.match(String(c.scp), /(^| )OnlineMeetings\.ReadWrite( |$)/);

      const subject = `v3 delegated ${kind}`;
      const created = (await w.call('v3Request', {
        origin,
        cred: ALICE,
        method: 'post',
        path: '/me/onlineMeetings',
        body: { subject },
      })) as Json;
      assert.equal(created.subject, subject);
      assert.equal(organizerId(created), C.alice.id);
      assert.ok(String(created.joinWebUrl).startsWith(`${origin}/`), String(created.joinWebUrl));
    });

    test('delegated: UsernamePasswordCredential + Kiota graph.me.onlineMeetings.post', async () => {
      const subject = `Kiota delegated ${kind}`;
      const { body, populated } = await w.call('kiotaCreate', { origin, cred: ALICE, body: { subject, ...window } });
      assert.equal(body.subject, subject);
      assert.equal(organizerId(body), C.alice.id);
      assert.ok(String(body.joinWebUrl).startsWith(`${origin}/`), String(body.joinWebUrl));
      assert.ok(populated.includes('joinWebUrl'));

      const got = await w.call('kiotaGet', { origin, cred: ALICE, meetingId: body.id as string });
      assert.equal(got.body.id, body.id);
      assert.equal(organizerId(got.body), C.alice.id);
    });

    test('@azure/msal-node ConfidentialClientApplication: app token usable on Graph', async () => {
      const token = await w.call('msalAppToken', {
        origin,
        tenant: C.tenantId,
        clientId: C.scheduler.clientId,
        secret: C.scheduler.secret,
      });
      const c = claims(token);
      assert.equal(c.tid, C.tenantId);
      assert.equal(c.appid, C.scheduler.clientId);

      const subject = `msal-node ${kind}`;
      const res = await w.call('fetch', {
        url: `${origin}/v1.0/users/${C.alice.id}/onlineMeetings`,
        method: 'POST',
        token,
        body: { subject },
      });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      assert.match(res.headers['content-type'] ?? '', /^application\/json/);
      assert.equal(at(res.body, 'subject'), subject);
      assert.equal(organizerId(res.body), C.alice.id);
    });

    test('refused: wrong client secret (AADSTS7000215)', async () => {
      const e = await refused(
        w.call('identityAppToken', { origin, tenant: C.tenantId, clientId: C.scheduler.clientId, secret: 'not-the-secret' }),
      );
      assert.equal(e.kind, 'AuthenticationError');
      assert.equal(e.code, 'invalid_client');
      assert.match(e.message, /AADSTS7000215/);
    });

    test('refused: delegated scope the app has no consent for (AADSTS65001)', async () => {
      const e = await refused(
        w.call('identityUserToken', {
          origin,
          tenant: C.tenantId,
          clientId: C.client.clientId,
          username: C.alice.upn,
          password: DEMO.password,
          scopes: [`${GRAPH}/VirtualAppointment.Read`],
        }),
      );
      assert.equal(e.kind, 'AuthenticationError');
      assert.match(e.message, /AADSTS65001/);
    });

    test('refused: wrong password (AADSTS50126)', async () => {
      const e = await refused(
        w.call('identityUserToken', {
          origin,
          tenant: C.tenantId,
          clientId: C.client.clientId,
          username: C.alice.upn,
          password: 'Wrong-Passw0rd!',
          scopes: [`${GRAPH}/OnlineMeetings.ReadWrite`],
        }),
      );
      assert.equal(e.kind, 'AuthenticationError');
      assert.equal(e.code, 'invalid_grant');
      assert.match(e.message, /AADSTS50126/);
    });

    test('refused: Kiota app-only create for Carol (no access policy) is an ODataError 403', async () => {
      const e = await refused(w.call('kiotaCreate', { origin, cred: APP, userId: C.carol.id, body: { subject: 'nope' } }));
      assert.equal(e.kind, 'ODataError');
      assert.equal(e.statusCode, 403);
      assert.equal(e.code, 'Forbidden');
      assert.equal(e.message, 'No application access policy found for this app.');
      assert.match(e.requestId ?? '', /^[0-9a-f-]{36}$/);
    });

    test('refused: v3 app-only create for Carol is a GraphError 403 with a request id', async () => {
      const e = await refused(
        w.call('v3Request', { origin, cred: APP, method: 'post', path: `/users/${C.carol.id}/onlineMeetings`, body: { subject: 'nope' } }),
      );
      assert.equal(e.kind, 'GraphError');
      assert.equal(e.statusCode, 403);
      assert.equal(e.code, 'Forbidden');
      assert.equal(e.message, 'No application access policy found for this app.');
      assert.ok(e.requestId && e.requestId.length > 0, 'requestId from innerError');
    });

    test('refused: v3 app-only token on /me is 400 Request_BadRequest', async () => {
      const e = await refused(
        w.call('v3Request', { origin, cred: APP, method: 'post', path: '/me/onlineMeetings', body: { subject: 'nope' } }),
      );
      assert.equal(e.kind, 'GraphError');
      assert.equal(e.statusCode, 400);
      assert.equal(e.code, 'Request_BadRequest');
      assert.ok(e.requestId && e.requestId.length > 0);
    });
  });
}
