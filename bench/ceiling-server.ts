import cluster from 'node:cluster';
import fs from 'node:fs';
import path from 'node:path';
import Fastify from 'fastify';

/**
 * The ceiling of the machine: a bare Fastify server with graph-meetings' TLS certificate, answering
 * the benchmark's POST with a fixed 2 KB JSON body. It runs the same number of worker processes as the
 * service under test, so the two compare like for like.
 */
const dataDir = process.env.DATA_DIR!;
const port = Number(process.env.PORT);
const workers = Number(process.env.WORKERS ?? '1');

const reply = JSON.stringify({ id: 'x'.repeat(100), padding: 'y'.repeat(1900) });

async function serve() {
  const app = Fastify({
    https: {
      key: fs.readFileSync(path.join(dataDir, 'tls', 'server-key.pem')),
      cert: fs.readFileSync(path.join(dataDir, 'tls', 'server.pem')),
    },
    logger: false,
  });
  app.post('/ceiling', async (_request, res) => res.code(201).type('application/json').send(reply));
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
