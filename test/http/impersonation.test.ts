/**
 * IMPERSONATE=on (src/http/host-names.ts, src/http/impersonation-proxy.ts): unchanged clients that
 * hard-code https://graph.microsoft.com and https://login.microsoftonline.com reach this service through
 * a hosts entry (curl --resolve) or an HTTPS proxy (curl --proxy, an HTTPS-proxy-aware Node agent), see
 * the real host names everywhere, and nothing else is ever tunnelled.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { HttpsProxyAgent } from 'https-proxy-agent';
import { ConfigError, loadConfig } from '../../src/config/config.js';
import { impersonatedHost } from '../../src/http/host-names.js';
import { parseAuthority } from '../../src/http/impersonation-proxy.js';
import { STORES } from '../helpers/stores.js';
import { DEMO, startTestApp, type TestApp } from '../helpers/test-app.js';

const C = DEMO.contoso;
const GRAPH = 'https://graph.microsoft.com';
const LOGIN = 'https://login.microsoftonline.com';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- parsed JSON under test
type Json = any;

interface CurlResult {
  code: number;
  status: number;
  body: Json;
  stderr: string;
}

/** Runs curl with the local CA as its only trust; the proxy environment of this process is not passed on. */
function curl(args: string[]): Promise<CurlResult> {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/_proxy$/i.test(k)));
  return new Promise((resolve) => {
    execFile('curl', ['-sS', '--max-time', '20', '-w', '\n%{http_code}', ...args], { env }, (err, stdout, stderr) => {
      const i = stdout.lastIndexOf('\n');
      const text = stdout.slice(0, i);
      let body: Json = text;
      try {
        body = text ? JSON.parse(text) : null;
      } catch {
        // not JSON
      }
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, status: Number(stdout.slice(i + 1)), body, stderr });
    });
  });
}

function claims(jwt: string): Json {
  return JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString('utf8'));
}

/** A hand-written CONNECT (or any request line) to the proxy; resolves with the status line and the raw answer. */
function rawProxyRequest(port: number, request: string): Promise<{ statusLine: string; text: string }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let text = '';
    socket.setEncoding('utf8');
    socket.on('connect', () => socket.write(request));
    socket.on('data', (chunk: string) => {
      text += chunk;
      // A successful CONNECT leaves the tunnel open: the status line is all we need.
      if (text.startsWith('HTTP/1.1 200')) socket.destroy();
    });
    socket.on('close', () => resolve({ statusLine: text.split('\r\n')[0] ?? '', text }));
    socket.on('error', reject);
  });
}

/** A JSON client whose code names only the real hosts, through an HTTPS-proxy-aware agent. */
function viaProxy(
  agent: { agent: https.Agent; ca: string },
  method: string,
  url: string,
  options: { token?: string; json?: unknown; form?: Record<string, string> } = {},
) {
  return new Promise<{ status: number; headers: Record<string, unknown>; body: Json }>((resolve, reject) => {
    const headers: Record<string, string> = { accept: 'application/json' };
    let payload: string | undefined;
    if (options.json !== undefined) {
      payload = JSON.stringify(options.json);
      headers['content-type'] = 'application/json';
    } else if (options.form) {
      payload = new URLSearchParams(options.form).toString();
      headers['content-type'] = 'application/x-www-form-urlencoded';
    }
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    // The agent tunnels through the proxy; `ca` is the trust for the far end (what NODE_EXTRA_CA_CERTS gives a real app).
    const req = https.request(url, { method, agent: agent.agent, ca: agent.ca, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text ? JSON.parse(text) : null }));
    });
    req.on('error', reject);
    req.end(payload);
  });
}

