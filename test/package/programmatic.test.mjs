// The programmatic server as a project that installed the tarball uses it (README "Using it from tests").
import assert from 'node:assert/strict';
import fs from 'node:fs';
import https from 'node:https';
import { after, before, test } from 'node:test';
import { GraphMeetingsServer } from 'graph-meetings';

let gm;
before(async () => {
  gm = await GraphMeetingsServer.create();
});
after(async () => {
  const dir = gm.dataDir;
  await gm.stop();
  assert.equal(fs.existsSync(dir), false, 'stop() removes the temporary data directory');
});

function call(method, path, { headers = {}, body } = {}) {
  return new Promise((resolve, reject) => {
    const req = https.request(`${gm.url}${path}`, { method, headers, ca: gm.ca }, (res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode, body: text ? JSON.parse(text) : undefined }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const appToken = async () =>
  (
    await call('POST', '/contoso.test/oauth2/v2.0/token', {
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: '30a2fcea-f295-468c-abe2-b48159ee8486',
        client_secret: 'scheduler-demo-secret',
        scope: 'https://graph.microsoft.com/.default',
      }).toString(),
    })
  ).body.access_token;

const meetings = async () => (await call('GET', '/_emulator/meetings', { headers: { authorization: `Bearer ${gm.adminKey}` } })).body.value;

test('create() serves on a free port with a CA, a CA file and an admin key', async () => {
  assert.match(gm.url, /^https:\/\/127\.0\.0\.1:\d+$/);
  assert.match(gm.ca, /BEGIN CERTIFICATE/);
  assert.equal(fs.readFileSync(gm.caFile, 'utf8'), gm.ca);
  assert.ok(gm.adminKey.length >= 16);
  assert.equal((await call('GET', '/_emulator/health')).status, 200);
});

test('a meeting created through Graph is listed, and reset() removes it', async () => {
  const token = await appToken();
  const res = await call('POST', '/v1.0/users/alice@contoso.test/onlineMeetings', {
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ subject: 'Programmatic' }),
  });
  assert.equal(res.status, 201);
  assert.deepEqual(
    (await meetings()).map((m) => m.meeting.subject),
    ['Programmatic'],
  );
  await gm.reset();
  assert.deepEqual(await meetings(), []);
  // The token issued before the reset still works: the demo directory's ids are the same after a reset.
  const again = await call('POST', '/v1.0/users/alice@contoso.test/onlineMeetings', {
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: '{}',
  });
  assert.equal(again.status, 201);
});
