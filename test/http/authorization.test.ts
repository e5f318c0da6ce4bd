import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DirectoryService } from '../../src/domain/directory/directory-service.js';
import { STORES } from '../helpers/stores.js';
import { DEMO, graph, startTestApp, type TestApp } from '../helpers/test-app.js';

const C = DEMO.contoso;

for (const kind of STORES) {
  describe(`${kind}: who may create meetings (fact sheet §3.0, §5)`, () => {
    let t: TestApp;
    let app: string;
    let alice: string;
    before(async () => {
      t = await startTestApp(kind);
      app = await t.appToken();
      alice = await t.userToken();
    });
    after(() => t.close());
    const create = (token: string, path: string) => graph(t, 'POST', path, token, { subject: 'x' });

    test('app + policy for the user: 201, by object id or by UPN', async () => {
      for (const who of [C.alice.id, C.bob.id, C.alice.upn, 'ALICE@contoso.test']) {
        const res = await create(app, `/v1.0/users/${who}/onlineMeetings`);
        assert.equal(res.statusCode, 201, `${who}: ${res.body}`);
      }
    });

    test('app without a policy for the user (Carol): 403 No application access policy', async () => {
      const res = await create(app, `/v1.0/users/${C.carol.id}/onlineMeetings`);
      assert.equal(res.statusCode, 403);
      assert.deepEqual(
        [res.json().error.code, res.json().error.message],
        ['Forbidden', 'No application access policy found for this app.'],
      );
    });

    test('a tenant-wide grant covers users without their own; a user grant takes precedence (§5)', async () => {
      const dir = new DirectoryService(t.app.graphMeetings.store.db);
      // Changed in this process: forget the cached policy reads so the change shows at once.
      const changed = () => t.app.graphMeetings.directory.clear();
      await dir.createAccessPolicy({ tenant: C.tenantId, name: 'Everyone', appIds: [C.scheduler.clientId] });
      await dir.createAccessPolicy({ tenant: C.tenantId, name: 'Nobody', appIds: [] });
      await dir.grantAccessPolicy({ tenant: C.tenantId, policy: 'Everyone', global: true });
      changed();
      assert.equal((await create(app, `/v1.0/users/${C.carol.id}/onlineMeetings`)).statusCode, 201);
      await dir.grantAccessPolicy({ tenant: C.tenantId, policy: 'Nobody', user: C.carol.id });
      changed();
      assert.equal((await create(app, `/v1.0/users/${C.carol.id}/onlineMeetings`)).statusCode, 403);
      await dir.revokeAccessPolicy({ tenant: C.tenantId, user: C.carol.id });
      await dir.revokeAccessPolicy({ tenant: C.tenantId, global: true });
      changed();
      assert.equal((await create(app, `/v1.0/users/${C.carol.id}/onlineMeetings`)).statusCode, 403);
    });

    test('an app token on /me: 400 Request_BadRequest', async () => {
      const res = await create(app, '/v1.0/me/onlineMeetings');
      assert.equal(res.statusCode, 400);
      assert.equal(res.json().error.code, 'Request_BadRequest');
      assert.equal(res.json().error.message, '/me request is only valid with delegated authentication flow.');
    });

    test("delegated: /me and the own /users path work; another user's path is 403", async () => {
      assert.equal((await create(alice, '/v1.0/me/onlineMeetings')).statusCode, 201);
      assert.equal((await create(alice, `/v1.0/users/${C.alice.id}/onlineMeetings`)).statusCode, 201);
      const res = await create(alice, `/v1.0/users/${C.bob.id}/onlineMeetings`);
      assert.equal(res.statusCode, 403);
      assert.equal(res.json().error.code, 'Forbidden');
    });

    test('unknown user in the path: 404', async () => {
      for (const who of ['00000000-0000-0000-0000-00000000beef', 'ghost@contoso.test']) {
        const res = await create(app, `/v1.0/users/${who}/onlineMeetings`);
        assert.equal(res.statusCode, 404);
        assert.equal(res.json().error.code, 'Request_ResourceNotFound');
      }
    });

    test('a read-only scope cannot create; an app without the permission cannot either', async () => {
      const reader = await t.userToken(C.alice.upn, ['OnlineMeetings.Read']);
      assert.equal((await create(reader, '/v1.0/me/onlineMeetings')).statusCode, 403);
      const dir = new DirectoryService(t.app.graphMeetings.store.db);
      const bare = await dir.createApplication({ tenant: C.tenantId, displayName: 'No permissions' });
      await dir.createAccessPolicy({ tenant: C.tenantId, name: 'Bare', appIds: [bare.clientId] });
      const token = await t.appToken(bare.clientId, bare.secret.value);
      const res = await create(token, `/v1.0/users/${C.carol.id}/onlineMeetings`);
      assert.equal(res.statusCode, 403);
      assert.equal(res.json().error.message, 'Insufficient privileges to complete the operation.');
    });

    test('/beta serves the same surface', async () => {
      assert.equal((await create(alice, '/beta/me/onlineMeetings')).statusCode, 201);
    });
  });
}
