import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { loadConfig } from '../../src/config/config.js';
import { GraphMeetingsServer } from '../../src/programmatic.js';
import { EmulatorClock } from '../../src/util/clock.js';
import { seededRandomness } from '../../src/util/randomness.js';
import { DEMO } from '../helpers/test-app.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- parsed JSON under test
type Json = any;
const C = DEMO.contoso;
const ADMIN_KEY = 'deterministic-admin-key-0123';

/** Starts a server, signs Alice in and creates two meetings through Graph; returns their JSON. */
async function run(options: Parameters<typeof GraphMeetingsServer.create>[0]) {
  const gm = await GraphMeetingsServer.create({ ...options, env: { PUBLIC_URL: 'https://127.0.0.1:8443', ADMIN_KEY } });
  try {
    const tokenRes = await gm.app.inject({
      method: 'POST',
      url: `/${C.domain}/oauth2/v2.0/token`,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: C.scheduler.clientId,
        client_secret: C.scheduler.secret,
        scope: 'https://graph.microsoft.com/.default',
      }).toString(),
    });
    const token = (tokenRes.json() as Json).access_token as string;
    const meetings: Json[] = [];
    for (const subject of ['Snapshot one', 'Snapshot two']) {
      const res = await gm.app.inject({
        method: 'POST',
        url: `/v1.0/users/${C.alice.id}/onlineMeetings`,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        payload: JSON.stringify({ subject }),
      });
      assert.equal(res.statusCode, 201, res.body);
      meetings.push(res.json());
    }
    // Issue #17: a recorded session's ids follow the seed too (after the meetings, as the last element).
    const session = await gm.app.inject({
      method: 'POST',
      url: '/_emulator/sessions',
      headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
      payload: JSON.stringify({
        meeting: { id: meetings[0].id },
        startDateTime: '2030-01-02T10:00:00Z',
        endDateTime: '2030-01-02T10:30:00Z',
        participants: [{ user: C.alice.upn, intervals: [{ joinDateTime: '2030-01-02T10:00:00Z', leaveDateTime: '2030-01-02T10:30:00Z' }] }],
        transcript: { cues: [{ speaker: C.alice.upn, start: '00:00:01.000', end: '00:00:02.000', text: 'Hello' }] },
      }),
    });
    assert.equal(session.statusCode, 201, session.body);
    meetings.push(session.json());
    return meetings;
  } finally {
    await gm.stop();
  }
}

describe('deterministic mode (CLOCK, CLOCK_FROZEN, ID_SEED)', () => {
  test('two runs with the same seed and clock produce identical meeting JSON', async () => {
    const options = { clock: '2030-01-02T09:00:00Z', clockFrozen: true, idSeed: 42 };
    const first = await run(options);
    const second = await run(options);
    assert.deepEqual(second, first);
    assert.match(first[0].creationDateTime, /^2030-01-02T09:00:00(\.\d{1,7})?Z$/);
    assert.notEqual(first[0].id, first[1].id);
    const third = await run({ ...options, idSeed: 43 });
    assert.notEqual(third[0].id, first[0].id);
    assert.notEqual(third[0].joinMeetingIdSettings.joinMeetingId, first[0].joinMeetingIdSettings.joinMeetingId);
    assert.match(first[2].attendanceReportId, /^[0-9a-f-]{36}$/);
    assert.notEqual(third[2].attendanceReportId, first[2].attendanceReportId);
  });

  test('CLOCK alone starts the clock there and it advances', async () => {
    const [meeting] = await run({ clock: '2031-05-06T07:08:09Z' });
    const created = Date.parse(meeting.creationDateTime);
    assert.ok(created >= Date.parse('2031-05-06T07:08:09Z') && created < Date.parse('2031-05-06T07:09:09Z'), meeting.creationDateTime);
  });

  test('the clock moves only forward, and a frozen clock only when advanced', () => {
    let real = 1000;
    const clock = new EmulatorClock({ source: () => real, start: 5000 });
    real = 1500;
    assert.equal(clock.now(), 5500);
    clock.advance(2);
    assert.equal(clock.now(), 7500);
    assert.throws(() => clock.advance(-1), RangeError);
    const frozen = new EmulatorClock({ source: () => real, start: 5000, frozen: true });
    real = 99_999;
    assert.equal(frozen.now(), 5000);
    frozen.advance(1);
    assert.equal(frozen.now(), 6000);
  });

  test('seeded randomness is a reproducible sequence of valid UUIDs and bounded numbers', () => {
    const a = seededRandomness(7);
    const b = seededRandomness(7);
    const seqA = Array.from({ length: 50 }, () => [a.uuid(), a.int(0, 10)]);
    const seqB = Array.from({ length: 50 }, () => [b.uuid(), b.int(0, 10)]);
    assert.deepEqual(seqA, seqB);
    for (const [uuid, n] of seqA) {
      assert.match(String(uuid), /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      assert.ok(Number(n) >= 0 && Number(n) < 10);
    }
    assert.equal(new Set(seqA.map(([u]) => u)).size, 50);
  });

  test('CLOCK, CLOCK_FROZEN and ID_SEED are validated with the other settings', () => {
    assert.throws(() => loadConfig({ CLOCK: 'tomorrow' }, '/'), /CLOCK must be an ISO 8601 date-time with a zone/);
    assert.throws(() => loadConfig({ CLOCK: '2030-01-01T00:00:00' }, '/'), /CLOCK must be an ISO 8601 date-time with a zone/);
    assert.throws(() => loadConfig({ CLOCK_FROZEN: 'true' }, '/'), /CLOCK_FROZEN needs CLOCK/);
    assert.throws(() => loadConfig({ ID_SEED: '-1' }, '/'), /ID_SEED must be a whole number/);
    const config = loadConfig({ CLOCK: '2030-01-01T00:00:00+02:00', ID_SEED: '5' }, '/');
    assert.equal(config.clockStart, Date.parse('2029-12-31T22:00:00Z'));
    assert.equal(config.idSeed, 5);
  });
});
