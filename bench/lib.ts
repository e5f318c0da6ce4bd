import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import autocannon from 'autocannon';

export const DEMO = {
  tenant: '049d4814-06f2-4ac7-8c07-6547360dd433',
  alice: 'ac02a79f-b09d-4d0a-a1f5-2ad5ab314a58',
  scheduler: { id: '30a2fcea-f295-468c-abe2-b48159ee8486', secret: 'scheduler-demo-secret' },
  client: { id: '358b1947-f5d9-4301-8ae7-ba77a3a74041' },
  password: 'Demo-Passw0rd!',
};

/** The seed's example 1 body. */
export const EXAMPLE_1 = JSON.stringify({
  startDateTime: '2019-07-12T14:30:34.2444915-07:00',
  endDateTime: '2019-07-12T15:00:34.2464912-07:00',
  subject: 'User Token Meeting',
});

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

export interface Proc {
  child: ChildProcess;
  port: number;
  stop(): Promise<void>;
}

/** Starts a process and waits until `ready(port)` resolves true. */
export async function startProcess(args: string[], env: Record<string, string>, ready: (port: number) => Promise<boolean>): Promise<Proc> {
  const port = await freePort();
  const child = spawn(process.execPath, args, {
    env: { ...process.env, ...env, PORT: String(port) },
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${args.join(' ')} exited: ${err}`);
    if (await ready(port).catch(() => false)) break;
    if (Date.now() > deadline) throw new Error(`${args.join(' ')} did not start: ${err}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    child,
    port,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
      }),
  };
}

const agent = new https.Agent({ keepAlive: true, rejectUnauthorized: false, maxSockets: 64 });

