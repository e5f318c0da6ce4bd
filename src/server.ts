import closeWithGrace from 'close-with-grace';
import { buildApp } from './app.js';
import { ConfigError, loadConfig } from './config/config.js';
import { DEMO } from './domain/directory/demo-directory.js';

/** Process entry: read the environment, build the app, listen, close gracefully on SIGTERM/SIGINT. */
async function main() {
  let config;
  try {
    config = loadConfig(process.env, process.cwd());
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const app = await buildApp(config);
  const { tls, store, seeded } = app.graphMeetings;
  await app.listen({ port: config.port, host: config.host });
  const origin = app.graphMeetings.origin();
  const log = app.log;
  log.info({ origin, store: store.kind, location: store.location }, `graph-meetings is listening on ${origin}`);
  if (tls?.caPath) {
    log.info(`Clients must trust the local CA: ${tls.caPath}`);
    log.info(`  e.g. NODE_EXTRA_CA_CERTS=${tls.caPath} node your-client.js`);
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
    if (seeded) log.info('Seeded the demo directory into the empty database.');
  }

  closeWithGrace({ delay: 10_000 }, async ({ signal, err }) => {
    if (err) log.error({ err }, 'shutting down after an error');
    else log.info({ signal }, 'shutting down');
    await app.close();
  });
}

main().catch((err) => {
  process.stderr.write(`graph-meetings failed to start: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
