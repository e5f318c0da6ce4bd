import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, test } from 'node:test';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config/config.js';
import { STORES, freshStore } from '../helpers/stores.js';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** A server with seeding off on a database that still holds the demo's published credentials says so (issue #11 item 5). */
for (const kind of STORES) {
  describe(`${kind}: SEED_DEMO_DIRECTORY=false on a database holding the demo directory`, () => {
    test('warns loudly at every start, and not once the credentials are gone', async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'graph-meetings-demo-warn-'));
      const ts = await freshStore(kind, dir);
      try {
        const start = async (env: Record<string, string>) => {
          const lines: string[] = [];
          const logStream = new Writable({
            write(chunk, _enc, done) {
              lines.push(String(chunk));
              done();
            },
          });
          const config = loadConfig({ PORT: '0', DATA_DIR: dir, TLS: 'off', LOG_LEVEL: 'warn', ...env }, process.cwd());
          const app = await buildApp(config, { store: ts.store, logStream });
          await app.ready();
          await app.close();
          return lines.join('');
        };
        await start({}); // seeds
        for (let i = 0; i < 2; i++) {
          const log = await start({ SEED_DEMO_DIRECTORY: 'false' });
          assert.match(log, /SEED_DEMO_DIRECTORY is false, but this database still accepts the demo directory's PUBLISHED credentials/);
          assert.match(log, /alice@contoso\.test/);
          assert.match(log, /30a2fcea-f295-468c-abe2-b48159ee8486/);
        }
        await ts.store.db.deleteFrom('application_secrets').execute();
        await ts.store.db.updateTable('users').set({ password_hash: 'scrypt$x' }).execute();
        assert.doesNotMatch(await start({ SEED_DEMO_DIRECTORY: 'false' }), /PUBLISHED credentials/);
      } finally {
        await ts.cleanup();
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  });
}
