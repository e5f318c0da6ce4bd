/**
 * The password flood of issue #11 item 2, measured: FLOOD_REQUESTS (150) parallel bad-password requests
 * for an unknown user, and during them a client-credentials token and a create with a fresh user token.
 * Prints the answers the flood got and the latency of the two others.
 * Run: npm run build && node --import tsx scripts/password-flood.ts
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import https from 'node:https';
import { DEMO, EXAMPLE_1, request, startProcess } from '../bench/lib.js';

// The probes get their own connection: behind the flood's in the shared client pool they would measure
// the client's queue, not the service.
const probeAgent = new https.Agent({ keepAlive: false, rejectUnauthorized: false });
function probe(port: number, method: string, p: string, headers: Record<string, string>, body: string) {
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = https.request({ host: '127.0.0.1', port, method, path: p, headers, agent: probeAgent }, (res) => {
      let data = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (data += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: data }));
    });
    req.on('error', reject);
    req.end(body);
  });
}
async function token(port: number, form: Record<string, string>): Promise<string> {
  const form_ = new URLSearchParams(form).toString();
  const res = await probe(
    port,
    'POST',
    `/${DEMO.tenant}/oauth2/v2.0/token`,
    { 'content-type': 'application/x-www-form-urlencoded' },
    form_,
  );
  if (res.status !== 200) throw new Error(`token: ${res.status} ${res.body}`);
  return (JSON.parse(res.body) as { access_token: string }).access_token;
}

const size = Number(process.env.FLOOD_REQUESTS ?? 150);
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'graph-meetings-flood-'));
const service = await startProcess(
  ['dist/server.js'],
  { DATA_DIR: dataDir, WORKERS: '1', LOG_LEVEL: 'warn' },
  async (port) => (await request(port, 'GET', `/${DEMO.tenant}/v2.0/.well-known/openid-configuration`)).status === 200,
);
const timed = async <T>(run: () => Promise<T>) => {
  const started = performance.now();
  await run();
  return Math.round(performance.now() - started);
};
try {
  const port = service.port;
  const appToken = () =>
    token(port, {
      grant_type: 'client_credentials',
      client_id: DEMO.scheduler.id,
      client_secret: DEMO.scheduler.secret,
      scope: 'https://graph.microsoft.com/.default',
    });
  const userToken = () =>
    token(port, {
      grant_type: 'password',
      client_id: DEMO.client.id,
      username: 'alice@contoso.test',
      password: DEMO.password,
      scope: 'https://graph.microsoft.com/OnlineMeetings.ReadWrite',
    });
  // A token never presented before, so the create pays for its signature check (on the thread pool).
  const create = async (t: string) => {
    const res = await probe(
      port,
      'POST',
      '/v1.0/me/onlineMeetings',
      { authorization: `Bearer ${t}`, 'content-type': 'application/json' },
      EXAMPLE_1,
    );
    if (res.status !== 201) throw new Error(`create: ${res.status}`);
  };
  const fresh = [await userToken(), await userToken()];
  const passwordSignIn = async () => {
    const res = await probe(
      port,
      'POST',
      `/${DEMO.tenant}/oauth2/v2.0/token`,
      { 'content-type': 'application/x-www-form-urlencoded' },
      new URLSearchParams({
        grant_type: 'password',
        client_id: DEMO.client.id,
        username: 'alice@contoso.test',
        password: DEMO.password,
        scope: 'https://graph.microsoft.com/OnlineMeetings.ReadWrite',
      }).toString(),
    );
    return res.status;
  };
  const quiet = { app: await timed(appToken), create: await timed(() => create(fresh[0]!)), signIn: await passwordSignIn() };
  const flood = Array.from({ length: size }, (_, i) =>
    request(
      port,
      'POST',
      `/${DEMO.tenant}/oauth2/v2.0/token`,
      { 'content-type': 'application/x-www-form-urlencoded' },
      new URLSearchParams({
        grant_type: 'password',
        client_id: DEMO.client.id,
        username: `nobody${i}@contoso.test`,
        password: 'Wrong-Passw0rd!',
        scope: 'https://graph.microsoft.com/OnlineMeetings.ReadWrite',
      }).toString(),
    ),
  );
  await new Promise((r) => setTimeout(r, 20)); // the flood is under way
  const during = { app: await timed(appToken), create: await timed(() => create(fresh[1]!)), signIn: await passwordSignIn() };
  const answers = await Promise.all(flood);
  const counts = new Map<number, number>();
  for (const a of answers) counts.set(a.status, (counts.get(a.status) ?? 0) + 1);
  console.log(`# password flood: ${size} parallel bad-password requests for unknown users\n`);
  console.log('| measured | quiet | during the flood |');
  console.log('|---|---:|---:|');
  console.log(`| client-credentials token, ms | ${quiet.app} | ${during.app} |`);
  console.log(`| create with a new token, ms | ${quiet.create} | ${during.create} |`);
  console.log(`| a right password's answer | ${quiet.signIn} | ${during.signIn} |`);
  console.log(`\nflood answers: ${[...counts].map(([s, n]) => `${n} × ${s}`).join(', ')}`);
} finally {
  await service.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
}
