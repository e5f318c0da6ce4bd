import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import tls_ from 'node:tls';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import { defaultPublicUrl, type Config } from './config/config.js';
import { publishedDemoCredentials, seedDemoDirectory } from './domain/directory/demo-directory.js';
import { DirectoryLookups } from './domain/directory/directory-lookups.js';
import { apiNotSupported } from './domain/errors.js';
import { EventService } from './domain/events/event-service.js';
import { MeetingService } from './domain/meetings/meeting-service.js';
import type { MeetingNumberSource } from './domain/meetings/meeting-ids.js';
import { AccessTokens } from './identity/access-tokens.js';
import { SigningKeyStore } from './identity/signing-keys.js';
import { SignInProtection } from './identity/sign-in-protection.js';
import { TokenService } from './identity/token-service.js';
import { authenticate } from './http/authentication.js';
import { answerClientError, clientRequestId, sendGraphError } from './http/errors.js';
import { gracefulClose } from './http/graceful-close.js';
import { ensureImpersonationTls, ensureLocalTls, type TlsMaterial } from './http/local-tls.js';
import { hostRouting, IMPERSONATED_HOSTS, impersonatedHost, impersonatedLinkOrigins, impersonatedOrigin } from './http/host-names.js';
import { createImpersonationProxy } from './http/impersonation-proxy.js';
import { entraRoutes } from './http/routes/entra.js';
import { eventRoutes } from './http/routes/events.js';
import { graphRoutes } from './http/routes/online-meetings.js';
import { requestOriginResolver } from './http/request-origin.js';
import { serializeRequest } from './http/log-redaction.js';
import { checkBodyText, decodeUtf8Body } from './http/body-text.js';
import { registerThrottling } from './http/throttling.js';
import { webPages } from './http/routes/web-pages.js';
import { batchRoutes } from './http/routes/batch.js';
import { userRoutes } from './http/routes/users.js';
import { artifactRoutes } from './http/routes/artifacts.js';
import { ArtifactService } from './domain/artifacts/artifact-service.js';
import { SessionService } from './domain/artifacts/session-service.js';
import { registerODataMetadata } from './http/odata-metadata.js';
import { UserService } from './domain/users/user-service.js';
import { graphCors } from './http/cors.js';
import { signInRoutes } from './http/routes/sign-in.js';
import { authorizationCodeGrant } from './identity/grants/authorization-code.js';
import { DEVICE_CODE_GRANTS, DeviceCodes } from './identity/grants/device-code.js';
import { AuthorizeService } from './identity/sign-in/authorize-request.js';
import { BrowserSessions } from './identity/sign-in/browser-sessions.js';
import { migrateToLatest, openStore, type Store } from './storage/database.js';
import { isEmpty } from './storage/repositories/directory-repository.js';
import { loadAdminKey, type AdminKey } from './emulator/admin-key.js';
import { lazySchemaCompilers } from './http/lazy-schema-compilers.js';
import { loadSeed, parseSeedFile, SeedFileError } from './emulator/seed-file.js';
import { EmulatorState } from './emulator/state.js';
import { answerPlainHttp, logIfCertificateRefused, logTlsRefusals } from './http/plain-http-hint.js';
import { emulatorRoutes } from './http/routes/emulator.js';
import { EmulatorClock } from './util/clock.js';
import { cryptoRandomness, seededRandomness, type Randomness } from './util/randomness.js';
import { ChangeFeed } from './domain/notifications/change-feed.js';
import { SubscriptionService } from './domain/notifications/subscription-service.js';
import { GRAPH_TIMINGS, NotificationDelivery, type DeliveryTimings } from './notifications/notification-delivery.js';
import { refusalReason, webhookPolicy } from './notifications/webhook-client.js';
import { subscriptionRoutes } from './http/routes/subscriptions.js';
import { eventJson } from './http/event-view.js';
import { dataDirWarnings } from './storage/data-dir.js';
import { cacheBudget } from './util/memory-budget.js';
import { purgeExpiredCodes } from './storage/repositories/sign-in-repository.js';
import { purgeExpiredRefreshTokens } from './storage/repositories/refresh-token-repository.js';

