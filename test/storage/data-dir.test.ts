import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { after, describe, test } from 'node:test';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config/config.js';

/**
 * DATA_DIR is 0700 and every file in it 0600, whichever process creates it first; a start on a folder
 * or database others can read warns with the fix (issue #11 item 4).
 */
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const roots: string[] = [];
after(() => roots.forEach((r) => fs.rmSync(r, { recursive: true, force: true })));

/** A DATA_DIR path that does not exist yet (inside a fresh temp folder). */
function newDataDir(): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'graph-meetings-perm-'));
  roots.push(root);
  return path.join(root, 'data');
}

const mode = (p: string) => fs.statSync(p).mode & 0o777;

/** Every folder is 0700 and every file 0600 under `dir`. */
function assertPrivate(dir: string) {
  assert.equal(mode(dir).toString(8), '700', dir);
  for (const entry of fs.readdirSync(dir, { recursive: true, withFileTypes: true })) {
    const p = path.join(entry.parentPath, entry.name);
    assert.equal(mode(p).toString(8), entry.isDirectory() ? '700' : '600', p);
  }
}

async function startServer(dataDir: string, env: Record<string, string> = {}) {
  const lines: string[] = [];
  const logStream = new Writable({
    write(chunk, _enc, done) {
      lines.push(String(chunk));
      done();
    },
  });
  const app = await buildApp(loadConfig({ PORT: '0', DATA_DIR: dataDir, LOG_LEVEL: 'warn', ...env }, process.cwd()), { logStream });
  await app.ready();
  // A write so that the -wal and -shm files exist.
  await app.graphMeetings.store.db.selectFrom('tenants').select('id').execute();
  await app.close();
  return lines.join('');
}

function cli(dataDir: string, args: string[]) {
  return new Promise<void>((resolve, reject) =>
    execFile(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', ...args],
      { cwd: ROOT, env: { ...process.env, DATA_DIR: dataDir, DATABASE_URL: '', LOG_LEVEL: 'silent' } },
      (err, _out, stderr) => (err ? reject(new Error(stderr)) : resolve()),
    ),
  );
}

describe('DATA_DIR and its files are private, whichever process creates them (issue #11 item 4)', () => {
  test('the server with TLS=off creates it first', async () => {
    const dir = newDataDir();
    const log = await startServer(dir, { TLS: 'off' });
    assert.ok(fs.existsSync(path.join(dir, 'graph-meetings.sqlite')));
    assertPrivate(dir);
    assert.doesNotMatch(log, /readable or writable by other users/);
  });

  test('the server with its local CA creates it first', async () => {
    const dir = newDataDir();
    await startServer(dir);
    assert.ok(fs.existsSync(path.join(dir, 'tls', 'ca-key.pem')));
    assertPrivate(dir);
  });

  test('the CLI creates it first, then the server starts on it', async () => {
    const dir = newDataDir();
    await cli(dir, ['tenant', 'add', '--name', 'Northwind', '--domain', 'northwind.test']);
    assertPrivate(dir);
    const log = await startServer(dir);
    assertPrivate(dir);
    assert.doesNotMatch(log, /readable or writable by other users/);
  });

  test('a start on a folder and database others can read warns and says how to fix it', async () => {
    const dir = newDataDir();
    fs.mkdirSync(dir, { mode: 0o755 });
    fs.chmodSync(dir, 0o755);
    await startServer(dir, { TLS: 'off' });
    fs.chmodSync(path.join(dir, 'graph-meetings.sqlite'), 0o644);
    const log = await startServer(dir, { TLS: 'off' });
    assert.match(log, /"level":40/);
    assert.match(
      log,
      new RegExp(`${dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is readable or writable by other users \\(mode 755\\).*chmod 700`),
    );
    assert.match(log, /graph-meetings\.sqlite is readable or writable by other users \(mode 644\).*chmod 600/);
  });
});
