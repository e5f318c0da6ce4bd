import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

/**
 * The README's "Using it from tests" snippets, run as written so they cannot rot. They import the package by
 * its name, which Node resolves to this checkout's own build (package.json "exports"; `npm ci` builds it),
 * so they run from a folder inside the checkout.
 */
const README = fs.readFileSync('README.md', 'utf8');
const section = README.slice(README.indexOf('## Using it from tests'), README.indexOf('## Demo directory'));
const blocks = [...section.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]!);
const dir = path.resolve('.tmp', `readme-${process.pid}`);
const built = fs.existsSync('dist/index.js');

describe("the README's snippets for test suites", { skip: !built && 'run npm run build first (npm ci does)' }, () => {
  before(() => fs.mkdirSync(dir, { recursive: true }));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));
  // Without this runner's NODE_TEST_CONTEXT, so that a nested `node --test` reports on its own.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'NODE_TEST_CONTEXT'));
  const node = (args: string[]) =>
    execFileSync(process.execPath, args, { cwd: dir, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000 });

  test('there are the programmatic, node:test, vitest and jest snippets', () => {
    assert.equal(blocks.length, 4, 'four js blocks in "Using it from tests"');
  });

  test('the programmatic server snippet runs', () => {
    fs.writeFileSync(path.join(dir, 'programmatic.mjs'), blocks[0]!);
    const out = node(['programmatic.mjs']);
    assert.match(out, /^https:\/\/127\.0\.0\.1:\d+ \S+ca\.pem \S{16,}/);
  });

  test('the node:test recipe passes', () => {
    fs.writeFileSync(path.join(dir, 'recipe.test.mjs'), blocks[1]!);
    const out = node(['--test', '--test-reporter=tap', 'recipe.test.mjs']);
    assert.match(out, /# pass 1/);
  });

  test('the vitest global setup starts a server the workers can trust, and its teardown stops it', () => {
    // .mjs: the snippet is an ES module (in a project with "type": "module" it is the .js file the README names).
    fs.writeFileSync(path.join(dir, 'graph-meetings.setup.mjs'), blocks[2]!);
    const out = node([
      '--input-type=module',
      '-e',
      `const s = await import('./graph-meetings.setup.mjs'); await s.setup();
       const { promisify } = await import('node:util');
       const { execFile } = await import('node:child_process');
       // A worker started after the setup, with the environment it left: the CA is trusted without options.
       const { stdout } = await promisify(execFile)(process.execPath, ['-e', "fetch(process.env.GRAPH_MEETINGS_URL + '/_emulator/health').then(r => console.log(r.status))"]);
       console.log(stdout.trim());
       await s.teardown();`,
    ]);
    assert.equal(out.trim(), '200');
  });

  test('the jest global setup and teardown run', () => {
    const [setup, teardown] = blocks[3]!.split('// graph-meetings.teardown.cjs');
    fs.writeFileSync(path.join(dir, 'graph-meetings.setup.cjs'), setup!);
    fs.writeFileSync(path.join(dir, 'graph-meetings.teardown.cjs'), teardown!);
    const out = node([
      '-e',
      `(async () => { await require('./graph-meetings.setup.cjs')();
        const url = process.env.GRAPH_MEETINGS_URL;
        const { execFile } = require('node:child_process');
        const { stdout } = await require('node:util').promisify(execFile)(process.execPath, ['-e', "fetch('" + url + "/_emulator/health').then(r => console.log(r.status))"]);
        console.log(stdout.trim());
        await require('./graph-meetings.teardown.cjs')(); })();`,
    ]);
    assert.equal(out.trim(), '200');
  });
});