describe('IMPERSONATE configuration', () => {
  const env = (extra: Record<string, string>) => loadConfig({ PORT: '0', DATA_DIR: '/tmp/x', ...extra }, '/');

  test('is off by default, and PROXY_PORT needs it', () => {
    assert.equal(env({}).impersonation.enabled, false);
    assert.throws(
      () => env({ PROXY_PORT: '8080' }),
      (e: unknown) => e instanceof ConfigError && /PROXY_PORT only applies/.test(e.message),
    );
  });

  test('refuses a non-loopback HOST unless the operator declares a private test network', () => {
    for (const host of ['0.0.0.0', '::', '192.168.1.10', 'meetings.example.com']) {
      assert.throws(
        () => env({ IMPERSONATE: 'on', HOST: host }),
        (e: unknown) => e instanceof ConfigError && /refuses to listen on HOST/.test(e.message),
        host,
      );
    }
    for (const host of ['127.0.0.1', '127.1.2.3', '::1', 'localhost'])
      assert.equal(env({ IMPERSONATE: 'on', HOST: host }).impersonation.enabled, true);
    const c = env({ IMPERSONATE: 'on', HOST: '0.0.0.0', IMPERSONATE_PRIVATE_NETWORK: 'true', PROXY_PORT: '3128' });
    assert.deepEqual(c.impersonation, { enabled: true, proxyPort: 3128, privateNetwork: true });
  });

  test('needs TLS, and a proxy port apart from PORT', () => {
    assert.throws(() => env({ IMPERSONATE: 'on', TLS: 'off' }), /IMPERSONATE=on needs TLS=on/);
    assert.throws(() => env({ IMPERSONATE: 'on', PORT: '8443', PROXY_PORT: '8443' }), /PROXY_PORT must differ from PORT/);
    assert.throws(() => env({ IMPERSONATE: 'on', PROXY_PORT: '70000' }), /PROXY_PORT must be a whole number/);
    assert.throws(() => env({ IMPERSONATE: 'maybe' }), /IMPERSONATE must be on or off/);
  });

  test('host names and CONNECT authorities are parsed strictly', () => {
    assert.deepEqual(impersonatedHost('Graph.Microsoft.com'), { kind: 'graph', hostname: 'graph.microsoft.com', origin: GRAPH });
    assert.equal(impersonatedHost('login.microsoftonline.com:443')?.origin, LOGIN);
    assert.equal(impersonatedHost('sts.windows.net:8443')?.origin, 'https://sts.windows.net:8443');
    assert.equal(impersonatedHost('teams.microsoft.com')?.kind, 'teams');
    assert.equal(impersonatedHost('login.windows.net')?.kind, 'entra');
    for (const bad of [
      'graph.microsoft.com:0',
      'graph.microsoft.com:65536',
      'graph.microsoft.com.evil.test',
      'evil.test',
      'graph.microsoft.com:x',
      undefined,
    ]) {
      assert.equal(impersonatedHost(bad), undefined, String(bad));
    }
    assert.deepEqual(parseAuthority('GRAPH.microsoft.com:443'), { host: 'graph.microsoft.com', port: 443 });
    for (const bad of ['graph.microsoft.com', 'graph.microsoft.com:0', 'a b:443', 'http://graph.microsoft.com:443', '[zz]:443']) {
      assert.equal(parseAuthority(bad), undefined, bad);
    }
  });
});

