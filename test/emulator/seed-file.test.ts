import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { SeedFileError, parseSeedFile } from '../../src/emulator/seed-file.js';
import { STORES } from '../helpers/stores.js';
import { DEMO, graph, startTestApp, type TestApp } from '../helpers/test-app.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- parsed JSON under test
type Json = any;
const KEY = 'seed-file-admin-key-0123';

export const SEED = {
  tenants: [
    {
      displayName: 'Northwind',
      domain: 'northwind.test',
      users: [
        { upn: 'nina@northwind.test', displayName: 'Nina North', password: 'Nina-Passw0rd!' },
        { id: '6f1c7f8e-8a4f-4d3b-9a55-0d5a4a6a3e11', upn: 'omar@northwind.test', displayName: 'Omar Oak', password: 'Omar-Passw0rd!' },
      ],
      apps: [
        {
          clientId: '0b6f8f2e-6f3c-4e52-8d51-5a1f8c3e9a01',
          displayName: 'Northwind Scheduler',
          secrets: ['northwind-secret-1', 'northwind-secret-2'],
          permissions: ['OnlineMeetings.ReadWrite.All'],
        },
        { displayName: 'Northwind Client', publicClient: true, consentedScopes: ['OnlineMeetings.ReadWrite'] },
      ],
      policies: [{ name: 'Scheduler', apps: ['0b6f8f2e-6f3c-4e52-8d51-5a1f8c3e9a01'], users: ['nina@northwind.test'] }],
      templates: [{ displayName: 'No recording', values: { allowRecording: false }, locked: ['allowRecording'] }],
    },
  ],
};

function writeSeed(content: unknown): { file: string; dir: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gm-seed-'));
  const file = path.join(dir, 'seed.json');
  fs.writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
  return { file, dir };
}

for (const kind of STORES) {
  describe(`${kind}: SEED_FILE`, () => {
    let t: TestApp;
    let seed: { file: string; dir: string };
    before(async () => {
      seed = writeSeed(SEED);
      t = await startTestApp(kind, { env: { SEED_FILE: seed.file, SEED_DEMO_DIRECTORY: 'false', ADMIN_KEY: KEY } });
    });
    after(async () => {
      await t.close();
      fs.rmSync(seed.dir, { recursive: true, force: true });
    });

    const token = async (form: Record<string, string>) =>
      t.inject({
        method: 'POST',
        url: '/northwind.test/oauth2/v2.0/token',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: new URLSearchParams(form).toString(),
      });

    test('tenants, users, apps, secrets, grants, policies and templates work as declared; the demo directory is not there', async () => {
      for (const secret of ['northwind-secret-1', 'northwind-secret-2']) {
        const res = await token({
          grant_type: 'client_credentials',
          client_id: '0b6f8f2e-6f3c-4e52-8d51-5a1f8c3e9a01',
          client_secret: secret,
          scope: 'https://graph.microsoft.com/.default',
        });
        assert.equal(res.statusCode, 200, res.body);
      }
      const appToken = (
        (
          await token({
            grant_type: 'client_credentials',
            client_id: '0b6f8f2e-6f3c-4e52-8d51-5a1f8c3e9a01',
            client_secret: 'northwind-secret-1',
            scope: 'https://graph.microsoft.com/.default',
          })
        ).json() as Json
      ).access_token;
      // The policy is granted to Nina, not to Omar.
      assert.equal((await graph(t, 'POST', '/v1.0/users/nina@northwind.test/onlineMeetings', appToken, {})).statusCode, 201);
      assert.equal((await graph(t, 'POST', '/v1.0/users/omar@northwind.test/onlineMeetings', appToken, {})).statusCode, 403);
      // The public client with consented delegated scopes signs Nina in with her password.
      const dir = (
        await t.inject({ method: 'GET', url: '/_emulator/directory', headers: { authorization: `Bearer ${KEY}` } })
      ).json() as Json;
      assert.deepEqual(
        dir.tenants.map((x: Json) => x.domains[0]),
        ['northwind.test'],
      );
      const client = dir.tenants[0].applications.find((a: Json) => a.displayName === 'Northwind Client');
      assert.equal(client.publicClient, true);
      const ropc = await token({
        grant_type: 'password',
        client_id: client.clientId,
        username: 'nina@northwind.test',
        password: 'Nina-Passw0rd!',
        scope: 'https://graph.microsoft.com/OnlineMeetings.ReadWrite',
      });
      assert.equal(ropc.statusCode, 200, ropc.body);
      const omar = dir.tenants[0].users.find((u: Json) => u.userPrincipalName === 'omar@northwind.test');
      assert.equal(omar.id, '6f1c7f8e-8a4f-4d3b-9a55-0d5a4a6a3e11');
      // The locked template applies.
      const tpl = await t.inject({ method: 'GET', url: '/_emulator/export', headers: { authorization: `Bearer ${KEY}` } });
      const template = (tpl.json() as Json).tables.meeting_templates[0];
      const created = await graph(t, 'POST', '/v1.0/users/nina@northwind.test/onlineMeetings', appToken, {
        meetingTemplateId: template.id,
        allowRecording: true,
      });
      assert.equal(created.statusCode, 201, created.body);
      assert.equal((created.json() as Json).allowRecording, false);
      assert.equal((await t.inject({ method: 'POST', url: '/contoso.test/oauth2/v2.0/token' })).statusCode, 400);
    });

    test('a reset loads the seed file again, with the same ids', async () => {
      const before = (
        await t.inject({ method: 'GET', url: '/_emulator/directory', headers: { authorization: `Bearer ${KEY}` } })
      ).json() as Json;
      const res = await t.inject({ method: 'POST', url: '/_emulator/reset', headers: { authorization: `Bearer ${KEY}` } });
      assert.equal(res.statusCode, 204);
      const after = (
        await t.inject({ method: 'GET', url: '/_emulator/directory', headers: { authorization: `Bearer ${KEY}` } })
      ).json() as Json;
      const ids = (d: Json) =>
        [d.tenants[0].id, ...d.tenants[0].users.map((u: Json) => u.id), ...d.tenants[0].applications.map((a: Json) => a.id)].sort();
      assert.deepEqual(ids(after), ids(before));
    });
  });
}

