/**
 * TLS=off behind a TLS-terminating proxy (issue #11 item 3): discovery, issuer, token endpoint and the
 * id token's `iss` carry PUBLIC_URL's https scheme, whether the proxy keeps the client's Host or rewrites
 * it to the upstream address, and msal-node's client-credentials flow works through the proxy.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ensureLocalTls } from '../../src/http/local-tls.js';
import { DEMO_APP, startSdkWorker, type SdkWorker } from '../helpers/sdk-worker-client.js';
import { DEMO, startTestApp, type TestApp } from '../helpers/test-app.js';

const C = DEMO.contoso;

/** A minimal TLS-terminating reverse proxy to http://127.0.0.1:upstream, keeping or rewriting Host. */
async function startProxy(dir: string, rewriteHost: boolean) {
  const tls = await ensureLocalTls(dir);
  let upstream = 0;
  const server = https.createServer({ key: tls.key, cert: tls.cert }, (req, res) => {
    const headers = { ...req.headers, ...(rewriteHost ? { host: `127.0.0.1:${upstream}` } : {}) };
    const forward = http.request({ host: '127.0.0.1', port: upstream, method: req.method, path: req.url, headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    forward.on('error', () => res.writeHead(502).end());
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    caPath: tls.caPath!,
    setUpstream: (port: number) => (upstream = port),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

for (const rewriteHost of [false, true]) {
  describe(`TLS=off behind a TLS proxy that ${rewriteHost ? 'rewrites Host to the upstream' : 'keeps the Host'}`, () => {
    let proxyDir: string;
    let proxy: Awaited<ReturnType<typeof startProxy>>;
    let t: TestApp;
    let w: SdkWorker;
    let publicUrl: string;
    before(async () => {
      proxyDir = fs.mkdtempSync(path.join(os.tmpdir(), 'graph-meetings-proxy-'));
      proxy = await startProxy(proxyDir, rewriteHost);
      publicUrl = `https://localhost:${proxy.port}`;
      t = await startTestApp('sqlite', { listen: true, env: { TLS: 'off', PUBLIC_URL: publicUrl } });
      proxy.setUpstream((t.app.server.address() as AddressInfo).port);
      w = await startSdkWorker(proxy.caPath);
    });
    after(async () => {
      await w?.close();
      await t?.close();
      await proxy?.close();
      fs.rmSync(proxyDir, { recursive: true, force: true });
    });

    test('discovery through the proxy advertises PUBLIC_URL with https', async () => {
      const doc = await w.call('fetch', { url: `${publicUrl}/${C.domain}/v2.0/.well-known/openid-configuration`, method: 'GET' });
      assert.equal(doc.status, 200);
      const json = doc.body as Record<string, string>;
      assert.equal(json.issuer, `${publicUrl}/${C.tenantId}/v2.0`);
      assert.equal(json.token_endpoint, `${publicUrl}/${C.domain}/oauth2/v2.0/token`);
      assert.equal(json.jwks_uri, `${publicUrl}/${C.domain}/discovery/v2.0/keys`);
    });

    test("msal-node's client-credentials flow works through the proxy", async () => {
      const token = await w.call('msalAppToken', {
        origin: publicUrl,
        tenant: C.tenantId,
        clientId: DEMO_APP.clientId,
        secret: DEMO_APP.secret!,
      });
      assert.ok(token.split('.').length === 3);
    });

    test("the id token's iss is PUBLIC_URL's", async () => {
      const res = await t.inject({
        method: 'POST',
        url: `/${C.tenantId}/oauth2/v2.0/token`,
        headers: { 'content-type': 'application/x-www-form-urlencoded', host: rewriteHost ? '127.0.0.1:1234' : `localhost:${proxy.port}` },
        payload: new URLSearchParams({
          grant_type: 'password',
          client_id: C.client.clientId,
          username: C.alice.upn,
          password: DEMO.password,
          scope: 'https://graph.microsoft.com/OnlineMeetings.ReadWrite openid',
        }).toString(),
      });
      assert.equal(res.statusCode, 200, res.body);
      const idToken = (res.json() as { id_token: string }).id_token;
      const iss = (JSON.parse(Buffer.from(idToken.split('.')[1]!, 'base64url').toString()) as { iss: string }).iss;
      assert.equal(iss, `${publicUrl}/${C.tenantId}/v2.0`);
    });
  });
}
