import path from 'node:path';
import { DEFAULT_CACHE_BUDGET_BYTES } from '../util/memory-budget.js';

/**
 * Every setting of graph-meetings, read once from the environment by the entry points (server, cli) and
 * passed to buildApp. The README's configuration table lists the same names, defaults and meanings.
 */
export interface Config {
  /** TCP port to listen on. */
  port: number;
  /** Interface to bind. */
  host: string;
  /** Where the embedded database, the local CA and the server certificate live. */
  dataDir: string;
  /** Origin that join links, dial-in pages and token issuers are built from; undefined = derived from host and port. */
  publicUrl: string | undefined;
  /** TLS: 'auto' (local CA in DATA_DIR/tls), 'files' (TLS_CERT_FILE + TLS_KEY_FILE), or 'off'. */
  tls: { mode: 'auto' } | { mode: 'files'; certFile: string; keyFile: string } | { mode: 'off' };
  /** postgres://… selects PostgreSQL; undefined = embedded SQLite in dataDir. */
  databaseUrl: string | undefined;
  /** Seed the well-known demo directory into an empty database. */
  seedDemoDirectory: boolean;
  /** Lifetime of issued access tokens, in seconds (Entra's is about an hour). */
  tokenLifetimeSeconds: number;
  /** Largest accepted request body, in bytes. */
  bodyLimitBytes: number;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** Processes serving requests: 1 = this process; more = a node:cluster primary forking that many workers. */
  workers: number;
  /** Graph's throttling (fact sheet §6.5), applied by src/http/throttling.ts. */
  throttling: ThrottlingConfig;
  /** LINK_STYLE: 'service' (links lead to this service's pages) or 'teams' (Teams' own hosts, issue #14). */
  linkStyle: 'service' | 'teams';
  /** A client must send its request headers within this time (slow clients are cut off). */
  headersTimeoutMs: number;
  /** Most simultaneous connections per process. */
  maxConnections: number;
  /** ADMIN_KEY: the bearer key of the emulator control API; undefined = generated into DATA_DIR/admin-key. */
  adminKey: string | undefined;
  /** SEED_FILE: a JSON fixture (src/emulator/seed-file.ts) loaded into an empty database. */
  seedFile: string | undefined;
  /** CLOCK: where the service's clock starts (epoch ms); undefined = the real time. */
  clockStart: number | undefined;
  /** CLOCK_FROZEN: the clock stands still (at CLOCK) until POST /_emulator/clock moves it. */
  clockFrozen: boolean;
  /** ID_SEED: generated ids, meeting numbers and passcodes follow a reproducible sequence. */
  idSeed: number | undefined;
  /** LOG_FORMAT: 'pretty' (for a person) or 'json' (one object per line); undefined = the entry point decides. */
  logFormat: 'pretty' | 'json' | undefined;
  /** Answering as graph.microsoft.com and login.microsoftonline.com (src/http/host-names.ts); local development only. */
  impersonation: ImpersonationConfig;
  /** CACHE_BUDGET_BYTES: bytes all in-memory caches of a process may hold together (util/memory-budget.ts). */
  cacheBudgetBytes: number;
  /** Where change notifications may be sent (src/notifications/webhook-client.ts, README "Change notifications"). */
  notifications: NotificationsConfig;
  /** RECORDING_UPLOAD_LIMIT_BYTES: largest recording PUT /_emulator/sessions/{id}/recording accepts (streamed to the store). */
  recordingUploadLimitBytes: number;
}

export interface NotificationsConfig {
  /** NOTIFICATION_HOSTS: host names or IPs receivers may have (`*.example.com`, `*` = any); default loopback only. */
  hosts: string[];
  /** NOTIFICATION_CA_FILES: PEM files of extra CAs trusted for https receivers, besides Node's bundled roots. */
  caFiles: string[];
}