export interface AppDeps {
  /** Use this store instead of opening one from the config (tests share one across apps). */
  store?: Store;
  /**
   * The service's time: an EmulatorClock (CLOCK, CLOCK_FROZEN; moved by POST /_emulator/clock), or a plain
   * function that the app wraps in one. Every time-based rule reads this one clock.
   */
  clock?: EmulatorClock | (() => number);
  numbers?: MeetingNumberSource;
  /** Generated ids, meeting numbers and passcodes (seededRandomness under ID_SEED). */
  random?: Randomness;
  /** Where log lines go (stdout when absent); tests read them. */
  logStream?: NodeJS.WritableStream;
  /** Shorter validation and delivery timeouts than Graph's 10 s and 3 s (tests of slow receivers). */
  notificationTimings?: Partial<DeliveryTimings>;
  /** false: notifications are delivered only by POST /_emulator/notifications/flush (tests that count attempts). */
  notificationBackground?: boolean;
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
  /** IMPERSONATE=on: the CA clients must trust for Microsoft's host names, and the proxy's port once listening. */
  readonly impersonation: { caPath: string; proxyPort(): number | undefined } | undefined;
  /** The emulator control API's key (ADMIN_KEY or DATA_DIR/admin-key). */
  readonly adminKey: AdminKey;
  /** Reset, export and import of the whole state; areas with in-memory state register onChange listeners. */
  readonly state: EmulatorState;
  /** The one clock of the service. */
  readonly clock: EmulatorClock;
  /** Change notifications (issue #18): the outbox deliverer (flush() delivers what is pending now). */
  readonly notifications: NotificationDelivery;
  /** What the domain calls when something subscriptions may watch happens (ChangeFeed.artifactCreated for #17). */
  readonly changeFeed: ChangeFeed;
}