describe('SEED_FILE validation', () => {
  const bad: Array<[string, unknown, RegExp]> = [
    ['not JSON', '{"tenants": [', /not JSON/],
    ['no tenants', {}, /\/tenants/],
    ['an unknown property', { tenants: [{ displayName: 'X', domain: 'x.test', colour: 'red' }] }, /\/tenants\/0/],
    [
      'a short secret',
      { tenants: [{ displayName: 'X', domain: 'x.test', apps: [{ displayName: 'A', secrets: ['short'] }] }] },
      /\/tenants\/0\/apps\/0\/secrets\/0/,
    ],
    [
      'a client id that is no GUID',
      { tenants: [{ displayName: 'X', domain: 'x.test', apps: [{ displayName: 'A', clientId: 'abc' }] }] },
      /clientId/,
    ],
    [
      'an unknown meeting option',
      { tenants: [{ displayName: 'X', domain: 'x.test', templates: [{ displayName: 'T', values: { allowFun: true } }] }] },
      /allowFun: not a meeting option/,
    ],
    [
      'a mistyped meeting option',
      { tenants: [{ displayName: 'X', domain: 'x.test', templates: [{ displayName: 'T', values: { allowRecording: 'no' } }] }] },
      /allowRecording: must be of type boolean/,
    ],
  ];
  for (const [what, content, message] of bad) {
    test(`${what}: a clear error naming the place`, async () => {
      await assert.rejects(
        () => parseSeedFile(typeof content === 'string' ? content : JSON.stringify(content), '/x/seed.json'),
        (err: unknown) => {
          assert.ok(err instanceof SeedFileError);
          assert.match(err.message, /^SEED_FILE \/x\/seed.json is not valid/);
          assert.match(err.message, message);
          return true;
        },
      );
    });
  }

  for (const kind of STORES) {
    test(`${kind}: a seed the directory refuses (a policy for a user who does not exist) stops the start with its place`, async () => {
      const seed = writeSeed({
        tenants: [
          {
            displayName: 'X',
            domain: 'x.test',
            apps: [{ clientId: DEMO.contoso.scheduler.clientId.replace('30a', '40a'), displayName: 'A' }],
            policies: [{ name: 'P', apps: [DEMO.contoso.scheduler.clientId.replace('30a', '40a')], users: ['ghost@x.test'] }],
          },
        ],
      });
      try {
        await assert.rejects(startTestApp(kind, { env: { SEED_FILE: seed.file, SEED_DEMO_DIRECTORY: 'false' } }), (err: unknown) => {
          assert.ok(err instanceof SeedFileError, String(err));
          assert.match(err.message, /\/tenants\/0\/policies\/0: .*ghost@x.test/);
          return true;
        });
      } finally {
        fs.rmSync(seed.dir, { recursive: true, force: true });
      }
    });
  }

  test('a missing file is a SeedFileError', async () => {
    await assert.rejects(
      startTestApp('sqlite', { env: { SEED_FILE: '/nonexistent/seed.json' } }),
      /SEED_FILE \/nonexistent\/seed.json is not valid:\n {2}- cannot be read \(ENOENT\)/,
    );
  });
});
