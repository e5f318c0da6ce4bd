import path from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ConfigError, loadConfig } from '../config/config.js';
import { GraphError } from '../domain/errors.js';
import { COMMANDS, commandHelp, overview, type Args, type CommandSpec } from './registry.js';

/**
 * The CLI without the process: argv, environment and output streams come in, an exit code goes out.
 * Exit codes: 0 done, 1 the directory refused (GraphError) or something failed, 2 usage or configuration error.
 */

export interface CliIo {
  env: Record<string, string | undefined>;
  cwd: string;
  stdout(text: string): void;
  stderr(text: string): void;
  /** Reads standard input whole (for --password-stdin). */
  readStdin?: () => Promise<string>;
}

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

class UsageError extends Error {
  constructor(
    message: string,
    readonly help: string,
  ) {
    super(message);
  }
}

const HELP_FLAGS = new Set(['--help', '-h']);
const GLOBAL_FLAGS = new Set(['--json', ...HELP_FLAGS]);

/** Leading words name the command; global flags may come before them (`--json tenant list`). */
function splitCommand(argv: string[]): { words: string[]; rest: string[] } {
  const words: string[] = [];
  const globals: string[] = [];
  let i = 0;
  for (; i < argv.length; i++) {
    const arg = argv[i]!;
    if (GLOBAL_FLAGS.has(arg)) globals.push(arg);
    else if (arg.startsWith('-')) break;
    else words.push(arg);
  }
  return { words, rest: [...globals, ...argv.slice(i)] };
}

const isPrefixOf = (prefix: string[], words: string[]) => prefix.length <= words.length && prefix.every((w, i) => words[i] === w);

/** The command whose words begin `words` (the longest, so extra words become unexpected arguments). */
function findCommand(words: string[]): CommandSpec | undefined {
  return COMMANDS.filter((c) => isPrefixOf(c.words, words)).sort((a, b) => b.words.length - a.words.length)[0];
}

const isGroup = (words: string[]) => words.length > 0 && COMMANDS.some((c) => c.words.length > words.length && isPrefixOf(words, c.words));

function parseOptions(spec: CommandSpec, args: string[]): { args: Args; json: boolean; help: boolean } {
  const options: NonNullable<ParseArgsConfig['options']> = { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } };
  for (const o of spec.options) options[o.name] = { type: o.type };
  let values: Record<string, string | boolean | undefined>;
  try {
    // No option is declared `multiple`, so no value is an array.
    values = parseArgs({ args, options, strict: true, allowPositionals: false }).values as Record<string, string | boolean | undefined>;
  } catch (err) {
    // parseArgs' own messages name the option; its advice about '--' and positionals does not apply here.
    const message = err instanceof Error ? err.message.replace(/\. To specify a positional argument.*$/s, '.') : String(err);
    throw new UsageError(message, commandHelp(spec));
  }
  const help = values.help === true;
  const json = values.json === true;
  if (help) return { args: accessors(values), json, help };

  const usage = (message: string) => new UsageError(message, commandHelp(spec));
  for (const o of spec.options) {
    const grouped = (spec.exactlyOne ?? []).some((g) => g.includes(o.name));
    if (o.required && !grouped && values[o.name] === undefined) throw usage(`missing required option --${o.name}`);
    if (o.list && values[o.name] !== undefined && splitList(values[o.name] as string).length === 0) {
      throw usage(`--${o.name} needs at least one value (comma-separated)`);
    }
  }
  for (const group of spec.exactlyOne ?? []) {
    const given = group.filter((n) => values[n] !== undefined && values[n] !== false);
    const names = group.map((n) => `--${n}`).join(' or ');
    if (given.length === 0) throw usage(`give one of ${names}`);
    if (given.length > 1) throw usage(`${names}: give only one`);
  }
  return { args: accessors(values), json, help };
}

const splitList = (raw: string) =>
  raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