/** The dependencies the configuration asks for: CLOCK / CLOCK_FROZEN and ID_SEED (the entry points call this). */
export function depsFromConfig(config: Config): Pick<AppDeps, 'clock' | 'random'> {
  return {
    ...(config.clockStart !== undefined ? { clock: new EmulatorClock({ start: config.clockStart, frozen: config.clockFrozen }) } : {}),
    ...(config.idSeed !== undefined ? { random: seededRandomness(config.idSeed) } : {}),
  };
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
  const tls = await loadTls(config);
  const adminKey = loadAdminKey(config.adminKey, config.dataDir);
  // Read and validated before the store opens, so a bad fixture stops the start with its own message.
  const seedFile = config.seedFile === undefined ? undefined : await parseSeedFile(readSeedFile(config.seedFile), config.seedFile);
  const emulatorClock = deps.clock instanceof EmulatorClock ? deps.clock : new EmulatorClock(deps.clock ? { source: deps.clock } : {});
  const clock = emulatorClock.now;
  const impersonating = config.impersonation.enabled;
  const impersonationTls = impersonating ? await ensureImpersonationTls(config.dataDir, IMPERSONATED_HOSTS, caNames(config)) : undefined;
  const store =
    deps.store ?? openStore({ databaseUrl: config.databaseUrl, sqliteFile: path.join(config.dataDir, 'graph-meetings.sqlite') });
  const ownsStore = deps.store === undefined;
  try {
    await migrateToLatest(store.db);
    // An empty database gets the demo directory and/or SEED_FILE; a reset empties it and seeds it again.
    const seed = async () => {
      let demo = false;
      if (!(await isEmpty(store.db))) return demo;
      if (config.seedDemoDirectory) demo = await seedDemoDirectory(store.db);
      if (seedFile && config.seedFile) await loadSeed(store.db, seedFile, config.seedFile);
      return demo;
    };
    const seeded = await seed();
    const keys = new SigningKeyStore(store.db);
    await keys.init();

    const app = Fastify({
      // Node sweeps for connections past headersTimeout/requestTimeout every connectionsCheckingInterval
      // (30 s by default); sweep every second so slow clients are cut off near the configured time.
      ...(tls
        ? { https: { key: tls.key, cert: tls.cert, connectionsCheckingInterval: 1000, ...sniOptions(impersonationTls) } }
        : { http: { connectionsCheckingInterval: 1000 } }),
      logger: {
        level: config.logLevel,
        // Tokens, secrets and passwords never reach the logs: credentials travel in these headers or in
        // request bodies, and bodies are not logged.
        redact: { paths: ['req.headers.authorization', 'req.headers.cookie', 'headers.authorization'], censor: '[redacted]' },
        // Query strings can carry credentials and join links (log-redaction.ts, issue #11 item 6).
        serializers: { req: serializeRequest },
        ...(config.logFormat === 'pretty'
          ? // Synchronous, in this thread: a worker-thread transport would lose the last lines of a crash.
            {
              stream: (await import('pino-pretty')).default({
                sync: true,
                destination: deps.logStream ?? 1,
                ...(deps.logStream ? { colorize: false } : {}),
              }),
            }
          : deps.logStream
            ? { stream: deps.logStream }
            : {}),
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
      // Each route's schemas are compiled on its first request, not at start (lazy-schema-compilers.ts).
      schemaController: lazySchemaCompilers(),
      // Slow clients (slowloris) must not hold connections: headers within HEADERS_TIMEOUT_MS, the
      // whole request within 30 s; an idle keep-alive connection is closed after 72 s, as Fastify does.
      requestTimeout: 30_000,
      clientErrorHandler: (err, socket) => {
        logIfCertificateRefused(err, app.log, tls?.caPath);
        answerClientError(err, socket);
      },
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
    // client-compat §1.5; issue #11 items 3 and 8 (request-origin.ts); impersonated hosts first (host-names.ts).
    const ownRequestOrigin = requestOriginResolver({ tls: tls !== undefined, publicUrl: config.publicUrl, origin });
    const requestOrigin = (request: FastifyRequest) => impersonatedOrigin(impersonating, request) ?? ownRequestOrigin(request);

    const tokens = new AccessTokens(keys, config.tokenLifetimeSeconds, clock);
    const signIn = new SignInProtection({ clock, processes: config.workers });
    const tokenService = new TokenService(store.db, tokens, keys, clock, signIn);
    const directory = new DirectoryLookups(store.db);
    const state = new EmulatorState({ db: store.db, seed: async () => void (await seed()), clock });
    state.onChange(() => directory.clear());
    // Interactive sign-in (issue 12): each grant in its own module, registered on the token endpoint.
    const deviceCodes = new DeviceCodes(store.db, tokenService, clock);
    tokenService.registerGrant(['authorization_code'], authorizationCodeGrant(store.db, tokenService, clock));
    tokenService.registerGrant(DEVICE_CODE_GRANTS, deviceCodes.grant());
    const meetings = new MeetingService({
      db: store.db,
      write: store.write,
      writeExclusive: store.writeExclusive,
      read: store.read,
      quota: config.throttling.enabled ? config.throttling.meetingQuotaPerUserMonth : 0,
      directory,
      origin,
      linkStyle: config.linkStyle,
      clock,
      numbers: deps.numbers,
      random: deps.random,
    });
    const proxy =
      impersonating && config.impersonation.proxyPort !== undefined
        ? createImpersonationProxy(app.server, {
            log: app.log,
            headersTimeoutMs: app.server.headersTimeout,
            maxConnections: config.maxConnections,
          })
        : undefined;
    const impersonation = impersonationTls ? { caPath: impersonationTls.caPath!, proxyPort: () => proxy?.port() } : undefined;
    // Change notifications (issue #18): the outbox deliverer and the feed the domain writes into.
    const policy = webhookPolicy(config.notifications.hosts, config.notifications.caFiles);
    const notifications = new NotificationDelivery({
      store,
      clock,
      keys,
      policy,
      log: app.log,
      timings: { ...GRAPH_TIMINGS, ...deps.notificationTimings },
    });
    const changeFeed = new ChangeFeed({
      db: store.db,
      clock,
      renderEvent: (e) => eventJson(e, { serviceRoot: `${origin()}/v1.0`, userSegment: e.ownerId, zone: undefined, bodyText: false }),
    });
    const events = new EventService({
      db: store.db,
      write: store.write,
      read: store.read,
      directory,
      meetings,
      clock,
      notifications: { feed: changeFeed, writeTogether: store.writeTogether, queued: () => notifications.wake() },
    });
    const subscriptions = new SubscriptionService({
      db: store.db,
      directory,
      events,
      clock,
      random: deps.random ?? cryptoRandomness,
      urlRefusal: (url) => refusalReason(url, policy),
      validate: (url) => notifications.validate(url),
    });
    app.decorate('graphMeetings', {
      store,
      tokens,
      directory,
      meetings,
      tls,
      origin,
      seeded,
      adminKey,
      state,
      clock: emulatorClock,
      impersonation,
      notifications,
      changeFeed,
    });
    if (tls) {
      answerPlainHttp(app.server, origin);
      logTlsRefusals(app.server, app.log, tls.caPath);
    }

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
    if (impersonating) app.addHook('onRequest', hostRouting(impersonating));
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
      signIn,
    });
    await app.register(webPages, { db: store.db });
    // Meetings that happen (issue #17); a change-notification outbox joins its writes through `inTransaction`.
    const sessions = new SessionService({
      db: store.db,
      clock,
      random: deps.random,
      // Issue #18: a session's transcript and recording queue their notifications in the transaction that stores them.
      inTransaction: async (tx, recorded) => {
        await changeFeed.sessionRecorded(tx, recorded);
        // The poll finds them within a second of the commit too.
        setImmediate(() => notifications.wake());
      },
    });
    await app.register(emulatorRoutes, {
      db: store.db,
      adminKey,
      state,
      clock: emulatorClock,
      origin,
      importLimitBytes: Math.max(config.bodyLimitBytes, 256 * 1024 * 1024),
      notifications,
      sessions,
      // contentBase64 is for small recordings; larger ones go through the streamed PUT (README).
      sessionBodyLimitBytes: Math.max(config.bodyLimitBytes, 64 * 1024 * 1024),
      recordingUploadLimitBytes: config.recordingUploadLimitBytes,
      directoryChanged: () => directory.clear(),
    });
    registerThrottling(app, { config: config.throttling, clock });
    registerODataMetadata(app);
    const users = new UserService(store.db, directory, clock);
    const artifacts = new ArtifactService({ db: store.db, directory, clock });
    for (const prefix of ['/v1.0', '/beta']) {
      const graphAuthenticate = (authorization: string | undefined) => authenticate(directory, tokens, authorization);
      const graphOrigin = (request: FastifyRequest) => impersonatedOrigin(impersonating, request) ?? origin();
      await app.register(graphRoutes, {
        prefix,
        meetings,
        authenticate: graphAuthenticate,
        origin: graphOrigin,
        linkOrigins: (request) => impersonatedLinkOrigins(impersonating, request),
      });
      await app.register(eventRoutes, {
        prefix,
        events,
        authenticate: graphAuthenticate,
        origin: graphOrigin,
        linkOrigins: (request) => impersonatedLinkOrigins(impersonating, request),
      });
      await app.register(userRoutes, { prefix, users, authenticate: graphAuthenticate, origin });
      await app.register(subscriptionRoutes, {
        prefix,
        subscriptions,
        authenticate: graphAuthenticate,
        origin: graphOrigin,
        changed: () => notifications.wake(),
      });
      await app.register(artifactRoutes, { prefix, artifacts, authenticate: graphAuthenticate, origin: graphOrigin });
      await app.register(batchRoutes, { prefix, authenticate: graphAuthenticate, inject: (opts) => app.inject(opts) });
    }
    // Deleted meetings are tombstones for 60 days (their numbers stay taken); purge older ones now and hourly.
    const purge = () =>
      Promise.all([
        meetings.purgeTombstones().catch((err: unknown) => app.log.error({ err }, 'purging deleted meetings failed')),
        // Expired codes, device codes and browser sessions (issue 12) are of no use to anyone.
        purgeExpiredCodes(store.db, new Date(clock()).toISOString()).catch((err: unknown) =>
          app.log.error({ err }, 'purging expired sign-in codes failed'),
        ),
        purgeExpiredRefreshTokens(store.db, new Date(clock()).toISOString()).catch((err: unknown) =>
          app.log.error({ err }, 'purging expired refresh tokens failed'),
        ),
      ]);
    app.addHook('onReady', async () => {
      await purge();
      notifications.start(deps.notificationBackground !== false);
    });
    const purgeTimer = setInterval(purge, 3_600_000);
    purgeTimer.unref();
    if (proxy) {
      // Listening before the HTTPS server does, so a taken PROXY_PORT fails the start instead of being logged.
      app.addHook('onReady', async () => {
        await proxy.listen(config.impersonation.proxyPort!, config.host);
      });
    }
    app.addHook('onClose', async () => {
      clearInterval(purgeTimer);
      await notifications.stop();
      await proxy?.close();
      if (ownsStore) await store.close();
    });
    return app;
  } catch (err) {
    if (ownsStore) await store.close();
    throw err;
  }
}

function readSeedFile(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new SeedFileError(file, [`cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)})`]);
  }
}

