import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { LruCache } from '../../src/util/lru-cache.js';
import { MemoryBudget } from '../../src/util/memory-budget.js';

describe('MemoryBudget: one byte budget for several caches (issue #11 item 1)', () => {
  test('caches sharing a budget never hold more bytes than it together; the largest gives way', () => {
    const budget = new MemoryBudget(32_000);
    const a = new LruCache<string, string>(1000, Infinity, Date.now, { budget });
    const b = new LruCache<string, string>(1000, Infinity, Date.now, { budget });
    for (let i = 0; i < 200; i++) {
      a.set(`a${i}`, 'x'.repeat(400));
      b.set(`b${i}`, 'y'.repeat(300));
      assert.ok(budget.used <= budget.limit, `${budget.used}`);
      assert.equal(budget.used, a.bytes + b.bytes);
    }
    assert.ok(a.size > 0 && b.size > 0);
    assert.ok(budget.peak <= budget.limit);
  });

  test('an entry above a fraction of the budget is not cached at all', () => {
    const budget = new MemoryBudget(32_000);
    const c = new LruCache<string, string>(10, Infinity, Date.now, { budget });
    c.set('small', 'x');
    c.set('big', 'x'.repeat(budget.maxEntryBytes));
    assert.equal(c.get('big'), undefined);
    assert.equal(c.get('small'), 'x');
  });

  test('delete, clear, expiry and replacing a key give their bytes back', () => {
    let now = 0;
    const budget = new MemoryBudget(100_000);
    const c = new LruCache<string, string>(10, 1000, () => now, { budget });
    c.set('a', 'x'.repeat(100));
    c.set('a', 'x'.repeat(200));
    c.set('b', 'x'.repeat(100));
    assert.equal(budget.used, c.bytes);
    c.delete('b');
    assert.equal(budget.used, c.bytes);
    now = 5000;
    assert.equal(c.get('a'), undefined);
    assert.equal(budget.used, 0);
    c.set('c', 'x');
    c.clear();
    assert.equal(budget.used, 0);
  });

  test('lowering the limit evicts down to it at once', () => {
    const budget = new MemoryBudget(100_000);
    const c = new LruCache<number, string>(1000, Infinity, Date.now, { budget });
    for (let i = 0; i < 100; i++) c.set(i, 'x'.repeat(400));
    budget.configure(10_000);
    assert.ok(budget.used <= 10_000);
    assert.equal(budget.used, c.bytes);
  });
});
