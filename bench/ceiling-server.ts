import cluster from 'node:cluster';
import fs from 'node:fs';
import path from 'node:path';
import Fastify from 'fastify';

/**
 * The ceiling of the machine: a bare Fastify server with graph-meetings' TLS certificate and the same number
 * of worker processes as the service under test. Issue #20: it answers each benchmarked route with the
 * service's own answer for it (status, content type and body, captured from the running service by
 * bench/run.ts and passed in CEILING_ANSWERS), on the same method and path, so a ratio compares like for
 * like: same request bytes in, same body bytes out, same TLS. `POST /ceiling` keeps the fixed 2 KB reply of
 * the earlier rounds, for continuity.
 */
export interface CeilingAnswer {
  method: 'GET' | 'POST';
  /** A Fastify route pattern, e.g. /v1.0/me/onlineMeetings/:id */
  url: string;
  /** When several answers share a route (the two $filter lookups): the one whose URL holds this (URL-safe text). */
  queryIncludes?: string;
  status: number;
  contentType: string;
  body: string;
}

const dataDir = process.env.DATA_DIR!;
const port = Number(process.env.PORT);
const workers = Number(process.env.WORKERS ?? '1');
const answers: CeilingAnswer[] = process.env.CEILING_ANSWERS ? JSON.parse(fs.readFileSync(process.env.CEILING_ANSWERS, 'utf8')) : [];

const reply2k = JSON.stringify({ id: 'x'.repeat(100), padding: 'y'.repeat(1900) });

async function serve() {
  const app = Fastify({
    https: {
      key: fs.readFileSync(path.join(dataDir, 'tls', 'server-key.pem')),
      cert: fs.readFileSync(path.join(dataDir, 'tls', 'server.pem')),
    },
    logger: false,
  });
  app.post('/ceiling', async (_request, res) => res.code(201).type('application/json').send(reply2k));
  const routes = new Map<string, CeilingAnswer[]>();
  for (const a of answers) {
    const key = `${a.method} ${a.url}`;
    routes.set(key, [...(routes.get(key) ?? []), a]);
  }
  for (const [key, list] of routes) {
    const [method, url] = key.split(' ') as ['GET' | 'POST', string];
    app.route({
      method,
      url,
      handler: async (request, res) => {
        const a = list.length === 1 ? list[0]! : (list.find((x) => request.url.includes(x.queryIncludes ?? '')) ?? list[0]!);
        return res.code(a.status).type(a.contentType).send(a.body);
      },
    });
  }
  await app.listen({ port, host: '127.0.0.1' });
  process.send?.('ready');
}

if (workers > 1 && cluster.isPrimary) {
  let ready = 0;
  for (let i = 0; i < workers; i++) {
    cluster.fork().on('message', (m) => {
      if (m === 'ready' && ++ready === workers) process.send?.('ready');
    });
  }
  process.on('SIGTERM', () => {
    for (const w of Object.values(cluster.workers ?? {})) w?.kill();
    process.exit(0);
  });
} else {
  serve().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
