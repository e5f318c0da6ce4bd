import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { SUPPORTED_LANGUAGES } from '../../src/domain/meetings/join-information.js';
import { cacheBudget } from '../../src/util/memory-budget.js';
import { STORES } from '../helpers/stores.js';
import { largeMeeting } from '../helpers/large-meeting.js';
import { graph, startTestApp, type TestApp } from '../helpers/test-app.js';

// 64 MiB: a 1.6 MB body (800 K characters) is under the per-entry share, so bodies are cached and evicted.
const BUDGET = 64 * 1024 * 1024;

for (const kind of STORES) {
  describe(`${kind}: every cache together stays within CACHE_BUDGET_BYTES (issue #11 item 1)`, () => {
    let t: TestApp;
    let alice: string;
    before(async () => {
      t = await startTestApp(kind, { env: { CACHE_BUDGET_BYTES: String(BUDGET) } });
      alice = await t.userToken();
    });
    after(() => t.close());

    test('large meetings read under every language × Prefer × version, by GET and HEAD, never pass the budget', async () => {
      assert.equal(cacheBudget.limit, BUDGET);
      cacheBudget.resetPeak();
      const ids: string[] = [];
      for (let n = 0; n < 6; n++) {
        const res = await graph(t, 'POST', '/v1.0/me/onlineMeetings', alice, largeMeeting(n));
        assert.equal(res.statusCode, 201, res.body);
        assert.ok(res.body.length > 700_000, `meeting ${n} is ${res.body.length} bytes`);
        ids.push(res.json().id);
      }
      let reads = 0;
      for (const id of ids) {
        for (const version of ['v1.0', 'beta']) {
          for (const language of SUPPORTED_LANGUAGES) {
            for (const prefer of [undefined, 'include-unknown-enum-members']) {
              for (const method of ['GET', 'HEAD'] as const) {
                const headers: Record<string, string> = { 'accept-language': language };
                if (prefer) headers.prefer = prefer;
                const res = await graph(t, method, `/${version}/me/onlineMeetings/${id}`, alice, undefined, headers);
                assert.equal(res.statusCode, 200);
                reads++;
                assert.ok(cacheBudget.used <= BUDGET, `after ${reads} reads the caches hold ${cacheBudget.used} bytes`);
              }
            }
          }
        }
      }
      assert.ok(cacheBudget.peak <= BUDGET, `peak ${cacheBudget.peak} > budget ${BUDGET}`);
    });

    test('ordinary meetings are still cached, and the budget is shared: a full cache gives way to another', async () => {
      const res = await graph(t, 'POST', '/v1.0/me/onlineMeetings', alice, { subject: 'small' });
      const id = res.json().id;
      const before = cacheBudget.used;
      await graph(t, 'GET', `/v1.0/me/onlineMeetings/${id}`, alice);
      assert.ok(cacheBudget.used > 0 && cacheBudget.used <= BUDGET);
      assert.ok(cacheBudget.used !== before || before >= BUDGET - 64 * 1024, 'a small body is cached');
    });
  });
}
