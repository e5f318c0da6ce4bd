import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DirectoryService } from '../../src/domain/directory/directory-service.js';
import { DEMO_PROFILES } from '../../src/domain/directory/demo-directory.js';
import { STORES } from '../helpers/stores.js';
import { DEMO, graph, startTestApp, type TestApp } from '../helpers/test-app.js';

const C = DEMO.contoso;
const F = DEMO.fabrikam;
const EVENTUAL = { consistencylevel: 'eventual' };

for (const kind of STORES) {
  describe(`${kind}: Graph users (fact sheet §5.1)`, () => {
    let t: TestApp;
    let alice: string; // delegated, User.Read only
    let reader: string; // delegated, User.ReadBasic.All
    let app: string; // application, User.Read.All
    let meetingsApp: string; // application without any user permission
    let fabrikam: string; // application of the other tenant, User.Read.All
    before(async () => {
      t = await startTestApp(kind);
      const dir = new DirectoryService(t.testStore.store.db);
      await dir.grantApplicationPermission(C.scheduler.clientId, 'User.Read.All');
      await dir.grantApplicationPermission(F.scheduler.clientId, 'User.Read.All');
      await dir.consentDelegated(C.client.clientId, ['User.ReadBasic.All']);
      // Enough users in Contoso to page through.
      for (let i = 0; i < 7; i++) {
        await dir.createUser({
          tenant: C.tenantId,
          upn: `user${i}@contoso.test`,
          displayName: `Zed ${i}`,
          password: DEMO.password,
          ...(i === 0 ? { mail: 'Zed.Zero@Contoso.test', jobTitle: "O'Brien & <Co>" } : {}),
        });
      }
      [alice, reader, app, meetingsApp, fabrikam] = await Promise.all([
        t.userToken(C.alice.upn, ['User.Read']),
        t.userToken(C.bob.upn, ['User.ReadBasic.All']),
        t.appToken(),
        t.appToken(C.client.clientId, C.client.secret),
        t.appToken(F.scheduler.clientId, F.scheduler.secret, F.tenantId),
      ]);
      // The meetings-only app: the demo client has no application permission at all.
    });
    after(() => t.close());
    const get = (token: string, url: string, headers: Record<string, string> = {}) => graph(t, 'GET', url, token, undefined, headers);

    test('GET /me answers the default property set with stored values or null', async () => {
      const res = await get(alice, '/v1.0/me');
      assert.equal(res.statusCode, 200, res.body);
      assert.match(String(res.headers['content-type']), /^application\/json;odata\.metadata=minimal/);
      const p = DEMO_PROFILES[C.alice.id]!;
      assert.deepEqual(res.json(), {
        '@odata.context': `${t.app.graphMeetings.origin()}/v1.0/$metadata#users/$entity`,
        businessPhones: p.businessPhones,
        displayName: C.alice.displayName,
        givenName: p.givenName,
        jobTitle: p.jobTitle,
        mail: C.alice.upn,
        mobilePhone: p.mobilePhone,
        officeLocation: p.officeLocation,
        preferredLanguage: p.preferredLanguage,
        surname: p.surname,
        userPrincipalName: C.alice.upn,
        id: C.alice.id,
      });
      const carol = (await get(app, `/beta/users/${C.carol.upn}`)).json();
      assert.equal(carol['@odata.context'], `${t.app.graphMeetings.origin()}/beta/$metadata#users/$entity`);
      assert.deepEqual(
        [carol.jobTitle, carol.mobilePhone, carol.officeLocation, carol.preferredLanguage, carol.businessPhones],
        [null, null, null, null, []],
      );
    });

    test('GET /users/{id | UPN | (key)}: same user; $select picks properties and names them in the context', async () => {
      for (const key of [C.bob.id, C.bob.id.toUpperCase(), C.bob.upn, 'BOB@contoso.test', `('${C.bob.upn}')`]) {
        const res = await get(app, `/v1.0/users/${encodeURIComponent(key)}`);
        assert.equal(res.statusCode, 200, `${key}: ${res.body}`);
        assert.equal(res.json().id, C.bob.id);
      }
      const sel = await get(app, `/v1.0/users/${C.bob.id}?$select=displayName,MAIL,createdDateTime,department`);
      assert.deepEqual(Object.keys(sel.json()), ['@odata.context', 'displayName', 'mail', 'createdDateTime', 'department']);
      assert.equal(
        sel.json()['@odata.context'],
        `${t.app.graphMeetings.origin()}/v1.0/$metadata#users(displayName,mail,createdDateTime,department)/$entity`,
      );
      assert.equal(sel.json().department, null);
    });

    test('unknown users: Request_ResourceNotFound 404 with its message; other tenants are never visible', async () => {
      for (const [token, key] of [
        [app, 'nobody@contoso.test'],
        [app, '00000000-0000-0000-0000-000000000000'],
        [app, F.dave.id],
        [app, F.dave.upn],
        [fabrikam, C.alice.id],
        [reader, F.dave.upn],
      ] as const) {
        const res = await get(token, `/v1.0/users/${key}`);
        assert.equal(res.statusCode, 404, res.body);
        assert.equal(res.json().error.code, 'Request_ResourceNotFound');
        assert.equal(
          res.json().error.message,
          `Resource '${key}' does not exist or one of its queried reference-property objects are not present.`,
        );
      }
      const fab = (await get(fabrikam, `/v1.0/users?$select=id`)).json();
      assert.deepEqual(
        fab.value.map((u: { id: string }) => u.id),
        [F.dave.id],
      );
      const filtered = (await get(fabrikam, `/v1.0/users?$filter=${encodeURIComponent(`mail eq '${C.alice.upn}'`)}`)).json();
      assert.deepEqual(filtered.value, []);
    });

    test('permissions: User.Read reaches only oneself; apps cannot use /me; no permission, 403', async () => {
      assert.equal((await get(alice, `/v1.0/users/${C.alice.upn}`)).statusCode, 200);
      const other = await get(alice, `/v1.0/users/${C.bob.id}`);
      assert.equal(other.statusCode, 403);
      assert.equal(other.json().error.message, 'Insufficient privileges to complete the operation.');
      assert.equal((await get(alice, '/v1.0/users')).statusCode, 403);
      assert.equal((await get(reader, `/v1.0/users/${C.alice.id}`)).statusCode, 200);
      assert.equal((await get(reader, '/v1.0/users')).statusCode, 200);
      const me = await get(app, '/v1.0/me');
      assert.equal(me.statusCode, 400);
      assert.equal(me.json().error.code, 'Request_BadRequest');
      assert.equal(me.json().error.message, '/me request is only valid with delegated authentication flow.');
      for (const url of ['/v1.0/users', `/v1.0/users/${C.alice.id}`, `/v1.0/users/nobody@contoso.test`]) {
        const res = await get(meetingsApp, url);
        assert.equal(res.statusCode, 403, url);
      }
      const onlyMeetings = await t.userToken(C.alice.upn, ['OnlineMeetings.Read']);
      assert.equal((await get(onlyMeetings, '/v1.0/me')).statusCode, 403);
      assert.equal((await t.inject({ method: 'GET', url: '/v1.0/me' })).statusCode, 401);
      const post = await graph(t, 'POST', '/v1.0/users', app, {});
      assert.equal(post.statusCode, 405);
    });

    test('$filter: eq on mail, UPN, displayName, id (case-insensitive), or, startswith', async () => {
      const ids = async (filter: string, token = app) => {
        const res = await get(token, `/v1.0/users?$filter=${encodeURIComponent(filter)}&$select=id`);
        assert.equal(res.statusCode, 200, `${filter}: ${res.body}`);
        return (res.json().value as Array<{ id: string }>).map((u) => u.id).sort();
      };
      assert.deepEqual(await ids(`mail eq '${C.alice.upn}'`), [C.alice.id]);
      assert.deepEqual(await ids(`Mail eq 'ALICE@contoso.test'`), [C.alice.id]);
      assert.deepEqual(await ids(`userPrincipalName eq '${C.bob.upn}'`), [C.bob.id]);
      assert.deepEqual(await ids(`displayName eq 'carol chen'`), [C.carol.id]);
      assert.deepEqual(await ids(`id eq '${C.carol.id}'`), [C.carol.id]);
      assert.deepEqual(await ids(`id eq 'not-a-guid'`), []);
      assert.deepEqual(await ids(`mail eq 'zed.zero@contoso.test'`), await ids(`userPrincipalName eq 'user0@contoso.test'`));
      assert.deepEqual(await ids(`mail eq '${C.alice.upn}' or userPrincipalName eq '${C.bob.upn}'`), [C.alice.id, C.bob.id].sort());
      assert.deepEqual(await ids(`(startswith(displayName,'ali') or startswith(mail,'BOB')) and givenName eq 'Alice'`), [C.alice.id]);
      assert.equal((await ids(`startswith(displayName,'Zed')`)).length, 7);
      assert.deepEqual(await ids(`startswith(userPrincipalName,'user_')`), []); // _ is no wildcard
      assert.deepEqual(await ids(`startswith(displayName,'%')`), []);
      assert.deepEqual(await ids(`displayName eq 'it''s'`), []);
    });

    test('bad $filter and $select: Graph error envelopes, never a 500', async () => {
      const cases: Array<[string, number, string, RegExp]> = [
        ['$filter=mail eq', 400, 'BadRequest', /^Invalid filter clause: Syntax error at position 7 in 'mail eq'\.$/],
        ["$filter=mail eq 'x", 400, 'BadRequest', /Syntax error/],
        [
          "$filter=foo eq 'x'",
          400,
          'Request_BadRequest',
          /^Could not find a property named 'foo' on type 'Microsoft\.DirectoryServices\.User'\.$/,
        ],
        ["$filter=jobTitle eq 'x'", 400, 'Request_UnsupportedQuery', /property 'jobTitle' of resource 'User'/],
        ["$filter=startswith(id,'a')", 400, 'Request_UnsupportedQuery', /property 'id'/],
        ["$filter=endswith(mail,'@contoso.test')", 400, 'Request_UnsupportedQuery', /property 'mail'/],
        ["$filter=mail ne 'x'", 400, 'Request_UnsupportedQuery', /property 'mail'/],
        ["$filter=contains(mail,'x')", 400, 'Request_UnsupportedQuery', /operator 'contains'/],
        [`$filter=startswith(displayName,'${'a'.repeat(121)}')`, 400, 'Request_UnsupportedQuery', /displayName/],
        [
          `$filter=${Array.from({ length: 16 }, (_, i) => `mail eq '${i}'`).join(' or ')}`,
          400,
          'Request_UnsupportedQuery',
          /OR' operators: 16\. Max allowed: 15\./,
        ],
        [`$filter=${'('.repeat(50)}mail eq 'x'${')'.repeat(50)}`, 400, 'BadRequest', /Syntax error/],
        [`$filter=mail eq '${'x'.repeat(5000)}'`, 400, 'Request_UnsupportedQuery', /too long/],
        ['$select=displayName,bogus', 400, 'Request_BadRequest', /named 'bogus'/],
        ['$top=0', 400, 'Request_BadRequest', /^Invalid page size specified: '0'\. Must be between 1 and 999 inclusive\.$/],
        ['$top=1000', 400, 'Request_BadRequest', /'1000'/],
        ['$top=abc', 400, 'Request_BadRequest', /'abc'/],
        ['$count=maybe', 400, 'BadRequest', /not a valid count option/],
        ['$count=true', 400, 'Request_BadRequest', /^\$count is not currently supported\.$/],
        ['$search="displayName:a"', 400, 'Request_UnsupportedQuery', /ConsistencyLevel: eventual/],
        ['$skiptoken=garbage', 400, 'Request_BadRequest', /page token/],
        ['$expand=manager', 400, 'BadRequest', /\$expand/],
        ['$filter=a&$filter=b', 400, 'BadRequest', /more than once/],
        ["$filter=mail eq '\u0000'", 200, '', /./],
      ];
      for (const [query, status, code, message] of cases) {
        const res = await get(app, `/v1.0/users?${query.replace(/ /g, '%20').replace(/'/g, '%27')}`);
        assert.equal(res.statusCode, status, `${query.slice(0, 80)}: ${res.body.slice(0, 300)}`);
        if (status === 200) continue;
        assert.equal(res.json().error.code, code, query.slice(0, 80));
        assert.match(res.json().error.message, message, query.slice(0, 80));
      }
      const one = await get(app, `/v1.0/users/${C.alice.id}?$select=nope`);
      assert.equal(one.statusCode, 400);
      assert.equal((await get(app, `/v1.0/users/${C.alice.id}?$top=1`)).statusCode, 400);
      const long = await get(app, `/v1.0/users/${'a'.repeat(1500)}@contoso.test`);
      assert.equal(long.statusCode, 404);
    });

    test('$top pages through @odata.nextLink until every user was seen once', async () => {
      const seen: string[] = [];
      let url: string | undefined = '/v1.0/users?$top=3&$select=id,displayName';
      let pages = 0;
      while (url) {
        const res = await get(app, url);
        assert.equal(res.statusCode, 200, res.body);
        const body = res.json();
        assert.equal(body['@odata.context'], `${t.app.graphMeetings.origin()}/v1.0/$metadata#users(id,displayName)`);
        assert.ok(body.value.length <= 3);
        seen.push(...body.value.map((u: { id: string }) => u.id));
        const next: string | undefined = body['@odata.nextLink'];
        if (next) assert.match(next, /^https:\/\/127\.0\.0\.1:0\/v1\.0\/users\?\$top=3&\$select=id,displayName&\$skiptoken=/);
        url = next?.replace(t.app.graphMeetings.origin(), '');
        pages++;
      }
      assert.equal(seen.length, 10); // alice, bob, carol and seven more; never Fabrikam's dave
      assert.equal(new Set(seen).size, 10);
      assert.equal(pages, 4);
      const all = (await get(app, '/v1.0/users')).json();
      assert.equal(all.value.length, 10);
      assert.equal(all['@odata.nextLink'], undefined);
    });

    test('$count with ConsistencyLevel: eventual, as a parameter and as a segment; endswith as an advanced query', async () => {
      const counted = await get(
        app,
        `/v1.0/users?$count=true&$filter=${encodeURIComponent("startswith(displayName,'Zed')")}&$top=2`,
        EVENTUAL,
      );
      assert.equal(counted.statusCode, 200, counted.body);
      const body = counted.json();
      assert.deepEqual(Object.keys(body), ['@odata.context', '@odata.count', '@odata.nextLink', 'value']);
      assert.equal(body['@odata.count'], 7);
      const seg = await get(app, '/v1.0/users/$count', EVENTUAL);
      assert.equal(seg.statusCode, 200);
      assert.match(String(seg.headers['content-type']), /^text\/plain/);
      assert.equal(seg.body, '10');
      const segFiltered = await get(app, `/v1.0/users/$count?$filter=${encodeURIComponent("endswith(mail,'@contoso.test')")}`, EVENTUAL);
      assert.equal(segFiltered.body, '10'); // endswith ignores case: Zed.Zero@Contoso.test counts
      const noHeader = await get(app, '/v1.0/users/$count');
      assert.equal(noHeader.statusCode, 400);
      assert.equal(noHeader.json().error.message, '$count is not currently supported.');
      const ends = await get(
        app,
        `/v1.0/users?$count=true&$filter=${encodeURIComponent("endswith(userPrincipalName,'0@contoso.test')")}`,
        EVENTUAL,
      );
      assert.equal(ends.json()['@odata.count'], 1);
      assert.equal((await get(app, '/v1.0/users?$count=false')).statusCode, 200);
    });

    test('Accept odata.metadata=none drops @odata.context but keeps paging; minimal and full keep it', async () => {
      const none = await get(app, '/v1.0/users?$top=2', { accept: 'application/json;odata.metadata=none' });
      assert.equal(none.statusCode, 200);
      assert.match(String(none.headers['content-type']), /odata\.metadata=none/);
      assert.equal(none.json()['@odata.context'], undefined);
      assert.ok(none.json()['@odata.nextLink']);
      const me = await get(alice, '/v1.0/me', { accept: 'application/json;odata.metadata=none' });
      assert.equal(me.json()['@odata.context'], undefined);
      assert.equal(me.json().id, C.alice.id);
      for (const level of ['minimal', 'full']) {
        const res = await get(alice, '/v1.0/me', { accept: `application/json;odata.metadata=${level}` });
        assert.ok(res.json()['@odata.context'], level);
      }
      const err = await get(alice, '/v1.0/users', { accept: 'application/json;odata.metadata=none' });
      assert.equal(err.statusCode, 403);
      assert.ok(err.json().error.innerError);
    });
  });
}
