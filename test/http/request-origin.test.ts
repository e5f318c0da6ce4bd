import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DEMO, startTestApp, type TestApp } from '../helpers/test-app.js';

const C = DEMO.contoso;

describe('the Host header sets only a valid port on loopback names (issue #11 item 8)', () => {
  let t: TestApp;
  const PUBLIC = 'https://meetings.example.com';
  before(async () => {
    t = await startTestApp('sqlite', { env: { PUBLIC_URL: PUBLIC } });
  });
  after(() => t.close());
  const discovery = async (host: string) => {
    const res = await t.inject({ method: 'GET', url: `/${C.domain}/v2.0/.well-known/openid-configuration`, headers: { host } });
    assert.equal(res.statusCode, 200);
    return res.json() as Record<string, string>;
  };

  for (const host of ['localhost:99999999999999999999', 'localhost:0', 'localhost:65536', '127.0.0.1:00443', '[::1]:70000', 'localhost:']) {
    test(`Host: ${host} gets PUBLIC_URL's origin`, async () => {
      const doc = await discovery(host);
      assert.equal(doc.issuer, `${PUBLIC}/${C.tenantId}/v2.0`);
      assert.equal(doc.token_endpoint, `${PUBLIC}/${C.domain}/oauth2/v2.0/token`);
    });
  }

  for (const host of ['localhost:1', 'localhost:65535', '127.0.0.1:8443', '[::1]:443', 'localhost']) {
    test(`Host: ${host} (a port mapping) is honoured`, async () => {
      const doc = await discovery(host);
      assert.equal(doc.issuer, `https://${host}/${C.tenantId}/v2.0`);
    });
  }

  test("an id token's iss never carries an invalid port", async () => {
    const res = await t.inject({
      method: 'POST',
      url: `/${C.tenantId}/oauth2/v2.0/token`,
      headers: { 'content-type': 'application/x-www-form-urlencoded', host: 'localhost:99999999999999999999' },
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
    const { iss } = JSON.parse(Buffer.from(idToken.split('.')[1]!, 'base64url').toString()) as { iss: string };
    assert.equal(iss, `${PUBLIC}/${C.tenantId}/v2.0`);
  });
});
