import { parseArgs } from 'node:util';

/**
 * `graph-meetings start [flags]`: the server, configured as `npm start` is (environment variables), with
 * flags for the settings one changes most from a command line. A flag wins over its variable.
 */
const FLAGS: Record<string, { env: string; type: 'string' | 'boolean'; help: string }> = {
  port: { env: 'PORT', type: 'string', help: 'TCP port; 0 picks a free one (the ready line says which)' },
  host: { env: 'HOST', type: 'string', help: 'interface to bind (127.0.0.1)' },
  'data-dir': { env: 'DATA_DIR', type: 'string', help: 'database, local CA and admin key (./data)' },
  'database-url': { env: 'DATABASE_URL', type: 'string', help: 'postgres://… instead of the embedded SQLite' },
  'public-url': { env: 'PUBLIC_URL', type: 'string', help: 'origin clients reach the service on' },
  'seed-file': { env: 'SEED_FILE', type: 'string', help: 'JSON fixture loaded into an empty database' },
  'no-demo': { env: 'SEED_DEMO_DIRECTORY', type: 'boolean', help: 'do not seed the demo directory' },
  'log-level': { env: 'LOG_LEVEL', type: 'string', help: 'fatal, error, warn, info, debug, trace or silent' },
  'log-format': { env: 'LOG_FORMAT', type: 'string', help: 'pretty or json' },
  clock: { env: 'CLOCK', type: 'string', help: 'start the clock at this ISO date-time' },
  'id-seed': { env: 'ID_SEED', type: 'string', help: 'reproducible ids, numbers and passcodes' },
  workers: { env: 'WORKERS', type: 'string', help: 'processes serving requests (a number or auto)' },
};

export const START_HELP = `Usage: graph-meetings start [flags]

Starts the service (the same as npm start). Every setting is an environment variable (README "Configuration");
these flags set the most used ones:
${Object.entries(FLAGS)
  .map(([name, f]) => `  --${(name + (f.type === 'string' ? ' <value>' : '')).padEnd(24)} ${f.env}: ${f.help}`)
  .join('\n')}

Once it answers, one JSON line on stdout gives the origin, the CA file and the admin key file:
  {"graphMeetings":"ready","url":"https://127.0.0.1:8443","caFile":"…/tls/ca.pem","adminKeyFile":"…/admin-key"}
`;

/** The environment the flags ask for, or a usage error. Pure: main.ts applies it to the process. */
export function startEnvironment(argv: string[]): { env: Record<string, string>; help: boolean } | { error: string } {
  try {
    const { values } = parseArgs({
      args: argv,
      options: {
        help: { type: 'boolean', short: 'h' },
        ...Object.fromEntries(Object.entries(FLAGS).map(([name, f]) => [name, { type: f.type }])),
      },
      strict: true,
      allowPositionals: false,
    });
    const env: Record<string, string> = {};
    for (const [name, f] of Object.entries(FLAGS)) {
      const v = (values as Record<string, string | boolean | undefined>)[name];
      if (v === undefined) continue;
      env[f.env] = f.type === 'boolean' ? (name === 'no-demo' ? 'false' : 'true') : String(v);
    }
    return { env, help: values.help === true };
  } catch (err) {
    return { error: `${(err as Error).message}\n\n${START_HELP}` };
  }
}
