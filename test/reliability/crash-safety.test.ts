import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import type https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import type { StoreKind } from '../../src/storage/database.js';
import { createPostgresDatabase, dropPostgresDatabase, STORES } from '../helpers/stores.js';
import {
  appToken,
  checkPostgres,
  checkSqlite,
  errorCode,
  freePort,
  MEETINGS_PATH,
  request,
  signalGroup,
  spawnServer,
  SQLITE_FILE,
  tally,
  waitGroupGone,
  waitReady,
  type IntegrityReport,
  type ServerProcess,
} from './harness.js';

/**
 * Crash safety (issue: "kill the server with SIGKILL in the middle of a create load and restart it"):
 * every meeting answered 201 before the crash must be there after the restart, equal to what the 201
 * returned and found by its joinMeetingId, and the store must pass its integrity checks. A 201 is a
 * promise that the meeting is stored; batching or deferring writes must not break it.
 */

const LOOPS = 40;
/** Kill/restart rounds per test: three in one process, two with the cluster (its starts take longer). */
const ROUNDS: Record<number, number> = { 1: 3, 2: 2 };
type Json = Record<string, unknown>;

interface LoadResult {
  /** Every meeting answered 201, as the 201 body had it. */
  created: Json[];
  /** Statuses other than 201 seen before the kill (there should be none). */
  otherBeforeKill: number[];
  /** Transport errors before the kill (there should be none). */
  errorsBeforeKill: string[];
  /** What the requests in flight at the kill ended with (connection errors, expected). */
  afterKill: string[];
  /** Requests sent in all. */
  sent: number;
  loadMs: number;
}

/** The fields a later read must reproduce: the 201 body minus its context URL and the rendered invitation. */
function comparable(body: Json): Json {
  const { '@odata.context': _context, joinInformation: _join, ...rest } = body;
  return rest;
}

function createBody(label: string, i: number): string {
  const start = new Date(Date.UTC(2031, 0, 1) + i * 3_600_000);
  return JSON.stringify({
    subject: `${label} #${i} ${randomUUID()}`,
    startDateTime: start.toISOString(),
    endDateTime: new Date(start.getTime() + 1_800_000).toISOString(),
    joinMeetingIdSettings: { isPasscodeRequired: i % 2 === 0 },
    allowRecording: i % 3 === 0,
    participants: {
      attendees: Array.from({ length: 1 + (i % 4) }, (_, k) => ({
        identity: { user: { id: randomUUID(), displayName: `Guest ${i}.${k}` } },
        upn: `guest${i}.${k}@example.com`,
        role: 'attendee',
      })),
    },
  });
}

/** LOOPS concurrent create loops; after `killAfterMs` the whole process group gets SIGKILL. */
async function createLoadThenKill(
  server: ServerProcess,
  agent: https.Agent,
  port: number,
  token: string,
  label: string,
  killAfterMs: number,
): Promise<LoadResult> {
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const result: LoadResult = { created: [], otherBeforeKill: [], errorsBeforeKill: [], afterKill: [], sent: 0, loadMs: 0 };
  let killed = false;
  let next = 0;
  const started = Date.now();
  const timer = setTimeout(() => {
    killed = true;
    result.loadMs = Date.now() - started;
    signalGroup(server.pid, 'SIGKILL');
  }, killAfterMs);
  await Promise.all(
    Array.from({ length: LOOPS }, async () => {
      while (!killed) {
        const i = next++;
        result.sent++;
        try {
          const res = await request(agent, port, 'POST', MEETINGS_PATH, headers, createBody(label, i));
          if (res.status === 201) result.created.push(JSON.parse(res.body) as Json);
          else if (killed) result.afterKill.push(String(res.status));
          else result.otherBeforeKill.push(res.status);
        } catch (err) {
          if (killed) result.afterKill.push(errorCode(err));
          else result.errorsBeforeKill.push(errorCode(err));
        }
      }
    }),
  );
  clearTimeout(timer);
  return result;
}

interface Verification {
  found: number;
  missing: string[];
  changed: string[];
  lookupFailures: string[];
  otherStatuses: string[];
}

