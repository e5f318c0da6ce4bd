// The long bad-input fuzz run (test/fuzz): node --import tsx scripts/fuzz.ts [--runs 100000] [--seed N] [--store sqlite|postgres]
// PostgreSQL needs TEST_DATABASE_URL (a fresh database is created on it and dropped afterwards).
// Exits 1 when any violation was found or a reference meeting changed.
import { parseArgs } from 'node:util';
import type { StoreKind } from '../src/storage/database.js';
import { formatReport, fuzz, type FuzzReport } from '../test/fuzz/run-fuzz.js';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '100000' },
    seed: { type: 'string' },
    store: { type: 'string', default: 'sqlite' },
    progress: { type: 'string', default: '10000' },
  },
});
const runs = Number(values.runs);
const seed = values.seed !== undefined ? Number(values.seed) : Date.now() % 2 ** 31;
const store = values.store as StoreKind;
if (!Number.isInteger(runs) || runs <= 0 || !Number.isInteger(seed) || (store !== 'sqlite' && store !== 'postgres')) {
  console.error('usage: node --import tsx scripts/fuzz.ts [--runs 100000] [--seed N] [--store sqlite|postgres] [--progress 10000]');
  process.exit(2);
}
if (store === 'postgres' && !process.env.TEST_DATABASE_URL) {
  console.error('--store postgres needs TEST_DATABASE_URL=postgres://user@host:5432/db');
  process.exit(2);
}

console.log(`fuzzing ${store} with ${runs} runs, seed ${seed} (replay with --seed ${seed})`);
const finish = (report: FuzzReport) => {
  console.log(formatReport(report));
  process.exitCode = report.violations.length > 0 || report.referenceChanges.length > 0 ? 1 : 0;
};
await fuzz({
  kind: store,
  runs,
  seed,
  mode: 'collect',
  progressEvery: Number(values.progress),
  onProgress: (r) =>
    console.log(
      `  ${r.requests} requests, ${r.fiveXx} 5xx, ${r.violations.reduce((n, v) => n + v.count, 0)} violations, ${(r.elapsedMs / 1000).toFixed(0)} s`,
    ),
  // Printed before the app closes, so that the figures survive a failing shutdown.
  onReport: finish,
});
