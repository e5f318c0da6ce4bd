/**
 * npm run bench:profile -- <scenario>: runs one benchmark scenario against a single service process
 * started with --cpu-prof, then prints where its CPU time went (self time by function and by area).
 * Profile before optimizing (issue #6); the .cpuprofile file is kept for Chrome DevTools.
 *
 *   npm run bench:profile -- get   # create | createOrGet | get | lookup-url | lookup-id | me | event-create | event-get
 *   BENCH_WORKERS=2 npm run bench:profile -- create   # one report per worker process
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DEMO, load, request, startProcess, userToken } from './lib.js';
import { endpoints, seed } from './scenarios.js';

const scenario = process.argv[2] ?? 'get';
const duration = Number(process.env.BENCH_DURATION ?? 10);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 50);
const workers = process.env.BENCH_WORKERS ?? '1';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** Which part of the stack a frame belongs to, from its script URL. */
function area(url: string, name: string): string {
  if (!url) return name === '(garbage collector)' ? 'gc' : name === '(program)' || name === '(idle)' ? name : 'native';
  if (url.startsWith('node:internal/tls') || url.startsWith('node:tls') || url.includes('_tls_')) return 'node tls';
  if (url.startsWith('node:internal/http') || url.startsWith('node:_http') || url.startsWith('node:http')) return 'node http';
  if (url.startsWith('node:')) return 'node other';
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (m) return m[1]!;
  const s = /\/(?:dist|src)\/(.+)$/.exec(url);
  return s ? `graph-meetings ${s[1]!.replace(/\/[^/]+$/, '')}` : url;
}

/**
 * Counts only the samples taken while the load ran: start-up, seeding and the warm-up are left out. V8 stamps
 * samples with the monotonic clock (microseconds) that process.hrtime reads, the same in every process.
 */
function report(profile: CpuProfile, window: { from: number; to: number }) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  let at = profile.startTime;
  profile.samples.forEach((id, i) => {
    at += profile.timeDeltas[i] ?? 0;
    if (at >= window.from && at <= window.to) self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const fns = new Map<string, number>();
  const areas = new Map<string, number>();
  for (const [id, t] of self) {
    const f = byId.get(id)!.callFrame;
    const key = `${f.functionName || '(anonymous)'} ${f.url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*\/(dist|src)\//, '$1/')}:${f.lineNumber + 1}`;
    fns.set(key, (fns.get(key) ?? 0) + t);
    const a = area(f.url, f.functionName);
    areas.set(a, (areas.get(a) ?? 0) + t);
  }
  const pct = (t: number) => `${((100 * t) / total).toFixed(1).padStart(5)}%`;
  console.log('\nself time by area');
  for (const [a, t] of [...areas].sort((x, y) => y[1] - x[1]).slice(0, 25)) console.log(`${pct(t)}  ${a}`);
  console.log('\nself time by function');
  for (const [f, t] of [...fns].sort((x, y) => y[1] - x[1]).slice(0, 40)) console.log(`${pct(t)}  ${f}`);
}

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'graph-meetings-profile-'));
const profDir = path.join(dataDir, 'profiles');
const ready = async (port: number) => (await request(port, 'GET', `/${DEMO.tenant}/v2.0/.well-known/openid-configuration`)).status === 200;
const window = { from: 0, to: Infinity };
const service = await startProcess(
  ['--cpu-prof', `--cpu-prof-dir=${profDir}`, 'dist/server.js'],
  { DATA_DIR: dataDir, WORKERS: workers, LOG_LEVEL: 'warn' },
  ready,
);
try {
  const token = await userToken(service.port);
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const eps = endpoints(await seed(service.port, headers));
  const e = eps.find((x) => x.key === scenario);
  if (!e) throw new Error(`unknown scenario ${scenario}; one of ${eps.map((x) => x.key).join(', ')}`);
  await load('warm-up', { ...e.scenario, headers, port: service.port, connections, duration: 2 });
  window.from = Number(process.hrtime.bigint() / 1000n);
  const r = await load(scenario, { ...e.scenario, headers, port: service.port, connections, duration });
  window.to = Number(process.hrtime.bigint() / 1000n);
  console.log(`${scenario}: ${Math.round(r.rps)} requests/s, p50 ${r.p50} ms, p99 ${r.p99} ms, errors ${r.errors + r.non2xx}`);
} finally {
  await service.stop();
}
// With WORKERS > 1 every process writes a profile; the largest are the workers that served the load.
const files = fs
  .readdirSync(profDir)
  .filter((f) => f.endsWith('.cpuprofile'))
  .map((f) => path.join(profDir, f))
  .sort((a, b) => fs.statSync(b).size - fs.statSync(a).size)
  .slice(0, Number(workers) || 1);
if (files.length === 0) throw new Error('no profile written');
files.forEach((f, i) => {
  const kept = path.join(os.tmpdir(), `graph-meetings-${scenario}${i ? `-${i}` : ''}.cpuprofile`);
  fs.copyFileSync(f, kept);
  console.log(`\nprofile: ${kept}`);
  report(JSON.parse(fs.readFileSync(kept, 'utf8')) as CpuProfile, window);
});
fs.rmSync(dataDir, { recursive: true, force: true });
