import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import SqliteDatabase from 'better-sqlite3';
import { CompiledQuery } from 'kysely';
import { SqliteGroupCommit } from '../../src/storage/sqlite-group-commit.js';

describe('SQLite group commit', () => {
  let dir: string;
  let db: SqliteDatabase.Database;
  let gc: SqliteGroupCommit;
  let commits = 0;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gm-gc-'));
    db = new SqliteDatabase(path.join(dir, 'gc.sqlite'));
    db.pragma('journal_mode = WAL');
    db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT UNIQUE)');
    // Count commits through the WAL's frame counter would be indirect; wrap prepare instead.
    gc = new SqliteGroupCommit(db, (sql) => {
      if (sql === 'COMMIT') commits++;
      return db.prepare(sql);
    });
  });
  after(() => {
    db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const insert = (id: number, v: string) => CompiledQuery.raw('INSERT INTO t (id, v) VALUES (?, ?)', [id, v]);

  test('writes issued together are committed in one transaction', async () => {
    const before = commits;
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => gc.write(insert(i + 1, `v${i + 1}`))));
    assert.equal(commits - before, 1);
    assert.ok(results.every((r) => r.numAffectedRows === 1n));
    assert.equal((db.prepare('SELECT count(*) AS n FROM t').get() as { n: number }).n, 50);
  });

  test('one failing write does not undo the others in its batch', async () => {
    const outcomes = await Promise.allSettled([gc.write(insert(100, 'a')), gc.write(insert(101, 'v1')), gc.write(insert(102, 'b'))]);
    assert.deepEqual(
      outcomes.map((o) => o.status),
      ['fulfilled', 'rejected', 'fulfilled'],
    );
    assert.equal((outcomes[1] as PromiseRejectedResult).reason.code, 'SQLITE_CONSTRAINT_UNIQUE');
    assert.deepEqual(db.prepare('SELECT id FROM t WHERE id >= 100 ORDER BY id').all(), [{ id: 100 }, { id: 102 }]);
  });

  test('a write is not acknowledged before its commit, and never joins a transaction someone else has open', async () => {
    db.prepare('BEGIN').run();
    let settled = false;
    const pending = gc.write(insert(200, 'c')).then(() => (settled = true));
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(settled, false, 'waiting for the open transaction to end');
    db.prepare('ROLLBACK').run();
    await pending;
    assert.deepEqual(db.prepare('SELECT id FROM t WHERE id = 200').all(), [{ id: 200 }]);
  });

  test('while another process holds the write lock, writes wait without stalling the event loop', async () => {
    const other = new SqliteDatabase(path.join(dir, 'gc.sqlite'));
    other.prepare('BEGIN IMMEDIATE').run();
    try {
      const started = Date.now();
      let settled = false;
      const pending = gc.write(insert(300, 'd')).then(() => (settled = true));
      // Timers keep firing on time: SQLite's busy handler would have slept inside the event loop instead.
      const lags: number[] = [];
      for (let i = 0; i < 10; i++) {
        const t = Date.now();
        await new Promise((r) => setTimeout(r, 5));
        lags.push(Date.now() - t);
      }
      assert.equal(settled, false, 'the write waits for the lock');
      assert.ok(Math.max(...lags) < 100, `event loop stalled: ${lags.join(', ')} ms`);
      other.prepare('COMMIT').run();
      await pending;
      assert.ok(Date.now() - started < 2000);
      assert.deepEqual(db.prepare('SELECT id FROM t WHERE id = 300').all(), [{ id: 300 }]);
    } finally {
      if (other.inTransaction) other.prepare('ROLLBACK').run();
      other.close();
    }
  });

  test('a write that cannot get the lock in time fails as SQLITE_BUSY, and later writes still succeed', async () => {
    const impatient = new SqliteGroupCommit(db, (sql) => db.prepare(sql), 100);
    const other = new SqliteDatabase(path.join(dir, 'gc.sqlite'));
    other.prepare('BEGIN IMMEDIATE').run();
    try {
      await assert.rejects(impatient.write(insert(400, 'e')), (err: { code?: string }) => err.code === 'SQLITE_BUSY');
    } finally {
      other.prepare('ROLLBACK').run();
      other.close();
    }
    await impatient.write(insert(401, 'f'));
    assert.deepEqual(db.prepare('SELECT id FROM t WHERE id >= 400').all(), [{ id: 401 }]);
    // The connection's own busy timeout is back in place for everything else.
    assert.equal(db.pragma('busy_timeout', { simple: true }), 5000);
  });
});
