import path from 'node:path';

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
}

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
  };
  if (problems.length) throw new ConfigError(problems);
  return Object.freeze(config);
}

/** The origin clients reach us on when PUBLIC_URL is not set. */
export function defaultPublicUrl(config: Pick<Config, 'host' | 'tls'>, port: number): string {
  const scheme = config.tls.mode === 'off' ? 'http' : 'https';
  let host = config.host;
  if (host === '0.0.0.0' || host === '::' || host === '') host = '127.0.0.1';
  if (host.includes(':')) host = `[${host}]`;
  return `${scheme}://${host}:${port}`;
}
