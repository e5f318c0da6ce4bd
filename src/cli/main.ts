import { runCli } from './run.js';

/**
 * Process entry of the admin CLI (`graph-meetings …`, `npm run cli -- …`): hands argv, the environment
 * and the output streams to runCli and exits with its code. Everything else lives in run.ts, which
 * never touches `process`, so it can be driven in-process too.
 */
const code = await runCli(process.argv.slice(2), {
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
