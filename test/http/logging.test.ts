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

  test('credentials in query strings and join links never reach the log (issue #11 item 6)', async () => {
    lines.length = 0;
    const leak = ['Query-Secret-0123456789', 'Query-Passw0rd-xyz'];
    await t.inject({
      method: 'POST',
      url: `/${C.tenantId}/oauth2/v2.0/token?client_secret=${leak[0]}&password=${leak[1]}`,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ grant_type: 'client_credentials', client_id: C.scheduler.clientId }).toString(),
    });
    await t.inject({ method: 'GET', url: `/${C.domain}/v2.0/.well-known/openid-configuration?client_secret=${leak[0]}` });
    const token = await t.userToken();
    const m = (await graph(t, 'POST', '/v1.0/me/onlineMeetings', token, { subject: 'join link' })).json();
    const joinPath = new URL(m.joinWebUrl as string).pathname + new URL(m.joinWebUrl as string).search;
    const page = await t.inject({ method: 'GET', url: joinPath });
    assert.equal(page.statusCode, 200);
    const filter = encodeURIComponent(`JoinWebUrl eq '${m.joinWebUrl as string}'`);
    const found = await graph(t, 'GET', `/v1.0/me/onlineMeetings?$filter=${filter}`, token);
    assert.equal(found.statusCode, 200);
    const threadPart = (m.joinWebUrl as string).split('/l/meetup-join/')[1]!.split('/')[0]!;

    const log = lines.join('');
    assert.match(log, /oauth2\/v2\.0\/token"/, 'the token endpoint is logged by its path');
    assert.match(log, /\/l\/meetup-join\/\[masked\]/, 'page visits are logged, masked');
    assert.match(log, /\$filter=JoinWebUrl eq '\[masked\]'/, 'the filter is logged, masked');
    for (const secret of [...leak, threadPart, decodeURIComponent(threadPart), m.joinWebUrl as string]) {
      assert.ok(!log.includes(secret), `reached the log: ${secret.slice(0, 40)}`);
    }
  });
});
