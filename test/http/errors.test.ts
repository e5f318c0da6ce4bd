import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { GraphError } from '../../src/domain/errors.js';
import { isTransientStoreError, toGraphError } from '../../src/http/errors.js';

describe('mapping failures onto the error catalog', () => {
  test('passing database conditions become 503 with Retry-After, which the Graph SDKs retry', () => {
    for (const code of ['SQLITE_BUSY', 'SQLITE_BUSY_SNAPSHOT', 'SQLITE_LOCKED', '08006', '08001', '53300', '57P01', 'ECONNREFUSED']) {
      assert.equal(isTransientStoreError({ code }), true, code);
      const e = toGraphError(Object.assign(new Error('x'), { code }));
      assert.equal(e.status, 503, code);
      assert.equal(e.code, 'ServiceUnavailable');
      assert.equal(e.headers['retry-after'], '1');
    }
  });

  test('everything else unknown is a 500 that exposes nothing', () => {
    for (const code of ['23505', 'SQLITE_CONSTRAINT_UNIQUE', 'ERR_SOMETHING', undefined]) {
      assert.equal(isTransientStoreError({ code }), false);
      const e = toGraphError(Object.assign(new Error('secret internals'), { code }));
      assert.equal(e.status, 500);
      assert.equal(e.message, 'Internal Server Error');
      assert.equal(e.expose, false);
    }
  });

  test('catalog errors pass through unchanged', () => {
    const err = new GraphError(404, 'NotFound', 'gone');
    assert.equal(toGraphError(err), err);
  });
});
