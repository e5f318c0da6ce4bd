import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { defaultPublicUrl, type Config } from './config/config.js';
import { publishedDemoCredentials, seedDemoDirectory } from './domain/directory/demo-directory.js';
import { DirectoryLookups } from './domain/directory/directory-lookups.js';
import { apiNotSupported } from './domain/errors.js';
import { EventService } from './domain/events/event-service.js';
import { MeetingService } from './domain/meetings/meeting-service.js';
import type { MeetingNumberSource } from './domain/meetings/meeting-ids.js';
import { AccessTokens } from './identity/access-tokens.js';
import { SigningKeyStore } from './identity/signing-keys.js';
import { TokenService } from './identity/token-service.js';
import { authenticate } from './http/authentication.js';
import { answerClientError, clientRequestId, sendGraphError } from './http/errors.js';
import { gracefulClose } from './http/graceful-close.js';
import { ensureLocalTls, type TlsMaterial } from './http/local-tls.js';
import { entraRoutes } from './http/routes/entra.js';
import { eventRoutes } from './http/routes/events.js';
import { graphRoutes } from './http/routes/online-meetings.js';
import { requestOriginResolver } from './http/request-origin.js';
import { serializeRequest } from './http/log-redaction.js';
import { checkBodyText, decodeUtf8Body } from './http/body-text.js';
import { registerThrottling } from './http/throttling.js';
import { webPages } from './http/routes/web-pages.js';
import { graphCors } from './http/cors.js';
import { signInRoutes } from './http/routes/sign-in.js';
import { authorizationCodeGrant } from './identity/grants/authorization-code.js';
import { DEVICE_CODE_GRANTS, DeviceCodes } from './identity/grants/device-code.js';
import { AuthorizeService } from './identity/sign-in/authorize-request.js';
import { BrowserSessions } from './identity/sign-in/browser-sessions.js';
import { migrateToLatest, openStore, type Store } from './storage/database.js';
import { dataDirWarnings } from './storage/data-dir.js';
import { cacheBudget } from './util/memory-budget.js';
import { purgeExpiredCodes } from './storage/repositories/sign-in-repository.js';

export interface AppDeps {
  /** Use this store instead of opening one from the config (tests share one across apps). */
  store?: Store;
  clock?: () => number;
  numbers?: MeetingNumberSource;
  /** Where log lines go (stdout when absent); tests read them. */
  logStream?: NodeJS.WritableStream;
}

export interface GraphMeetings {
  readonly store: Store;
  readonly tokens: AccessTokens;
  readonly meetings: MeetingService;
  /** The cached directory reads of Graph requests; clear() after changing the directory in-process. */
  readonly directory: DirectoryLookups;
  readonly tls: TlsMaterial | undefined;
  /** The public origin (PUBLIC_URL, or derived from the bound address once listening). */
  origin(): string;
  /** Whether the demo directory was seeded by this start. */
  readonly seeded: boolean;
}

declare module 'fastify' {
  interface FastifyInstance {
    graphMeetings: GraphMeetings;
  }
}

/**
 * Builds the whole service from a config: store (migrated, seeded), keys, services and HTTP routes.
 * Nothing here reads the environment or the process; server.ts and cli/main.ts do that.
 */
