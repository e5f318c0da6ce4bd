/**
 * The password flood of issue #11 item 2, measured: FLOOD_REQUESTS (150) bad-password requests for unknown
 * users kept in flight for FLOOD_SECONDS (6), and inside it a client-credentials token, a create with a
 * fresh user token and a right password's sign-in. FLOOD_ROUNDS (5) floods one after another on the same
 * service; prints the answers the floods got and the median and worst latency of the probes. The flood
 * comes from a child process, so its own TLS handshakes and parsing do not stall the probes' event loop
 * (they still share the machine's cores with it and with the service).
 * Run: npm run build && node --import tsx scripts/password-flood.ts
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import https from 'node:https';
import { fork } from 'node:child_process';
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
const rounds = Number(process.env.FLOOD_ROUNDS ?? 5);
const floodSeconds = Number(process.env.FLOOD_SECONDS ?? 6);

/**
 * The flood as a child process (FLOOD_PORT, FLOOD_ROUND): FLOOD_REQUESTS requests kept in flight for
 * FLOOD_SECONDS, each answered one replaced by the next. Reports 'sent' once the first FLOOD_REQUESTS are
 * issued (their connections, up to the agent's 64, open all at once), 'started' once the first answers are
 * back (the flood is really under way), then the statuses of all its requests.
 */
if (process.env.FLOOD_PORT) {
  const port = Number(process.env.FLOOD_PORT);
  const until = performance.now() + floodSeconds * 1000;
  let sent = 0;
  let started = false;
  const statuses: number[] = [];
  const attacker = async () => {
    while (performance.now() < until) {
      const res = await request(
        port,
        'POST',
        `/${DEMO.tenant}/oauth2/v2.0/token`,
        { 'content-type': 'application/x-www-form-urlencoded' },
        new URLSearchParams({
          grant_type: 'password',
          client_id: DEMO.client.id,
          username: `nobody${process.env.FLOOD_ROUND}-${sent++}@contoso.test`,
          password: 'Wrong-Passw0rd!',
          scope: 'https://graph.microsoft.com/OnlineMeetings.ReadWrite',
        }).toString(),
      );
      statuses.push(res.status);
      if (!started && statuses.length >= size / 10) {
        started = true;
        process.send!('started');
      }
    }
  };
  const attackers = Array.from({ length: size }, attacker);
  process.send!('sent');
  await Promise.all(attackers);
  process.send!(statuses);
  process.exit(0);
}

/** Starts a flood in a child process; resolves once its first requests are issued. */
async function startFlood(port: number, round: number) {
  const child = fork(new URL(import.meta.url).pathname, [], {
    env: { ...process.env, FLOOD_PORT: String(port), FLOOD_ROUND: String(round) },
    execArgv: ['--import', 'tsx'],
  });
  const message = (wanted: (m: unknown) => boolean) =>
    new Promise<unknown>((resolve, reject) => {
      child.on('message', (m) => wanted(m) && resolve(m));
      child.once('exit', (code) => reject(new Error(`the flood process exited with ${code}`)));
    });
  const sent = message((m) => m === 'sent');
  const started = message((m) => m === 'started');
  const statuses = message(Array.isArray) as Promise<number[]>;
  await sent;
  return { started, statuses };
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
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
  const quiet = { app: [] as number[], create: [] as number[] };
  const during = { opening: [] as number[], app: [] as number[], create: [] as number[], signIn: new Map<number, number>() };
  const counts = new Map<number, number>();
  const quietSignIn = await passwordSignIn();
  let late = 0;
  for (let round = 0; round < rounds; round++) {
    const fresh = [await userToken(), await userToken()];
    quiet.app.push(await timed(appToken));
    quiet.create.push(await timed(() => create(fresh[0]!)));
    const flood = await startFlood(port, round);
    // As the flood opens: its connections' TLS handshakes all at once.
    await new Promise((r) => setTimeout(r, 20));
    during.opening.push(await timed(appToken));
    await flood.started;
    const floodStarted = performance.now();
    await new Promise((r) => setTimeout(r, 300)); // well inside the flood
    during.app.push(await timed(appToken));
    during.create.push(await timed(() => create(fresh[1]!)));
    const signIn = await passwordSignIn();
    during.signIn.set(signIn, (during.signIn.get(signIn) ?? 0) + 1);
    // The probes must have run while the flood was on, or the figure means nothing.
    if (performance.now() - floodStarted > floodSeconds * 1000 - 500) late++;
    for (const status of await flood.statuses) counts.set(status, (counts.get(status) ?? 0) + 1);
    await new Promise((r) => setTimeout(r, 1000));
  }
  const cell = (xs: number[]) => `${median(xs)} (worst ${Math.max(...xs)})`;
  const total = [...counts.values()].reduce((a, b) => a + b, 0);
  console.log(`# password flood: ${size} bad-password requests for unknown users kept in flight for ${floodSeconds} s, ${rounds} rounds\n`);
  console.log('| measured, ms (median of the rounds) | quiet | during the flood |');
  console.log('|---|---:|---:|');
  console.log(`| client-credentials token as the flood opens (its TLS handshakes) | ${cell(quiet.app)} | ${cell(during.opening)} |`);
  console.log(`| client-credentials token inside the flood | ${cell(quiet.app)} | ${cell(during.app)} |`);
  console.log(`| create with a new token inside the flood | ${cell(quiet.create)} | ${cell(during.create)} |`);
  console.log(`| a right password's answer | ${quietSignIn} | ${[...during.signIn].map(([s, n]) => `${n} × ${s}`).join(', ')} |`);
  if (late > 0) console.log(`\n${late} round(s) had probes still running as the flood ended: those understate; raise FLOOD_SECONDS.`);
  console.log(`\nflood answers (${total} requests): ${[...counts].map(([s, n]) => `${n} × ${s}`).join(', ')}`);
} finally {
  await service.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
}
