import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { migrateToLatest, openStore, type Store } from '../../src/storage/database.js';
import { insertMeeting, MeetingReads } from '../../src/storage/repositories/meeting-repository.js';
import { SqliteCheckpointer } from '../../src/storage/sqlite-checkpointer.js';
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

  test('past its size limit the WAL is restarted and truncated, under continuing writes, losing nothing', async () => {
    const { file, store, meetings } = await storeWithMeetings('restart.sqlite', 0, { backgroundCheckpoints: false });
    const checkpointer = new SqliteCheckpointer({ file, intervalMs: 20, restartBytes: 256 * 1024 });
    await checkpointer.ready();
    try {
      let peak = 0;
      for (let round = 0; round < 10; round++) {
        const batch = Array.from({ length: 60 }, () => makeMeeting());
        await Promise.all(batch.map((m) => insertMeeting(store.db, m, store.write)));
        meetings.push(...batch);
        peak = Math.max(peak, size(`${file}-wal`));
        await new Promise((r) => setTimeout(r, 30));
      }
      await until('the WAL to be truncated', () => size(`${file}-wal`) <= 256 * 1024, 5000);
      assert.ok(peak > 0);
      const reads = new MeetingReads(store.db, store.read);
      for (const m of meetings) assert.deepEqual(await reads.byId(m.id), m);
    } finally {
      await checkpointer.stop();
      await store.close();
    }
  });
});
