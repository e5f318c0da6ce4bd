import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { parseSeedFile } from '../src/emulator/seed-file.js';
import { GraphMeetingsServer } from '../src/programmatic.js';

/**
 * Every fenced block of the README is run or checked here, so none can rot (issue #15: "every code snippet runs
 * on its own … and is executed by a test"). The convention, documented in the README's "Development" section:
 *
 * - ```ts / ```js / ```sh / ```json blocks run by default: TypeScript and JavaScript as files of their own (with
 *   tsx; TypeScript also passes `tsc --strict`), shell with bash, JSON is parsed. They run one after another in
 *   README order, in one folder whose `data/` is the DATA_DIR of one running server (so `./data/tls/ca.pem` and
 *   `data/admin-key` are real), with `NODE_EXTRA_CA_CERTS` set to its CA for Node snippets and `DATA_DIR` set for
 *   shell ones (`npm run cli` then works on that server's database).
 * - The README's default origin `https://127.0.0.1:8443` (and `127.0.0.1:8443`) is the one placeholder: it is
 *   replaced by the running server's origin. `my-client.js` / `your-app.js` stand for the reader's program; the
 *   folder holds one that calls the service (and fails unless the CA is trusted).
 * - `<!-- snippet: MODE (reason) -->` on the last line before the fence changes that: `not-run (reason)` for a
 *   block that cannot run here (a reason is required), `typecheck (reason)` for a TypeScript block that cannot run
 *   here but must still pass `tsc --strict` on its own, `node-test` (run with `node --test`), `vitest-global-setup`,
 *   `jest-global-setup` (run as the test runner would), `seed-file` (a JSON fixture, validated as SEED_FILE).
 * - Any other block (```, ```yaml, …) must carry `not-run`: this test fails on an unmarked block it cannot run.
 * - Every package a TypeScript or JavaScript snippet imports must be named in an `npm install` earlier in the
 *   README (in a command or a `// npm install …` comment).
 *
 * Snippets import graph-meetings by its name, which Node resolves to this checkout's own build (package.json
 * "exports"; `npm ci` builds it), and the official clients from this checkout's node_modules: the folder is
 * inside the checkout.
 */
const README = fs.readFileSync('README.md', 'utf8');
const ORIGIN_PLACEHOLDER = 'https://127.0.0.1:8443';
const MODES = new Set(['not-run', 'typecheck', 'node-test', 'vitest-global-setup', 'jest-global-setup', 'seed-file']);

interface Snippet {
  line: number;
  lang: string;
  code: string;
  mode: string | undefined;
  reason: string | undefined;
  /** The README text before the block (for the install check). */
  before: string;
}

function snippets(markdown: string): Snippet[] {
  const lines = markdown.split('\n');
  const found: Snippet[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)(`{3,})(.*)$/.exec(lines[i]!);
    if (!open) continue;
    const [, indent, fence, info] = open;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !lines[i]!.startsWith(`${indent}${fence}`); i++) body.push(lines[i]!.slice(indent!.length));
    let j = start - 1;
    while (j >= 0 && lines[j]!.trim() === '') j--;
    const marker = /^\s*<!--\s*snippet:\s*([\w-]+)\s*(?:\((.*)\))?\s*-->\s*$/.exec(lines[j] ?? '');
    found.push({
      line: start + 1,
      lang: info!.trim().split(/\s+/)[0]!.toLowerCase(),
      code: `${body.join('\n')}\n`,
      mode: marker?.[1],
      reason: marker?.[2],
      before: lines.slice(0, start).join('\n'),
    });
  }
  return found;
}

const all = snippets(README);
const dir = path.resolve('.tmp', `readme-${process.pid}`);
const built = fs.existsSync('dist/index.js');
const run = promisify(execFile);

/** The packages a snippet imports (import … from 'x', import 'x', import('x'), require('x')), without node: built-ins. */
function imports(code: string): string[] {
  const names = [...code.matchAll(/(?:\bfrom\s+|\bimport\s*\(?\s*|\brequire\s*\(\s*)'([^'./][^']*)'/g)].map((m) => m[1]!);
  return [
    ...new Set(
      names
        .filter((n) => !n.startsWith('node:'))
        .map((n) =>
          n
            .split('/')
            .slice(0, n.startsWith('@') ? 2 : 1)
            .join('/'),
        ),
    ),
  ];
}

describe('the README', () => {
  test('every fenced block is run here, or marked not-run with a reason', () => {
    const problems: string[] = [];
    for (const s of all) {
      if (s.mode !== undefined && !MODES.has(s.mode)) problems.push(`line ${s.line}: unknown snippet mode '${s.mode}'`);
      if ((s.mode === 'not-run' || s.mode === 'typecheck') && !s.reason?.trim()) {
        problems.push(`line ${s.line}: ${s.mode} needs a reason in parentheses`);
      }
      if (s.mode === 'typecheck' && s.lang !== 'ts') problems.push(`line ${s.line}: typecheck is for \`\`\`ts blocks`);
      if (s.mode === undefined && !['ts', 'js', 'sh', 'bash', 'json'].includes(s.lang)) {
        problems.push(`line ${s.line}: a \`\`\`${s.lang} block that this test cannot run: mark it <!-- snippet: not-run (why) -->`);
      }
    }
    assert.deepEqual(problems, []);
  });

  test('every package a snippet imports is named in an npm install before it', () => {
    const problems: string[] = [];
    for (const s of all.filter((s) => ['ts', 'js'].includes(s.lang))) {
      const installs = [...`${s.before}\n${s.code}`.matchAll(/npm install[^\n]*/g)].map((m) => m[0]).join(' ');
      for (const name of imports(s.code)) {
        if (!new RegExp(`(^|[\\s'"])${name.replace(/[/.]/g, '\\$&')}(@[^\\s]+)?($|[\\s'"])`).test(installs)) {
          problems.push(`line ${s.line}: imports ${name}, which no npm install names`);
        }
      }
    }
    assert.deepEqual(problems, []);
  });
});

