import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import path from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import pg from 'pg';
import { DEMO } from '../helpers/test-app.js';

export { DEMO };

/**
 * Shared by the reliability suites: the real server (`node --import tsx src/server.ts`) in its own
 * process group, requests over HTTPS with node:https, and the store-level integrity checks.
 */

export const SQLITE_FILE = 'graph-meetings.sqlite';
export const MEETINGS_PATH = `/v1.0/users/${DEMO.contoso.alice.id}/onlineMeetings`;

/** A free TCP port on loopback (kept for the restarts, so the origin stays the same). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

export interface ServerOptions {
  port: number;
  dataDir: string;
  databaseUrl: string | undefined;
  workers: number;
  logLevel?: string;
}

export interface ServerProcess {
  child: ChildProcess;
  pid: number;
  /** Everything the process (and its workers) wrote so far. */
  output(): string;
  /** Resolves when the spawned process (the primary, with WORKERS > 1) has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
}

/**
 * Spawns the server detached, so that it leads its own process group: a SIGKILL to the group also
 * kills the cluster workers, as a machine crash or an OOM kill of the container would.
 */
export function spawnServer(opts: ServerOptions): ServerProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    env: {
      ...process.env,
      PORT: String(opts.port),
      DATA_DIR: opts.dataDir,
      WORKERS: String(opts.workers),
      LOG_LEVEL: opts.logLevel ?? 'warn',
      DATABASE_URL: opts.databaseUrl ?? '',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let output = '';
  child.stdout!.setEncoding('utf8');
  child.stderr!.setEncoding('utf8');
  child.stdout!.on('data', (d: string) => (output += d));
  child.stderr!.on('data', (d: string) => (output += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal, at: Date.now() })),
  );
  if (child.pid === undefined) throw new Error('the server could not be spawned');
  return { child, pid: child.pid, output: () => output, exited };
}

/** Sends a signal to the whole process group of a detached server; false when the group is gone. */
export function signalGroup(pid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pid, signal);
    return true;
  } catch {
    return false;
  }
}