/** IMPERSONATE=on: clients whose SNI names an impersonated host get that certificate; all others the service's own. */
function sniOptions(impersonation: TlsMaterial | undefined): Pick<tls_.TlsOptions, 'SNICallback'> {
  if (!impersonation) return {};
  const context = tls_.createSecureContext({ key: impersonation.key, cert: impersonation.cert });
  return {
    SNICallback: (servername, cb) => cb(null, impersonatedHost(servername) ? context : undefined),
  };
}

/**
 * The names a new local CA may certify (its name constraints, issue #11 item 10): loopback, PUBLIC_URL's
 * host, a specific HOST, and Microsoft's host names when IMPERSONATE=on. Both certificates come from one CA.
 */
function caNames(config: Config): string[] {
  const names = ['localhost', '127.0.0.1', '::1'];
  if (config.publicUrl) names.push(new URL(config.publicUrl).hostname);
  if (config.host !== '127.0.0.1' && config.host !== '0.0.0.0' && config.host !== '::') names.push(config.host);
  if (config.impersonation.enabled) names.push(...IMPERSONATED_HOSTS);
  return names;
}

async function loadTls(config: Config): Promise<TlsMaterial | undefined> {
  switch (config.tls.mode) {
    case 'off':
      return undefined;
    case 'files':
      return { key: fs.readFileSync(config.tls.keyFile, 'utf8'), cert: fs.readFileSync(config.tls.certFile, 'utf8') };
    case 'auto': {
      const extra = config.publicUrl ? [new URL(config.publicUrl).hostname] : [];
      if (config.host !== '127.0.0.1' && config.host !== '0.0.0.0' && config.host !== '::') extra.push(config.host);
      return ensureLocalTls(config.dataDir, extra, caNames(config));
    }
  }
}
