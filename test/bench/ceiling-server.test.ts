import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { CeilingAnswer } from '../../bench/ceiling-server.js';
import { request, sequentialLatency, startProcess, type Proc } from '../../bench/lib.js';
import { ensureLocalTls } from '../../src/http/local-tls.js';

/**
 * The benchmark's ratios are only honest if the ceiling sends the service's own bytes on the service's own routes
 * (issue #20), and if the one-connection client reads whole answers. A change that broke either would still give
 * numbers, wrong ones; this catches it.
 */
let dir: string;
let ceiling: Proc;
const answers: CeilingAnswer[] = [
  {
    method: 'GET',
    url: '/v1.0/me/onlineMeetings/:id',
    status: 200,
    contentType: 'application/json',
    body: JSON.stringify({ id: 'x', pad: 'p'.repeat(7000) }),
  },
  {
    method: 'GET',
    url: '/v1.0/me/onlineMeetings',
    queryIncludes: 'JoinWebUrl',
    status: 200,
    contentType: 'application/json',
    body: '{"by":"url"}',
  },
  {
    method: 'GET',
    url: '/v1.0/me/onlineMeetings',
    queryIncludes: 'joinMeetingId',
    status: 200,
    contentType: 'application/json',
    body: '{"by":"id"}',
  },
  { method: 'POST', url: '/v1.0/me/events', status: 201, contentType: 'application/json', body: '{"event":"é"}' },
];

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gm-ceiling-'));
  await ensureLocalTls(dir);
  const file = path.join(dir, 'answers.json');
  fs.writeFileSync(file, JSON.stringify(answers));
  ceiling = await startProcess(
    ['--import', 'tsx', 'bench/ceiling-server.ts'],
    { DATA_DIR: dir, WORKERS: '1', CEILING_ANSWERS: file },
    async (port) => {
      return (await request(port, 'POST', '/ceiling', { 'content-type': 'application/json' }, '{}')).status === 201;
    },
  );
});
after(async () => {
  await ceiling?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

test('the ceiling answers each route with the captured status and bytes', async () => {
  const get = await request(ceiling.port, 'GET', '/v1.0/me/onlineMeetings/MSoxMjM0');
  assert.equal(get.status, 200);
  assert.equal(get.body, answers[0]!.body);
  const filter = (f: string) => `/v1.0/me/onlineMeetings?$filter=${encodeURIComponent(f)}`;
  assert.equal((await request(ceiling.port, 'GET', filter("JoinWebUrl eq 'https://x'"))).body, '{"by":"url"}');
  assert.equal((await request(ceiling.port, 'GET', filter("joinMeetingIdSettings/joinMeetingId eq '123'"))).body, '{"by":"id"}');
  const post = await request(ceiling.port, 'POST', '/v1.0/me/events', { 'content-type': 'application/json' }, '{"subject":"s"}');
  assert.equal(post.status, 201);
  assert.equal(post.body, '{"event":"é"}');
  assert.equal(
    (await request(ceiling.port, 'POST', '/ceiling', { 'content-type': 'application/json' }, '{}')).body.length,
    2022,
    'the 2 KB reply of the earlier rounds, unchanged',
  );
});

test('the one-connection client reads whole answers, one at a time, and counts failures', async () => {
  const big = await sequentialLatency(ceiling.port, { method: 'GET', path: (i) => `/v1.0/me/onlineMeetings/id${i}` }, {}, 50);
  assert.equal(big.errors, 0);
  assert.ok(big.p50 > 0 && big.p99 >= big.p50);
  const posted = await sequentialLatency(
    ceiling.port,
    { method: 'POST', path: () => '/v1.0/me/events', body: (i) => JSON.stringify({ i }) },
    { 'content-type': 'application/json' },
    50,
  );
  assert.equal(posted.errors, 0);
  const missing = await sequentialLatency(ceiling.port, { method: 'GET', path: () => '/nothing' }, {}, 5);
  assert.equal(missing.errors, 5);
});
