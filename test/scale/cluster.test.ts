import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { openStore } from '../../src/storage/database.js';
import { createPostgresDatabase, dropPostgresDatabase, STORES } from '../helpers/stores.js';
import { DEMO } from '../helpers/test-app.js';

/** A free TCP port on loopback (the cluster's workers all listen on it). */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

function request(agent: https.Agent, port: number, method: string, url: string, headers: Record<string, string>, body?: string) {
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = https.request({ host: '127.0.0.1', port, method, path: url, headers, agent }, (res) => {
      let data = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (data += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: data }));
    });
    req.on('error', reject);
    if (body !== undefined) req.end(body);
    else req.end();
  });
}

for (const kind of STORES) {
  describe(`${kind}: several worker processes (WORKERS=2) share the port and the store`, () => {
    let child: ChildProcess;
    let port: number;
    let dataDir: string;
    let databaseUrl: string | undefined;
    let agent: https.Agent;
    let output = '';

    before(async () => {
      dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'graph-meetings-cluster-'));
      databaseUrl = kind === 'postgres' ? await createPostgresDatabase() : undefined;
      port = await freePort();
      child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
        env: {
          ...process.env,
          PORT: String(port),
          DATA_DIR: dataDir,
          WORKERS: '2',
          LOG_LEVEL: 'warn',
          ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child.stdout!.on('data', (d) => (output += d));
      child.stderr!.on('data', (d) => (output += d));
      const deadline = Date.now() + 60_000;
      for (;;) {
        try {
          agent ??= new https.Agent({ keepAlive: true, maxSockets: 32, ca: fs.readFileSync(path.join(dataDir, 'tls', 'ca.pem')) });
          const res = await request(agent, port, 'GET', `/${DEMO.contoso.domain}/v2.0/.well-known/openid-configuration`, {});
          if (res.status === 200) break;
        } catch {
          // not up yet
        }
        if (Date.now() > deadline) throw new Error(`the cluster did not start:\n${output}`);
        await new Promise((r) => setTimeout(r, 250));
      }
    });

    after(async () => {
      agent?.destroy();
      if (child.exitCode === null) child.kill('SIGKILL');
      if (databaseUrl) await dropPostgresDatabase(databaseUrl);
      fs.rmSync(dataDir, { recursive: true, force: true });
    });

    test('300 concurrent creates across the workers: every one 201 and stored, no 5xx', async () => {
      const form = new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: DEMO.contoso.scheduler.clientId,
        client_secret: DEMO.contoso.scheduler.secret,
        scope: 'https://graph.microsoft.com/.default',
      }).toString();
      const tok = await request(
        agent,
        port,
        'POST',
        `/${DEMO.contoso.tenantId}/oauth2/v2.0/token`,
        { 'content-type': 'application/x-www-form-urlencoded' },
        form,
      );
      const token = JSON.parse(tok.body).access_token as string;
      const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
      const statuses: number[] = [];
      const ids = new Set<string>();
      let next = 0;
      await Promise.all(
        Array.from({ length: 30 }, async () => {
          while (next < 300) {
            const i = next++;
            const res = await request(
              agent,
              port,
              'POST',
              `/v1.0/users/${DEMO.contoso.alice.id}/onlineMeetings`,
              headers,
              JSON.stringify({ subject: `load ${i}` }),
            );
            statuses.push(res.status);
            if (res.status === 201) ids.add(JSON.parse(res.body).id);
          }
        }),
      );
      assert.equal(statuses.filter((s) => s >= 500).length, 0, `5xx seen: ${statuses.filter((s) => s >= 500).join(',')}`);
      assert.equal(statuses.filter((s) => s === 201).length, 300);
      const store = openStore({ databaseUrl, sqliteFile: path.join(dataDir, 'graph-meetings.sqlite') });
      try {
        const rows = await store.db.selectFrom('meetings').select('id').where('deleted_at', 'is', null).execute();
        assert.equal(rows.length, 300);
        for (const r of rows) assert.ok(ids.has(r.id));
      } finally {
        await store.close();
      }
    });

    test('SIGTERM stops every worker and the primary within a bounded time', async () => {
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      const started = Date.now();
      child.kill('SIGTERM');
      const code = await exited;
      assert.equal(code, 0, output);
      assert.ok(Date.now() - started < 15_000);
    });
  });
}