/**
 * IMPERSONATE=on: the local CA also issues certificates for Microsoft's own host names, and requests for
 * those names are answered here (README "Answering as graph.microsoft.com"). Off by default; refused
 * unless HOST is loopback or IMPERSONATE_PRIVATE_NETWORK=true says the network is a private test network.
 */
export interface ImpersonationConfig {
  enabled: boolean;
  /** PROXY_PORT: the HTTP proxy port accepting CONNECT for the impersonated hosts only; undefined = no proxy. */
  proxyPort: number | undefined;
  /** IMPERSONATE_PRIVATE_NETWORK: the operator's statement that a non-loopback HOST is a private test network. */
  privateNetwork: boolean;
}

/** The shortest admin key accepted (ADMIN_KEY): shorter keys can be guessed. */
export const MIN_ADMIN_KEY_LENGTH = 16;

/**
 * THROTTLE=on turns on the rate limits and the monthly meeting quota (off by default: local use should never
 * be throttled by surprise). SIMULATE_THROTTLING answers 429 on demand whatever THROTTLE says, so that clients
 * can exercise their retry paths. A limit or quota of 0 means none.
 */
export interface ThrottlingConfig {
  enabled: boolean;
  /** THROTTLE_APP_RPS: requests per second per app, over a 10-second bucket (Graph's global limit: 130,000 per 10 s). */
  appRps: number;
  /** THROTTLE_TENANT_RPS: requests per second per tenant (all apps together), over a 10-second bucket. */
  tenantRps: number;
  /** MEETING_QUOTA_PER_USER_MONTH: meetings one organizer may create per calendar month (UTC). */
  meetingQuotaPerUserMonth: number;
  /**
   * SIMULATE_THROTTLING: 'off'; 'header' (only requests carrying x-graph-meetings-simulate-throttle: N);
   * 'attempts' (the first N attempts of every Graph request); 'share' (that share of Graph requests, at random).
   */
  simulate: { mode: 'off' } | { mode: 'header' } | { mode: 'attempts'; attempts: number } | { mode: 'share'; share: number };
}

