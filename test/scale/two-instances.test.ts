import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config/config.js';
import { DEMO } from '../../src/domain/directory/demo-directory.js';
import { HttpsJsonClient, type JsonResponse } from '../helpers/https-client.js';
import { STORES, createPostgresDatabase, dropPostgresDatabase } from '../helpers/stores.js';

/**
 * Two instances over one database, the way several processes would share it: each opens its own store
 * from its config, listens on its own port and is reached over real HTTPS. PostgreSQL: one fresh database,
 * a different DATA_DIR per instance (so signing keys can only come from the database). SQLite: one
 * DATA_DIR, so both open the same file, each with its own connection.
 */

const C = DEMO.contoso;
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- parsed JSON under test
type Json = any;

interface Instance {
  app: FastifyInstance;
  dataDir: string;
  http: HttpsJsonClient;
}

async function startInstance(dataDir: string, databaseUrl: string | undefined): Promise<Instance> {
  const env: Record<string, string> = { PORT: '0', DATA_DIR: dataDir, LOG_LEVEL: 'silent', TLS: 'on' };
  if (databaseUrl) env.DATABASE_URL = databaseUrl;
  const app = await buildApp(loadConfig(env, process.cwd()));
  try {
    await app.listen({ port: 0, host: '127.0.0.1' });
  } catch (err) {
    await app.close();
    throw err;
  }
  return { app, dataDir, http: new HttpsJsonClient(app.graphMeetings.origin(), path.join(dataDir, 'tls', 'ca.pem')) };
}

/** The representation without what legitimately differs per answering instance. */
function comparable(m: Json): Json {
  const { '@odata.context': _context, ...rest } = m as Record<string, unknown>;
  return rest;
}

const statusCounts = (responses: JsonResponse[]) => {
  const counts: Record<number, number> = {};
  for (const r of responses) counts[r.status] = (counts[r.status] ?? 0) + 1;
  return counts;
};

/** Status counts, and each distinct error (status, code, message) with how often it came. */
const summary = (responses: JsonResponse[]) => {
  const errors: Record<string, number> = {};
  for (const r of responses.filter((x) => x.status >= 300)) {
    const key = `${r.status} ${r.body?.error?.code ?? '?'}: ${r.body?.error?.message ?? r.text.slice(0, 200)}`;
    errors[key] = (errors[key] ?? 0) + 1;
  }
  return JSON.stringify({ statuses: statusCounts(responses), errors });
};

