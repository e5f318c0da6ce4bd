import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { STORES } from '../helpers/stores.js';
import { DEMO, graph, startTestApp, type TestApp } from '../helpers/test-app.js';

const C = DEMO.contoso;
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- parsed JSON under test
type Json = any;

/**
 * Issue #20 keeps parsed rows and serialized answers of reads (GET …/events/{id}, createOrGet of an existing
 * key) and the verified token keyed by the Authorization header as sent. Each cache must answer exactly what an
 * uncached read would: a change shows at once, and every input of the view (Prefer, the path's user) keeps
 * its own bytes.
 */
for (const kind of STORES) {
  describe(`${kind}: what the read caches answer (issue #20)`, () => {
    let t: TestApp;
    let alice: string;
    before(async () => {
      t = await startTestApp(kind);
      alice = await t.userToken(C.alice.upn, ['OnlineMeetings.ReadWrite', 'Calendars.ReadWrite', 'User.Read']);
    });
    after(() => t.close());
    const call = (method: 'GET' | 'POST' | 'PATCH', url: string, body?: unknown, headers: Record<string, string> = {}, token = alice) =>
      graph(t, method, url, token, body, headers);

    test('GET …/events/{id}: a PATCH shows at once; Prefer and the path form each get their own answer', async () => {
      const created = await call('POST', '/v1.0/me/events', {
        subject: 'Before',
        body: { contentType: 'HTML', content: '<p>Hello <b>there</b></p>' },
        start: { dateTime: '2030-11-20T13:00:00', timeZone: 'UTC' },
        end: { dateTime: '2030-11-20T14:00:00', timeZone: 'UTC' },
      });
      assert.equal(created.statusCode, 201, created.body);
      const id = (created.json() as Json).id as string;
      const path = `/v1.0/me/events/${id}`;
      const first = await call('GET', path);
      assert.equal((await call('GET', path)).body, first.body, 'the same bytes while nothing changed');
      assert.equal((first.json() as Json).start.dateTime, '2030-11-20T13:00:00.0000000');

      const pacific = await call('GET', path, undefined, { prefer: 'outlook.timezone="Pacific Standard Time"' });
      assert.equal((pacific.json() as Json).start.dateTime, '2030-11-20T05:00:00.0000000');
      assert.equal((pacific.json() as Json).start.timeZone, 'Pacific Standard Time');
      assert.match(String(pacific.headers['preference-applied']), /outlook\.timezone/);
      const text = await call('GET', path, undefined, { prefer: 'outlook.body-content-type="text"' });
      assert.equal((text.json() as Json).body.contentType, 'text');
      assert.equal((await call('GET', path)).body, first.body, 'a Prefer answer is not served without Prefer');

      const byUser = await call('GET', `/v1.0/users/${C.alice.upn}/events/${id}`);
      assert.equal(byUser.statusCode, 200, byUser.body);
      assert.match((byUser.json() as Json)['@odata.context'], new RegExp(`users\\('${encodeURIComponent(C.alice.upn)}'\\)`));
      assert.notEqual((await call('GET', path)).json()['@odata.context'], (byUser.json() as Json)['@odata.context']);

      const patched = await call('PATCH', path, { subject: 'After' });
      assert.equal(patched.statusCode, 200, patched.body);
      const after = (await call('GET', path)).json() as Json;
      assert.equal(after.subject, 'After');
      assert.notEqual(after.changeKey, (first.json() as Json).changeKey);
      assert.equal((await call('GET', path, undefined, { prefer: 'outlook.timezone="Pacific Standard Time"' })).json().subject, 'After');
    });

    test('createOrGet of an existing key: 200 with the meeting as it is now, the same bytes until it changes', async () => {
      const key = { externalId: `read-cache-${kind}`, subject: 'First' };
      const made = await call('POST', '/v1.0/me/onlineMeetings/createOrGet', key);
      assert.equal(made.statusCode, 201, made.body);
      const again = await call('POST', '/v1.0/me/onlineMeetings/createOrGet', key);
      assert.equal(again.statusCode, 200, again.body);
      assert.deepEqual(again.json(), made.json());
      assert.equal((await call('POST', '/v1.0/me/onlineMeetings/createOrGet', key)).body, again.body);
      const id = (made.json() as Json).id as string;
      assert.equal((await call('PATCH', `/v1.0/me/onlineMeetings/${id}`, { subject: 'Renamed' })).statusCode, 200);
      const now = await call('POST', '/v1.0/me/onlineMeetings/createOrGet', key);
      assert.equal(now.statusCode, 200, now.body);
      assert.equal((now.json() as Json).subject, 'Renamed', 'createOrGet does not overwrite, and shows the change at once');
    });

    test('a verified token is cached by the header as sent: another spelling of the same token verifies too, a changed one does not', async () => {
      const me = (authorization: string) => t.inject({ method: 'GET', url: '/v1.0/me', headers: { authorization } });
      assert.equal((await me(`Bearer ${alice}`)).statusCode, 200);
      assert.equal((await me(`bearer   ${alice}  `)).statusCode, 200);
      const tampered = `${alice.slice(0, -4)}${alice.slice(-4) === 'AAAA' ? 'BBBB' : 'AAAA'}`;
      assert.equal((await me(`Bearer ${tampered}`)).statusCode, 401);
      assert.equal((await me(`Bearer ${alice} extra`)).statusCode, 401);
    });
  });
}
