#!/usr/bin/env node
// Start time (issue #15, README "Quick start"): from spawning `npm start` (the build present, an existing DATA_DIR)
// to the first answered GET /_emulator/health, and from calling GraphMeetingsServer.create() to the same answer.
// `node scripts/start-time.mjs [--runs 7]` after `npm run build`; prints each run and the median with its range.
// The first start on a data directory (which creates the local CA and the database) is not counted: it is once per
// checkout. The programmatic server is measured with a given dataDir (kept, as a suite's global setup would) and
// with the default fresh temporary one (a new CA each time).
// Each started service process's resident memory is read too (issue #20: at most 120 MiB idle): VmRSS from
// /proc/<pid>/status 2 s after its first answer, before any other request (Linux only; skipped elsewhere).
import { spawn } from 'node:child_process';
import { clearTimeout, setTimeout } from 'node:timers';
import { performance } from 'node:perf_hooks';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const runsArg = process.argv.indexOf('--runs');
const runs = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 7;
if (!fs.existsSync(path.join(root, 'dist', 'server.js'))) {
  console.error('start-time: no build; run `npm run build` first');
  process.exit(2);
}
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'graph-meetings-start-'));
const dataDir = path.join(work, 'data');

const health = (url, ca) =>
  new Promise((resolve, reject) => {
    https
      .get(`${url}/_emulator/health`, { ca }, (res) => {
        res.resume();
        res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`health answered ${res.statusCode}`))));
      })
      .on('error', reject);
  });

const IDLE_MS = 2000;

/** The service's own process: npm's child under `npm start` (the script execs node), else the spawned one. */
function serviceProcess(pid, direct) {
  if (direct) return pid;
  const children = fs
    .readdirSync(`/proc/${pid}/task`)
    .flatMap((t) => fs.readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8').trim().split(/\s+/).filter(Boolean));
  return children.map(Number).find((c) => fs.readFileSync(`/proc/${c}/cmdline`, 'utf8').includes('dist/server.js'));
}

/** VmRSS of a process in MiB, or undefined without /proc. */
function rssMiB(pid) {
  try {
    const kb = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb === undefined ? undefined : Number(kb) / 1024;
  } catch {
    return undefined;
  }
}

/**
 * One `npm start` (or `node dist/server.js`): ms from spawn to the first answered health request, and the
 * service process's RSS 2 s later (undefined without /proc); stopped after.
 */
async function npmStart(direct = false) {
  const t0 = performance.now();
  const server = spawn(direct ? process.execPath : 'npm', direct ? ['dist/server.js'] : ['start'], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, PORT: '0', DATA_DIR: dataDir, LOG_LEVEL: 'warn', LOG_FORMAT: 'json', WORKERS: '1' },
    detached: true,
  });
  const exited = new Promise((resolve) => server.on('exit', resolve));
  try {
    const ready = await new Promise((resolve, reject) => {
      let buffer = '';
      server.stdout.on('data', (chunk) => {
        buffer += chunk;
        const line = buffer.split('\n').find((l) => l.includes('"graphMeetings":"ready"'));
        if (line) resolve(JSON.parse(line));
      });
      server.on('exit', (code) => reject(new Error(`npm start exited with ${code}`)));
    });
    await health(ready.url, fs.readFileSync(ready.caFile));
    const ms = performance.now() - t0;
    const pid = fs.existsSync('/proc/self/status') ? serviceProcess(server.pid, direct) : undefined;
    await new Promise((resolve) => setTimeout(resolve, IDLE_MS));
    return { ms, rss: pid === undefined ? undefined : rssMiB(pid) };
  } finally {
    // npm passes SIGTERM on to the server (README "Quick start"); the whole group only if that did not stop it.
    server.kill('SIGTERM');
    const timer = setTimeout(() => process.kill(-server.pid, 'SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
  }
}

/** One GraphMeetingsServer.create() in a fresh Node process (so no module is cached): import, create, first answer. */
function programmatic(withDataDir) {
  const code = `
    const t0 = performance.now();
    const { GraphMeetingsServer } = await import('graph-meetings');
    const t1 = performance.now();
    const gm = await GraphMeetingsServer.create(${withDataDir ? JSON.stringify({ dataDir: path.join(work, 'programmatic') }) : ''});
    const https = await import('node:https');
    await new Promise((resolve, reject) => https.get(gm.url + '/_emulator/health', { ca: gm.ca }, (res) => { res.resume(); res.on('end', resolve); }).on('error', reject));
    const t2 = performance.now();
    await gm.stop();
    console.log(JSON.stringify({ importMs: t1 - t0, createMs: t2 - t1 }));`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', code], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (c) => (out += c));
    child.on('exit', (status) => (status === 0 ? resolve(JSON.parse(out.trim().split('\n').at(-1))) : reject(new Error(`exit ${status}`))));
  });
}

const summary = (name, values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)];
  const fmt = (ms) => `${(ms / 1000).toFixed(2)} s`;
  console.log(`${name}: median ${fmt(median)}, range ${fmt(sorted[0])}–${fmt(sorted.at(-1))} (${values.length} runs)`);
};

try {
  console.log(
    `# ${os.cpus()[0]?.model ?? 'cpu'} × ${os.availableParallelism()}, load ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}, Node ${process.version}`,
  );
  await npmStart(); // creates the data directory, the CA and the database: not counted
  await programmatic(true);
  const npm = [];
  const node = [];
  const created = [];
  const imported = [];
  const fresh = [];
  const rss = [];
  for (let i = 0; i < runs; i++) {
    const viaNpm = await npmStart();
    const direct = await npmStart(true);
    npm.push(viaNpm.ms);
    node.push(direct.ms);
    rss.push(...[viaNpm.rss, direct.rss].filter((r) => r !== undefined));
    const p = await programmatic(true);
    imported.push(p.importMs);
    created.push(p.createMs);
    fresh.push((await programmatic(false)).createMs);
    console.log(
      `run ${i + 1}: npm start ${npm.at(-1).toFixed(0)} ms, node dist/server.js ${node.at(-1).toFixed(0)} ms${
        viaNpm.rss === undefined ? '' : ` (idle RSS ${viaNpm.rss.toFixed(1)} / ${direct.rss?.toFixed(1)} MiB)`
      }; import ${p.importMs.toFixed(0)} ms, create() ${p.createMs.toFixed(0)} ms (dataDir), ${fresh.at(-1).toFixed(0)} ms (fresh temporary)`,
    );
  }
  summary('npm start → first answered request', npm);
  summary('node dist/server.js → first answered request', node);
  if (rss.length) {
    const sorted = [...rss].sort((a, b) => a - b);
    console.log(
      `service process RSS ${IDLE_MS / 1000} s after its first answer: median ${sorted[Math.floor(sorted.length / 2)].toFixed(1)} MiB, range ${sorted[0].toFixed(1)}–${sorted.at(-1).toFixed(1)} MiB (${rss.length} starts)`,
    );
  }
  summary("import('graph-meetings')", imported);
  summary('GraphMeetingsServer.create({ dataDir }) → first answered request', created);
  summary('GraphMeetingsServer.create() (fresh temporary dataDir, new CA) → first answered request', fresh);
  console.log(
    `# load after: ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
} finally {
  fs.rmSync(work, { recursive: true, force: true });
}