describe("the README's snippets, run against a real server", { skip: !built && 'run npm run build first (npm ci does)' }, () => {
  let gm: GraphMeetingsServer;
  let env: NodeJS.ProcessEnv;
  const origin = () => gm.url;
  const place = (code: string) =>
    code.replaceAll(ORIGIN_PLACEHOLDER, origin()).replaceAll(ORIGIN_PLACEHOLDER.slice('https://'.length), new URL(origin()).host);
  const node = (args: string[], extra: NodeJS.ProcessEnv = {}) =>
    run(process.execPath, args, { cwd: dir, env: { ...env, ...extra }, encoding: 'utf8', timeout: 120_000, maxBuffer: 16 << 20 });

  before(async () => {
    fs.mkdirSync(dir, { recursive: true });
    gm = await GraphMeetingsServer.create({ dataDir: path.join(dir, 'data') });
    // Without this runner's NODE_TEST_CONTEXT (a nested `node --test` reports on its own), and without a store
    // or port of the environment: the snippets talk to this server only.
    env = Object.fromEntries(
      Object.entries(process.env).filter(([k]) => !['NODE_TEST_CONTEXT', 'DATABASE_URL', 'PORT', 'HOST', 'NODE_OPTIONS'].includes(k)),
    );
    env.GRAPH_MEETINGS_URL = gm.url;
    // The reader's program of `NODE_EXTRA_CA_CERTS=… node my-client.js`: it fails unless the CA is trusted.
    const client = `const res = await fetch(process.env.GRAPH_MEETINGS_URL + '/_emulator/health');\nif (res.status !== 200) process.exit(1);\n`;
    fs.writeFileSync(path.join(dir, 'my-client.js'), client);
    fs.writeFileSync(path.join(dir, 'your-app.js'), client);
    // tsc reads only, so it checks the TypeScript blocks (in a folder of its own) while the snippets run.
    typechecked = typecheck().then(
      () => undefined,
      (err: { stdout?: string }) => `tsc --strict: ${err.stdout ?? err}`,
    );
  });
  after(async () => {
    await gm?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** Every TypeScript block that is run or marked typecheck, as the file tsc --strict checks. */
  const typescript: Array<{ file: string; code: () => string }> = [];
  let typechecked: Promise<string | undefined>;
  const typecheck = async () => {
    const folder = path.join(dir, 'typecheck');
    fs.mkdirSync(folder);
    for (const t of typescript) fs.writeFileSync(path.join(folder, t.file), t.code());
    const compilerOptions = {
      strict: true,
      target: 'ES2022',
      module: 'Node16',
      moduleResolution: 'Node16',
      lib: ['ES2023'],
      types: ['node'],
      noEmit: true,
      skipLibCheck: true,
    };
    fs.writeFileSync(path.join(folder, 'tsconfig.json'), JSON.stringify({ compilerOptions, files: typescript.map((t) => t.file) }));
    await run(process.execPath, [path.resolve('node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], {
      cwd: folder,
      encoding: 'utf8',
      timeout: 300_000,
    });
  };
  for (const s of all) {
    if (s.mode === 'not-run') continue;
    if (s.mode === 'typecheck') {
      typescript.push({ file: `snippet-${s.line}.ts`, code: () => place(s.code) });
      continue;
    }
    const name = `README.md line ${s.line} (${s.mode ?? s.lang})`;
    const base = `snippet-${s.line}`;

    if (s.mode === 'seed-file') {
      test(`${name} is a valid seed file`, async () => {
        await parseSeedFile(s.code, `README.md line ${s.line}`);
      });
    } else if (s.lang === 'json') {
      test(`${name} parses`, () => {
        JSON.parse(s.code);
      });
    } else if (s.mode === 'node-test') {
      test(`${name} passes under node --test`, async () => {
        fs.writeFileSync(path.join(dir, `${base}.test.mjs`), place(s.code));
        const { stdout } = await node(['--test', '--test-reporter=tap', `${base}.test.mjs`]);
        assert.match(stdout, /# fail 0/);
        assert.match(stdout, /# pass [1-9]/);
      });
    } else if (s.mode === 'vitest-global-setup') {
      test(`${name}: the global setup starts a server the workers trust, and its teardown stops it`, async () => {
        // .mjs: an ES module (in a project with "type": "module" it is the .js file the README names).
        fs.writeFileSync(path.join(dir, `${base}.setup.mjs`), place(s.code));
        const { stdout } = await node([
          '--input-type=module',
          '-e',
          `const s = await import('./${base}.setup.mjs'); await s.setup();
           const { promisify } = await import('node:util');
           const { execFile } = await import('node:child_process');
           // A worker started after the setup, with the environment it left: the CA is trusted without options.
           const { stdout } = await promisify(execFile)(process.execPath, ['-e', "fetch(process.env.GRAPH_MEETINGS_URL + '/_emulator/health').then(r => console.log(r.status))"]);
           console.log(stdout.trim());
           await s.teardown();`,
        ]);
        assert.equal(stdout.trim(), '200');
      });
    } else if (s.mode === 'jest-global-setup') {
      test(`${name}: the jest global setup and teardown run`, async () => {
        const [setup, teardown] = place(s.code).split(/^\/\/ \S*teardown\S*$/m);
        assert.ok(teardown, 'the block holds the setup, then the teardown after a "// ….teardown.cjs" line');
        fs.writeFileSync(path.join(dir, `${base}.setup.cjs`), setup!);
        fs.writeFileSync(path.join(dir, `${base}.teardown.cjs`), teardown);
        const { stdout } = await node([
          '-e',
          `(async () => { await require('./${base}.setup.cjs')();
            const url = process.env.GRAPH_MEETINGS_URL;
            const { execFile } = require('node:child_process');
            const { stdout } = await require('node:util').promisify(execFile)(process.execPath, ['-e', "fetch('" + url + "/_emulator/health').then(r => console.log(r.status))"]);
            console.log(stdout.trim());
            await require('./${base}.teardown.cjs')(); })();`,
        ]);
        assert.equal(stdout.trim(), '200');
      });
    } else if (s.lang === 'ts' || s.lang === 'js') {
      const file = `${base}.${s.lang === 'ts' ? 'ts' : 'mjs'}`;
      if (s.lang === 'ts') typescript.push({ file, code: () => place(s.code) });
      test(`${name} runs on its own`, async () => {
        fs.writeFileSync(path.join(dir, file), place(s.code));
        await node(['--import', 'tsx', file], { NODE_EXTRA_CA_CERTS: gm.caFile });
      });
    } else if (s.lang === 'sh' || s.lang === 'bash') {
      test(`${name} runs in bash`, async () => {
        fs.writeFileSync(path.join(dir, `${base}.sh`), place(s.code));
        const { stdout } = await run('bash', ['-e', '-o', 'pipefail', `${base}.sh`], {
          cwd: dir,
          env: { ...env, DATA_DIR: path.join(dir, 'data') },
          encoding: 'utf8',
          timeout: 120_000,
        });
        // curl -s prints Graph's and Entra's errors rather than failing on them.
        assert.doesNotMatch(stdout, /"error"\s*:/, stdout);
      });
    }
  }

  test('the TypeScript snippets pass tsc --strict', { skip: typescript.length === 0 }, async () => {
    const problem = await typechecked;
    if (problem) assert.fail(problem);
  });
});
