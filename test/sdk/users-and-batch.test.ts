import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DirectoryService } from '../../src/domain/directory/directory-service.js';
import { DEMO_PROFILES } from '../../src/domain/directory/demo-directory.js';
import { DEMO_ALICE, DEMO_APP, SdkCallError, startSdkWorker, type SdkWorker } from '../helpers/sdk-worker-client.js';
import { STORES } from '../helpers/stores.js';
import { DEMO, startTestApp, type TestApp } from '../helpers/test-app.js';

const C = DEMO.contoso;
const G = 'https://graph.microsoft.com';
const ALICE = { ...DEMO_ALICE, scopes: [`${G}/OnlineMeetings.ReadWrite`, `${G}/User.Read`] };

/** Issue #14 through the official clients: users with Kiota, batches with Kiota's and graph-client v3's helpers. */
for (const kind of STORES) {
  describe(`${kind}: users and $batch through the official Microsoft clients`, () => {
    let t: TestApp;
    let w: SdkWorker;
    let origin: string;
    before(async () => {
      t = await startTestApp(kind, { listen: true });
      origin = t.origin;
      const dir = new DirectoryService(t.testStore.store.db);
      await dir.grantApplicationPermission(C.scheduler.clientId, 'User.Read.All');
      for (let i = 0; i < 5; i++) {
        await dir.createUser({ tenant: C.tenantId, upn: `sdk${i}@contoso.test`, displayName: `SDK ${i}`, password: DEMO.password });
      }
      w = await startSdkWorker(t.caPath);
    });
    after(async () => {
      await w?.close();
      await t?.close();
    });

    test('Kiota graph.me.get(): the default properties land in the typed User model', async () => {
      const r = await w.call('kiotaMeTraced', { origin, cred: ALICE });
      assert.equal(r.wire.status, 200);
      const p = DEMO_PROFILES[C.alice.id]!;
      assert.equal(r.body.id, C.alice.id);
      assert.equal(r.body.displayName, C.alice.displayName);
      assert.equal(r.body.givenName, p.givenName);
      assert.equal(r.body.surname, p.surname);
      assert.equal(r.body.jobTitle, p.jobTitle);
      assert.equal(r.body.mail, C.alice.upn);
      assert.equal(r.body.userPrincipalName, C.alice.upn);
      assert.deepEqual(r.body.businessPhones, p.businessPhones);
      assert.equal(r.body.preferredLanguage, p.preferredLanguage);
      // Nothing unknown to Kiota's User type (only @odata.context) went to additionalData.
      assert.deepEqual(Object.keys((r.body.additionalData as object) ?? {}), ['@odata.context']);
      const sel = await w.call('kiotaMeTraced', { origin, cred: ALICE, select: ['displayName', 'mail'] });
      assert.match(sel.wire.url, /\?%24select=displayName,mail$|\?\$select=displayName%2Cmail$|select=displayName/);
      assert.deepEqual(Object.keys(sel.wire.body as object), ['@odata.context', 'displayName', 'mail']);
    });

    test('Kiota graph.users: by id and UPN, $filter, a 404 as ODataError, PageIterator over nextLink, $count', async () => {
      const byUpn = await w.call('kiotaUserTraced', { origin, cred: DEMO_APP, userId: C.bob.upn });
      assert.equal(byUpn.body.id, C.bob.id);
      const found = await w.call('kiotaUsersTraced', {
        origin,
        cred: DEMO_APP,
        filter: `mail eq '${C.carol.upn}'`,
        select: ['id', 'mail'],
      });
      assert.deepEqual(
        (found.body.value as Array<{ id: string }>).map((u) => u.id),
        [C.carol.id],
      );
      await assert.rejects(
        () => w.call('kiotaUserTraced', { origin, cred: DEMO_APP, userId: 'nobody@contoso.test' }),
        (err: SdkCallError) => {
          assert.equal(err.sdkError.kind, 'ODataError');
          assert.equal(err.sdkError.statusCode, 404);
          assert.equal(err.sdkError.code, 'Request_ResourceNotFound');
          return true;
        },
      );
      const all = await w.call('kiotaUsersIterate', { origin, cred: DEMO_APP, top: 2 });
      assert.equal(all.ids.length, 8);
      assert.equal(new Set(all.ids).size, 8);
      assert.equal(all.requests, 4); // 2 + 2 + 2 + 2 users
      const counted = await w.call('kiotaUsersTraced', {
        origin,
        cred: DEMO_APP,
        count: true,
        top: 1,
        headers: { ConsistencyLevel: 'eventual' },
      });
      assert.equal((counted.body as { odataCount?: number }).odataCount, 8);
      assert.equal(await w.call('kiotaUsersCount', { origin, cred: DEMO_APP }), 8);
      assert.equal(await w.call('kiotaUsersCount', { origin, cred: DEMO_APP, filter: "startswith(displayName,'SDK')" }), 5);
    });

    test('Kiota BatchRequestContent: GET steps (me, a user, a meeting) in one $batch, parsed per id', async () => {
      const meeting = await w.call('kiotaCreate', { origin, cred: ALICE, body: { subject: 'batched read' } });
      const r = await w.call('kiotaBatch', {
        origin,
        cred: ALICE,
        steps: [
          { id: 'me', kind: 'me' },
          { id: 'self', kind: 'user', userId: C.alice.id },
          { id: 'other', kind: 'user', userId: C.bob.id },
          { id: 'meeting', kind: 'meeting', meetingId: String(meeting.body.id) },
        ],
      });
      assert.equal(r.wire.status, 200);
      assert.match(r.wire.url, /\/v1\.0\/\$batch$/);
      // Kiota sends /users/TokenToReplace as /me (fact sheet §4.2).
      const sent = JSON.parse(r.wire.requestBody!) as { requests: Array<{ id: string; url: string }> };
      assert.equal(sent.requests.find((s) => s.id === 'me')!.url, '/me');
      assert.deepEqual(r.statuses, { me: 200, self: 200, other: 403, meeting: 200 });
    });

    test('graph-client v3 BatchRequestContent/BatchResponseContent: a create, dependent reads, Content-Type casing', async () => {
      const r = await w.call('v3Batch', {
        origin,
        cred: ALICE,
        steps: [
          { id: '1', method: 'POST', path: '/me/onlineMeetings', body: { subject: 'v3 batch' } },
          { id: '2', method: 'GET', path: '/me', dependsOn: ['1'] },
          { id: '3', method: 'GET', path: `/users/${C.bob.id}`, dependsOn: ['2'] },
          { id: '4', method: 'GET', path: '/me?$select=displayName', dependsOn: ['3'] },
        ],
      });
      assert.equal(r.wire.status, 200, JSON.stringify(r.wire.body));
      assert.deepEqual(r.statuses, { '1': 201, '2': 200, '3': 403, '4': 424 });
      assert.equal((r.bodies['1'] as { subject: string }).subject, 'v3 batch');
      assert.equal((r.bodies['2'] as { id: string }).id, C.alice.id);
      assert.equal((r.bodies['3'] as { error: { code: string } }).error.code, 'Forbidden');
      // BatchResponseContent JSON-stringifies only when headers["Content-Type"] (that casing) says JSON (§4.2).
      assert.match(r.headers['1']!['content-type']!, /^application\/json/);
      // The client strips scheme and host only: the urls keep the version segment, which the batch's own version absorbs.
      const sent = JSON.parse(r.wire.requestBody!) as { requests: Array<{ url: string; headers?: Record<string, string> }> };
      assert.deepEqual(
        sent.requests.map((s) => s.url),
        ['/v1.0/me/onlineMeetings', '/v1.0/me', `/v1.0/users/${C.bob.id}`, '/v1.0/me?$select=displayName'],
      );
      // Its headers are a Fetch Headers' copy: lower-case keys (fact sheet §4.2).
      assert.equal(sent.requests[0]!.headers!['content-type'], 'application/json');
    });
  });
}