/** Reads every meeting answered 201 so far through the (restarted) server: by id and by joinMeetingId. */
async function verifyMeetings(agent: https.Agent, port: number, token: string, expected: Map<string, Json>): Promise<Verification> {
  const headers = { authorization: `Bearer ${token}` };
  const v: Verification = { found: 0, missing: [], changed: [], lookupFailures: [], otherStatuses: [] };
  const queue = [...expected.entries()];
  await Promise.all(
    Array.from({ length: 32 }, async () => {
      for (let item = queue.pop(); item; item = queue.pop()) {
        const [id, body] = item;
        const res = await request(agent, port, 'GET', `${MEETINGS_PATH}/${encodeURIComponent(id)}`, headers);
        if (res.status === 404) {
          v.missing.push(id);
          continue;
        }
        if (res.status !== 200) {
          v.otherStatuses.push(`GET ${id}: ${res.status} ${res.body.slice(0, 200)}`);
          continue;
        }
        v.found++;
        const got = comparable(JSON.parse(res.body) as Json);
        try {
          assert.deepStrictEqual(got, comparable(body));
        } catch (err) {
          v.changed.push(`${id}: ${(err as Error).message.slice(0, 600)}`);
        }
        const joinMeetingId = (body.joinMeetingIdSettings as { joinMeetingId: string }).joinMeetingId;
        const filter = encodeURIComponent(`joinMeetingIdSettings/joinMeetingId eq '${joinMeetingId}'`);
        const lookup = await request(agent, port, 'GET', `${MEETINGS_PATH}?$filter=${filter}`, headers);
        const value = lookup.status === 200 ? (JSON.parse(lookup.body) as { value: Json[] }).value : [];
        if (value.length !== 1 || value[0]!.id !== id) {
          v.lookupFailures.push(`joinMeetingId ${joinMeetingId} (${id}): ${lookup.status} ${lookup.body.slice(0, 200)}`);
        } else {
          try {
            assert.deepStrictEqual(comparable(value[0]!), comparable(body));
          } catch (err) {
            v.lookupFailures.push(`joinMeetingId ${joinMeetingId} (${id}) differs: ${(err as Error).message.slice(0, 400)}`);
          }
        }
      }
    }),
  );
  return v;
}

/**
 * The SQLite files exactly as the crash left them, checked on a copy (so that recovery runs on the
 * copy, not on what the restarted server will open): integrity, and every 201'd meeting present.
 */
function checkCrashedSqliteCopy(dataDir: string, expected: Map<string, Json>): IntegrityReport & { absent: string[]; walBytes: number } {
  const copyDir = fs.mkdtempSync(path.join(os.tmpdir(), 'graph-meetings-crashcopy-'));
  try {
    const src = path.join(dataDir, SQLITE_FILE);
    fs.copyFileSync(src, path.join(copyDir, SQLITE_FILE));
    let walBytes = 0;
    if (fs.existsSync(`${src}-wal`)) {
      walBytes = fs.statSync(`${src}-wal`).size;
      fs.copyFileSync(`${src}-wal`, path.join(copyDir, `${SQLITE_FILE}-wal`));
    }
    // Not read-only: opening runs the WAL recovery a restarted server would run.
    const report = checkSqlite(path.join(copyDir, SQLITE_FILE), { readonly: false });
    const absent = [...expected.keys()].filter((id) => !report.ids.has(id));
    return { ...report, absent, walBytes };
  } finally {
    fs.rmSync(copyDir, { recursive: true, force: true });
  }
}

