/**
 * npm run bench: how fast graph-meetings answers, as a ratio of the machine's ceiling measured in the same run
 * (absolute numbers drift on shared machines). See docs/performance.md.
 *
 * The ceiling (issue #20) is a bare Fastify server with the same TLS certificate and the same number of worker
 * processes, answering the same requests on the same routes with the service's own answer (one real answer of
 * each endpoint, captured at the start of the run), so body size and TLS cost the same on both sides. Each
 * endpoint's ceiling is measured right before the endpoint, and the pair is repeated BENCH_RUNS times: the
 * report gives the median ratio and its range. The fixed 2 KB reply of the earlier rounds is measured too.
 *
 * The primary figure is one process (what `npm start`, the programmatic server and a CI suite run); the
 * WORKERS=auto figure is reported beside it.
 *
 *   npm run bench                                   # SQLite; 1 process, then WORKERS=auto
 *   BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test npm run bench     # PostgreSQL too
 *   npm run bench -- --fill 1000000                 # lookups again with a million meetings and events stored
 *   BENCH_DURATION=10 BENCH_CONNECTIONS=50 BENCH_RUNS=3 BENCH_WORKERS=1,auto BENCH_ONLY=create,get npm run bench
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { sql } from 'kysely';
import { migrateToLatest, openStore } from '../src/storage/database.js';
import type { EventRow } from '../src/storage/tables.js';
import type { CeilingAnswer } from './ceiling-server.js';
import { endpoints, seed, type Endpoint } from './scenarios.js';
import { fillEvents, fillMeetings } from './fill.js';
import {
  DEMO,
  EXAMPLE_1,
  load,
  median,
  request,
  rssMiB,
  sequentialLatency,
  startProcess,
  userToken,
  type LoadResult,
  type Proc,
} from './lib.js';

const duration = Number(process.env.BENCH_DURATION ?? 10);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 50);
const runs = Number(process.env.BENCH_RUNS ?? 3);
const sequentialCount = Number(process.env.BENCH_SEQUENTIAL ?? 2000);
const workerList = (process.env.BENCH_WORKERS ?? '1,auto')
  .split(',')
  .map((w) => (w.trim() === 'auto' ? os.availableParallelism() : Number(w)))
  .filter((w, i, all) => w > 0 && all.indexOf(w) === i);
const fillArg = process.argv.indexOf('--fill');
const fill = fillArg > 0 ? Number(process.argv[fillArg + 1]) : 0;
const pgAdmin = process.env.BENCH_DATABASE_URL;

interface Pair {
  service: LoadResult;
  ceiling: LoadResult;
}
interface ConfigRun {
  store: 'sqlite' | 'postgres';
  workers: number;
  endpoints: Endpoint[];
  bodyBytes: Map<string, number>;
  pairs: Map<string, Pair[]>;
  ceiling2k: LoadResult[];
  sequential: {
    key: string;
    service: Awaited<ReturnType<typeof sequentialLatency>>;
    ceiling: Awaited<ReturnType<typeof sequentialLatency>>;
  }[];
  rss: { idle: number; afterFirst: number; afterLast: number };
  scale?: { pairs: Map<string, Pair[]>; fillSeconds: number; rss: { before: number; after: number } };
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

const ready = async (port: number) => (await request(port, 'GET', `/${DEMO.tenant}/v2.0/.well-known/openid-configuration`)).status === 200;

/** One real answer of each endpoint: what the ceiling will send for it. */
async function capture(port: number, eps: Endpoint[], auth: Record<string, string>): Promise<CeilingAnswer[]> {
  const out: CeilingAnswer[] = [];
  for (const e of eps) {
    const r = await request(port, e.scenario.method, e.scenario.path(0), auth, e.scenario.body?.(0));
    if (r.status < 200 || r.status > 299) throw new Error(`${e.name}: ${r.status} ${r.body}`);
    out.push({ method: e.scenario.method, ...e.route, status: r.status, contentType: 'application/json; charset=utf-8', body: r.body });
  }
  return out;
}

