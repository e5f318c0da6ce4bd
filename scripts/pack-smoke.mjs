#!/usr/bin/env node
// CI's package check (issue #15): pack the tarball, install it into a fresh temporary project with its own
// package.json, and there (1) run `npx graph-meetings start` on port 0 and create a meeting with a plain
// HTTPS client, (2) run a node:test suite that uses GraphMeetingsServer.create(), reset() and stop().
// Nothing from this checkout's node_modules is visible to the project: it gets only what the tarball declares.
import { execFileSync, spawn } from 'node:child_process';
import { setTimeout, clearTimeout } from 'node:timers';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'graph-meetings-pack-'));
const run = (cmd, args, cwd) => execFileSync(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
const step = (text) => console.log(`# ${text}`);
let passed = 0;
let failed = 0;

try {
  step('npm pack');
  const packed = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', work], root));
  const tarball = path.join(work, packed[0].filename);
  const files = packed[0].files.map((f) => f.path);
  for (const needed of ['dist/index.js', 'dist/index.d.ts', 'dist/server.js', 'dist/cli/main.js', 'bin/graph-meetings.js']) {
    if (!files.includes(needed)) throw new Error(`the tarball lacks ${needed}`);
  }
  if (files.some((f) => f.startsWith('src/') || f.startsWith('test/'))) throw new Error('the tarball carries src/ or test/');

  step(`install ${path.basename(tarball)} into a fresh project`);
  const project = path.join(work, 'project');
  fs.mkdirSync(project);
  fs.writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'pack-smoke', private: true, type: 'module' }, null, 2));
  run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--omit=dev', tarball], project);
  fs.cpSync(path.join(root, 'test', 'package'), project, { recursive: true, filter: (src) => !src.endsWith('.ts') });

  step('npx graph-meetings start --port 0, then a client creates a meeting');
  const dataDir = path.join(work, 'data');
  const server = spawn('npx', ['graph-meetings', 'start', '--port', '0', '--data-dir', dataDir, '--log-format', 'json'], {
    cwd: project,
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, LOG_LEVEL: 'warn' },
    // Its own process group: npx does not pass SIGTERM on to the server it starts, so the whole group is
    // signalled below; otherwise the server outlives this script and holds its output pipe open.
    detached: true,
  });
  try {
    const ready = await new Promise((resolve, reject) => {
      let buffer = '';
      const timer = setTimeout(() => reject(new Error('no ready line within 120 s')), 120_000);
      server.stdout.on('data', (chunk) => {
        buffer += chunk;
        for (const line of buffer.split('\n')) {
          if (line.includes('"graphMeetings":"ready"')) {
            clearTimeout(timer);
            resolve(JSON.parse(line));
          }
        }
      });
      server.on('exit', (code) => reject(new Error(`graph-meetings start exited with ${code}`)));
    });
    const out = run(process.execPath, ['create-meeting-client.mjs', ready.url, ready.caFile], project);
    console.log(out.trim());
    passed++;
  } catch (err) {
    console.error(`not ok: ${err.message}`);
    failed++;
  } finally {
    const exited = new Promise((resolve) => (server.exitCode !== null ? resolve() : server.on('exit', resolve)));
    try {
      process.kill(-server.pid, 'SIGTERM');
    } catch {
      // The group is gone already.
    }
    await exited;
  }

  step('node --test with GraphMeetingsServer.create(), reset() and stop()');
  try {
    console.log(run(process.execPath, ['--test', '--test-reporter=spec', 'programmatic.test.mjs'], project));
    passed++;
  } catch (err) {
    console.log(err.stdout ?? '');
    console.error(`not ok: the programmatic suite failed`);
    failed++;
  }
} finally {
  fs.rmSync(work, { recursive: true, force: true });
}
console.log(`package: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
