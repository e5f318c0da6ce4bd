import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config/config.js';
import { openStore } from '../../src/storage/database.js';
import { STORES } from '../helpers/stores.js';
import { DEMO, graph, startTestApp, type TestApp } from '../helpers/test-app.js';

const C = DEMO.contoso;

for (const kind of STORES) {
  describe(`${kind}: read an onlineMeeting by id (fact sheet §3.3)`, () => {
    let t: TestApp;
    let alice: string;
    let bob: string;
    let app: string;
    let meeting: Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- parsed JSON under test
    before(async () => {
      t = await startTestApp(kind);
      [alice, bob, app] = await Promise.all([t.userToken(), t.userToken(C.bob.upn), t.appToken()]);
      const res = await graph(t, 'POST', '/v1.0/me/onlineMeetings', alice, {
        subject: 'Read me',
        startDateTime: '2030-01-01T10:00:00Z',
        participants: { attendees: [{ upn: C.bob.upn, identity: { user: { id: C.bob.id } } }] },
        joinMeetingIdSettings: { isPasscodeRequired: true },
      });
      meeting = res.json();
    });
    after(() => t.close());
    const get = (token: string, url: string, headers: Record<string, string> = {}) => graph(t, 'GET', url, token, undefined, headers);
    const withoutJoinInfo = ({ joinInformation: _j, ...rest }: Record<string, unknown>) => rest;
    const withoutContext = ({ '@odata.context': _c, ...rest }: Record<string, unknown>) => rest;

    test('GET returns the stored meeting, by /me and by /users/{id or UPN}', async () => {
      for (const [token, url] of [
        [alice, `/v1.0/me/onlineMeetings/${meeting.id}`],
        [app, `/v1.0/users/${C.alice.id}/onlineMeetings/${meeting.id}`],
        [app, `/v1.0/users/${C.alice.upn}/onlineMeetings/${meeting.id}`],
      ] as const) {
        const res = await get(token, url);
        assert.equal(res.statusCode, 200, res.body);
        assert.deepEqual(res.json(), meeting);
      }
    });

    test("joinInformation follows the reader's Accept-Language", async () => {
      const de = (await get(alice, `/v1.0/me/onlineMeetings/${meeting.id}`, { 'accept-language': 'fr-CA;q=0.5, de-AT' })).json();
      const html = decodeURIComponent(de.joinInformation.content.replace(/\+/g, ' '));
      assert.match(html, /lang="de-DE"/);
      assert.deepEqual(withoutJoinInfo(de), withoutJoinInfo(meeting));
    });

    test("another organizer's meeting: 404 Organizer Id mismatch (unless invited, issue #14)", async () => {
      // Bob is an attendee, so he may read it (Graph's get page); Carol is not.
      assert.equal((await get(bob, `/v1.0/me/onlineMeetings/${meeting.id}`)).statusCode, 200);
      const carol = await t.userToken(C.carol.upn);
      const res = await get(carol, `/v1.0/me/onlineMeetings/${meeting.id}`);
      assert.equal(res.statusCode, 404);
      assert.deepEqual(res.json().error.code, 'NotFound');
      assert.equal(res.json().error.message, `Organizer Id mismatch User Id: ${C.carol.id}.`);
      const viaApp = await get(app, `/v1.0/users/${C.bob.id}/onlineMeetings/${meeting.id}`);
      assert.equal(viaApp.statusCode, 404);
      assert.match(viaApp.json().error.message, /Organizer Id mismatch/);
    });

    test('malformed ids: 400; a raw thread id: Invalid meeting id; a well-formed unknown id: 404', async () => {
      for (const id of ['abc', 'MSpub3RhbWVldGluZw==', '!!!!', Buffer.from(`1*${C.alice.id}*0**nothread`).toString('base64')]) {
        const res = await get(alice, `/v1.0/me/onlineMeetings/${encodeURIComponent(id)}`);
        assert.equal(res.statusCode, 400, id);
        assert.equal(res.json().error.message, 'Meeting Id is corrupted.');
      }
      const thread = await get(alice, `/v1.0/me/onlineMeetings/${encodeURIComponent(meeting.chatInfo.threadId)}`);
      assert.equal(thread.statusCode, 400);
      assert.equal(thread.json().error.message, `Invalid meeting id ${meeting.chatInfo.threadId}.`);
      const unknown = Buffer.from(`1*${C.alice.id}*0**19:meeting_${Buffer.from('nope-nope-nope').toString('base64')}@thread.v2`).toString(
        'base64',
      );
      const res = await get(alice, `/v1.0/me/onlineMeetings/${unknown}`);
      assert.equal(res.statusCode, 404);
    });

    test('reading needs a read permission; the app needs a policy for the user', async () => {
      const reader = await t.userToken(C.alice.upn, ['OnlineMeetings.Read']);
      assert.equal((await get(reader, `/v1.0/me/onlineMeetings/${meeting.id}`)).statusCode, 200);
      const carolMeeting = Buffer.from(
        `1*${C.carol.id}*0**19:meeting_${Buffer.from('x'.repeat(36)).toString('base64')}@thread.v2`,
      ).toString('base64');
      const res = await get(app, `/v1.0/users/${C.carol.id}/onlineMeetings/${carolMeeting}`);
      assert.equal(res.statusCode, 403);
      assert.equal(res.json().error.message, 'No application access policy found for this app.');
    });

    test('$select returns only the named properties; other query options are refused', async () => {
      const res = await get(alice, `/v1.0/me/onlineMeetings/${meeting.id}?$select=subject,joinWebUrl`);
      assert.deepEqual(Object.keys(res.json()).sort(), ['@odata.context', 'joinWebUrl', 'subject']);
      const bad = await get(alice, `/v1.0/me/onlineMeetings/${meeting.id}?$select=nonsense`);
      assert.equal(bad.statusCode, 400);
      const top = await get(alice, `/v1.0/me/onlineMeetings/${meeting.id}?$top=1`);
      assert.equal(top.statusCode, 400);
      assert.match(top.json().error.message, /\$top/);
    });

    test('a bare list has no API: InvalidArgument', async () => {
      const res = await get(alice, '/v1.0/me/onlineMeetings');
      assert.equal(res.statusCode, 400);
      assert.equal(res.json().error.code, 'InvalidArgument');
    });

    test('repeated reads answer the same bytes until the meeting changes, here or in another instance', async () => {
      // Bodies of reads without $select are kept per meeting version and view (online-meetings.ts): every
      // input of the view must still show, and a change by another process must be seen at once.
      const created = (
        await graph(t, 'POST', '/v1.0/me/onlineMeetings', alice, {
          subject: 'Cached',
          participants: { attendees: [{ upn: C.bob.upn, role: 'coorganizer', identity: { user: { id: C.bob.id } } }] },
        })
      ).json();
      const url = `/v1.0/me/onlineMeetings/${created.id}`;
      const lookup = `/v1.0/users/${C.alice.id}/onlineMeetings?$filter=JoinWebUrl eq '${created.joinWebUrl}'`;
      const first = await get(alice, url);
      assert.equal((await get(alice, url)).body, first.body);
      assert.equal(first.json().participants.attendees[0].role, 'unknownFutureValue');
      const prefer = (await get(alice, url, { prefer: 'include-unknown-enum-members' })).json();
      assert.equal(prefer.participants.attendees[0].role, 'coorganizer');
      assert.equal((await get(alice, url)).json().participants.attendees[0].role, 'unknownFutureValue');
      assert.match(decodeURIComponent((await get(alice, url, { 'accept-language': 'de' })).json().joinInformation.content), /lang="de-DE"/);
      assert.match(decodeURIComponent((await get(alice, url)).json().joinInformation.content), /lang="en-US"/);
      const found = (await get(app, lookup)).json();
      assert.equal(found['@odata.context'], first.json()['@odata.context'].replace(/\/\$entity$/, ''));
      assert.match(found['@odata.context'], new RegExp(`users\\('${C.alice.id}'\\)/onlineMeetings$`));
      assert.deepEqual(found.value[0], withoutContext(first.json()));

      const patched = await graph(t, 'PATCH', url, alice, { subject: 'Changed here' });
      assert.equal(patched.statusCode, 200, patched.body);
      assert.equal((await get(alice, url)).json().subject, 'Changed here');
      assert.equal((await get(app, lookup)).json().value[0].subject, 'Changed here');

      const store = openStore({ databaseUrl: t.testStore.databaseUrl, sqliteFile: path.join(t.dataDir, 'test.sqlite') });
      const config = loadConfig({ PORT: '0', DATA_DIR: t.dataDir, LOG_LEVEL: 'silent' }, process.cwd());
      const other = await buildApp(config, { store });
      try {
        const res = await other.inject({
          method: 'PATCH',
          url,
          headers: { authorization: `Bearer ${alice}`, 'content-type': 'application/json' },
          payload: { subject: 'Changed elsewhere' },
        });
        assert.equal(res.statusCode, 200, res.body);
      } finally {
        await other.close();
        await store.close();
      }
      assert.equal((await get(alice, url)).json().subject, 'Changed elsewhere');
      assert.equal((await get(app, lookup)).json().value[0].subject, 'Changed elsewhere');
      assert.equal((await get(alice, `${url}?$select=subject`)).json().subject, 'Changed elsewhere');
    });

    test('meetings and tokens survive a restart unchanged', async () => {
      // A second app over the same data: a restarted process (same DATA_DIR, same database).
      const store = openStore({ databaseUrl: t.testStore.databaseUrl, sqliteFile: path.join(t.dataDir, 'test.sqlite') });
      const config = loadConfig({ PORT: '0', DATA_DIR: t.dataDir, LOG_LEVEL: 'silent' }, process.cwd());
      const restarted = await buildApp(config, { store });
      try {
        assert.equal(restarted.graphMeetings.seeded, false, 'an existing database is not seeded again');
        const res = await restarted.inject({
          method: 'GET',
          url: `/v1.0/me/onlineMeetings/${meeting.id}`,
          headers: { authorization: `Bearer ${alice}` },
        });
        assert.equal(res.statusCode, 200, 'a token minted before the restart still verifies');
        assert.deepEqual(res.json(), meeting);
      } finally {
        await restarted.close();
        await store.close();
      }
    });
  });
}
