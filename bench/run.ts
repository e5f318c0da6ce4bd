/**
 * npm run bench: how fast graph-meetings creates and finds meetings, as a ratio of the machine's ceiling
 * measured in the same run (absolute numbers drift on shared machines). See README "Performance".
 *
 *   BENCH_DURATION=10 BENCH_CONNECTIONS=50 BENCH_WORKERS=auto npm run bench
 *   BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test npm run bench     # PostgreSQL too
 *   npm run bench -- --fill 1000000                                             # lookups at scale
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { openStore } from '../src/storage/database.js';
import { migrateToLatest } from '../src/storage/database.js';
import { fillMeetings } from './fill.js';
import { DEMO, EXAMPLE_1, load, request, rssMiB, startProcess, userToken, type LoadResult } from './lib.js';

const duration = Number(process.env.BENCH_DURATION ?? 10);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 50);
const workers =
  process.env.BENCH_WORKERS === undefined || process.env.BENCH_WORKERS === 'auto'
    ? os.availableParallelism()
    : Number(process.env.BENCH_WORKERS);
const fillArg = process.argv.indexOf('--fill');
const fill = fillArg > 0 ? Number(process.argv[fillArg + 1]) : 0;
const pgAdmin = process.env.BENCH_DATABASE_URL;

interface StoreRun {
  store: string;
  results: LoadResult[];
  ceiling: LoadResult;
  rss: { before: number; after: number };
  scale?: { empty: LoadResult[]; filled: LoadResult[]; rss: { before: number; after: number } };
}

async function createPgDatabase(admin: string): Promise<string> {
  const name = `gm_bench_${Date.now()}`;
  const c = new pg.Client({ connectionString: admin });
  await c.connect();
  await c.query(`CREATE DATABASE ${name}`);
  await c.end();
  const u = new URL(admin);
  u.pathname = `/${name}`;
  return u.toString();
}
async function dropPgDatabase(admin: string, url: string) {
  const c = new pg.Client({ connectionString: admin });
  await c.connect();
  await c.query(`DROP DATABASE IF EXISTS ${new URL(url).pathname.slice(1)} WITH (FORCE)`);
  await c.end();
}

async function runStore(store: 'sqlite' | 'postgres'): Promise<StoreRun> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'graph-meetings-bench-'));
  const databaseUrl = store === 'postgres' ? await createPgDatabase(pgAdmin!) : undefined;
  const env = { DATA_DIR: dataDir, WORKERS: String(workers), LOG_LEVEL: 'warn', ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}) };
  const ready = async (port: number) =>
    (await request(port, 'GET', `/${DEMO.tenant}/v2.0/.well-known/openid-configuration`)).status === 200;
  let service = await startProcess(['dist/server.js'], env, ready);
  const ceilingServer = await startProcess(
    ['--import', 'tsx', 'bench/ceiling-server.ts'],
    env,
    async (port) => (await request(port, 'POST', '/ceiling', { 'content-type': 'application/json' }, '{}')).status === 201,
  );
  const run = (name: string, o: Omit<Parameters<typeof load>[1], 'connections' | 'duration' | 'port'>, port = service.port) =>
    load(name, { ...o, port, connections, duration });
  try {
    const token = await userToken(service.port);
    const auth = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    // Meetings to read, and createOrGet keys that already exist (the idempotent-retry path CI suites take).
    const seeded: { id: string; joinWebUrl: string; joinMeetingId: string }[] = [];
    for (let i = 0; i < 1000; i += 50) {
      const batch = await Promise.all(
        Array.from({ length: 50 }, (_, j) =>
          request(
            service.port,
            'POST',
            '/v1.0/me/onlineMeetings/createOrGet',
            auth,
            JSON.stringify({ externalId: `bench-${i + j}`, subject: 'bench' }),
          ),
        ),
      );
      for (const r of batch) {
        const m = JSON.parse(r.body);
        seeded.push({ id: m.id, joinWebUrl: m.joinWebUrl, joinMeetingId: m.joinMeetingIdSettings.joinMeetingId });
      }
    }
    const pick = (i: number) => seeded[i % seeded.length]!;
    const rssBefore = rssMiB(service.child.pid!);
    await run('warm-up', { method: 'POST', path: () => '/v1.0/me/onlineMeetings', body: () => EXAMPLE_1, headers: auth });
    const ceiling = await run(
      'ceiling (bare Fastify, TLS, 2 KB reply)',
      { method: 'POST', path: () => '/ceiling', body: () => EXAMPLE_1, headers: auth },
      ceilingServer.port,
    );
    const lookups = async (label: string) => [
      await run(`GET by id${label}`, { method: 'GET', path: (i) => `/v1.0/me/onlineMeetings/${pick(i).id}`, headers: auth }),
      await run(`lookup by joinWebUrl${label}`, {
        method: 'GET',
        path: (i) => `/v1.0/me/onlineMeetings?$filter=${encodeURIComponent(`JoinWebUrl eq '${pick(i).joinWebUrl}'`)}`,
        headers: auth,
      }),
      await run(`lookup by joinMeetingId${label}`, {
        method: 'GET',
        path: (i) =>
          `/v1.0/me/onlineMeetings?$filter=${encodeURIComponent(`joinMeetingIdSettings/joinMeetingId eq '${pick(i).joinMeetingId}'`)}`,
        headers: auth,
      }),
    ];
    const results = [
      await run('create (seed example 1)', { method: 'POST', path: () => '/v1.0/me/onlineMeetings', body: () => EXAMPLE_1, headers: auth }),
      await run('createOrGet (existing key)', {
        method: 'POST',
        path: () => '/v1.0/me/onlineMeetings/createOrGet',
        body: (i) => JSON.stringify({ externalId: `bench-${i % 1000}`, subject: 'bench' }),
        headers: auth,
      }),
      ...(await lookups('')),
    ];
    const rssAfter = rssMiB(service.child.pid!);
    let scale: StoreRun['scale'];
    if (fill > 0) {
      await service.stop();
      const s = openStore({ databaseUrl, sqliteFile: path.join(dataDir, 'graph-meetings.sqlite') });
      await migrateToLatest(s.db);
      const started = Date.now();
      await fillMeetings(s.db, {
        count: fill,
        tenantId: DEMO.tenant,
        organizerId: DEMO.alice,
        origin: 'https://127.0.0.1:8443',
        batch: store === 'postgres' ? 500 : 2000,
        onProgress: (n) => n % 100_000 === 0 && console.error(`  filled ${n} meetings (${Math.round((Date.now() - started) / 1000)} s)`),
      });
      if (store === 'sqlite')
        await s.db.executeQuery({ sql: 'PRAGMA wal_checkpoint(TRUNCATE)', parameters: [], query: { kind: 'RawNode' } } as never);
      else await new pg.Client({ connectionString: databaseUrl }).connect().then(async (c) => (await c.query('ANALYZE meetings'), c.end()));
      await s.close();
      service = await startProcess(['dist/server.js'], env, ready);
      const before = rssMiB(service.child.pid!);
      const empty = results.slice(2);
      const filled = await lookups(` (+${fill.toLocaleString('en')} meetings)`);
      scale = { empty, filled, rss: { before, after: rssMiB(service.child.pid!) } };
    }
    return { store, results, ceiling, rss: { before: rssBefore, after: rssAfter }, ...(scale ? { scale } : {}) };
  } finally {
    await service.stop();
    await ceilingServer.stop();
    if (databaseUrl) await dropPgDatabase(pgAdmin!, databaseUrl);
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

function table(run: StoreRun) {
  const lines = [
    `| ${run.store}: endpoint | requests/s | of ceiling | p50 ms | p99 ms | errors |`,
    '|---|---:|---:|---:|---:|---:|',
    `| ${run.ceiling.name} | ${Math.round(run.ceiling.rps)} | 100% | ${run.ceiling.p50} | ${run.ceiling.p99} | ${run.ceiling.errors + run.ceiling.non2xx} |`,
  ];
  const rows = [...run.results, ...(run.scale?.filled ?? [])];
  for (const r of rows) {
    lines.push(
      `| ${r.name} | ${Math.round(r.rps)} | ${Math.round((100 * r.rps) / run.ceiling.rps)}% | ${r.p50} | ${r.p99} | ${r.errors + r.non2xx} |`,
    );
  }
  return lines.join('\n');
}

const targets = (run: StoreRun) => {
  const by = (prefix: string) => run.results.find((r) => r.name.startsWith(prefix))!;
  const ratio = (r: LoadResult) => r.rps / run.ceiling.rps;
  const checks: [string, boolean][] = [
    [`create ≥ ${run.store === 'sqlite' ? 50 : 40}% of ceiling`, ratio(by('create (')) >= (run.store === 'sqlite' ? 0.5 : 0.4)],
    ['GET by id ≥ 70%', ratio(by('GET by id')) >= 0.7],
    ['lookup by joinWebUrl ≥ 70%', ratio(by('lookup by joinWebUrl')) >= 0.7],
    ['lookup by joinMeetingId ≥ 70%', ratio(by('lookup by joinMeetingId')) >= 0.7],
    [`create p99 ≤ 20 ms at ${connections} connections`, by('create (').p99 <= 20],
    ['zero errors', run.results.every((r) => r.errors + r.non2xx === 0)],
  ];
  if (run.scale) {
    run.scale.filled.forEach((f, i) => checks.push([`${f.name} within 20% of the small store`, f.rps >= 0.8 * run.scale!.empty[i]!.rps]));
    checks.push([
      `memory flat under lookups at scale (${run.scale.rss.before} → ${run.scale.rss.after} MiB)`,
      run.scale.rss.after - run.scale.rss.before < 64,
    ]);
  }
  return checks.map(([label, ok]) => `- ${ok ? 'PASS' : 'MISS'}: ${label}`).join('\n');
};

const machine = `${os.cpus()[0]?.model ?? 'cpu'} × ${os.availableParallelism()}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
console.log(
  `# graph-meetings benchmark\n\n${machine}; ${workers} worker process(es); ${connections} connections; ${duration} s per endpoint; load generator (autocannon) in a separate process on the same machine.\n`,
);
for (const store of ['sqlite', ...(pgAdmin ? (['postgres'] as const) : [])] as const) {
  const run = await runStore(store);
  console.log(
    `${table(run)}\n\nmemory (RSS, all processes): ${run.rss.before} MiB before the load, ${run.rss.after} MiB after\n\n${targets(run)}\n`,
  );
}