async function runCrashRounds(t: TestContext, kind: StoreKind, workers: number): Promise<void> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'graph-meetings-crash-'));
  const databaseUrl = kind === 'postgres' ? await createPostgresDatabase() : undefined;
  const port = await freePort();
  const spawned: ServerProcess[] = [];
  const start = async () => {
    const server = spawnServer({ port, dataDir, databaseUrl, workers });
    spawned.push(server);
    const began = Date.now();
    const agent = await waitReady(server, dataDir, port);
    return { server, agent, startMs: Date.now() - began };
  };
  const expected = new Map<string, Json>();
  const failures: string[] = [];
  try {
    let { server, agent, startMs } = await start();
    t.diagnostic(`${kind} WORKERS=${workers}: first start ${startMs} ms`);
    for (let round = 1; round <= ROUNDS[workers]!; round++) {
      const token = await appToken(agent, port);
      const killAfter = 1000 + Math.floor(Math.random() * 1000);
      const load = await createLoadThenKill(server, agent, port, token, `crash ${kind} w${workers} r${round}`, killAfter);
      agent.destroy();
      const exit = await server.exited;
      await waitGroupGone(server.pid);
      for (const body of load.created) expected.set(body.id as string, body);
      t.diagnostic(
        `round ${round}: SIGKILL after ${load.loadMs} ms (primary exit signal ${exit.signal}); sent ${load.sent}, ` +
          `201 ${load.created.length} (total ${expected.size}); in flight at the kill: ${JSON.stringify(tally(load.afterKill))}`,
      );
      if (load.otherBeforeKill.length)
        failures.push(`round ${round}: non-201 before the kill: ${JSON.stringify(tally(load.otherBeforeKill))}`);
      if (load.errorsBeforeKill.length) {
        failures.push(`round ${round}: transport errors before the kill: ${JSON.stringify(tally(load.errorsBeforeKill))}`);
      }
      if (load.created.length === 0) failures.push(`round ${round}: no meeting was created before the kill`);

      if (kind === 'sqlite') {
        const crashed = checkCrashedSqliteCopy(dataDir, expected);
        t.diagnostic(
          `round ${round}: crashed SQLite file (WAL ${crashed.walBytes} bytes): ${crashed.meetings} rows, ` +
            `${crashed.absent.length} of the 201s absent, problems: ${crashed.problems.length ? crashed.problems.join(' | ') : 'none'}`,
        );
        failures.push(...crashed.problems.map((p) => `round ${round}, crashed file: ${p}`));
        if (crashed.absent.length) {
          failures.push(
            `round ${round}, crashed file: ${crashed.absent.length} meetings answered 201 are absent: ${crashed.absent.slice(0, 5)}`,
          );
        }
      }

      ({ server, agent, startMs } = await start());
      const readToken = await appToken(agent, port);
      const verifyStart = Date.now();
      const v = await verifyMeetings(agent, port, readToken, expected);
      const verifyMs = Date.now() - verifyStart;
      const store = kind === 'sqlite' ? checkSqlite(path.join(dataDir, SQLITE_FILE)) : await checkPostgres(databaseUrl!);
      const notStored = [...expected.keys()].filter((id) => !store.ids.has(id));
      t.diagnostic(
        `round ${round}: restart ${startMs} ms; read back in ${verifyMs} ms: ` +
          `found ${v.found}/${expected.size} answered 201 (missing ${v.missing.length}, ` +
          `changed ${v.changed.length}, lookup failures ${v.lookupFailures.length}, other statuses ${v.otherStatuses.length}); ` +
          `${store.meetings} rows stored (${store.meetings - expected.size} committed without a 201 reaching the client); ` +
          `integrity [${store.checks.join(', ')}]: ${store.problems.length ? store.problems.join(' | ') : 'ok'}`,
      );
      if (v.missing.length)
        failures.push(`round ${round}: ${v.missing.length} meetings answered 201 are gone (404): ${v.missing.slice(0, 5)}`);
      if (v.changed.length) failures.push(`round ${round}: ${v.changed.length} meetings differ from their 201: ${v.changed.slice(0, 3)}`);
      if (v.lookupFailures.length) failures.push(`round ${round}: joinMeetingId lookups failed: ${v.lookupFailures.slice(0, 3)}`);
      if (v.otherStatuses.length) failures.push(`round ${round}: unexpected statuses on read: ${v.otherStatuses.slice(0, 3)}`);
      if (notStored.length)
        failures.push(`round ${round}: ${notStored.length} meetings answered 201 have no row: ${notStored.slice(0, 5)}`);
      failures.push(...store.problems.map((p) => `round ${round}, after restart: ${p}`));
    }

    // The last restart is stopped gracefully; the store must then be closed cleanly.
    agent.destroy();
    const stopAt = Date.now();
    signalGroup(server.pid, 'SIGTERM');
    const exit = await server.exited;
    await waitGroupGone(server.pid);
    t.diagnostic(`final SIGTERM: exit code ${exit.code} signal ${exit.signal} after ${exit.at - stopAt} ms`);
    if (exit.code !== 0) failures.push(`final SIGTERM: exit code ${exit.code} signal ${exit.signal}\n${server.output().slice(-2000)}`);
    if (kind === 'sqlite') {
      const walFile = path.join(dataDir, `${SQLITE_FILE}-wal`);
      const final = checkSqlite(path.join(dataDir, SQLITE_FILE));
      const absent = [...expected.keys()].filter((id) => !final.ids.has(id));
      t.diagnostic(
        `after the final stop: ${final.meetings} rows, WAL left ${fs.existsSync(walFile) ? fs.statSync(walFile).size : 0} bytes, ` +
          `problems: ${final.problems.length ? final.problems.join(' | ') : 'none'}`,
      );
      failures.push(...final.problems.map((p) => `after the final stop: ${p}`));
      if (absent.length) failures.push(`after the final stop: ${absent.length} meetings answered 201 are absent`);
    }
    for (const s of spawned) {
      if (/\b(FATAL|panic)\b|"level":(50|60)/.test(s.output())) t.diagnostic(`server ${s.pid} logged errors:\n${s.output().slice(-3000)}`);
    }
    assert.deepEqual(failures, [], failures.join('\n'));
  } finally {
    for (const s of spawned) signalGroup(s.pid, 'SIGKILL');
    if (databaseUrl) await dropPostgresDatabase(databaseUrl);
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

for (const kind of STORES) {
  describe(`${kind}: SIGKILL in the middle of a create load, then restart`, () => {
    for (const workers of [1, 2]) {
      const name = `WORKERS=${workers}: ${ROUNDS[workers]} kill/restart rounds; every 201 survives intact; the store stays consistent`;
      test(name, async (t) => {
        await runCrashRounds(t, kind, workers);
      });
    }
  });
}