export async function buildApp(config: Config, deps: AppDeps = {}): Promise<FastifyInstance> {
  // One byte budget for every cache in the process (issue #11 item 1).
  cacheBudget.configure(config.cacheBudgetBytes);
  const tls = loadTls(config);
  const store =
    deps.store ?? openStore({ databaseUrl: config.databaseUrl, sqliteFile: path.join(config.dataDir, 'graph-meetings.sqlite') });
  const ownsStore = deps.store === undefined;
  try {
    await migrateToLatest(store.db);
    const seeded = config.seedDemoDirectory ? await seedDemoDirectory(store.db) : false;
    const keys = new SigningKeyStore(store.db);
    await keys.init();

    const app = Fastify({
      // Node sweeps for connections past headersTimeout/requestTimeout every connectionsCheckingInterval
      // (30 s by default); sweep every second so slow clients are cut off near the configured time.
      ...(tls
        ? { https: { key: tls.key, cert: tls.cert, connectionsCheckingInterval: 1000 } }
        : { http: { connectionsCheckingInterval: 1000 } }),
      logger: {
        level: config.logLevel,
        // Tokens, secrets and passwords never reach the logs: credentials travel in these headers or in
        // request bodies, and bodies are not logged.
        redact: { paths: ['req.headers.authorization', 'req.headers.cookie', 'headers.authorization'], censor: '[redacted]' },
        // Query strings can carry credentials and join links (log-redaction.ts, issue #11 item 6).
        serializers: { req: serializeRequest },
        ...(deps.logStream ? { stream: deps.logStream } : {}),
      },
      bodyLimit: config.bodyLimitBytes,
      genReqId: () => randomUUID(),
      // Graph's paths are case-insensitive and tolerate a trailing slash (`/communications/onlineMeetings/?$filter=`).
      routerOptions: { caseSensitive: false, ignoreTrailingSlash: true, maxParamLength: 2000 },
      // The router's own refusals (bad percent-encoding, an over-long segment) go through the one error writer.
      frameworkErrors: (err, request, reply) => sendGraphError(err, request, reply),
      // Graph ignores unknown properties; a __proto__ or constructor key is one, so drop it rather than fail.
      onProtoPoisoning: 'remove',
      onConstructorPoisoning: 'remove',
      return503OnClosing: true,
      // Idle connections are closed by gracefulClose, which knows which ones have requests in flight.
      forceCloseConnections: false,
      ajv: { customOptions: { coerceTypes: false, removeAdditional: false, useDefaults: false, allErrors: false } },
      // Slow clients (slowloris) must not hold connections: headers within HEADERS_TIMEOUT_MS, the
      // whole request within 30 s; an idle keep-alive connection is closed after 72 s, as Fastify does.
      requestTimeout: 30_000,
      clientErrorHandler: answerClientError,
    });
    app.server.headersTimeout = Math.min(config.headersTimeoutMs, 30_000);
    app.server.maxConnections = config.maxConnections;

    // Issue #11 items 4 and 5: a readable DATA_DIR, or the demo directory's published credentials in a
    // database started with seeding off, is said loudly at every start.
    for (const warning of dataDirWarnings(config.dataDir)) app.log.warn(warning);
    if (!config.seedDemoDirectory) {
      const published = await publishedDemoCredentials(store.db);
      if (published.length > 0) {
        app.log.warn(
          `SEED_DEMO_DIRECTORY is false, but this database still accepts the demo directory's PUBLISHED credentials (README "Demo directory"): ${published.join(', ')}. ` +
            'Anyone can sign in with them. Remove them (graph-meetings tenant/app/user commands) or use a fresh database.',
        );
      }
    }

    let boundOrigin: string | undefined;
    const origin = () => {
      if (config.publicUrl) return config.publicUrl;
      if (!boundOrigin) {
        const address = app.server.address() as AddressInfo | null;
        boundOrigin = defaultPublicUrl(config, address?.port ?? config.port);
      }
      return boundOrigin;
    };
    // client-compat §1.5; issue #11 items 3 and 8 (request-origin.ts).
    const requestOrigin = requestOriginResolver({ tls: tls !== undefined, publicUrl: config.publicUrl, origin });

    const tokens = new AccessTokens(keys, config.tokenLifetimeSeconds, deps.clock);
    const tokenService = new TokenService(store.db, tokens, keys);
    const directory = new DirectoryLookups(store.db);
    // Interactive sign-in (issue 12): each grant in its own module, registered on the token endpoint.
    const clock = deps.clock ?? Date.now;
    const deviceCodes = new DeviceCodes(store.db, tokenService, clock);
    tokenService.registerGrant(['authorization_code'], authorizationCodeGrant(store.db, tokenService, clock));
    tokenService.registerGrant(DEVICE_CODE_GRANTS, deviceCodes.grant());
    const meetings = new MeetingService({
      db: store.db,
      write: store.write,
      read: store.read,
      directory,
      origin,
      clock: deps.clock,
      numbers: deps.numbers,
    });
    app.decorate('graphMeetings', { store, tokens, directory, meetings, tls, origin, seeded });

    // Hooks on every request are callback-style: an async hook costs a promise and a microtask turn each.
    app.addHook('onRequest', (request, reply, done) => {
      reply.header('request-id', request.id);
      reply.header('client-request-id', clientRequestId(request));
      reply.header('x-content-type-options', 'nosniff');
      if (tls) reply.header('strict-transport-security', 'max-age=31536000');
      done();
    });
    // An empty body declared as JSON means no body (curl users send the header on DELETE out of habit,
    // and Graph accepts that); a create without a body still gets "must be a JSON object".
    const parseJson = app.getDefaultJsonParser('remove', 'remove');
    app.removeContentTypeParser('application/json');
    // Bodies are read as bytes so that invalid UTF-8 is refused, not stored as U+FFFD; text is checked
    // before any store sees it (body-text.ts, issue #11 item 7).
    app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
      let text: string;
      try {
        text = decodeUtf8Body(body as Buffer);
      } catch (err) {
        return done(err as Error, undefined);
      }
      if (text === '') return done(null, undefined);
      parseJson(request, text, (err, parsed) => {
        if (err) return done(err, undefined);
        const problem = checkBodyText(parsed);
        return problem ? done(problem, undefined) : done(null, parsed);
      });
    });
    gracefulClose(app);
    app.setErrorHandler((err, request, reply) => sendGraphError(err, request, reply));
    app.setNotFoundHandler((request, reply) => sendGraphError(apiNotSupported(), request, reply));

    graphCors(app, ['/v1.0', '/beta']);
    await app.register(entraRoutes, { db: store.db, tokens: tokenService, keys, requestOrigin });
    await app.register(signInRoutes, {
      db: store.db,
      authorize: new AuthorizeService(store.db, tokenService, clock),
      sessions: new BrowserSessions(store.db, clock),
      deviceCodes,
      keys,
      requestOrigin,
    });
    await app.register(webPages, { db: store.db });
    registerThrottling(app, { config: config.throttling, db: store.db, directory, clock: deps.clock });
    for (const prefix of ['/v1.0', '/beta']) {
      await app.register(graphRoutes, {
        prefix,
        meetings,
        authenticate: (authorization) => authenticate(directory, tokens, authorization),
        origin,
      });
      await app.register(eventRoutes, {
        prefix,
        events: new EventService({ db: store.db, write: store.write, directory, meetings, clock: deps.clock }),
        authenticate: (authorization) => authenticate(directory, tokens, authorization),
        origin,
      });
    }
    // Deleted meetings are tombstones for 60 days (their numbers stay taken); purge older ones now and hourly.
    const purge = () =>
      Promise.all([
        meetings.purgeTombstones().catch((err: unknown) => app.log.error({ err }, 'purging deleted meetings failed')),
        // Expired codes, device codes and browser sessions (issue 12) are of no use to anyone.
        purgeExpiredCodes(store.db, new Date(clock()).toISOString()).catch((err: unknown) =>
          app.log.error({ err }, 'purging expired sign-in codes failed'),
        ),
      ]);
    app.addHook('onReady', async () => {
      await purge();
    });
    const purgeTimer = setInterval(purge, 3_600_000);
    purgeTimer.unref();
    app.addHook('onClose', async () => {
      clearInterval(purgeTimer);
      if (ownsStore) await store.close();
    });
    return app;
  } catch (err) {
    if (ownsStore) await store.close();
    throw err;
  }
}

function loadTls(config: Config): TlsMaterial | undefined {
  switch (config.tls.mode) {
    case 'off':
      return undefined;
    case 'files':
      return { key: fs.readFileSync(config.tls.keyFile, 'utf8'), cert: fs.readFileSync(config.tls.certFile, 'utf8') };
    case 'auto': {
      const extra = config.publicUrl ? [new URL(config.publicUrl).hostname] : [];
      if (config.host !== '127.0.0.1' && config.host !== '0.0.0.0' && config.host !== '::') extra.push(config.host);
      return ensureLocalTls(config.dataDir, extra);
    }
  }
}