for (const kind of STORES) {
  describe(`${kind}: answering as graph.microsoft.com and login.microsoftonline.com`, () => {
    let t: TestApp;
    let port: number;
    let proxyPort: number;
    let proxyUrl: string;
    let agent: { agent: https.Agent; ca: string };
    before(async () => {
      t = await startTestApp(kind, { listen: true, env: { IMPERSONATE: 'on', PROXY_PORT: '0' } });
      port = Number(new URL(t.origin).port);
      proxyPort = t.app.graphMeetings.impersonation!.proxyPort()!;
      proxyUrl = `http://127.0.0.1:${proxyPort}`;
      agent = { agent: new HttpsProxyAgent(proxyUrl, { keepAlive: true }), ca: fs.readFileSync(t.caPath, 'utf8') };
    });
    after(async () => {
      agent?.agent.destroy();
      await t?.close();
    });

    const resolve = (host: string) => ['--resolve', `${host}:${port}:127.0.0.1`, '--cacert', t.caPath];
    const proxied = () => ['--proxy', proxyUrl, '--cacert', t.caPath];

    test('the certificate for the real names comes from the local CA by SNI; keys stay private', () => {
      const dir = path.join(t.dataDir, 'tls');
      for (const key of ['ca-key.pem', 'server-key.pem', 'impersonation-key.pem']) {
        assert.equal(fs.statSync(path.join(dir, key)).mode & 0o777, 0o600, key);
      }
      assert.equal(t.app.graphMeetings.impersonation?.caPath, t.caPath);
    });

    test('curl --resolve: Entra discovery and token with the real host names, then Graph accepts the token', async () => {
      const login = `${LOGIN}:${port}`;
      const discovery = await curl([
        ...resolve('login.microsoftonline.com'),
        `${login}/${C.tenantId}/v2.0/.well-known/openid-configuration`,
      ]);
      assert.equal(discovery.status, 200, discovery.stderr);
      // The client named a port, so endpoints keep it (they must be reachable); the host is the real one.
      assert.equal(discovery.body.issuer, `${login}/${C.tenantId}/v2.0`);
      assert.equal(discovery.body.token_endpoint, `${login}/${C.tenantId}/oauth2/v2.0/token`);

      const token = await curl([
        ...resolve('login.microsoftonline.com'),
        '--data-urlencode',
        'grant_type=client_credentials',
        '--data-urlencode',
        `client_id=${C.scheduler.clientId}`,
        '--data-urlencode',
        `client_secret=${C.scheduler.secret}`,
        '--data-urlencode',
        'scope=https://graph.microsoft.com/.default',
        `${login}/${C.tenantId}/oauth2/v2.0/token`,
      ]);
      assert.equal(token.status, 200, JSON.stringify(token.body));
      assert.equal(claims(token.body.access_token).iss, `https://sts.windows.net/${C.tenantId}/`);

      const created = await curl([
        ...resolve('graph.microsoft.com'),
        '-H',
        `authorization: Bearer ${token.body.access_token}`,
        '-H',
        'content-type: application/json',
        '--data',
        JSON.stringify({ subject: `curl --resolve ${kind}` }),
        `${GRAPH}:${port}/v1.0/users/${C.alice.id}/onlineMeetings`,
      ]);
      assert.equal(created.status, 201, JSON.stringify(created.body));
      assert.equal(created.body['@odata.context'], `${GRAPH}:${port}/v1.0/$metadata#users('${C.alice.id}')/onlineMeetings/$entity`);
      assert.ok(String(created.body.joinWebUrl).startsWith(`https://teams.microsoft.com:${port}/l/meetup-join/`), created.body.joinWebUrl);
    });

    test('curl --proxy: Graph and Entra answer with exactly the real host names', async () => {
      const discovery = await curl([...proxied(), `${LOGIN}/${C.tenantId}/v2.0/.well-known/openid-configuration`]);
      assert.equal(discovery.status, 200, discovery.stderr);
      assert.equal(discovery.body.issuer, `${LOGIN}/${C.tenantId}/v2.0`);
      assert.equal(discovery.body.jwks_uri, `${LOGIN}/${C.tenantId}/discovery/v2.0/keys`);
      assert.equal(discovery.body.token_endpoint, `${LOGIN}/${C.tenantId}/oauth2/v2.0/token`);

      const token = await curl([
        ...proxied(),
        '--data-urlencode',
        'grant_type=password',
        '--data-urlencode',
        `client_id=${C.client.clientId}`,
        '--data-urlencode',
        `username=${C.alice.upn}`,
        '--data-urlencode',
        `password=${DEMO.password}`,
        '--data-urlencode',
        'scope=https://graph.microsoft.com/OnlineMeetings.ReadWrite openid profile',
        `${LOGIN}/${C.tenantId}/oauth2/v2.0/token`,
      ]);
      assert.equal(token.status, 200, JSON.stringify(token.body));
      assert.equal(claims(token.body.id_token).iss, `${LOGIN}/${C.tenantId}/v2.0`);
      assert.equal(claims(token.body.access_token).iss, `https://sts.windows.net/${C.tenantId}/`);

      const created = await curl([
        ...proxied(),
        '-H',
        `authorization: Bearer ${token.body.access_token}`,
        '-H',
        'content-type: application/json',
        '--data',
        JSON.stringify({ subject: `curl --proxy ${kind}` }),
        `${GRAPH}/v1.0/me/onlineMeetings`,
      ]);
      assert.equal(created.status, 201, JSON.stringify(created.body));
      assert.equal(created.body['@odata.context'], `${GRAPH}/v1.0/$metadata#users('${C.alice.id}')/onlineMeetings/$entity`);

      const visit = await curl([
        ...proxied(),
        '-H',
        `authorization: Bearer ${token.body.access_token}`,
        `${GRAPH}/v1.0/me/onlineMeetings/${created.body.id}/getVirtualAppointmentJoinWebUrl`,
      ]);
      assert.equal(visit.status, 200, JSON.stringify(visit.body));
      assert.equal(visit.body['@odata.context'], `${GRAPH}/v1.0/$metadata#Edm.String`);
      assert.ok(String(visit.body.value).startsWith('https://visit.teams.microsoft.com/webrtc-svc/api/route?'), visit.body.value);

      // Instance discovery as MSAL asks it, answered as login.microsoftonline.com answers it.
      const instance = await curl([
        ...proxied(),
        `${LOGIN}/common/discovery/instance?api-version=1.1&authorization_endpoint=${encodeURIComponent(`${LOGIN}/${C.tenantId}/oauth2/v2.0/authorize`)}`,
      ]);
      assert.equal(instance.status, 200, instance.stderr);
      assert.equal(instance.body.tenant_discovery_endpoint, `${LOGIN}/${C.tenantId}/v2.0/.well-known/openid-configuration`);
      assert.deepEqual(instance.body.metadata, [
        {
          preferred_network: 'login.microsoftonline.com',
          preferred_cache: 'login.windows.net',
          aliases: ['login.microsoftonline.com', 'login.windows.net', 'login.microsoft.com', 'sts.windows.net'],
        },
      ]);

      // The v1 discovery document: Entra's v1 issuer (the access tokens' iss), endpoints on the real host.
      const v1 = await curl([...proxied(), `${LOGIN}/${C.tenantId}/.well-known/openid-configuration`]);
      assert.equal(v1.status, 200, v1.stderr);
      assert.equal(v1.body.issuer, `https://sts.windows.net/${C.tenantId}/`);
      assert.equal(v1.body.token_endpoint, `${LOGIN}/${C.tenantId}/oauth2/token`);
      assert.equal(v1.body.authorization_endpoint, `${LOGIN}/${C.tenantId}/oauth2/authorize`);

      // sts.windows.net (the v1 issuer's host, an alias in MSAL's cloud metadata) answers as Entra too.
      const keys = await curl([...proxied(), `https://sts.windows.net/${C.tenantId}/discovery/v2.0/keys`]);
      assert.equal(keys.status, 200, keys.stderr);
      assert.ok(Array.isArray(keys.body.keys));
    });

    test('a Node client hard-coding the real URLs creates and reads a meeting through an HTTPS-proxy-aware agent', async () => {
      const token = await viaProxy(agent, 'POST', `https://login.microsoftonline.com/${C.tenantId}/oauth2/v2.0/token`, {
        form: {
          grant_type: 'client_credentials',
          client_id: C.scheduler.clientId,
          client_secret: C.scheduler.secret,
          scope: 'https://graph.microsoft.com/.default',
        },
      });
      assert.equal(token.status, 200, JSON.stringify(token.body));
      const accessToken = token.body.access_token as string;

      const subject = `hard-coded client ${kind}`;
      const created = await viaProxy(agent, 'POST', `https://graph.microsoft.com/v1.0/users/${C.alice.id}/onlineMeetings`, {
        token: accessToken,
        json: { subject, startDateTime: '2030-05-06T10:00:00Z', endDateTime: '2030-05-06T11:00:00Z' },
      });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      assert.equal(created.body['@odata.context'], `${GRAPH}/v1.0/$metadata#users('${C.alice.id}')/onlineMeetings/$entity`);

      const read = await viaProxy(agent, 'GET', `https://graph.microsoft.com/v1.0/users/${C.alice.id}/onlineMeetings/${created.body.id}`, {
        token: accessToken,
      });
      assert.equal(read.status, 200, JSON.stringify(read.body));
      assert.equal(read.body.subject, subject);
      assert.equal(read.body['@odata.context'], `${GRAPH}/v1.0/$metadata#users('${C.alice.id}')/onlineMeetings/$entity`);
      // Join links are on teams.microsoft.com, as Graph's are, and the page behind them is served through the proxy too.
      assert.match(read.body.joinWebUrl, /^https:\/\/teams\.microsoft\.com\/l\/meetup-join\/19%3ameeting_[^/]+%40thread\.v2\/0\?context=/);
      assert.ok(
        String(read.body.meetingOptionsWebUrl).startsWith('https://teams.microsoft.com/meetingOptions/?'),
        read.body.meetingOptionsWebUrl,
      );
      const page = await curl([...proxied(), read.body.joinWebUrl]);
      assert.equal(page.status, 200, page.stderr);
      assert.match(String(page.body), new RegExp(subject));

      const filtered = await viaProxy(
        agent,
        'GET',
        `https://graph.microsoft.com/beta/users/${C.alice.id}/onlineMeetings?$filter=${encodeURIComponent(`joinWebUrl eq '${created.body.joinWebUrl}'`)}`,
        { token: accessToken },
      );
      assert.equal(filtered.status, 200, JSON.stringify(filtered.body));
      assert.equal(filtered.body['@odata.context'], `${GRAPH}/beta/$metadata#users('${C.alice.id}')/onlineMeetings`);
      assert.equal(filtered.body.value[0].id, created.body.id);
    });

    test('meetings created through events via graph.microsoft.com get teams.microsoft.com links too (POST and a PATCH that goes online)', async () => {
      const token = await viaProxy(agent, 'POST', `https://login.microsoftonline.com/${C.tenantId}/oauth2/v2.0/token`, {
        form: {
          grant_type: 'client_credentials',
          client_id: C.scheduler.clientId,
          client_secret: C.scheduler.secret,
          scope: 'https://graph.microsoft.com/.default',
        },
      });
      const accessToken = token.body.access_token as string;
      const when = {
        start: { dateTime: '2030-05-07T10:00:00', timeZone: 'UTC' },
        end: { dateTime: '2030-05-07T11:00:00', timeZone: 'UTC' },
      };
      const joinUrl = /^https:\/\/teams\.microsoft\.com\/l\/meetup-join\/19%3ameeting_[^/]+%40thread\.v2\/0\?context=/;
      const created = await viaProxy(agent, 'POST', `https://graph.microsoft.com/v1.0/users/${C.alice.id}/events`, {
        token: accessToken,
        json: { subject: `event meeting ${kind}`, ...when, isOnlineMeeting: true, onlineMeetingProvider: 'teamsForBusiness' },
      });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      assert.match(created.body.onlineMeeting.joinUrl, joinUrl);
      assert.ok(
        String(created.body.body.content).includes('https://teams.microsoft.com/l/meetup-join/'),
        'the Teams block links there too',
      );
      // The meeting behind the event has the same links, and its join page is served through the proxy.
      const meeting = await viaProxy(
        agent,
        'GET',
        `https://graph.microsoft.com/v1.0/users/${C.alice.id}/onlineMeetings?$filter=${encodeURIComponent(`joinWebUrl eq '${created.body.onlineMeeting.joinUrl}'`)}`,
        { token: accessToken },
      );
      assert.equal(meeting.status, 200, JSON.stringify(meeting.body));
      assert.equal(meeting.body.value.length, 1);
      assert.ok(String(meeting.body.value[0].meetingOptionsWebUrl).startsWith('https://teams.microsoft.com/meetingOptions/?'));
      const page = await curl([...proxied(), created.body.onlineMeeting.joinUrl]);
      assert.equal(page.status, 200, page.stderr);

      const plain = await viaProxy(agent, 'POST', `https://graph.microsoft.com/v1.0/users/${C.alice.id}/events`, {
        token: accessToken,
        json: { subject: `goes online later ${kind}`, ...when },
      });
      assert.equal(plain.status, 201, JSON.stringify(plain.body));
      const online = await viaProxy(agent, 'PATCH', `https://graph.microsoft.com/v1.0/users/${C.alice.id}/events/${plain.body.id}`, {
        token: accessToken,
        json: { isOnlineMeeting: true, onlineMeetingProvider: 'teamsForBusiness' },
      });
      assert.equal(online.status, 200, JSON.stringify(online.body));
      assert.match(online.body.onlineMeeting.joinUrl, joinUrl);

      // The service's own origin, side by side: its links stay on the service's own host.
      const own = await t.inject({
        method: 'POST',
        url: `/v1.0/users/${C.alice.id}/events`,
        headers: { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json' },
        payload: JSON.stringify({ subject: 'own origin', ...when, isOnlineMeeting: true }),
      });
      assert.equal(own.statusCode, 201, own.body);
      assert.ok(!String(own.json().onlineMeeting.joinUrl).startsWith('https://teams.microsoft.com'), own.json().onlineMeeting.joinUrl);
    });

    test('CONNECT to any other host, or any other port, gets 403; the proxy never proxies plain requests', async () => {
      for (const target of [
        'example.com:443',
        `127.0.0.1:${port}`,
        'localhost:443',
        'graph.microsoft.com:80',
        `graph.microsoft.com:${port}`,
        'graph.microsoft.com.evil.test:443',
        '[::1]:443',
        'nonsense',
      ]) {
        const res = await rawProxyRequest(proxyPort, `CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n\r\n`);
        assert.equal(res.statusLine, 'HTTP/1.1 403 Forbidden', `${target}: ${res.text}`);
      }
      const plain = await rawProxyRequest(proxyPort, 'GET http://example.com/ HTTP/1.1\r\nHost: example.com\r\n\r\n');
      assert.equal(plain.statusLine, 'HTTP/1.1 403 Forbidden');
      const ok = await rawProxyRequest(
        proxyPort,
        'CONNECT Login.MicrosoftOnline.com:443 HTTP/1.1\r\nHost: login.microsoftonline.com:443\r\n\r\n',
      );
      assert.equal(ok.statusLine, 'HTTP/1.1 200 Connection Established');

      const viaCurl = await curl([...proxied(), 'https://example.com/']);
      assert.notEqual(viaCurl.code, 0);
      assert.match(viaCurl.stderr, /403/);
    });

    test('each impersonated host answers only its own service; the own origin keeps working side by side', async () => {
      const entraOnGraph = await curl([...proxied(), `${GRAPH}/${C.tenantId}/v2.0/.well-known/openid-configuration`]);
      assert.equal(entraOnGraph.status, 404);
      assert.equal(entraOnGraph.body.error.code, 'NotFound');
      const graphOnEntra = await curl([...proxied(), `${LOGIN}/v1.0/me/onlineMeetings`]);
      assert.equal(graphOnEntra.status, 404);
      const entraOnTeams = await curl([...proxied(), `https://teams.microsoft.com/${C.tenantId}/v2.0/.well-known/openid-configuration`]);
      assert.equal(entraOnTeams.status, 404);
      const pageOnGraph = await curl([...proxied(), `${GRAPH}/meetingOptions/`]);
      assert.equal(pageOnGraph.status, 404);

      const own = await curl(['--cacert', t.caPath, `${t.origin}/${C.tenantId}/v2.0/.well-known/openid-configuration`]);
      assert.equal(own.status, 200, own.stderr);
      assert.equal(own.body.issuer, `${t.origin}/${C.tenantId}/v2.0`);
      const ownV1 = await t.inject({
        method: 'GET',
        url: `/${C.domain}/.well-known/openid-configuration`,
        headers: { host: new URL(t.origin).host },
      });
      assert.equal(ownV1.json().issuer, `https://sts.windows.net/${C.tenantId}/`);
      assert.equal(ownV1.json().token_endpoint, `${t.origin}/${C.domain}/oauth2/token`);
      const unknownV1 = await t.inject({ method: 'GET', url: '/nowhere.test/.well-known/openid-configuration' });
      assert.equal(unknownV1.statusCode, 400);
      assert.deepEqual(unknownV1.json().error_codes, [90002]);
      const token = await t.appToken();
      const created = await curl([
        '--cacert',
        t.caPath,
        '-H',
        `authorization: Bearer ${token}`,
        '-H',
        'content-type: application/json',
        '--data',
        JSON.stringify({ subject: 'own origin' }),
        `${t.origin}/v1.0/users/${C.alice.id}/onlineMeetings`,
      ]);
      assert.equal(created.status, 201, JSON.stringify(created.body));
      assert.equal(created.body['@odata.context'], `${t.origin}/v1.0/$metadata#users('${C.alice.id}')/onlineMeetings/$entity`);
      assert.ok(String(created.body.joinWebUrl).startsWith(`${t.origin}/`));
    });
  });
}

describe('IMPERSONATE off (the default)', () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp('sqlite', { listen: true });
  });
  after(async () => {
    await t?.close();
  });

  test('no certificate for the real names, no proxy, and their Host headers get the own origin', async () => {
    const port = new URL(t.origin).port;
    assert.equal(t.app.graphMeetings.impersonation, undefined);
    assert.equal(fs.existsSync(path.join(t.dataDir, 'tls', 'impersonation.pem')), false);
    const res = await curl(['--resolve', `graph.microsoft.com:${port}:127.0.0.1`, '--cacert', t.caPath, `${GRAPH}:${port}/v1.0/me`]);
    assert.notEqual(res.code, 0, 'the own certificate does not name graph.microsoft.com');
    const discovery = await t.inject({
      method: 'GET',
      url: `/${C.tenantId}/v2.0/.well-known/openid-configuration`,
      headers: { host: 'login.microsoftonline.com' },
    });
    assert.equal(discovery.json().issuer, `${t.origin}/${C.tenantId}/v2.0`);
  });
});

