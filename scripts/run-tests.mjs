#!/usr/bin/env node
// Runs every test file under test/ with node's test runner and tsx. Node 20's runner cannot glob .ts
// files itself, so this finds them; extra arguments narrow the run (`npm test -- test/http`).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const roots = process.argv.slice(2).length ? process.argv.slice(2) : ['test'];
const files = [];
const walk = (p) => {
  const stat = fs.statSync(p);
  if (stat.isDirectory()) for (const e of fs.readdirSync(p).sort()) walk(path.join(p, e));
  else if (p.endsWith('.test.ts')) files.push(p);
};
roots.forEach(walk);
if (!process.env.TEST_DATABASE_URL) {
  console.log(
    '# PostgreSQL suites SKIPPED: set TEST_DATABASE_URL=postgres://user@host:5432/db to run every store suite on PostgreSQL too.',
  );
} else {
  console.log(`# PostgreSQL suites enabled (${new URL(process.env.TEST_DATABASE_URL).host}).`);
}
const result = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=spec', ...files], { stdio: 'inherit' });
process.exit(result.status ?? 1);
