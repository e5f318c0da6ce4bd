import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { buildApp } from '../../src/app.js';
import { ConfigError, loadConfig } from '../../src/config/config.js';
import { STATE_FORMAT } from '../../src/emulator/state.js';
import { STORES } from '../helpers/stores.js';
import { DEMO, graph, startTestApp, type TestApp } from '../helpers/test-app.js';

const C = DEMO.contoso;
const KEY = 'test-admin-key-0123456789';
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- parsed JSON under test
type Json = any;

for (const kind of STORES) {
  describe(`${kind}: the emulator control API (/_emulator/)`, () => {
    let t: TestApp;
    before(async () => {
      t = await startTestApp(kind, { env: { ADMIN_KEY: KEY } });
    });
    after(() => t.close());

    const admin = (method: 'GET' | 'POST', url: string, body?: unknown, key: string | null = KEY) =>
      t.inject({
        method,
        url,
        headers: {
          ...(key !== null ? { authorization: `Bearer ${key}` } : {}),
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        ...(body !== undefined ? { payload: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
      });
    const createMeeting = async (subject: string, upn: string = C.alice.upn) => {
      const token = upn === C.alice.upn ? await t.userToken() : await t.userToken(upn);
      const res = await graph(t, 'POST', '/v1.0/me/onlineMeetings', token, { subject });
      assert.equal(res.statusCode, 201, res.body);
      return res.json() as Json;
    };

    test('GET /_emulator/health answers 200 without authentication', async () => {
      const res = await t.inject({ method: 'GET', url: '/_emulator/health' });
      assert.equal(res.statusCode, 200);
      assert.deepEqual(res.json(), { status: 'ok' });
    });

    for (const [method, url] of [
      ['POST', '/_emulator/reset'],
      ['GET', '/_emulator/export'],
      ['POST', '/_emulator/import'],
      ['GET', '/_emulator/meetings'],
      ['GET', '/_emulator/clock'],
      ['POST', '/_emulator/clock'],
      ['GET', '/_emulator/directory'],
    ] as const) {
      test(`${method} ${url} without the admin key or with a wrong one: 401 saying what is expected`, async () => {
        for (const key of [null, 'wrong-key-wrong-key-wrong', `${KEY}x`, C.scheduler.secret]) {
          const res = await admin(method, url, method === 'POST' ? {} : undefined, key);
          assert.equal(res.statusCode, 401, `${String(key)}: ${res.body}`);
          const body = res.json() as Json;
          assert.equal(body.error.code, 'AdminKeyRequired');
          assert.match(body.error.message, /Authorization: Bearer <admin key>/);
          assert.match(String(res.headers['www-authenticate']), /^Bearer/);
        }
      });
    }

    test('a Graph access token is not an admin key', async () => {
      const res = await admin('GET', '/_emulator/meetings', undefined, await t.appToken());
      assert.equal(res.statusCode, 401);
    });

    test('GET /_emulator/meetings lists stored meetings, filtered by tenant and organizer', async () => {
      await admin('POST', '/_emulator/reset');
      const a = await createMeeting('Alice 1');
      const b = await createMeeting('Bob 1', C.bob.upn);
      const all = (await admin('GET', '/_emulator/meetings')).json() as Json;
      assert.deepEqual(all.value.map((m: Json) => m.meeting.id).sort(), [a.id, b.id].sort());
      const entry = all.value.find((m: Json) => m.meeting.id === a.id);
      assert.equal(entry.tenantId, C.tenantId);
      assert.equal(entry.organizerId, C.alice.id);
      assert.equal(entry.meeting.subject, 'Alice 1');
      assert.equal(entry.meeting.joinWebUrl, a.joinWebUrl);
      for (const organizer of [C.alice.id, C.alice.upn, C.alice.upn.toUpperCase()]) {
        const res = (await admin('GET', `/_emulator/meetings?organizer=${encodeURIComponent(organizer)}`)).json() as Json;
        assert.deepEqual(
          res.value.map((m: Json) => m.meeting.subject),
          ['Alice 1'],
          organizer,
        );
      }
      for (const tenant of [C.tenantId, C.domain]) {
        assert.equal(((await admin('GET', `/_emulator/meetings?tenant=${tenant}`)).json() as Json).value.length, 2);
      }
      assert.equal(((await admin('GET', `/_emulator/meetings?tenant=${DEMO.fabrikam.domain}`)).json() as Json).value.length, 0);
      assert.equal(((await admin('GET', '/_emulator/meetings?tenant=nowhere.test')).json() as Json).value.length, 0);
      assert.equal(((await admin('GET', '/_emulator/meetings?top=1')).json() as Json).value.length, 1);
      for (const bad of ['?top=0', '?top=abc', '?color=red', '?tenant=a&tenant=b']) {
        const res = await admin('GET', `/_emulator/meetings${bad}`);
        assert.equal(res.statusCode, 400, bad);
        assert.equal((res.json() as Json).error.code, 'BadRequest');
      }
    });

    test('POST /_emulator/reset: meetings gone, the directory is the seed again, keys kept', async () => {
      const token = await t.appToken();
      await createMeeting('before reset');
      // Change the directory through the CLI's service: a new user, and Carol's access to the app.
      const added = await t.inject({ method: 'GET', url: '/_emulator/directory', headers: { authorization: `Bearer ${KEY}` } });
      assert.equal(added.statusCode, 200);
      const { DirectoryService } = await import('../../src/domain/directory/directory-service.js');
      const dir = new DirectoryService(t.app.graphMeetings.store.db);
      await dir.createUser({ tenant: C.tenantId, upn: 'zed@contoso.test', displayName: 'Zed', password: 'Zed-Passw0rd!' });
      const res = await admin('POST', '/_emulator/reset');
      assert.equal(res.statusCode, 204);
      assert.equal(((await admin('GET', '/_emulator/meetings')).json() as Json).value.length, 0);
      const directory = (await admin('GET', '/_emulator/directory')).json() as Json;
      const contoso = directory.tenants.find((x: Json) => x.id === C.tenantId);
      assert.deepEqual(contoso.users.map((u: Json) => u.userPrincipalName).sort(), [C.alice.upn, C.bob.upn, C.carol.upn].sort());
      assert.equal(directory.tenants.length, 2);
      // The signing keys were kept: a token issued before the reset still works for a user who is still there.
      const after = await graph(t, 'POST', `/v1.0/users/${C.alice.id}/onlineMeetings`, token, { subject: 'after reset' });
      assert.equal(after.statusCode, 201, after.body);
    });

    test('GET /_emulator/directory never shows a secret or a password hash', async () => {
      const res = await admin('GET', '/_emulator/directory');
      assert.equal(res.statusCode, 200);
      for (const secret of [C.scheduler.secret, C.client.secret, DEMO.password, 'scrypt', 'secret_hash', 'password_hash']) {
        assert.ok(!res.body.includes(secret), secret);
      }
      const app =
        (res.json() as Json).tenants[0].applications.find((a: Json) => a.clientId === C.scheduler.clientId) ??
        (res.json() as Json).tenants[1].applications.find((a: Json) => a.clientId === C.scheduler.clientId);
      assert.deepEqual(app.permissions, [
        'Calendars.ReadWrite',
        'MailboxSettings.Read',
        'OnlineMeetingArtifact.Read.All',
        'OnlineMeetingRecording.Read.All',
        'OnlineMeetingTranscript.Read.All',
        'OnlineMeetings.ReadWrite.All',
      ]);
      assert.equal(app.secrets[0].hint, C.scheduler.secret.slice(0, 3));
    });

    test('GET /_emulator/export and POST /_emulator/import move the whole state as one versioned document', async () => {
      await admin('POST', '/_emulator/reset');
      const m = await createMeeting('exported');
      const exported = await admin('GET', '/_emulator/export');
      assert.equal(exported.statusCode, 200);
      const doc = exported.json() as Json;
      assert.equal(doc.format, STATE_FORMAT);
      assert.equal(doc.version, 1);
      assert.match(doc.schema, /^\d{3}-/);
      assert.equal(doc.tables.meetings.length, 1);
      assert.ok(!('signing_keys' in doc.tables) && !('schema_migrations' in doc.tables));
      assert.ok(!exported.body.includes(C.scheduler.secret));

      await admin('POST', '/_emulator/reset');
      assert.equal(((await admin('GET', '/_emulator/meetings')).json() as Json).value.length, 0);
      const imported = await admin('POST', '/_emulator/import', doc);
      assert.equal(imported.statusCode, 200, imported.body);
      assert.equal((imported.json() as Json).imported.meetings, 1);
      const listed = (await admin('GET', '/_emulator/meetings')).json() as Json;
      assert.deepEqual(listed.value[0].meeting, (await admin('GET', '/_emulator/meetings')).json().value[0].meeting);
      assert.equal(listed.value[0].meeting.id, m.id);
      // The imported meeting is served by Graph as before.
      const read = await graph(t, 'GET', `/v1.0/me/onlineMeetings/${m.id}`, await t.userToken());
      assert.equal(read.statusCode, 200, read.body);
      assert.equal((read.json() as Json).joinWebUrl, m.joinWebUrl);
      // A second export is the same state.
      const again = (await admin('GET', '/_emulator/export')).json() as Json;
      assert.deepEqual(again.tables, doc.tables);
    });

    test('POST /_emulator/import refuses a bad document with a clear 400 and changes nothing', async () => {
      await admin('POST', '/_emulator/reset');
      await createMeeting('kept');
      const doc = (await admin('GET', '/_emulator/export')).json() as Json;
      const cases: Array<[unknown, RegExp]> = [
        [[], /JSON object/],
        [{ ...doc, format: 'other' }, /'format' must be/],
        [{ ...doc, version: 2 }, /'version' 2 is not supported/],
        [{ ...doc, schema: '000-old' }, /exported from schema '000-old'/],
        [{ ...doc, tables: { ...doc.tables, signing_keys: [] } }, /'signing_keys' is not a state table/],
        [{ ...doc, tables: { ...doc.tables, meetings: [{ nope: 1 }] } }, /table 'meetings' could not be stored/],
        [{ ...doc, tables: { ...doc.tables, meetings: [{ id: { $gt: 1 } }] } }, /must be a string, a number or null/],
        [{ ...doc, tables: { ...doc.tables, 'users; drop table x': [] } }, /is not a state table/],
      ];
      for (const [body, message] of cases) {
        const res = await admin('POST', '/_emulator/import', body);
        assert.equal(res.statusCode, 400, res.body);
        const err = (res.json() as Json).error;
        assert.equal(err.code, 'InvalidStateDocument');
        assert.match(err.message, message);
      }
      assert.equal((await admin('POST', '/_emulator/import', '{"broken"')).statusCode, 400);
      assert.equal((await admin('POST', '/_emulator/import')).statusCode, 400);
      const listed = (await admin('GET', '/_emulator/meetings')).json() as Json;
      assert.deepEqual(
        listed.value.map((x: Json) => x.meeting.subject),
        ['kept'],
      );
    });

    test('POST /_emulator/clock moves the clock: tokens expire, meetings are stamped with it', async () => {
      const before = (await admin('GET', '/_emulator/clock')).json() as Json;
      assert.equal(before.frozen, false);
      const token = await t.userToken();
      assert.equal((await graph(t, 'POST', '/v1.0/me/onlineMeetings', token, {})).statusCode, 201);
      const moved = await admin('POST', '/_emulator/clock', { advanceSeconds: 7200 });
      assert.equal(moved.statusCode, 200);
      const now = Date.parse((moved.json() as Json).now);
      assert.ok(now - Date.parse(before.now) >= 7200_000, `${before.now} -> ${(moved.json() as Json).now}`);
      const expired = await graph(t, 'POST', '/v1.0/me/onlineMeetings', token, {});
      assert.equal(expired.statusCode, 401);
      assert.match((expired.json() as Json).error.message, /expired/);
      const fresh = await graph(t, 'POST', '/v1.0/me/onlineMeetings', await t.userToken(), {});
      assert.equal(fresh.statusCode, 201);
      assert.ok(Math.abs(Date.parse((fresh.json() as Json).creationDateTime) - now) < 60_000);
      for (const bad of [
        {},
        { advanceSeconds: -1 },
        { advanceSeconds: '60' },
        { advanceSeconds: 60, extra: 1 },
        { advanceSeconds: 1e12 },
      ]) {
        const res = await admin('POST', '/_emulator/clock', bad);
        assert.equal(res.statusCode, 400, JSON.stringify(bad));
      }
    });
  });
}

describe('the admin key', () => {
  test('generated at first start into DATA_DIR/admin-key with mode 0600, and kept across restarts', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'gm-admin-key-'));
    try {
      const config = loadConfig({ PORT: '0', DATA_DIR: dataDir, LOG_LEVEL: 'silent' }, process.cwd());
      const first = await buildApp(config);
      const file = path.join(dataDir, 'admin-key');
      assert.equal(fs.statSync(file).mode & 0o777, 0o600);
      const key = fs.readFileSync(file, 'utf8').trim();
      assert.ok(key.length >= 16);
      assert.equal(first.graphMeetings.adminKey.value, key);
      assert.equal(first.graphMeetings.adminKey.file, file);
      const ok = await first.inject({ method: 'GET', url: '/_emulator/clock', headers: { authorization: `Bearer ${key}` } });
      assert.equal(ok.statusCode, 200);
      await first.close();
      const second = await buildApp(config);
      assert.equal(second.graphMeetings.adminKey.value, key);
      await second.close();
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });

  test('a key under 16 characters refuses to start', async () => {
    assert.throws(
      () => loadConfig({ ADMIN_KEY: 'short-key' }, process.cwd()),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        assert.match(err.message, /ADMIN_KEY must be at least 16 characters/);
        return true;
      },
    );
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'gm-admin-key-'));
    try {
      fs.writeFileSync(path.join(dataDir, 'admin-key'), 'tooshort\n', { mode: 0o600 });
      const config = loadConfig({ PORT: '0', DATA_DIR: dataDir, LOG_LEVEL: 'silent' }, process.cwd());
      await assert.rejects(buildApp(config), /must be at least 16 characters/);
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
