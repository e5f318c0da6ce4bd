import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cloneData } from '../../src/util/clone.js';

test('cloneData copies JSON-shaped data deeply, as structuredClone does for it', () => {
  const original = { a: 1, b: 'x', c: null, d: undefined, e: [1, { f: [true, false] }], g: { h: { i: 'deep' } } };
  const copy = cloneData(original);
  assert.deepStrictEqual(copy, structuredClone(original));
  assert.ok('d' in copy, 'an undefined property is kept');
  copy.e.push(2);
  (copy.e[1] as { f: boolean[] }).f[0] = false;
  copy.g.h.i = 'changed';
  assert.deepStrictEqual(original, { a: 1, b: 'x', c: null, d: undefined, e: [1, { f: [true, false] }], g: { h: { i: 'deep' } } });
  assert.equal(cloneData('s'), 's');
  assert.equal(cloneData(null), null);
});
