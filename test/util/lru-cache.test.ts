import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { LruCache } from '../../src/util/lru-cache.js';

describe('LruCache', () => {
  test('never holds more than its bound, forgetting the least recently used', () => {
    const c = new LruCache<number, string>(3);
    for (let i = 0; i < 10; i++) c.set(i, `v${i}`);
    assert.equal(c.size, 3);
    assert.deepEqual([c.get(7), c.get(8), c.get(9)], ['v7', 'v8', 'v9']);
    c.get(7); // 7 is now the most recent: adding one more evicts 8
    c.set(10, 'v10');
    assert.equal(c.get(8), undefined);
    assert.equal(c.get(7), 'v7');
  });

  test('an entry read between insertions is never evicted, however many others pass through', () => {
    // Hits refresh an entry only once it has left the newer half (lru-cache.ts); it must still survive.
    for (const capacity of [2, 3, 10, 101]) {
      const c = new LruCache<string, number>(capacity);
      c.set('hot', 0);
      for (let i = 0; i < 5000; i++) {
        c.set(`cold-${i}`, i);
        assert.equal(c.get('hot'), 0, `capacity ${capacity}, after ${i} insertions`);
        assert.ok(c.size <= capacity);
      }
    }
  });

  test('entries expire after their time to live', () => {
    let now = 1000;
    const c = new LruCache<string, number>(10, 500, () => now);
    c.set('a', 1);
    now = 1499;
    assert.equal(c.get('a'), 1);
    now = 1500;
    assert.equal(c.get('a'), undefined);
    assert.equal(c.size, 0);
  });

  test('getOrLoad loads once and caches', async () => {
    const c = new LruCache<string, number>(10);
    let loads = 0;
    const load = async () => ++loads;
    assert.equal(await c.getOrLoad('k', load), 1);
    assert.equal(await c.getOrLoad('k', load), 1);
    assert.equal(loads, 1);
  });
});
