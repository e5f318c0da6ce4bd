/**
 * IMPERSONATE=on with an unchanged app: @azure/identity's ClientSecretCredential with its defaults (no
 * authorityHost, instance discovery on) in a child process whose only changes are its environment,
 * HTTPS_PROXY (this service's PROXY_PORT) and NODE_EXTRA_CA_CERTS (the local CA). The token it gets from
 * "login.microsoftonline.com" must be one the Graph routes accept.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import https from 'node:https';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { HttpsProxyAgent } from 'https-proxy-agent';
import { startSdkWorker, type SdkWorker } from '../helpers/sdk-worker-client.js';
import { STORES } from '../helpers/stores.js';
import { DEMO, startTestApp, type TestApp } from '../helpers/test-app.js';

const C = DEMO.contoso;

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- parsed JSON under test
type Json = any;

function claims(jwt: string): Json {
  return JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString('utf8'));
}

for (const kind of STORES) {
  describe(`${kind}: @azure/identity with default settings, through the impersonation proxy`, () => {
    let t: TestApp;
    let w: SdkWorker;
    let agent: HttpsProxyAgent<string>;
    let ca: string;
    const requests: { method: string; host: string; url: string }[] = [];
    before(async () => {
      const sink = new Writable({
        write(chunk, _enc, done) {
          for (const line of String(chunk).split('\n').filter(Boolean)) {
            const entry = JSON.parse(line) as { msg?: string; req?: { method: string; host: string; url: string } };
            if (entry.msg === 'incoming request' && entry.req) requests.push(entry.req);
          }
          done();
        },
      });
      t = await startTestApp(kind, {
        listen: true,
        env: { IMPERSONATE: 'on', PROXY_PORT: '0', LOG_LEVEL: 'info' },
        deps: { logStream: sink },
      });
      const proxyUrl = `http://127.0.0.1:${t.app.graphMeetings.impersonation!.proxyPort()}`;
      // The child's proxy settings are exactly these (none inherited from the machine running the tests).
      w = await startSdkWorker(t.caPath, undefined, {
        HTTPS_PROXY: proxyUrl,
        https_proxy: proxyUrl,
        NO_PROXY: '',
        no_proxy: '',
        HTTP_PROXY: '',
        http_proxy: '',
      });
      // The worker loads every SDK before it answers: let that happen outside the timed call.
      await w.call('kiotaOnlineMeetingFields', {});
      agent = new HttpsProxyAgent(proxyUrl, { keepAlive: true });
      ca = fs.readFileSync(t.caPath, 'utf8');
    });
    after(async () => {
      agent?.destroy();
      await w?.close();
      await t?.close();
    });

    const graph = (method: string, path: string, token: string, body?: unknown) =>
      new Promise<{ status: number; body: Json }>((resolve, reject) => {
        const payload = body === undefined ? undefined : JSON.stringify(body);
        const req = https.request(
          `https://graph.microsoft.com${path}`,
          {
            method,
            agent,
            ca,
            headers: { authorization: `Bearer ${token}`, ...(payload ? { 'content-type': 'application/json' } : {}) },
          },
          (res) => {
            let text = '';
            res.setEncoding('utf8');
            res.on('data', (c: string) => (text += c));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : null }));
          },
        );
        req.on('error', reject);
        req.end(payload);
      });

    test('ClientSecretCredential (no authorityHost, no disableInstanceDiscovery) gets a token the Graph routes accept', async () => {
      const token = await w.call('identityDefaultAppToken', {
        tenant: C.tenantId,
        clientId: C.scheduler.clientId,
        secret: C.scheduler.secret,
      });
      const c = claims(token);
      assert.equal(c.iss, `https://sts.windows.net/${C.tenantId}/`);
      assert.equal(c.aud, 'https://graph.microsoft.com');
      assert.equal(c.appid, C.scheduler.clientId);

      // The credential reached this service as login.microsoftonline.com, through the proxy.
      const entra = requests.filter((r) => r.host === 'login.microsoftonline.com');
      assert.ok(
        entra.some((r) => r.method === 'POST' && r.url.startsWith(`/${C.tenantId}/oauth2/v2.0/token`)),
        JSON.stringify(requests),
      );
      assert.ok(
        requests.every((r) => r.host === 'login.microsoftonline.com'),
        `every request came through the proxy: ${JSON.stringify(requests)}`,
      );

      const subject = `identity defaults ${kind}`;
      const created = await graph('POST', `/v1.0/users/${C.alice.id}/onlineMeetings`, token, { subject });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      assert.equal(
        created.body['@odata.context'],
        `https://graph.microsoft.com/v1.0/$metadata#users('${C.alice.id}')/onlineMeetings/$entity`,
      );
      const read = await graph('GET', `/v1.0/users/${C.alice.id}/onlineMeetings/${created.body.id}`, token);
      assert.equal(read.status, 200, JSON.stringify(read.body));
      assert.equal(read.body.subject, subject);
    });

    test('UsernamePasswordCredential with default settings signs Alice in; Graph accepts her token as /me', async () => {
      const token = await w.call('identityDefaultUserToken', {
        tenant: C.tenantId,
        clientId: C.client.clientId,
        username: C.alice.upn,
        password: DEMO.password,
        scopes: ['https://graph.microsoft.com/OnlineMeetings.ReadWrite'],
      });
      const c = claims(token);
      assert.equal(c.oid, C.alice.id);
      assert.equal(c.iss, `https://sts.windows.net/${C.tenantId}/`);
      const created = await graph('POST', '/v1.0/me/onlineMeetings', token, { subject: `identity defaults, delegated ${kind}` });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      assert.ok(String(created.body.joinWebUrl).startsWith('https://teams.microsoft.com/l/meetup-join/'), created.body.joinWebUrl);
    });
  });
}