function accessors(values: Record<string, string | boolean | undefined>): Args {
  const str = (name: string) => (typeof values[name] === 'string' ? (values[name] as string) : undefined);
  return {
    get: (name) => {
      const v = str(name);
      // Reaching this is a bug in a command spec (an option read as required but not declared so).
      if (v === undefined) throw new Error(`option --${name} was not checked as required`);
      return v;
    },
    opt: str,
    flag: (name) => values[name] === true,
    list: (name) => {
      const v = str(name);
      return v === undefined ? undefined : splitList(v);
    },
  };
}

/** Runs one CLI invocation; every expected failure becomes an exit code and a message on stderr. */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const { words, rest } = splitCommand(argv);
  const wantsHelp = rest.some((a) => HELP_FLAGS.has(a));
  const usageError = (message: string, help: string) => {
    io.stderr(`error: ${message}\n\n${help}\n`);
    return EXIT_USAGE;
  };

  // `help`, `help app`, `help app add`
  if (words[0] === 'help') {
    const target = words.slice(1);
    const spec = COMMANDS.find((c) => c.words.join(' ') === target.join(' '));
    if (spec) io.stdout(`${commandHelp(spec)}\n`);
    else if (target.length === 0 || isGroup(target)) io.stdout(`${overview(target)}\n`);
    else return usageError(`unknown command '${target.join(' ')}'`, overview());
    return EXIT_OK;
  }

  const spec = findCommand(words);
  if (!spec) {
    if (wantsHelp && (words.length === 0 || isGroup(words))) {
      io.stdout(`${overview(words)}\n`);
      return EXIT_OK;
    }
    if (words.length === 0) return usageError('no command given', overview());
    if (isGroup(words)) return usageError(`'${words.join(' ')}' needs a subcommand`, overview(words));
    return usageError(`unknown command '${words.join(' ')}'`, overview());
  }

  let parsed: ReturnType<typeof parseOptions>;
  try {
    parsed = parseOptions(spec, [...words.slice(spec.words.length), ...rest]);
  } catch (err) {
    if (err instanceof UsageError) return usageError(err.message, err.help);
    throw err;
  }
  if (parsed.help) {
    io.stdout(`${commandHelp(spec)}\n`);
    return EXIT_OK;
  }

  let config;
  try {
    config = loadConfig(io.env, io.cwd);
  } catch (err) {
    if (err instanceof ConfigError) {
      io.stderr(`${err.message}\n`);
      return EXIT_USAGE;
    }
    throw err;
  }

  // Notes wait until the result is printed, so they read as a footnote to it.
  const notes: string[] = [];
  const flushNotes = () => notes.forEach((n) => io.stderr(`note: ${n}\n`));
  try {
    // Loaded here, not at the top: --help and usage errors need neither the drivers nor the directory.
    const { migrateToLatest, openStore } = await import('../storage/database.js');
    // The same store and migrations as the server, so the CLI and a running server agree.
    const store = openStore({ databaseUrl: config.databaseUrl, sqliteFile: path.join(config.dataDir, 'graph-meetings.sqlite') });
    let result: unknown;
    try {
      if (spec.bootstrap !== false) {
        // The CLI never seeds the demo directory (issue #11 item 5): `tenant add` on a fresh DATA_DIR must not
        // also create Contoso and Fabrikam with their published secrets. Only the server seeds, when asked to.
        await migrateToLatest(store.db);
      }
      result = await spec.run({ db: store.db, config, out: { note: (n) => notes.push(n) }, readStdin: io.readStdin }, parsed.args);
    } finally {
      await store.close();
    }
    io.stdout(parsed.json ? `${JSON.stringify(result, null, 2)}\n` : `${spec.render(result)}\n`);
    flushNotes();
    return EXIT_OK;
  } catch (err) {
    flushNotes();
    if (err instanceof GraphError) {
      io.stderr(`error: ${err.message}\n`);
      return EXIT_FAILED;
    }
    // Not an expected refusal: keep the stack, it is what a bug report needs.
    io.stderr(`error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    return EXIT_FAILED;
  }
}