async function measurePairs(
  eps: Endpoint[],
  service: Proc,
  ceiling: Proc,
  auth: Record<string, string>,
  pairs: Map<string, Pair[]>,
  label = '',
) {
  for (const e of eps) {
    const o = { ...e.scenario, headers: auth, connections, duration };
    const c = await load(`${e.name} ceiling`, { ...o, port: ceiling.port, pid: ceiling.child.pid });
    const s = await load(`${e.name}${label}`, { ...o, port: service.port, pid: service.child.pid });
    pairs.set(e.key, [...(pairs.get(e.key) ?? []), { service: s, ceiling: c }]);
    console.error(
      `  ${e.name}${label}: ${Math.round(s.rps)} requests/s (ceiling ${Math.round(c.rps)}, ${Math.round((100 * s.rps) / c.rps)}%), CPU ${s.cpuPerRequest} µs per request (ceiling ${c.cpuPerRequest}), p50 ${s.p50} ms, p99 ${s.p99} ms, errors ${s.errors + s.non2xx}`,
    );
  }
}

async function runConfig(store: 'sqlite' | 'postgres', workers: number, withScale: boolean): Promise<ConfigRun> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'graph-meetings-bench-'));
  const databaseUrl = store === 'postgres' ? await createPgDatabase(pgAdmin!) : undefined;
  // As `npm start` runs it (package.json): the malloc setting keeps freed password-hash buffers from staying resident.
  const env = {
    DATA_DIR: dataDir,
    WORKERS: String(workers),
    LOG_LEVEL: 'warn',
    MALLOC_MMAP_THRESHOLD_: '8388608',
    ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
  };
  console.error(`${store}, ${workers} process(es)`);
  // The first start makes the data directory (the local CA, the database, the demo directory's password
  // hashes); the figures are of a start on an existing one, as `npm start` makes every time after the first.
  await (await startProcess(['dist/server.js'], env, ready)).stop();
  let service = await startProcess(['dist/server.js'], env, ready);
  let ceiling: Proc | undefined;
  const answersFile = path.join(dataDir, 'ceiling-answers.json');
  try {
    await new Promise((r) => setTimeout(r, 2000));
    const idle = rssMiB(service.child.pid!);
    const token = await userToken(service.port);
    const auth = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const seeded = await seed(service.port, auth);
    const eps = endpoints(seeded);
    const answers = await capture(service.port, eps, auth);
    fs.writeFileSync(answersFile, JSON.stringify(answers));
    ceiling = await startProcess(['--import', 'tsx', 'bench/ceiling-server.ts'], { ...env, CEILING_ANSWERS: answersFile }, async (port) => {
      const r = await request(port, 'POST', '/ceiling', { 'content-type': 'application/json' }, '{}');
      return r.status === 201;
    });
    const bodyBytes = new Map(eps.map((e, i) => [e.key, Buffer.byteLength(answers[i]!.body)]));
    // Warm both up (JIT, caches, the SQLite page cache) before anything is counted.
    for (const p of [service, ceiling]) {
      for (const e of eps) await load('warm-up', { ...e.scenario, headers: auth, connections, duration: 1, port: p.port });
    }
    const pairs = new Map<string, Pair[]>();
    const ceiling2k: LoadResult[] = [];
    let afterFirst = 0;
    for (let r = 0; r < runs; r++) {
      console.error(` run ${r + 1} of ${runs}`);
      ceiling2k.push(
        await load('ceiling (bare Fastify, TLS, 2 KB reply)', {
          method: 'POST',
          path: () => '/ceiling',
          body: () => EXAMPLE_1,
          headers: auth,
          port: ceiling.port,
          connections,
          duration,
        }),
      );
      await measurePairs(eps, service, ceiling, auth, pairs);
      if (r === 0) afterFirst = rssMiB(service.child.pid!);
    }
    const afterLast = rssMiB(service.child.pid!);
    // One connection, one request at a time: the latency a CI suite sees.
    const sequential: ConfigRun['sequential'] = [];
    for (const e of eps.filter((x) => ['create', 'get', 'me'].includes(x.key))) {
      const c = await sequentialLatency(ceiling.port, e.scenario, auth, sequentialCount);
      const s = await sequentialLatency(service.port, e.scenario, auth, sequentialCount);
      sequential.push({ key: e.key, service: s, ceiling: c });
    }
    const result: ConfigRun = {
      store,
      workers,
      endpoints: eps,
      bodyBytes,
      pairs,
      ceiling2k,
      sequential,
      rss: { idle, afterFirst, afterLast },
    };

    if (withScale && fill > 0) {
      await service.stop();
      const fillStarted = Date.now();
      const s = openStore({ databaseUrl, sqliteFile: path.join(dataDir, 'graph-meetings.sqlite') });
      await migrateToLatest(s.db);
      const progress = (what: string) => (n: number) =>
        n % 100_000 === 0 && console.error(`  filled ${n} ${what} (${Math.round((Date.now() - fillStarted) / 1000)} s)`);
      await fillMeetings(s.db, {
        count: fill,
        tenantId: DEMO.tenant,
        organizerId: DEMO.alice,
        origin: 'https://127.0.0.1:8443',
        batch: store === 'postgres' ? 500 : 2000,
        onProgress: progress('meetings'),
      });
      const template = (await s.db
        .selectFrom('events')
        .selectAll()
        .where('id', '=', seeded.plainEvent)
        .executeTakeFirstOrThrow()) as EventRow;
      await fillEvents(s.db, { count: fill, template, batch: store === 'postgres' ? 500 : 2000, onProgress: progress('events') });
      if (store === 'sqlite') await sql`PRAGMA wal_checkpoint(TRUNCATE)`.execute(s.db);
      else await sql`ANALYZE`.execute(s.db);
      await s.close();
      const fillSeconds = Math.round((Date.now() - fillStarted) / 1000);
      service = await startProcess(['dist/server.js'], env, ready);
      const before = rssMiB(service.child.pid!);
      const lookups = eps.filter((e) => e.lookup);
      for (const e of lookups) await load('warm-up', { ...e.scenario, headers: auth, connections, duration: 1, port: service.port });
      const scalePairs = new Map<string, Pair[]>();
      for (let r = 0; r < runs; r++) await measurePairs(lookups, service, ceiling, auth, scalePairs, ` (+${fill.toLocaleString('en')})`);
      result.scale = { pairs: scalePairs, fillSeconds, rss: { before, after: rssMiB(service.child.pid!) } };
    }
    return result;
  } finally {
    await service.stop();
    await ceiling?.stop();
    if (databaseUrl) await dropPgDatabase(pgAdmin!, databaseUrl);
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

const pct = (x: number) => `${Math.round(100 * x)}%`;
const cpu = (rs: LoadResult[]) => (rs.every((r) => r.cpuPerRequest !== undefined) ? String(median(rs.map((r) => r.cpuPerRequest!))) : '–');
const ratios = (ps: Pair[]) => ps.map((p) => p.service.rps / p.ceiling.rps);
const spread = (xs: number[]) => (xs.length > 1 ? `${pct(median(xs))} (${pct(Math.min(...xs))}–${pct(Math.max(...xs))})` : pct(xs[0]!));

function report(run: ConfigRun) {
  const c2k = median(run.ceiling2k.map((c) => c.rps));
  const lines = [
    `## ${run.store}, ${run.workers} process${run.workers > 1 ? 'es' : ''}`,
    '',
    `| endpoint | body bytes | requests/s | same-body ceiling | of ceiling (median, range of ${runs}) | of the 2 KB ceiling | CPU µs per request (ceiling's) | p50 / p99 ms | errors |`,
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
    `| ceiling, 2 KB reply | 2,022 | | ${Math.round(c2k).toLocaleString('en')} | | 100% | | | ${run.ceiling2k.reduce((n, c) => n + c.errors + c.non2xx, 0)} |`,
  ];
  const row = (e: Endpoint, ps: Pair[], label = '') => {
    const rps = median(ps.map((p) => p.service.rps));
    lines.push(
      `| ${e.name}${label} | ${run.bodyBytes.get(e.key)!.toLocaleString('en')} | ${Math.round(rps).toLocaleString('en')} | ${Math.round(median(ps.map((p) => p.ceiling.rps))).toLocaleString('en')} | ${spread(ratios(ps))} | ${pct(rps / c2k)} | ${cpu(ps.map((p) => p.service))} (${cpu(ps.map((p) => p.ceiling))}) | ${median(ps.map((p) => p.service.p50))} / ${median(ps.map((p) => p.service.p99))} | ${ps.reduce((n, p) => n + p.service.errors + p.service.non2xx, 0)} |`,
    );
  };
  for (const e of run.endpoints) row(e, run.pairs.get(e.key)!);
  if (run.scale)
    for (const e of run.endpoints.filter((x) => x.lookup)) row(e, run.scale.pairs.get(e.key)!, ` (+${fill.toLocaleString('en')})`);
  lines.push(
    '',
    '| one connection, one request at a time | service p50 / p99 ms | ceiling p50 / p99 ms | errors |',
    '|---|---:|---:|---:|',
  );
  for (const s of run.sequential) {
    const name = run.endpoints.find((e) => e.key === s.key)!.name;
    lines.push(`| ${name} | ${s.service.p50} / ${s.service.p99} | ${s.ceiling.p50} / ${s.ceiling.p99} | ${s.service.errors} |`);
  }
  lines.push(
    '',
    `memory (RSS of ${run.workers > 1 ? 'the primary and its workers' : 'the process'}): ${run.rss.idle} MiB idle 2 s after a start on an existing data directory, ${run.rss.afterFirst} MiB after the first round of load, ${run.rss.afterLast} MiB after the last`,
  );
  if (run.scale)
    lines.push(
      `at scale: filled ${fill.toLocaleString('en')} meetings and ${fill.toLocaleString('en')} events in ${run.scale.fillSeconds} s; RSS ${run.scale.rss.before} → ${run.scale.rss.after} MiB under the lookups`,
    );
  return lines.join('\n');
}

function targets(run: ConfigRun) {
  const checks: [string, boolean][] = [];
  const pg = run.store === 'postgres';
  for (const e of run.endpoints) {
    const target = pg ? e.pgTarget : e.target;
    if (!target) continue;
    const r = median(ratios(run.pairs.get(e.key)!));
    checks.push([`${e.name} ≥ ${pct(target)} of its ceiling (${pct(r)})`, r >= target]);
  }
  const errors = [...run.pairs.values()].flat().reduce((n, p) => n + p.service.errors + p.service.non2xx, 0);
  checks.push([`zero errors (${errors})`, errors === 0]);
  const create = run.pairs.get('create');
  if (create && !pg) {
    const p99 = median(create.map((p) => p.service.p99));
    checks.push([`create p99 ≤ 25 ms at ${connections} connections (${p99} ms)`, p99 <= 25]);
  }
  for (const [key, limit] of [
    ['create', 0.5],
    ['get', 0.3],
  ] as const) {
    const s = run.sequential.find((x) => x.key === key);
    if (s && !pg)
      checks.push([
        `${key} median ≤ ${limit} ms at one connection (${s.service.p50} ms; ceiling ${s.ceiling.p50} ms)`,
        s.service.p50 <= limit,
      ]);
  }
  if (run.workers === 1 && !pg) {
    checks.push([`idle RSS ≤ 120 MiB (${run.rss.idle} MiB)`, run.rss.idle <= 120]);
    checks.push([
      `RSS flat under load (${run.rss.afterFirst} → ${run.rss.afterLast} MiB over rounds 2 to ${runs})`,
      run.rss.afterLast - run.rss.afterFirst < 32,
    ]);
  }
  if (run.scale) {
    for (const e of run.endpoints.filter((x) => x.lookup)) {
      const small = median(ratios(run.pairs.get(e.key)!));
      const big = median(ratios(run.scale.pairs.get(e.key)!));
      checks.push([
        `${e.name} at ${fill.toLocaleString('en')} within 20% of the small store (${pct(big)} vs ${pct(small)} of ceiling)`,
        big >= 0.8 * small,
      ]);
    }
  }
  return checks.map(([label, ok]) => `- ${ok ? 'PASS' : 'MISS'}: ${label}`).join('\n');
}

const machine = `${os.cpus()[0]?.model ?? 'cpu'} × ${os.availableParallelism()}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
const load0 = os.loadavg().map((l) => l.toFixed(1));
console.log(
  `# graph-meetings benchmark\n\n${machine}; load ${load0.join(' ')} at the start; ${connections} connections; ${duration} s per measurement; ${runs} rounds; ${sequentialCount} sequential requests for the one-connection figures; autocannon in a separate process on the same machine.\n`,
);
for (const store of ['sqlite', ...(pgAdmin ? (['postgres'] as const) : [])] as const) {
  for (const [i, workers] of workerList.entries()) {
    const run = await runConfig(store, workers, i === 0 && store === 'sqlite');
    console.log(`${report(run)}\n\n${targets(run)}\n`);
  }
}
console.log(
  `load ${os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')} at the end`,
);
