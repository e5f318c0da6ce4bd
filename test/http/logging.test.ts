import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { DEMO, graph, startTestApp, type TestApp } from '../helpers/test-app.js';

const C = DEMO.contoso;

describe('no secret, password, token or key ever reaches the logs', () => {
  let t: TestApp;
  const lines: string[] = [];
  before(async () => {
    const sink = new Writable({
      write(chunk, _enc, done) {
        lines.push(String(chunk));
        done();
      },
    });
    t = await startTestApp('sqlite', { env: { LOG_LEVEL: 'trace' }, deps: { logStream: sink } });
  });
  after(() => t.close());

  test('after sign-ins, failures and Graph calls at trace level', async () => {
    const secrets: string[] = [DEMO.password, C.scheduler.secret, C.client.secret, 'wrong-secret-value-123', 'Wr0ng-Passw0rd!'];
    const form = (f: Record<string, string>) => ({
      method: 'POST' as const,
      url: `/${C.tenantId}/oauth2/v2.0/token`,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams(f).toString(),
    });
    const ok = await t.inject(
      form({
        grant_type: 'password',
        client_id: C.client.clientId,
        username: C.alice.upn,
        password: DEMO.password,
        scope: 'OnlineMeetings.ReadWrite offline_access',
      }),
    );
    const { access_token: userToken, refresh_token: refreshToken, id_token: idToken } = ok.json();
    secrets.push(userToken, refreshToken, idToken);
    await t.inject(
      form({
        grant_type: 'password',
        client_id: C.client.clientId,
        username: C.alice.upn,
        password: 'Wr0ng-Passw0rd!',
        scope: 'OnlineMeetings.ReadWrite',
      }),
    );
    await t.inject(
      form({
        grant_type: 'client_credentials',
        client_id: C.scheduler.clientId,
        client_secret: 'wrong-secret-value-123',
        scope: 'https://graph.microsoft.com/.default',
      }),
    );
    const basic = await t.inject({
      ...form({ grant_type: 'client_credentials', scope: 'https://graph.microsoft.com/.default' }),
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${C.scheduler.clientId}:${C.scheduler.secret}`).toString('base64')}`,
      },
    });
    const appToken = basic.json().access_token as string;
    secrets.push(appToken, Buffer.from(`${C.scheduler.clientId}:${C.scheduler.secret}`).toString('base64'));
    const m = (await graph(t, 'POST', '/v1.0/me/onlineMeetings', userToken, { subject: 'logged?' })).json();
    await graph(t, 'GET', `/v1.0/users/${C.carol.id}/onlineMeetings/${m.id}`, appToken); // 403
    await graph(t, 'GET', `/v1.0/me/onlineMeetings/${m.id}`, `${userToken}x`); // bad signature
    await graph(t, 'POST', '/v1.0/me/onlineMeetings', userToken, { startDateTime: 'not a date' }); // 400

    const log = lines.join('');
    assert.ok(lines.length > 10, 'requests were logged at all');
    assert.match(log, /"statusCode":401/);
    for (const secret of secrets) {
      assert.ok(!log.includes(secret), `a secret reached the logs: ${secret.slice(0, 12)}…`);
      // Not even the signature part of a token.
      if (secret.split('.').length === 3) assert.ok(!log.includes(secret.split('.')[2]!));
    }
    assert.doesNotMatch(log, /PRIVATE KEY|"d":"/, 'no key material');
    assert.doesNotMatch(log, /scrypt\$/, 'no password hashes');
  });
});
