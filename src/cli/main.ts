import { runCli } from './run.js';
import { START_HELP, startEnvironment } from './start.js';

/**
 * Process entry of the package's binary (`graph-meetings …`, `npm run cli -- …`). `start` runs the
 * server (src/server.ts) with the flags applied to the environment; every other command is the admin CLI,
 * handed argv, the environment and the output streams through runCli, which never touches `process`.
 */
const argv = process.argv.slice(2);
if (argv[0] === 'start') {
  const parsed = startEnvironment(argv.slice(1));
  if ('error' in parsed) {
    process.stderr.write(parsed.error);
    process.exitCode = 2;
  } else if (parsed.help) {
    process.stdout.write(START_HELP);
  } else {
    Object.assign(process.env, parsed.env);
    await import('../server.js');
  }
} else {
  const code = await runCli(argv, {
    env: process.env,
    cwd: process.cwd(),
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    readStdin: async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks).toString('utf8');
    },
  });
  // exitCode rather than exit(): let stdout drain when it is a pipe (TOKEN=$(…)).
  process.exitCode = code;
}
