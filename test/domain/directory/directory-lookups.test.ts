import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DEMO, seedDemoDirectory } from '../../../src/domain/directory/demo-directory.js';
import { DirectoryLookups } from '../../../src/domain/directory/directory-lookups.js';
import { migrateToLatest } from '../../../src/storage/database.js';
import { freshStore, STORES, type TestStore } from '../../helpers/stores.js';

for (const kind of STORES) {
  describe(`${kind}: cached directory reads`, () => {
    let t: TestStore;
    let dir: string;
    before(async () => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gm-lookups-'));
      t = await freshStore(kind, dir);
      await migrateToLatest(t.store.db);
      await seedDemoDirectory(t.store.db);
    });
    after(async () => {
      await t.cleanup();
      fs.rmSync(dir, { recursive: true, force: true });
    });

    test('a change made elsewhere shows once the entry expires, or at once after clear()', async () => {
      let now = 0;
      const lookups = new DirectoryLookups(t.store.db, 1000, () => now);
      const C = DEMO.contoso;
      assert.equal(await lookups.accessPolicyAllows(C.tenantId, C.alice.id, C.scheduler.clientId), true);
      await t.store.db.deleteFrom('access_policy_assignments').where('user_id', '=', C.alice.id).execute();
      now = 999;
      assert.equal(await lookups.accessPolicyAllows(C.tenantId, C.alice.id, C.scheduler.clientId), true, 'still cached');
      now = 1000;
      assert.equal(await lookups.accessPolicyAllows(C.tenantId, C.alice.id, C.scheduler.clientId), false, 'expired: read again');
      assert.ok(await lookups.userInTenant(C.tenantId, C.carol.upn));
      await t.store.db.deleteFrom('users').where('id', '=', C.carol.id).execute();
      lookups.clear();
      assert.equal(await lookups.userInTenant(C.tenantId, C.carol.upn), undefined);
    });

    test('concurrent reads of one key share one query', async () => {
      const lookups = new DirectoryLookups(t.store.db);
      const [a, b] = [lookups.tenant(DEMO.contoso.domain), lookups.tenant(DEMO.contoso.domain)];
      assert.equal(a, b);
      assert.equal((await a)?.id, DEMO.contoso.tenantId);
    });
  });
}