export function request(port: number, method: string, path: string, headers: Record<string, string> = {}, body?: string) {
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = https.request({ host: '127.0.0.1', port, method, path, headers, agent }, (res) => {
      let data = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (data += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: data }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

export async function token(port: number, form: Record<string, string>): Promise<string> {
  const res = await request(
    port,
    'POST',
    `/${DEMO.tenant}/oauth2/v2.0/token`,
    { 'content-type': 'application/x-www-form-urlencoded' },
    new URLSearchParams(form).toString(),
  );
  if (res.status !== 200) throw new Error(`token: ${res.status} ${res.body}`);
  return JSON.parse(res.body).access_token;
}

export const userToken = (port: number) =>
  token(port, {
    grant_type: 'password',
    client_id: DEMO.client.id,
    username: 'alice@contoso.test',
    password: DEMO.password,
    scope: 'https://graph.microsoft.com/OnlineMeetings.ReadWrite',
  });

export interface LoadResult {
  name: string;
  /** CPU microseconds the server spent per answered request, when its pid was given. */
  cpuPerRequest?: number;
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
  total: number;
}

/** Drives one scenario with autocannon; `path(i)` varies the URL per request. */
export async function load(
  name: string,
  opts: {
    port: number;
    method: 'GET' | 'POST';
    path: (i: number) => string;
    body?: (i: number) => string;
    headers: Record<string, string>;
    connections: number;
    duration: number;
    /** The server's pid: its CPU time per request is measured too. */
    pid?: number;
  },
): Promise<LoadResult> {
  let i = 0;
  const cpu0 = opts.pid ? cpuSeconds(opts.pid) : 0;
  const result = await autocannon({
    url: `https://127.0.0.1:${opts.port}`,
    connections: opts.connections,
    duration: opts.duration,
    pipelining: 1,
    requests: [
      {
        method: opts.method,
        headers: opts.headers,
        setupRequest: (req) => {
          const n = i++;
          return { ...req, path: opts.path(n), ...(opts.body ? { body: opts.body(n) } : {}) };
        },
      },
    ],
  });
  const cpu = opts.pid ? cpuSeconds(opts.pid) - cpu0 : 0;
  return {
    name,
    ...(opts.pid && result.requests.total > 0 ? { cpuPerRequest: Math.round((cpu * 1e6) / result.requests.total) } : {}),
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
    total: result.requests.total,
  };
}

/** A process and its children (cluster workers), from /proc; the process alone where that is missing. */
function processTree(pid: number): number[] {
  try {
    return [pid, ...fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number)];
  } catch {
    return [pid];
  }
}

/** Sums `read(pid)` over a process tree, skipping processes that exited meanwhile. */
function sumOverTree(pid: number, read: (p: number) => number): number {
  let total = 0;
  for (const p of processTree(pid)) {
    try {
      total += read(p);
    } catch {
      // exited
    }
  }
  return total;
}

/** Resident memory of a process and its children (cluster workers), in MiB, from /proc. */
export function rssMiB(pid: number): number {
  const kib = sumOverTree(pid, (p) => Number(/VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${p}/status`, 'utf8'))?.[1] ?? 0));
  return Math.round(kib / 1024);
}

/** Requests to the service and its ceiling, described once so both get the same bytes. */
export interface Scenario {
  method: 'GET' | 'POST';
  path: (i: number) => string;
  body?: (i: number) => string;
}

/**
 * Latency at one connection (the pattern of a CI suite: one request at a time): `count` requests, one after
 * another, on one kept-alive TLS connection, written as raw HTTP/1.1 so the client adds as little as possible
 * (autocannon's histogram counts whole milliseconds, too coarse for sub-millisecond answers). Returns the
 * median and the 99th percentile in milliseconds, with microsecond resolution.
 */
export async function sequentialLatency(
  port: number,
  s: Scenario,
  headers: Record<string, string>,
  count: number,
): Promise<{ p50: number; p99: number; errors: number }> {
  const socket = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] });
  socket.setNoDelay(true);
  await new Promise<void>((resolve, reject) => socket.once('secureConnect', resolve).once('error', reject));
  const head = Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('');
  const times: number[] = [];
  let errors = 0;
  let buffer: Buffer = Buffer.alloc(0);
  let waiting: (() => void) | undefined;
  let failed: ((err: Error) => void) | undefined;
  socket.on('error', (err) => failed?.(err));
  socket.on('data', (chunk: Buffer) => {
    buffer = buffer.length ? Buffer.concat([buffer, chunk]) : chunk;
    waiting?.();
  });
  /** Resolves with the status once one whole response (Content-Length framed) is in the buffer. */
  const response = () =>
    new Promise<number>((resolve, reject) => {
      const check = () => {
        const end = buffer.indexOf('\r\n\r\n');
        if (end < 0) return;
        const header = buffer.subarray(0, end).toString('latin1');
        const declared = /\r\ncontent-length:\s*(\d+)/i.exec(header)?.[1];
        let length = Number(declared ?? 0);
        if (declared === undefined && /\r\ntransfer-encoding:\s*chunked/i.test(header)) {
          const last = buffer.indexOf('\r\n0\r\n\r\n', end + 2);
          if (last < 0) return;
          length = last + 7 - (end + 4);
        }
        if (buffer.length < end + 4 + length) return;
        buffer = buffer.subarray(end + 4 + length);
        waiting = undefined;
        resolve(Number(header.slice(9, 12)));
      };
      waiting = check;
      failed = reject;
      check();
    });
  try {
    for (let i = 0; i < count; i++) {
      const body = s.body ? Buffer.from(s.body(i)) : undefined;
      const bytes = `${s.method} ${s.path(i)} HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\n${head}${body ? `content-length: ${body.length}\r\n` : ''}\r\n`;
      const t0 = process.hrtime.bigint();
      socket.write(body ? Buffer.concat([Buffer.from(bytes, 'latin1'), body]) : bytes);
      const status = await response();
      times.push(Number(process.hrtime.bigint() - t0) / 1e6);
      if (status < 200 || status > 299) errors++;
    }
  } finally {
    socket.destroy();
  }
  times.sort((a, b) => a - b);
  const at = (q: number) => Number(times[Math.min(times.length - 1, Math.floor(q * times.length))]!.toFixed(3));
  return { p50: at(0.5), p99: at(0.99), errors };
}

export const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/**
 * CPU time (user + system, seconds) used so far by a process and its children (cluster workers), from /proc.
 * CPU per request is steadier than requests per second on a shared machine: another tenant's load slows both
 * the service and its ceiling, but adds little to the work each request costs. 0 where /proc is missing.
 */
export function cpuSeconds(pid: number): number {
  const ticks = sumOverTree(pid, (p) => {
    const fields = fs.readFileSync(`/proc/${p}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return Number(fields[11]) + Number(fields[12]);
  });
  return ticks / 100; // USER_HZ is 100 on Linux
}
