import assert from 'node:assert/strict';
import fs from 'node:fs';
import https from 'node:https';
import { after, before, describe, test } from 'node:test';
import tls from 'node:tls';
import { DEMO, startTestApp, type TestApp } from '../helpers/test-app.js';

/** Sends raw bytes over TLS and returns what the server answered before closing. */
function raw(port: number, ca: Buffer, payload: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = tls.connect({ host: '127.0.0.1', port, ca }, () => socket.end(payload));
    let data = '';
    socket.on('data', (c) => (data += c));
    socket.on('close', () => resolve(data));
    socket.on('error', () => resolve(data));
  });
}

function assertRawEnvelope(response: string, status: number, code: string) {
  const [head, body] = response.split('\r\n\r\n');
  assert.match(head!, new RegExp(`^HTTP/1\\.1 ${status} `));
  assert.match(head!, /\r\nrequest-id: [0-9a-f-]{36}\r\n/);
  const parsed = JSON.parse(body!);
  assert.equal(parsed.error.code, code);
  assert.match(parsed.error.innerError['request-id'], /^[0-9a-f-]{36}$/);
}

describe('limits and slow clients', () => {
  let t: TestApp;
  let port: number;
  let ca: Buffer;
  before(async () => {
    t = await startTestApp('sqlite', { listen: true, env: { HEADERS_TIMEOUT_MS: '1500' } });
    port = Number(new URL(t.origin).port);
    ca = fs.readFileSync(t.caPath);
  });
  after(() => t.close());

  test('headers or a URL over the limit: 431 in the Graph envelope', async () => {
    assertRawEnvelope(
      await raw(port, ca, `GET /v1.0/me/onlineMeetings HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`),
      431,
      'RequestHeaderFieldsTooLarge',
    );
    assertRawEnvelope(
      await raw(port, ca, `GET /v1.0/${'a'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`),
      431,
      'RequestHeaderFieldsTooLarge',
    );
  });

  test('a malformed request: 400 in the Graph envelope', async () => {
    assertRawEnvelope(await raw(port, ca, 'NOT HTTP AT ALL\r\n\r\n'), 400, 'BadRequest');
  });

  test('slow clients (slowloris) are cut off and do not starve others', async () => {
    const slow: tls.TLSSocket[] = [];
    const closed: number[] = [];
    const opened = Date.now();
    for (let i = 0; i < 60; i++) {
      const s = tls.connect({ host: '127.0.0.1', port, ca }, () => s.write('GET /v1.0/me/onlineMeetings HTTP/1.1\r\nHost: x\r\n'));
      s.on('error', () => {});
      s.resume(); // read what the server sends, so its closing is seen
      s.on('close', () => closed.push(Date.now() - opened));
      slow.push(s);
    }
    // Keep each one alive with a header byte now and then, never finishing.
    const drip = setInterval(() => slow.forEach((s) => !s.destroyed && s.write('X')), 200);
    try {
      const agent = new https.Agent({ ca, keepAlive: false });
      const started = Date.now();
      const statuses = await Promise.all(
        Array.from(
          { length: 30 },
          () =>
            new Promise<number>((resolve, reject) => {
              https
                .get({ host: '127.0.0.1', port, agent, path: `/${DEMO.contoso.domain}/v2.0/.well-known/openid-configuration` }, (res) => {
                  res.resume();
                  res.on('end', () => resolve(res.statusCode ?? 0));
                })
                .on('error', reject);
            }),
        ),
      );
      assert.deepEqual(new Set(statuses), new Set([200]));
      assert.ok(Date.now() - started < 5000, 'normal clients are served while slow ones hang on');
      await new Promise((r) => setTimeout(r, 3500));
      assert.equal(closed.length, slow.length, `the server closed every slow connection (closed ${closed.length} of ${slow.length})`);
      assert.ok(Math.max(...closed) < 4000, `within about the headers timeout: ${Math.max(...closed)} ms`);
    } finally {
      clearInterval(drip);
      slow.forEach((s) => s.destroy());
    }
  });

  test('a meeting with more attendees than a chat allows is refused before it is stored', async () => {
    const token = await t.userToken();
    const attendees = Array.from({ length: 5001 }, (_, i) => ({ upn: `g${i}@partner.example` }));
    const res = await t.inject({
      method: 'POST',
      url: '/v1.0/me/onlineMeetings',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      payload: JSON.stringify({ participants: { attendees } }),
    });
    assert.equal(res.statusCode, 400);
    assert.match(res.json().error.message, /participants\.attendees/);
  });
});