/** The most attempts SIMULATE_THROTTLING or the per-request header can ask to answer with 429. */
export const MAX_SIMULATED_ATTEMPTS = 100;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** Reads and validates the environment; throws ConfigError listing every problem at once. `availableCores` resolves WORKERS=auto. */
export function loadConfig(env: Record<string, string | undefined>, cwd: string, availableCores = 1): Config {
  const problems: string[] = [];
  const str = (name: string) => {
    const v = env[name]?.trim();
    return v === undefined || v === '' ? undefined : v;
  };
  const int = (name: string, def: number, min: number, max: number) => {
    const raw = str(name);
    if (raw === undefined) return def;
    if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
      problems.push(`${name} must be a whole number from ${min} to ${max} (got '${raw}')`);
      return def;
    }
    return Number(raw);
  };
  const bool = (name: string, def: boolean) => {
    const raw = str(name)?.toLowerCase();
    if (raw === undefined) return def;
    if (['1', 'true', 'yes', 'on'].includes(raw)) return true;
    if (['0', 'false', 'no', 'off'].includes(raw)) return false;
    problems.push(`${name} must be true or false (got '${raw}')`);
    return def;
  };

  const port = int('PORT', 8443, 0, 65535);
  const host = str('HOST') ?? '127.0.0.1';
  const dataDir = path.resolve(cwd, str('DATA_DIR') ?? './data');

  let publicUrl = str('PUBLIC_URL');
  if (publicUrl !== undefined) {
    try {
      const u = new URL(publicUrl);
      if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new Error('scheme');
      if (u.pathname !== '/' || u.search || u.hash) problems.push(`PUBLIC_URL must be an origin without a path (got '${publicUrl}')`);
      publicUrl = u.origin;
    } catch {
      problems.push(`PUBLIC_URL must be an absolute http(s) URL such as https://meetings.example.com (got '${publicUrl}')`);
    }
  }

  const tlsSetting = (str('TLS') ?? 'on').toLowerCase();
  const certFile = str('TLS_CERT_FILE');
  const keyFile = str('TLS_KEY_FILE');
  let tls: Config['tls'] = { mode: 'auto' };
  if (!['on', 'off'].includes(tlsSetting)) problems.push(`TLS must be on or off (got '${tlsSetting}')`);
  if (tlsSetting === 'off') {
    tls = { mode: 'off' };
    if (certFile || keyFile) problems.push('TLS_CERT_FILE and TLS_KEY_FILE cannot be used with TLS=off');
  } else if (certFile || keyFile) {
    if (!certFile || !keyFile) problems.push('TLS_CERT_FILE and TLS_KEY_FILE must be given together');
    else tls = { mode: 'files', certFile: path.resolve(cwd, certFile), keyFile: path.resolve(cwd, keyFile) };
  }

  const databaseUrl = str('DATABASE_URL');
  if (databaseUrl !== undefined && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    problems.push('DATABASE_URL must start with postgres:// or postgresql:// (leave it unset for the embedded SQLite store)');
  }

  let workers = 1;
  const workersRaw = str('WORKERS');
  if (workersRaw === 'auto') workers = Math.max(1, availableCores);
  else workers = int('WORKERS', 1, 1, 256);

  const logLevel = (str('LOG_LEVEL') ?? 'info') as Config['logLevel'];
  if (!LOG_LEVELS.includes(logLevel)) problems.push(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')} (got '${logLevel}')`);

  // Issue #14: LINK_STYLE=teams gives meetings Teams' own link hosts, for apps that check links with a pattern.
  const linkStyle = (str('LINK_STYLE') ?? 'service').toLowerCase() as Config['linkStyle'];
  if (!['service', 'teams'].includes(linkStyle)) problems.push(`LINK_STYLE must be service or teams (got '${linkStyle}')`);

  // Throttling (src/http/throttling.ts). Rates are requests per second; each bucket holds 10 seconds' worth.
  const throttleSetting = (str('THROTTLE') ?? 'off').toLowerCase();
  if (!['on', 'off'].includes(throttleSetting)) problems.push(`THROTTLE must be on or off (got '${throttleSetting}')`);
  const throttleEnabled = throttleSetting === 'on';
  const rate = (name: string, def: number) => {
    const raw = str(name);
    if (raw === undefined) return def;
    const n = Number(raw);
    if (!/^\d+(\.\d{1,3})?$/.test(raw) || (n !== 0 && n < 0.1) || n > 10_000_000) {
      problems.push(`${name} must be requests per second from 0.1 to 10000000, or 0 for no limit (got '${raw}')`);
      return def;
    }
    return n;
  };
  for (const name of ['THROTTLE_APP_RPS', 'THROTTLE_TENANT_RPS', 'MEETING_QUOTA_PER_USER_MONTH']) {
    if (!throttleEnabled && str(name) !== undefined)
      problems.push(`${name} only applies with THROTTLE=on (THROTTLE is ${throttleSetting})`);
  }
  const simulateGiven = str('SIMULATE_THROTTLING') ?? 'header';
  const simulateRaw = simulateGiven.toLowerCase();
  let simulate: ThrottlingConfig['simulate'] = { mode: 'header' };
  if (simulateRaw === 'off') simulate = { mode: 'off' };
  else if (/^\d+$/.test(simulateRaw) && Number(simulateRaw) >= 1 && Number(simulateRaw) <= MAX_SIMULATED_ATTEMPTS) {
    simulate = { mode: 'attempts', attempts: Number(simulateRaw) };
  } else if (/^\d+(\.\d+)?%$/.test(simulateRaw) && Number(simulateRaw.slice(0, -1)) > 0 && Number(simulateRaw.slice(0, -1)) <= 100) {
    simulate = { mode: 'share', share: Number(simulateRaw.slice(0, -1)) / 100 };
  } else if (simulateRaw !== 'header') {
    problems.push(
      `SIMULATE_THROTTLING must be off, header, a number of attempts from 1 to ${MAX_SIMULATED_ATTEMPTS} ` +
        `(2: the first 2 attempts of every Graph request get 429) or a percentage such as 10% (got '${simulateGiven}')`,
    );
  }
  const quota = () => {
    const raw = str('MEETING_QUOTA_PER_USER_MONTH');
    if (raw === undefined) return 2000;
    if (!/^\d{1,9}$/.test(raw)) {
      problems.push(
        `MEETING_QUOTA_PER_USER_MONTH must be a whole number of meetings per organizer per month, or 0 for no quota (got '${raw}')`,
      );
      return 2000;
    }
    return Number(raw);
  };
  const throttling: ThrottlingConfig = {
    enabled: throttleEnabled,
    appRps: rate('THROTTLE_APP_RPS', 13_000),
    tenantRps: rate('THROTTLE_TENANT_RPS', 0),
    meetingQuotaPerUserMonth: quota(),
    simulate,
  };

  const adminKey = str('ADMIN_KEY');
  if (adminKey !== undefined && adminKey.length < MIN_ADMIN_KEY_LENGTH) {
    problems.push(
      `ADMIN_KEY must be at least ${MIN_ADMIN_KEY_LENGTH} characters (got ${adminKey.length}); leave it unset to have one generated`,
    );
  }
  const seedFileRaw = str('SEED_FILE');
  const clockRaw = str('CLOCK');
  let clockStart: number | undefined;
  if (clockRaw !== undefined) {
    // An ISO 8601 date-time with a zone (Z or ±hh:mm), so that the start does not depend on the machine's time zone.
    const ms = Date.parse(clockRaw);
    if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/i.test(clockRaw) || Number.isNaN(ms)) {
      problems.push(`CLOCK must be an ISO 8601 date-time with a zone, such as 2030-01-01T09:00:00Z (got '${clockRaw}')`);
    } else clockStart = ms;
  }
  const clockFrozen = bool('CLOCK_FROZEN', false);
  if (clockFrozen && clockStart === undefined) problems.push('CLOCK_FROZEN needs CLOCK (the date-time the clock stands at)');
  const idSeedRaw = str('ID_SEED');
  let idSeed: number | undefined;
  if (idSeedRaw !== undefined) {
    if (!/^\d{1,10}$/.test(idSeedRaw) || Number(idSeedRaw) > 4_294_967_295) {
      problems.push(`ID_SEED must be a whole number from 0 to 4294967295 (got '${idSeedRaw}')`);
    } else idSeed = Number(idSeedRaw);
  }
  const logFormatRaw = str('LOG_FORMAT')?.toLowerCase();
  if (logFormatRaw !== undefined && logFormatRaw !== 'pretty' && logFormatRaw !== 'json') {
    problems.push(`LOG_FORMAT must be pretty or json (got '${logFormatRaw}')`);
  }
  // Impersonation (src/http/host-names.ts, src/http/impersonation-proxy.ts). A certificate for
  // graph.microsoft.com that a client trusts is a key to that client's Microsoft traffic: off by default,
  // and only on loopback unless the operator explicitly says the network is a private test network.
  const impersonateSetting = (str('IMPERSONATE') ?? 'off').toLowerCase();
  if (!['on', 'off'].includes(impersonateSetting)) problems.push(`IMPERSONATE must be on or off (got '${impersonateSetting}')`);
  const impersonate = impersonateSetting === 'on';
  const privateNetwork = bool('IMPERSONATE_PRIVATE_NETWORK', false);
  let proxyPort: number | undefined;
  if (str('PROXY_PORT') !== undefined) {
    proxyPort = int('PROXY_PORT', 0, 0, 65535);
    if (!impersonate) problems.push('PROXY_PORT only applies with IMPERSONATE=on (the proxy tunnels only to the impersonated hosts)');
    else if (proxyPort === port && port !== 0) problems.push(`PROXY_PORT must differ from PORT (both are ${port})`);
  }
  if (!impersonate && str('IMPERSONATE_PRIVATE_NETWORK') !== undefined)
    problems.push('IMPERSONATE_PRIVATE_NETWORK only applies with IMPERSONATE=on');
  if (impersonate) {
    if (tls.mode === 'off') problems.push('IMPERSONATE=on needs TLS=on: clients reach graph.microsoft.com only over HTTPS');
    if (!isLoopbackHost(host) && !privateNetwork) {
      problems.push(
        `IMPERSONATE=on refuses to listen on HOST=${host}: bind to loopback (127.0.0.1, ::1, localhost), or, only on a ` +
          'private test network where no real user or data can be reached, set IMPERSONATE_PRIVATE_NETWORK=true',
      );
    }
  }

  // Change notifications (issue #18): by default only receivers on this machine can be reached, so that a
  // subscription cannot make the service request arbitrary hosts (server-side request forgery).
  const notificationHosts = (str('NOTIFICATION_HOSTS') ?? 'localhost,127.0.0.1,::1')
    .split(',')
    .map((h) =>
      h
        .trim()
        .toLowerCase()
        .replace(/^\[|\]$/g, ''),
    )
    .filter((h) => h !== '');
  for (const h of notificationHosts) {
    if (h !== '*' && !/^(\*\.)?[a-z0-9.:-]+$/.test(h))
      problems.push(`NOTIFICATION_HOSTS must list host names or IP addresses separated by commas (got '${h}')`);
  }
  const notificationCaFiles = (str('NOTIFICATION_CA_FILES') ?? '')
    .split(',')
    .map((f) => f.trim())
    .filter((f) => f !== '')
    .map((f) => path.resolve(cwd, f));

  const config: Config = {
    port,
    host,
    dataDir,
    publicUrl,
    tls,
    databaseUrl,
    seedDemoDirectory: bool('SEED_DEMO_DIRECTORY', true),
    tokenLifetimeSeconds: int('TOKEN_LIFETIME_SECONDS', 3599, 60, 86400),
    bodyLimitBytes: int('BODY_LIMIT_BYTES', 1_048_576, 1024, 104_857_600),
    logLevel,
    workers,
    headersTimeoutMs: int('HEADERS_TIMEOUT_MS', 10_000, 100, 600_000),
    maxConnections: int('MAX_CONNECTIONS', 10_000, 1, 1_000_000),
    cacheBudgetBytes: int('CACHE_BUDGET_BYTES', DEFAULT_CACHE_BUDGET_BYTES, 0, 16 * 1024 ** 3),
    recordingUploadLimitBytes: int('RECORDING_UPLOAD_LIMIT_BYTES', 1024 ** 3, 1024, 64 * 1024 ** 3),
    throttling,
    adminKey,
    seedFile: seedFileRaw === undefined ? undefined : path.resolve(cwd, seedFileRaw),
    clockStart,
    clockFrozen,
    idSeed,
    logFormat: logFormatRaw === 'pretty' || logFormatRaw === 'json' ? logFormatRaw : undefined,
    linkStyle,
    impersonation: { enabled: impersonate, proxyPort: impersonate ? proxyPort : undefined, privateNetwork },
    notifications: { hosts: notificationHosts, caFiles: notificationCaFiles },
  };
  if (problems.length) throw new ConfigError(problems);
  return Object.freeze(config);
}

/** Whether HOST binds only the loopback interface (127.0.0.0/8, ::1, localhost). */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

/** The origin clients reach us on when PUBLIC_URL is not set. */
export function defaultPublicUrl(config: Pick<Config, 'host' | 'tls'>, port: number): string {
  const scheme = config.tls.mode === 'off' ? 'http' : 'https';
  let host = config.host;
  if (host === '0.0.0.0' || host === '::' || host === '') host = '127.0.0.1';
  if (host.includes(':')) host = `[${host}]`;
  return `${scheme}://${host}:${port}`;
}
