import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildApp, depsFromConfig } from './app.js';
import { loadConfig, type Config } from './config/config.js';

/**
 * Options of GraphMeetingsServer.create(). Each has the environment variable of the same meaning
 * (README "Configuration"); `env` passes any other variable. Nothing is read from process.env: a test
 * suite's own environment does not leak into the server it starts.
 */
export interface GraphMeetingsServerOptions {
  /** TCP port; 0 (the default) picks a free one. */
  port?: number;
  /** Interface to bind (127.0.0.1). */
  host?: string;
  /** Where the SQLite database, the local CA and the admin key live; default a fresh temporary directory, removed by stop(). */
  dataDir?: string;
  /** postgres://… instead of the embedded SQLite store. */
  databaseUrl?: string;
  /** Seed the demo directory into an empty database (true). */
  seedDemoDirectory?: boolean;
  /** A SEED_FILE fixture (path) loaded into an empty database. */
  seedFile?: string;
  /** The control API's admin key (at least 16 characters); default generated into DATA_DIR/admin-key. */
  adminKey?: string;
  /** Log level ('silent' by default here: a test run's output stays the tests'). */
  logLevel?: Config['logLevel'];
  /** 'json' (default) or 'pretty'. */
  logFormat?: 'pretty' | 'json';
  /** Where log lines go (default stdout). */
  logStream?: NodeJS.WritableStream;
  /** CLOCK: start the service's clock at this date-time. */
  clock?: string | Date;
  /** CLOCK_FROZEN: the clock stands still at `clock` until POST /_emulator/clock moves it. */
  clockFrozen?: boolean;
  /** ID_SEED: reproducible ids, meeting numbers and passcodes. */
  idSeed?: number;
  /** Any other setting, by its environment variable name (THROTTLE, TOKEN_LIFETIME_SECONDS, PUBLIC_URL, …). */
  env?: Record<string, string>;
}

/**
 * graph-meetings inside a test process, as mongodb-memory-server is for MongoDB:
 *
 *   const gm = await GraphMeetingsServer.create();
 *   // gm.url, gm.ca (PEM), gm.caFile, gm.adminKey
 *   await gm.reset();   // between tests
 *   await gm.stop();    // after all
 *
 * It touches no global process state: no signal handlers, no environment changes (clients must be given
 * the CA themselves, see README "Using it from tests"), and stop() removes the temporary data directory
 * it created.
 */
export class GraphMeetingsServer {
  /** The origin, e.g. https://127.0.0.1:49152. */
  readonly url: string;
  /** The local CA certificate (PEM) clients must trust; undefined with TLS off or your own certificate. */
  readonly ca: string | undefined;
  /** The same CA as a file, for NODE_EXTRA_CA_CERTS in child processes. */
  readonly caFile: string | undefined;
  /** The emulator control API's admin key. */
  readonly adminKey: string;
  readonly dataDir: string;
  /** The Fastify instance (for inject() and hooks in advanced tests). */
  readonly app: FastifyInstance;
  readonly #ownsDataDir: boolean;
  #stopped = false;

  private constructor(app: FastifyInstance, dataDir: string, ownsDataDir: boolean) {
    this.app = app;
    this.dataDir = dataDir;
    this.#ownsDataDir = ownsDataDir;
    const gm = app.graphMeetings;
    this.url = gm.origin();
    this.caFile = gm.tls?.caPath;
    this.ca = this.caFile ? fs.readFileSync(this.caFile, 'utf8') : undefined;
    this.adminKey = gm.adminKey.value;
  }

  static async create(options: GraphMeetingsServerOptions = {}): Promise<GraphMeetingsServer> {
    const ownsDataDir = options.dataDir === undefined;
    const dataDir = options.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'graph-meetings-'));
    try {
      const env: Record<string, string> = {
        PORT: String(options.port ?? 0),
        DATA_DIR: dataDir,
        LOG_LEVEL: options.logLevel ?? 'silent',
        ...options.env,
      };
      const set = (name: string, value: unknown) => {
        if (value !== undefined) env[name] = value instanceof Date ? value.toISOString() : String(value);
      };
      set('HOST', options.host);
      set('DATABASE_URL', options.databaseUrl);
      set('SEED_DEMO_DIRECTORY', options.seedDemoDirectory);
      set('SEED_FILE', options.seedFile);
      set('ADMIN_KEY', options.adminKey);
      set('LOG_FORMAT', options.logFormat);
      set('CLOCK', options.clock);
      set('CLOCK_FROZEN', options.clockFrozen);
      set('ID_SEED', options.idSeed);
      const config = loadConfig(env, dataDir);
      if (config.workers !== 1) throw new Error('GraphMeetingsServer runs in this process: WORKERS must be 1');
      const app = await buildApp(config, { ...depsFromConfig(config), ...(options.logStream ? { logStream: options.logStream } : {}) });
      try {
        await app.listen({ port: config.port, host: config.host });
      } catch (err) {
        await app.close();
        throw err;
      }
      return new GraphMeetingsServer(app, dataDir, ownsDataDir);
    } catch (err) {
      if (ownsDataDir) fs.rmSync(dataDir, { recursive: true, force: true });
      throw err;
    }
  }

  /** Back to the seeded state (POST /_emulator/reset, in-process). */
  async reset(): Promise<void> {
    await this.app.graphMeetings.state.reset();
  }

  /** Moves the service's clock forward (POST /_emulator/clock, in-process). */
  advanceClock(seconds: number): void {
    this.app.graphMeetings.clock.advance(seconds);
  }

  /** Stops the server, closes the store and removes the temporary data directory it created. Safe to call twice. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    await this.app.close();
    if (this.#ownsDataDir) fs.rmSync(this.dataDir, { recursive: true, force: true });
  }
}
