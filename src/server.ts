import cluster from 'node:cluster';
import os from 'node:os';
import closeWithGrace from 'close-with-grace';
import type { FastifyBaseLogger } from 'fastify';
import { buildApp, depsFromConfig, type GraphMeetings } from './app.js';
import { ConfigError, defaultPublicUrl, loadConfig, type Config } from './config/config.js';
import { SeedFileError } from './emulator/seed-file.js';
import { DEMO } from './domain/directory/demo-directory.js';

/**
 * Process entry: read the environment, then either serve in this process (WORKERS=1) or become a
 * node:cluster primary that prepares the store once and forks WORKERS processes sharing the port.
 */
function readConfig(): Config {
  try {
    const config = loadConfig(process.env, process.cwd(), os.availableParallelism());
    // LOG_FORMAT unset: lines for a person on a terminal, JSON lines for everything else (files, collectors).
    return { ...config, logFormat: config.logFormat ?? (process.stdout.isTTY ? 'pretty' : 'json') };
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
}

async function serve(config: Config, announce: boolean): Promise<void> {
  const app = await buildApp(config, depsFromConfig(config));
  await app.listen({ port: config.port, host: config.host });
  if (announce) {
    banner(config, app.log, app.graphMeetings);
    ready(config.publicUrl ?? app.graphMeetings.origin(), app.graphMeetings);
  }
  closeWithGrace({ delay: 10_000 }, async ({ signal, err }) => {
    if (err) app.log.error({ err }, 'shutting down after an error');
    else app.log.info({ signal }, 'shutting down');
    // In-flight requests get 8 s to finish; then what is still open is closed so that the database is
    // always closed cleanly before the 10 s limit.
    const force = setTimeout(() => {
      app.log.warn('closing the connections still open after 8 s');
      app.server.closeAllConnections();
    }, 8_000);
    force.unref();
    await app.close();
    clearTimeout(force);
  });
}

/**
 * The primary migrates, seeds and creates keys and certificates before any worker starts, so workers
 * only read at start-up (several SQLite writers racing through migrations would contend for the lock).
 * It restarts a worker that dies and forwards SIGTERM/SIGINT so every worker drains its requests.
 */
async function primary(config: Config): Promise<void> {
  const prepared = await buildApp(config, depsFromConfig(config));
  const log = prepared.log;
  banner(config, log, prepared.graphMeetings);
  const gm = prepared.graphMeetings;
  await prepared.close();
  let announced = false;
  cluster.on('listening', (_worker, address) => {
    if (announced) return;
    announced = true;
    ready(config.publicUrl ?? defaultPublicUrl(config, address.port), gm);
  });

  let stopping = false;
  const fork = () => cluster.fork({ GRAPH_MEETINGS_WORKER: '1' });
  for (let i = 0; i < config.workers; i++) fork();
  log.info(`started ${config.workers} worker processes`);
  cluster.on('exit', (worker, code, signal) => {
    if (stopping) return;
    log.error({ pid: worker.process.pid, code, signal }, 'a worker exited; starting another');
    setTimeout(fork, 1000).unref();
  });
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping workers');
    for (const w of Object.values(cluster.workers ?? {})) w?.process.kill(signal);
    const timer = setTimeout(() => process.exit(1), 15_000);
    timer.unref();
    cluster.on('exit', () => {
      if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(0);
    });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

/**
 * One machine-readable line on stdout once the service answers (README "Starting from a script"): the
 * origin (the chosen port when PORT=0), the CA to trust and where the admin key is. JSON, so that it sits
 * among JSON log lines without breaking them.
 */
function ready(url: string, gm: GraphMeetings) {
  process.stdout.write(
    `${JSON.stringify({ graphMeetings: 'ready', url, caFile: gm.tls?.caPath ?? null, adminKeyFile: gm.adminKey.file ?? null })}\n`,
  );
}

function banner(config: Config, log: FastifyBaseLogger, gm: GraphMeetings) {
  const origin = config.publicUrl ?? gm.origin();
  log.info(
    { origin, store: gm.store.kind, location: gm.store.location, workers: config.workers },
    `graph-meetings is listening on ${origin}`,
  );
  if (gm.tls?.caPath) {
    log.info(`Clients must trust the local CA: ${gm.tls.caPath}`);
    log.info(`  e.g. NODE_EXTRA_CA_CERTS=${gm.tls.caPath} node your-client.js`);
  }
  log.info(
    gm.adminKey.file
      ? `Emulator control API (/_emulator/): the admin key is in ${gm.adminKey.file}`
      : 'Emulator control API (/_emulator/): the admin key is ADMIN_KEY',
  );
  if (config.impersonation.enabled) {
    const proxy = config.impersonation.proxyPort;
    log.warn(
      'IMPERSONATE is ON: this service answers as graph.microsoft.com and login.microsoftonline.com with certificates from its local CA. ' +
        'For local development and private test networks only; never make that CA trusted system-wide on a machine with real data.',
    );
    if (gm.impersonation && gm.impersonation.caPath !== gm.tls?.caPath) {
      log.info(`Clients of the impersonated hosts must trust the local CA: ${gm.impersonation.caPath}`);
    }
    if (proxy !== undefined)
      log.info(
        `Impersonation proxy (CONNECT to Microsoft's hosts only): HTTPS_PROXY=http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${proxy}`,
      );
  }
  if (config.tls.mode === 'off') {
    log.warn(
      'TLS is OFF: the official Microsoft clients refuse plain HTTP, and tokens travel in clear. Use only behind a TLS-terminating proxy.',
    );
  }
  if (config.seedDemoDirectory) {
    log.warn(
      `The well-known DEMO directory is enabled (tenant ${DEMO.contoso.domain}, password and client secrets published in the README). ` +
        'Anyone can sign in with it: set SEED_DEMO_DIRECTORY=false and use a fresh database for anything but local development.',
    );
    if (gm.seeded) log.info('Seeded the demo directory into the empty database.');
  }
}

const config = readConfig();
const run = config.workers > 1 && cluster.isPrimary ? primary(config) : serve(config, config.workers === 1);
run.catch((err: unknown) => {
  process.stderr.write(`${startFailure(err, config)}\n`);
  process.exit(2);
});

/** A start failure as one line a person can act on (the stack only at LOG_LEVEL=debug or trace). */
function startFailure(err: unknown, config: Config): string {
  const e = err as NodeJS.ErrnoException & { problems?: string[] };
  if (e.code === 'EADDRINUSE') {
    return `graph-meetings: port ${config.port} on ${config.host} is already in use (EADDRINUSE); stop what is listening there or set PORT (PORT=0 picks a free port).`;
  }
  if (e.code === 'EACCES' && e.syscall === 'listen') {
    return `graph-meetings: not allowed to listen on port ${config.port} (EACCES); use a port above 1023 or set PORT.`;
  }
  if (e.code === 'EADDRNOTAVAIL') return `graph-meetings: HOST ${config.host} is not an address of this machine (EADDRNOTAVAIL).`;
  if (err instanceof SeedFileError) return `graph-meetings: ${err.message.replace(/\n\s*/g, ' ')}`;
  const detail = ['debug', 'trace'].includes(config.logLevel) && err instanceof Error ? ` ${err.stack}` : '';
  return `graph-meetings failed to start: ${err instanceof Error ? err.message : String(err)}${detail}`;
}
