import assert from 'node:assert/strict';
import { test } from 'node:test';
import { STORES } from '../helpers/stores.js';
import { formatReport, fuzz } from './run-fuzz.js';

/**
 * The fixed-seed slice of the bad-input fuzz suite (the long run is scripts/fuzz.ts): generated create,
 * createOrGet, PATCH, $filter, by-id and token requests must never get a 5xx, every error must be in
 * Graph's envelope (Entra's shape on the token endpoint), and the reference meetings must not change.
 * A failure prints fast-check's shrunk counterexample and the seed/path to replay it.
 */
const RUNS = 1500;
const SEED = 42;

for (const kind of STORES) {
  test(
    `${kind}: ${RUNS} generated bad requests (seed ${SEED}): no 5xx, errors in their envelope, stored meetings unchanged`,
    { timeout: 300_000 },
    async () => {
      const report = await fuzz({ kind, runs: RUNS, seed: SEED });
      assert.equal(report.requests, RUNS, formatReport(report));
      assert.equal(report.fiveXx, 0, formatReport(report));
      assert.equal(report.envelopeViolations, 0, formatReport(report));
      assert.deepEqual(report.violations, [], formatReport(report));
      assert.deepEqual(report.referenceChanges, [], formatReport(report));
    },
  );
}