describe('closing with tunnels open', () => {
  test('an idle keep-alive tunnel and a half-open CONNECT do not hold up close', async () => {
    const t = await startTestApp('sqlite', { listen: true, env: { IMPERSONATE: 'on', PROXY_PORT: '0' } });
    const proxyPort = t.app.graphMeetings.impersonation!.proxyPort()!;
    const agent = {
      agent: new HttpsProxyAgent(`http://127.0.0.1:${proxyPort}`, { keepAlive: true }),
      ca: fs.readFileSync(t.caPath, 'utf8'),
    };
    const res = await viaProxy(agent, 'GET', `https://login.microsoftonline.com/${C.tenantId}/v2.0/.well-known/openid-configuration`);
    assert.equal(res.status, 200);
    // A tunnel whose client never starts TLS.
    const idle = net.connect(proxyPort, '127.0.0.1');
    await new Promise<void>((resolve) => {
      idle.once('connect', () => idle.write('CONNECT graph.microsoft.com:443 HTTP/1.1\r\n\r\n'));
      idle.once('data', () => resolve());
    });
    idle.on('error', () => undefined);
    const started = Date.now();
    await t.close();
    assert.ok(Date.now() - started < 5_000, `close took ${Date.now() - started} ms`);
    agent.agent.destroy();
    idle.destroy();
  });
});
