import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, test } from 'node:test';
import { lazySchemaCompilers } from '../../src/http/lazy-schema-compilers.js';
import { GraphMeetingsServer } from '../../src/programmatic.js';

/**
 * Start time (issue #15, README "Start time"): route schemas compile on first use, and the modules only some
 * paths need are not loaded by a start that does not take those paths.
 */
describe('lazy start', () => {
  const { buildValidator, buildSerializer } = lazySchemaCompilers().compilersFactory!;
  const route = { method: 'POST', url: '/x' };

  test('a validator compiles on its first call and reports Ajv errors as Fastify expects', () => {
    const compile = buildValidator!({}, { customOptions: {} } as never) as (r: object) => ((d: unknown) => boolean) & { errors?: unknown };
    // An invalid schema is not compiled until a request needs it.
    const broken = compile({ ...route, httpPart: 'body', schema: { type: 'no-such-type' } });
    assert.throws(() => broken({}));
    const validate = compile({
      ...route,
      httpPart: 'body',
      schema: { type: 'object', required: ['subject'], properties: { subject: { type: 'string' } } },
    });
    assert.equal(validate({}), false);
    assert.match(JSON.stringify(validate.errors), /required/);
    assert.equal(validate({ subject: 'a' }), true);
    assert.equal(validate.errors, null);
  });

  test('a serializer compiles on its first call and serializes as fast-json-stringify does', () => {
    const compile = buildSerializer!({}, {}) as (r: object) => (d: unknown) => string;
    const broken = compile({ ...route, httpStatus: '200', schema: { type: 'no-such-type' } });
    assert.throws(() => broken({}));
    const serialize = compile({ ...route, httpStatus: '200', schema: { type: 'object', properties: { subject: { type: 'string' } } } });
    assert.equal(serialize({ subject: 'a', other: 1 }), '{"subject":"a"}');
  });

  test('a start on SQLite with its certificates in place loads neither pg, nor pino-pretty, nor Ajv, nor node-forge beyond ASN.1', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'gm-lazy-start-'));
    try {
      // The first start writes the data directory and its certificates (here); the start measured is the next one.
      await (await GraphMeetingsServer.create({ dataDir })).stop();
      // A child process: this test runner's own helpers load pg.
      const code = `
        import { createRequire } from 'node:module';
        import { GraphMeetingsServer } from './src/programmatic.ts';
        const dataDir = ${JSON.stringify(dataDir)};
        const gm = await GraphMeetingsServer.create({ dataDir, logFormat: 'json' });
        const res = await gm.app.inject({ method: 'GET', url: '/_emulator/health' });
        await gm.stop();
        const loaded = Object.keys(createRequire(import.meta.url).cache);
        console.log(JSON.stringify({ status: res.statusCode, loaded }));`;
      const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
        encoding: 'utf8',
        timeout: 120_000,
      });
      const { status, loaded } = JSON.parse(stdout.trim().split('\n').at(-1)!) as { status: number; loaded: string[] };
      assert.equal(status, 200);
      const packages = loaded.map((k) => k.replaceAll('\\', '/'));
      assert.ok(
        packages.some((k) => k.includes('/node_modules/better-sqlite3/')),
        'the check sees CommonJS packages',
      );
      assert.deepEqual(
        packages.filter(
          (k) => /\/node_modules\/(pg|pino-pretty|ajv)\//.test(k) || /\/node_modules\/node-forge\/lib\/(pki|x509|rsa)\.js$/.test(k),
        ),
        [],
      );
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