/** Waits until no process of the group is left (the workers of a killed primary included). */
export async function waitGroupGone(pid: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (signalGroup(pid, 0)) {
    if (Date.now() > deadline) throw new Error(`process group ${pid} still alive after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export interface Response {
  status: number;
  body: string;
  headers: Record<string, string | string[] | undefined>;
}

export function httpsAgent(dataDir: string, maxSockets: number): https.Agent {
  return new https.Agent({ keepAlive: true, maxSockets, ca: fs.readFileSync(path.join(dataDir, 'tls', 'ca.pem')) });
}

/**
 * One request; rejects on any transport failure, including a response cut off before its end (a 201
 * whose body never fully arrived does not count as answered).
 */
export function request(
  agent: https.Agent,
  port: number,
  method: string,
  url: string,
  headers: Record<string, string>,
  body?: string,
  hooks: { onWritten?: () => void } = {},
): Promise<Response> {
  return new Promise<Response>((resolve, reject) => {
    const req = https.request({ host: '127.0.0.1', port, method, path: url, headers, agent }, (res) => {
      let data = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (data += c));
      res.on('error', reject);
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: data, headers: res.headers }));
      res.on('close', () => {
        if (!res.complete) reject(Object.assign(new Error('response cut off'), { code: 'INCOMPLETE_RESPONSE' }));
      });
    });
    req.on('error', reject);
    if (hooks.onWritten) req.on('finish', hooks.onWritten);
    if (body !== undefined) req.end(body);
    else req.end();
  });
}

/** Waits until the server answers its OpenID configuration (the CA file appears on the first start). */
export async function waitReady(server: ServerProcess, dataDir: string, port: number, timeoutMs = 60_000): Promise<https.Agent> {
  const deadline = Date.now() + timeoutMs;
  let agent: https.Agent | undefined;
  for (;;) {
    if (server.child.exitCode !== null) throw new Error(`the server exited during start-up:\n${server.output()}`);
    try {
      agent ??= httpsAgent(dataDir, 1);
      const res = await request(agent, port, 'GET', `/${DEMO.contoso.domain}/v2.0/.well-known/openid-configuration`, {});
      if (res.status === 200) {
        agent.destroy();
        return httpsAgent(dataDir, 64);
      }
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`the server did not start:\n${server.output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** An app-only token for the demo Meeting Scheduler (Graph's client-credentials flow). */
export async function appToken(agent: https.Agent, port: number): Promise<string> {
  const form = new URLSearchParams({
    grant_type: 'client_credentials',
    client_id: DEMO.contoso.scheduler.clientId,
    client_secret: DEMO.contoso.scheduler.secret,
    scope: 'https://graph.microsoft.com/.default',
  }).toString();
  const res = await request(
    agent,
    port,
    'POST',
    `/${DEMO.contoso.tenantId}/oauth2/v2.0/token`,
    { 'content-type': 'application/x-www-form-urlencoded' },
    form,
  );
  if (res.status !== 200) throw new Error(`token request failed: ${res.status} ${res.body}`);
  return (JSON.parse(res.body) as { access_token: string }).access_token;
}

export function errorCode(err: unknown): string {
  const e = err as { code?: unknown; message?: unknown };
  return typeof e.code === 'string' ? e.code : String(e.message);
}

/** Counts by value, for the report lines. */
export function tally(values: Iterable<string | number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of values) out[String(v)] = (out[String(v)] ?? 0) + 1;
  return out;
}

export interface IntegrityReport {
  /** Every finding; empty means the store passed. */
  problems: string[];
  /** Rows in meetings (tombstones included). */
  meetings: number;
  /** What ran, for the report (e.g. which amcheck functions). */
  checks: string[];
}

const UNIQUE_COLUMNS = ['id', 'thread_id', 'join_meeting_id', 'conference_id', 'video_teleconference_id'] as const;

/**
 * SQLite: PRAGMA integrity_check and foreign_key_check, plus duplicates on the unique meeting columns
 * (which a broken index would let through). Read-only; works beside a running server in WAL mode.
 */
export function checkSqlite(file: string, options: { readonly: boolean } = { readonly: true }): IntegrityReport & { ids: Set<string> } {
  const db = new SqliteDatabase(file, { readonly: options.readonly, fileMustExist: true });
  try {
    const problems: string[] = [];
    const integrity = db.pragma('integrity_check') as Array<{ integrity_check: string }>;
    if (integrity.length !== 1 || integrity[0]!.integrity_check !== 'ok') {
      problems.push(`integrity_check: ${integrity.map((r) => r.integrity_check).join('; ')}`);
    }
    const fk = db.pragma('foreign_key_check') as unknown[];
    if (fk.length) problems.push(`foreign_key_check: ${JSON.stringify(fk.slice(0, 10))}`);
    for (const col of UNIQUE_COLUMNS) {
      const dup = db.prepare(`SELECT ${col} AS v, count(*) AS n FROM meetings GROUP BY 1 HAVING count(*) > 1 LIMIT 5`).all();
      if (dup.length) problems.push(`duplicate meetings.${col}: ${JSON.stringify(dup)}`);
    }
    const rows = db.prepare('SELECT id FROM meetings').all() as Array<{ id: string }>;
    const indexed = db
      .prepare("SELECT count(*) AS n FROM meetings INDEXED BY meetings_join_meeting_id WHERE join_meeting_id > ''")
      .get() as {
      n: number;
    };
    if (indexed.n !== rows.length) problems.push(`meetings has ${rows.length} rows but its join_meeting_id index ${indexed.n}`);
    return {
      problems,
      meetings: rows.length,
      ids: new Set(rows.map((r) => r.id)),
      checks: ['integrity_check', 'foreign_key_check', 'unique columns', 'index count'],
    };
  } finally {
    db.close();
  }
}

/**
 * PostgreSQL: duplicates on the unique meeting columns, the row count through the table and through
 * an index, and amcheck (verify_heapam on every table, bt_index_check with heapallindexed on every
 * btree index) when the extension can be created; its absence is reported, not failed.
 */
export async function checkPostgres(databaseUrl: string): Promise<IntegrityReport & { ids: Set<string> }> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const problems: string[] = [];
    const checks: string[] = ['unique columns', 'index count'];
    for (const col of UNIQUE_COLUMNS) {
      const dup = await client.query(`SELECT ${col} AS v, count(*) AS n FROM meetings GROUP BY 1 HAVING count(*) > 1 LIMIT 5`);
      if (dup.rowCount) problems.push(`duplicate meetings.${col}: ${JSON.stringify(dup.rows)}`);
    }
    const rows = (await client.query<{ id: string }>('SELECT id FROM meetings')).rows;
    await client.query('BEGIN');
    await client.query('SET LOCAL enable_seqscan = off');
    await client.query('SET LOCAL enable_bitmapscan = off');
    const viaIndex = await client.query<{ n: string }>("SELECT count(*) AS n FROM meetings WHERE join_meeting_id > ''");
    await client.query('COMMIT');
    if (Number(viaIndex.rows[0]!.n) !== rows.length) {
      problems.push(`meetings has ${rows.length} rows but an index scan counts ${viaIndex.rows[0]!.n}`);
    }
    let amcheck = true;
    try {
      await client.query('CREATE EXTENSION IF NOT EXISTS amcheck');
    } catch (err) {
      amcheck = false;
      checks.push(`amcheck unavailable (${(err as Error).message})`);
    }
    if (amcheck) {
      const tables = await client.query<{ rel: string }>(
        `SELECT c.oid::regclass::text AS rel FROM pg_class c
           JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE n.nspname = 'public' AND c.relkind = 'r'`,
      );
      for (const { rel } of tables.rows) {
        const bad = await client.query('SELECT * FROM verify_heapam($1::regclass) LIMIT 5', [rel]);
        if (bad.rowCount) problems.push(`verify_heapam(${rel}): ${JSON.stringify(bad.rows)}`);
      }
      const indexes = await client.query<{ idx: string }>(
        `SELECT c.oid::regclass::text AS idx FROM pg_index i
           JOIN pg_class c ON c.oid = i.indexrelid
           JOIN pg_am am ON am.oid = c.relam
           JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE n.nspname = 'public' AND am.amname = 'btree'`,
      );
      for (const { idx } of indexes.rows) {
        try {
          await client.query('SELECT bt_index_check($1::regclass, true)', [idx]);
        } catch (err) {
          problems.push(`bt_index_check(${idx}): ${(err as Error).message}`);
        }
      }
      checks.push(`amcheck: verify_heapam on ${tables.rowCount} tables, bt_index_check(heapallindexed) on ${indexes.rowCount} indexes`);
    }
    return { problems, meetings: rows.length, ids: new Set(rows.map((r) => r.id)), checks };
  } finally {
    await client.end();
  }
}
