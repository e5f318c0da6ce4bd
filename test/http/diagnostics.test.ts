import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import tls from 'node:tls';
import { after, before, describe, test } from 'node:test';
import { DEMO, graph, startTestApp, type TestApp } from '../helpers/test-app.js';

const C = DEMO.contoso;

function sink() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      done();
    },
  });
  return { lines, stream };
}

describe('diagnostics: why a client was refused, in the log', () => {
  let t: TestApp;
  const log = sink();
  before(async () => {
    t = await startTestApp('sqlite', { listen: true, env: { LOG_LEVEL: 'info', LOG_FORMAT: 'json' }, deps: { logStream: log.stream } });
  });
  after(() => t.close());

  const waitFor = async (pattern: RegExp) => {
    for (let i = 0; i < 100; i++) {
      const hit = log.lines.find((l) => pattern.test(l));
      if (hit) return hit;
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.fail(`no log line matching ${pattern}:\n${log.lines.slice(-10).join('\n')}`);
  };

  test('a refused access token is logged with its reason, never the token', async () => {
    const token = await t.appToken();
    const [h, p] = token.split('.');
    const forged = `${h}.${p}.${'A'.repeat(342)}`;
    const res = await graph(t, 'GET', `/v1.0/users/${C.alice.id}/onlineMeetings?$filter=JoinWebUrl eq 'x'`, forged);
    assert.equal(res.statusCode, 401);
    const line = JSON.parse(await waitFor(/refused the access token/));
    assert.equal(line.code, 'InvalidAuthenticationToken');
    assert.match(line.reason, /signature/);
    assert.ok(!log.lines.join('\n').includes(p!), 'the token is not in the log');
    const wrongAudience = await graph(t, 'GET', '/v1.0/me/onlineMeetings/x', 'not-a-jwt');
    assert.equal(wrongAudience.statusCode, 401);
    assert.match(await waitFor(/"reason":"not a JWS"/), /refused the access token: not a JWS/);
  });

  test('a refused sign-in is logged with its AADSTS code and reason, never the secret', async () => {
    const res = await t.inject({
      method: 'POST',
      url: `/${C.domain}/oauth2/v2.0/token`,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: C.scheduler.clientId,
        client_secret: 'the-wrong-secret-value',
        scope: 'https://graph.microsoft.com/.default',
      }).toString(),
    });
    assert.equal(res.statusCode, 401);
    const line = JSON.parse(await waitFor(/refused the sign-in: AADSTS7000215/));
    assert.equal(line.aadsts, 7000215);
    assert.equal(line.error, 'invalid_client');
    assert.ok(!log.lines.join('\n').includes('the-wrong-secret-value'));
  });

  // OpenSSL clients (curl, Python, Go, browsers) tell the server with an alert why they hung up; Node.js
  // clients check the certificate after the handshake and just close, so only the client sees why.
  test('a client that does not trust the CA (curl): the server logs why', { skip: !hasCurl() && 'curl is not installed' }, async () => {
    await new Promise<void>((resolve) => {
      const child = spawn('curl', ['-s', '--max-time', '10', `${t.origin}/_emulator/health`], { stdio: 'ignore' });
      child.on('exit', () => resolve());
      child.on('error', () => resolve());
    });
    const line = await waitFor(/does not trust the CA/);
    assert.ok(line.includes(t.caPath), line);
  });

  test('plain HTTP on the HTTPS port gets a one-line answer saying to use https', async () => {
    const url = new URL(t.origin);
    const res = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      http
        .get({ host: url.hostname, port: url.port, path: '/v1.0/me/onlineMeetings' }, (r) => {
          let body = '';
          r.on('data', (c) => (body += c));
          r.on('end', () => resolve({ status: r.statusCode!, body }));
        })
        .on('error', reject);
    });
    assert.equal(res.status, 400);
    assert.equal(res.body, `This port speaks HTTPS: use ${t.origin} (https://, not http://).\n`);
    // HTTPS on the same port is unaffected.
    const ok = await fetchHealth(t);
    assert.equal(ok, 200);
  });
});

function hasCurl(): boolean {
  return ['/usr/bin/curl', '/bin/curl', '/usr/local/bin/curl'].some((p) => fs.existsSync(p));
}

function fetchHealth(t: TestApp): Promise<number> {
  return new Promise((resolve, reject) => {
    const url = new URL(`${t.origin}/_emulator/health`);
    const socket = tls.connect(
      { host: url.hostname, port: Number(url.port), ca: fs.readFileSync(t.caPath), servername: 'localhost' },
      () => {
        socket.write(`GET /_emulator/health HTTP/1.1\r\nhost: ${url.host}\r\nconnection: close\r\n\r\n`);
      },
    );
    let text = '';
    socket.on('data', (c) => (text += c));
    socket.on('end', () => resolve(Number(/^HTTP\/1\.1 (\d+)/.exec(text)?.[1])));
    socket.on('error', reject);
  });
}

describe('diagnostics: logs and start failures', () => {
  test('LOG_FORMAT=pretty writes lines for a person, json one object per line', async () => {
    for (const [format, check] of [
      ['pretty', (l: string) => /INFO|WARN/.test(l) && !l.startsWith('{')],
      ['json', (l: string) => JSON.parse(l) !== undefined],
    ] as const) {
      const log = sink();
      const t = await startTestApp('sqlite', { env: { LOG_LEVEL: 'info', LOG_FORMAT: format }, deps: { logStream: log.stream } });
      await t.inject({ method: 'GET', url: '/_emulator/health' });
      await t.close();
      assert.ok(log.lines.length > 0, format);
      assert.ok(log.lines.some(check), `${format}: ${log.lines[0]}`);
      if (format === 'pretty') assert.ok(!log.lines.some((l) => l.startsWith('{"level"')));
    }
  });

  test('EADDRINUSE is one clear line and exit status 2', async () => {
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as net.AddressInfo).port;
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'gm-eaddrinuse-'));
    try {
      const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
        env: { ...process.env, PORT: String(port), DATA_DIR: dataDir, LOG_LEVEL: 'silent' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (c) => (stderr += c));
      const code = await new Promise<number | null>((r) => child.on('exit', r));
      assert.equal(code, 2);
      assert.equal(
        stderr,
        `graph-meetings: port ${port} on 127.0.0.1 is already in use (EADDRINUSE); stop what is listening there or set PORT (PORT=0 picks a free port).\n`,
      );
    } finally {
      blocker.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });

  test('a bad SEED_FILE is one line and exit status 2', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'gm-badseed-'));
    try {
      fs.writeFileSync(path.join(dataDir, 'seed.json'), '{"tenants": [{"domain": "x.test"}]}');
      const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
        env: { ...process.env, PORT: '0', DATA_DIR: dataDir, SEED_FILE: path.join(dataDir, 'seed.json'), LOG_LEVEL: 'silent' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (c) => (stderr += c));
      const code = await new Promise<number | null>((r) => child.on('exit', r));
      assert.equal(code, 2);
      assert.equal(stderr.split('\n').filter(Boolean).length, 1, stderr);
      assert.match(stderr, /^graph-meetings: SEED_FILE .*seed.json is not valid: - \/tenants\/0\/displayName: Expected required property/);
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
