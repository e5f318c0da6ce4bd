/**
 * Soak: mixed load (create, GET, lookup by joinWebUrl, PATCH, DELETE) at half the measured capacity for
 * SOAK_MINUTES (default 10), reported per segment so the curve of throughput, latency, errors and memory
 * can be read. Run: npm run build && node --import tsx scripts/soak.ts
 *   SOAK_MINUTES=10 SOAK_SEGMENT_SECONDS=30 SOAK_CONNECTIONS=20 WORKERS=auto [DATABASE_URL=postgres://…]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import { DEMO, EXAMPLE_1, request, rssMiB, startProcess, userToken } from '../bench/lib.js';

const minutes = Number(process.env.SOAK_MINUTES ?? 10);
const segmentSeconds = Number(process.env.SOAK_SEGMENT_SECONDS ?? 30);
const connections = Number(process.env.SOAK_CONNECTIONS ?? 20);
const workers = process.env.WORKERS ?? 'auto';

/** One connection's loop: create, read, find, update, delete; the id flows through the context. */
function mixed(auth: Record<string, string>): autocannon.Request[] {
  type Ctx = { id?: string; url?: string };
  const remember = (_status: number, body: string, context: Ctx) => {
    try {
      const m = JSON.parse(body);
      context.id = m.id;
      context.url = m.joinWebUrl;
    } catch {
      // an error body: the next steps will fail and be counted
    }
  };
  return [
    { method: 'POST', path: '/v1.0/me/onlineMeetings', headers: auth, body: EXAMPLE_1, onResponse: remember },
    { method: 'GET', headers: auth, setupRequest: (req, ctx) => ({ ...req, path: `/v1.0/me/onlineMeetings/${(ctx as Ctx).id}` }) },
    {
      method: 'GET',
      headers: auth,
      setupRequest: (req, ctx) => ({
        ...req,
        path: `/v1.0/me/onlineMeetings?$filter=${encodeURIComponent(`JoinWebUrl eq '${(ctx as Ctx).url}'`)}`,
      }),
    },
    {
      method: 'PATCH',
      headers: auth,
      body: JSON.stringify({ subject: 'soaked', lobbyBypassSettings: { isDialInBypassEnabled: true } }),
      setupRequest: (req, ctx) => ({ ...req, path: `/v1.0/me/onlineMeetings/${(ctx as Ctx).id}` }),
    },
    {
      method: 'DELETE',
      headers: { authorization: auth.authorization! },
      setupRequest: (req, ctx) => ({ ...req, path: `/v1.0/me/onlineMeetings/${(ctx as Ctx).id}` }),
    },
  ];
}

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'graph-meetings-soak-'));
const env = {
  DATA_DIR: dataDir,
  WORKERS: workers,
  LOG_LEVEL: 'warn',
  ...(process.env.DATABASE_URL ? { DATABASE_URL: process.env.DATABASE_URL } : {}),
};
const service = await startProcess(
  ['dist/server.js'],
  env,
  async (port) => (await request(port, 'GET', `/${DEMO.tenant}/v2.0/.well-known/openid-configuration`)).status === 200,
);
try {
  const token = await userToken(service.port);
  const auth = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const run = (seconds: number, overallRate?: number) =>
    autocannon({
      url: `https://127.0.0.1:${service.port}`,
      connections,
      duration: seconds,
      requests: mixed(auth),
      ...(overallRate ? { overallRate } : {}),
    });
  const probe = await run(10);
  const rate = Math.max(1, Math.floor(probe.requests.average / 2));
  console.log(
    `# soak: ${minutes} min at ${rate} requests/s (half of the ${Math.round(probe.requests.average)} requests/s measured), ${connections} connections, store ${env.DATABASE_URL ? 'postgres' : 'sqlite'}\n`,
  );
  console.log('| minute | requests/s | p50 ms | p99 ms | errors | non-2xx | RSS MiB |');
  console.log('|---:|---:|---:|---:|---:|---:|---:|');
  const rows: { p99: number; rss: number; errors: number }[] = [];
  const segments = Math.max(1, Math.round((minutes * 60) / segmentSeconds));
  for (let i = 0; i < segments; i++) {
    const r = await run(segmentSeconds, rate);
    const rss = rssMiB(service.child.pid!);
    const errors = r.errors + r.timeouts;
    rows.push({ p99: r.latency.p99, rss, errors: errors + r.non2xx });
    console.log(
      `| ${(((i + 1) * segmentSeconds) / 60).toFixed(1)} | ${Math.round(r.requests.average)} | ${r.latency.p50} | ${r.latency.p99} | ${errors} | ${r.non2xx} | ${rss} |`,
    );
  }
  const first = rows[0]!;
  const last = rows[rows.length - 1]!;
  const settled = rows[Math.min(1, rows.length - 1)]!; // the first segment includes JIT warm-up
  console.log(`\n- ${rows.every((r) => r.errors === 0) ? 'PASS' : 'MISS'}: zero errors`);
  console.log(`- ${last.rss - settled.rss < 64 ? 'PASS' : 'MISS'}: memory flat (${settled.rss} → ${last.rss} MiB after warm-up)`);
  console.log(
    `- ${last.p99 <= Math.max(2 * settled.p99, settled.p99 + 10) ? 'PASS' : 'MISS'}: latency flat (p99 ${first.p99} → ${last.p99} ms)`,
  );
} finally {
  await service.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
}