for (const kind of STORES) {
  describe(`${kind}: two instances over one database`, { timeout: 60_000 }, () => {
    const dirs: string[] = [];
    let databaseUrl: string | undefined;
    let a: Instance | undefined;
    let b: Instance | undefined;
    let alice: string;
    let appToken: string;

    const A = () => a!;
    const B = () => b!;
    const mkdir = () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'graph-meetings-scale-'));
      dirs.push(dir);
      return dir;
    };

    before(async () => {
      if (kind === 'postgres') databaseUrl = await createPostgresDatabase();
      const dirA = mkdir();
      // PostgreSQL: only the database is shared. SQLite: the same file, opened by each instance on its own.
      const dirB = kind === 'postgres' ? mkdir() : dirA;
      a = await startInstance(dirA, databaseUrl);
      b = await startInstance(dirB, databaseUrl);
      assert.notEqual(A().http.origin, B().http.origin, 'the instances listen on different ports');

      // Every token comes from instance A; instance B must accept them.
      const token = async (form: Record<string, string>) => {
        const res = await A().http.request('POST', `/${C.tenantId}/oauth2/v2.0/token`, { form });
        assert.equal(res.status, 200, res.text);
        return res.body.access_token as string;
      };
      [appToken, alice] = await Promise.all([
        token({
          grant_type: 'client_credentials',
          client_id: C.scheduler.clientId,
          client_secret: C.scheduler.secret,
          scope: 'https://graph.microsoft.com/.default',
        }),
        token({
          grant_type: 'password',
          client_id: C.client.clientId,
          username: C.alice.upn,
          password: DEMO.password,
          scope: 'https://graph.microsoft.com/OnlineMeetings.ReadWrite',
        }),
      ]);
    });

    after(async () => {
      for (const i of [b, a]) {
        if (!i) continue;
        i.http.close();
        await i.app.close();
      }
      if (databaseUrl) await dropPostgresDatabase(databaseUrl);
      for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
    });

    const db = () => A().app.graphMeetings.store.db;
    const me = '/v1.0/me/onlineMeetings';
    const asUser = `/v1.0/users/${C.alice.id}/onlineMeetings`;
    const filter = (expr: string) => `${me}?$filter=${encodeURIComponent(expr)}`;

    test('the instances are independent: their own store, same database', () => {
      assert.notEqual(A().app.graphMeetings.store, B().app.graphMeetings.store);
      assert.equal(A().app.graphMeetings.store.kind, kind);
      assert.equal(A().app.graphMeetings.store.location, B().app.graphMeetings.store.location);
      if (kind === 'postgres') assert.notEqual(A().dataDir, B().dataDir);
    });

    test('tokens minted by A are accepted by B (signing keys come from the database)', async () => {
      for (const token of [alice, appToken]) {
        const url = token === alice ? filter(`joinMeetingIdSettings/joinMeetingId eq '1'`) : `${asUser}?$filter=JoinWebUrl eq 'x'`;
        const res = await B().http.request('GET', url, { token });
        assert.equal(res.status, 200, res.text);
        assert.deepEqual(res.body.value, []);
      }
      const [jwksA, jwksB] = await Promise.all(
        [A(), B()].map((i) => i.http.request('GET', `/${C.tenantId}/discovery/v2.0/keys`).then((r) => r.body)),
      );
      assert.deepEqual(
        jwksB.keys.map((k: Json) => k.kid),
        jwksA.keys.map((k: Json) => k.kid),
        'both instances publish the same keys',
      );
    });

    test('create via A; read, update, look up and delete via B; A sees every change', async () => {
      const created = await A().http.request('POST', me, {
        token: alice,
        json: { subject: 'Two instances', startDateTime: '2030-05-01T10:00:00Z', endDateTime: '2030-05-01T11:00:00Z' },
      });
      assert.equal(created.status, 201, created.text);
      const m = created.body;
      assert.equal(m['@odata.context'], `${A().http.origin}/v1.0/$metadata#users('${C.alice.id}')/onlineMeetings/$entity`);

      const readB = await B().http.request('GET', `${me}/${m.id}`, { token: alice });
      assert.equal(readB.status, 200, readB.text);
      assert.equal(readB.body['@odata.context'], `${B().http.origin}/v1.0/$metadata#users('${C.alice.id}')/onlineMeetings/$entity`);
      assert.deepEqual(comparable(readB.body), comparable(m));
      const readBApp = await B().http.request('GET', `${asUser}/${m.id}`, { token: appToken });
      assert.equal(readBApp.status, 200, readBApp.text);
      assert.deepEqual(comparable(readBApp.body), comparable(m));

      const patched = await B().http.request('PATCH', `${me}/${m.id}`, { token: alice, json: { subject: 'Updated on B' } });
      assert.equal(patched.status, 200, patched.text);
      assert.equal(patched.body.subject, 'Updated on B');
      const readA = await A().http.request('GET', `${me}/${m.id}`, { token: alice });
      assert.equal(readA.status, 200, readA.text);
      assert.equal(readA.body.subject, 'Updated on B');
      assert.deepEqual(comparable(readA.body), comparable(patched.body));

      const byUrl = await B().http.request('GET', filter(`JoinWebUrl eq '${m.joinWebUrl}'`), { token: alice });
      assert.equal(byUrl.status, 200, byUrl.text);
      assert.deepEqual(
        byUrl.body.value.map((v: Json) => v.id),
        [m.id],
      );
      assert.equal(byUrl.body['@odata.context'], `${B().http.origin}/v1.0/$metadata#users('${C.alice.id}')/onlineMeetings`);
      const byJoinId = await B().http.request(
        'GET',
        filter(`joinMeetingIdSettings/joinMeetingId eq '${m.joinMeetingIdSettings.joinMeetingId}'`),
        {
          token: alice,
        },
      );
      assert.equal(byJoinId.status, 200, byJoinId.text);
      assert.deepEqual(
        byJoinId.body.value.map((v: Json) => v.id),
        [m.id],
      );
      assert.equal(byJoinId.body.value[0].subject, 'Updated on B');

      const del = await B().http.request('DELETE', `${me}/${m.id}`, { token: alice });
      assert.equal(del.status, 204, del.text);
      const gone = await A().http.request('GET', `${me}/${m.id}`, { token: alice });
      assert.equal(gone.status, 404, gone.text);
      assert.equal(gone.body.error.code, 'NotFound');
      const goneLookup = await A().http.request('GET', filter(`JoinWebUrl eq '${m.joinWebUrl}'`), { token: alice });
      assert.deepEqual(goneLookup.body.value, []);
    });

    test('createOrGet via A, then via B: the same meeting (201, then 200)', async () => {
      const externalId = `two-instances-${kind}-${Date.now()}`;
      const first = await A().http.request('POST', `${me}/createOrGet`, { token: alice, json: { externalId, subject: 'first' } });
      assert.equal(first.status, 201, first.text);
      const second = await B().http.request('POST', `${me}/createOrGet`, { token: alice, json: { externalId, subject: 'second' } });
      assert.equal(second.status, 200, second.text);
      assert.equal(second.body.id, first.body.id);
      assert.deepEqual(comparable(second.body), comparable(first.body));
      const viaApp = await B().http.request('POST', `${asUser}/createOrGet`, { token: appToken, json: { externalId } });
      assert.equal(viaApp.status, 200, viaApp.text);
      assert.equal(viaApp.body.id, first.body.id);
    });

    test('race: 40 concurrent createOrGet with one externalId across A and B leave exactly one meeting', async () => {
      const externalId = `race-two-instances-${kind}`;
      const results = await Promise.all(
        Array.from({ length: 40 }, (_, i) => {
          const instance = i % 2 ? B() : A();
          const viaApp = Math.floor(i / 2) % 2 === 1;
          return instance.http.request('POST', `${viaApp ? asUser : me}/createOrGet`, {
            token: viaApp ? appToken : alice,
            json: { externalId, subject: `racer ${i}` },
          });
        }),
      );
      const detail = summary(results);
      console.log(`${kind} createOrGet race: ${detail}`);
      assert.ok(
        results.every((r) => r.status < 500),
        `no 5xx: ${detail}`,
      );
      assert.equal(results.filter((r) => r.status === 201).length, 1, detail);
      assert.equal(results.filter((r) => r.status === 200).length, 39, detail);
      assert.equal(new Set(results.map((r) => r.body.id)).size, 1, 'every answer is the same meeting');
      const rows = await db().selectFrom('meetings').select('id').where('external_id', '=', externalId).execute();
      assert.equal(rows.length, 1);
      assert.equal(rows[0]!.id, results[0]!.body.id);
    });

    test('race: 100 concurrent creates across A and B all succeed with distinct numbers', async () => {
      const results = await Promise.all(
        Array.from({ length: 100 }, (_, i) =>
          (i % 2 ? B() : A()).http.request('POST', i % 3 ? me : asUser, {
            token: i % 3 ? alice : appToken,
            json: { subject: `bulk ${i}` },
          }),
        ),
      );
      const detail = summary(results);
      console.log(`${kind} create race: ${detail}`);
      assert.ok(
        results.every((r) => r.status < 500),
        `no 5xx: ${detail}`,
      );
      assert.ok(
        results.every((r) => r.status === 201),
        detail,
      );
      const distinct = (pick: (m: Json) => string) => new Set(results.map((r) => pick(r.body))).size;
      assert.equal(
        distinct((m) => m.id),
        100,
      );
      assert.equal(
        distinct((m) => m.joinMeetingIdSettings.joinMeetingId),
        100,
      );
      assert.equal(
        distinct((m) => m.audioConferencing.conferenceId),
        100,
      );
      assert.equal(
        distinct((m) => m.videoTeleconferenceId),
        100,
      );
      const rows = await db()
        .selectFrom('meetings')
        .select('id')
        .where(
          'id',
          'in',
          results.map((r) => r.body.id as string),
        )
        .execute();
      assert.equal(rows.length, 100);
    });

    test('race: 20 concurrent PATCHes of one meeting from A and B', async () => {
      const created = await A().http.request('POST', me, { token: alice, json: { subject: 'patch target' } });
      assert.equal(created.status, 201, created.text);
      const id = created.body.id as string;
      const subjects = Array.from({ length: 20 }, (_, i) => `patched ${i}`);
      const results = await Promise.all(
        subjects.map((subject, i) =>
          (i % 2 ? B() : A()).http.request('PATCH', `${i % 4 < 2 ? me : asUser}/${id}`, {
            token: i % 4 < 2 ? alice : appToken,
            json: { subject },
          }),
        ),
      );
      const detail = summary(results);
      console.log(`${kind} PATCH race: ${detail}`);
      assert.ok(
        results.every((r) => r.status < 500),
        `no 5xx: ${detail}`,
      );
      // The optimistic retry with jittered back-off absorbs this many racing writers: every PATCH lands.
      assert.ok(
        results.every((r) => r.status === 200),
        `every PATCH answered 200: ${detail}`,
      );
      const ok = results.filter((r) => r.status === 200);
      ok.forEach((r) => assert.equal(r.body.subject, subjects[results.indexOf(r)]));

      const finalA = await A().http.request('GET', `${me}/${id}`, { token: alice });
      const finalB = await B().http.request('GET', `${me}/${id}`, { token: alice });
      assert.equal(finalA.status, 200, finalA.text);
      assert.deepEqual(comparable(finalB.body), comparable(finalA.body));
      const winner = ok.find((r) => r.body.subject === finalA.body.subject);
      assert.ok(winner, `the final subject '${finalA.body.subject}' is one that a successful PATCH sent`);
      assert.deepEqual(comparable(finalA.body), comparable(winner.body), 'the final state is exactly one of the updates');
      const row = await db().selectFrom('meetings').select('version').where('id', '=', id).executeTakeFirstOrThrow();
      assert.equal(Number(row.version), 1 + ok.length, 'every successful PATCH bumped the version exactly once');
    });
  });
}

