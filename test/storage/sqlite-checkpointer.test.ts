import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { migrateToLatest, openStore, type Store } from '../../src/storage/database.js';
import { insertMeeting, MeetingReads } from '../../src/storage/repositories/meeting-repository.js';
import { LazySqliteCheckpointer, SqliteCheckpointer } from '../../src/storage/sqlite-checkpointer.js';
import { makeMeeting } from './fixtures.js';

const size = (file: string) => (fs.existsSync(file) ? fs.statSync(file).size : 0);
async function until(what: string, ok: () => boolean, ms = 5000) {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting: ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('SQLite WAL checkpoints in a background thread', () => {
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gm-ckpt-'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  async function storeWithMeetings(name: string, count: number, options: { backgroundCheckpoints?: boolean } = {}) {
    const file = path.join(dir, name);
    const store: Store = openStore({ databaseUrl: undefined, sqliteFile: file, ...options });
    await migrateToLatest(store.db);
    const meetings = Array.from({ length: count }, () => makeMeeting());
    await Promise.all(meetings.map((m) => insertMeeting(store.db, m, store.write)));
    return { file, store, meetings };
  }

  test('commits no longer checkpoint; the thread moves committed pages into the database file', async () => {
    // 150 meetings are a few hundred WAL pages: below SQLite's own automatic checkpoint (1,000 pages), so
    // without the thread nothing would reach the database file until close.
    const { file, store, meetings } = await storeWithMeetings('background.sqlite', 150);
    try {
      await until('the database file to grow', () => size(file) > 150 * 4096);
      const reads = new MeetingReads(store.db, store.read);
      for (const m of meetings.slice(0, 20)) assert.deepEqual(await reads.byId(m.id), m);
    } finally {
      await store.close();
    }
  });

  test('without the thread, the same writes stay in the WAL (the test above can tell the difference)', async () => {
    const { file, store } = await storeWithMeetings('foreground.sqlite', 150, { backgroundCheckpoints: false });
    try {
      await new Promise((r) => setTimeout(r, 600));
      assert.ok(size(file) < 150 * 4096, `database file ${size(file)} bytes`);
      assert.ok(size(`${file}-wal`) > 150 * 4096);
    } finally {
      await store.close();
    }
  });

  test('the thread starts only once something is written, so an idle store has none (issue #20: idle memory)', async () => {
    const { file, store } = await storeWithMeetings('lazy.sqlite', 0, { backgroundCheckpoints: false });
    // Checkpoint what the migrations wrote, as a clean close would have: the WAL is then empty, as on a restart.
    await store.db.executeQuery({ sql: 'PRAGMA wal_checkpoint(TRUNCATE)', parameters: [], query: { kind: 'RawNode' } } as never);
    const checkpointer = new LazySqliteCheckpointer({ file, intervalMs: 20, pollMs: 20 });
    try {
      // Reads do not start it.
      const reads = new MeetingReads(store.db, store.read);
      assert.equal(await reads.byId('no-such-meeting'), undefined);
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(checkpointer.started, false);
      const meetings = Array.from({ length: 150 }, () => makeMeeting());
      await Promise.all(meetings.map((m) => insertMeeting(store.db, m, store.write)));
      await until('the thread to start', () => checkpointer.started);
      await until('the database file to grow', () => size(file) > 150 * 4096);
    } finally {
      await checkpointer.stop();
      await store.close();
    }
  });

  test('a WAL that already holds frames starts the thread at once', async () => {
    const { file, store } = await storeWithMeetings('lazy-frames.sqlite', 20, { backgroundCheckpoints: false });
    const checkpointer = new LazySqliteCheckpointer({ file, intervalMs: 20, pollMs: 20 });
    try {
      assert.ok(size(`${file}-wal`) > 0);
      assert.equal(checkpointer.started, true);
    } finally {
      await checkpointer.stop();
      await store.close();
    }
  });

  test('past its size limit the WAL starts over under continuing writes, so it stays bounded, losing nothing', async () => {
    const { file, store, meetings } = await storeWithMeetings('restart.sqlite', 0, { backgroundCheckpoints: false });
    await store.db.executeQuery({ sql: 'PRAGMA wal_autocheckpoint = 0', parameters: [], query: { kind: 'RawNode' } } as never);
    const checkpointer = new SqliteCheckpointer({ file, intervalMs: 20, restartBytes: 256 * 1024 });
    await checkpointer.ready();
    try {
      let peak = 0;
      // Writes without a pause, as under load: a PASSIVE pass never finds the WAL's end standing still.
      const until = Date.now() + 1500;
      while (Date.now() < until) {
        const batch = Array.from({ length: 5 }, () => makeMeeting());
        await Promise.all(batch.map((m) => insertMeeting(store.db, m, store.write)));
        meetings.push(...batch);
        peak = Math.max(peak, size(`${file}-wal`));
      }
      // Measured: without the RESTART, 10,000 meetings left a WAL of 270 MB; with it, about 20 MB.
      assert.ok(meetings.length > 2000, `only ${meetings.length} meetings written`);
      assert.ok(peak < Math.min(64_000_000, meetings.length * 10_000), `WAL peaked at ${peak} bytes for ${meetings.length} meetings`);
      const reads = new MeetingReads(store.db, store.read);
      for (const m of meetings) assert.deepEqual(await reads.byId(m.id), m);
    } finally {
      await checkpointer.stop();
      await store.close();
    }
  });
});