for (const kind of STORES) {
  test(`${kind}: two instances started at the same moment on a fresh database both come up and share one key`, async () => {
    const url = kind === 'postgres' ? await createPostgresDatabase() : undefined;
    const dirs = [fs.mkdtempSync(path.join(os.tmpdir(), 'gm-race-')), fs.mkdtempSync(path.join(os.tmpdir(), 'gm-race-'))];
    // SQLite: one file shared through one DATA_DIR; PostgreSQL: one database, separate DATA_DIRs.
    const dataDirs = kind === 'sqlite' ? [dirs[0]!, dirs[0]!] : dirs;
    const apps = await Promise.all(
      dataDirs.map((d) =>
        buildApp(
          loadConfig({ PORT: '0', DATA_DIR: d, LOG_LEVEL: 'silent', TLS: 'off', ...(url ? { DATABASE_URL: url } : {}) }, process.cwd()),
        ),
      ),
    );
    try {
      const token = async (app: FastifyInstance) => {
        const res = await app.inject({
          method: 'POST',
          url: `/${DEMO.contoso.tenantId}/oauth2/v2.0/token`,
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          payload: new URLSearchParams({
            grant_type: 'client_credentials',
            client_id: DEMO.contoso.scheduler.clientId,
            client_secret: DEMO.contoso.scheduler.secret,
            scope: 'https://graph.microsoft.com/.default',
          }).toString(),
        });
        return res.json().access_token as string;
      };
      const [a, b] = apps as [FastifyInstance, FastifyInstance];
      const kid = (t: string) => JSON.parse(Buffer.from(t.split('.')[0]!, 'base64url').toString()).kid;
      const [ta, tb] = [await token(a), await token(b)];
      assert.equal(kid(ta), kid(tb), 'both sign with the same key');
      const create = (app: FastifyInstance, t: string) =>
        app.inject({
          method: 'POST',
          url: `/v1.0/users/${DEMO.contoso.alice.id}/onlineMeetings`,
          headers: { authorization: `Bearer ${t}`, 'content-type': 'application/json' },
          payload: '{}',
        });
      assert.equal((await create(b, ta)).statusCode, 201);
      assert.equal((await create(a, tb)).statusCode, 201);
      const tenants = await a.graphMeetings.store.db.selectFrom('tenants').select('id').execute();
      assert.equal(tenants.length, 2, 'the demo directory was seeded once');
    } finally {
      for (const app of apps) await app.close();
      if (url) await dropPostgresDatabase(url);
      for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
    }
  });
}
