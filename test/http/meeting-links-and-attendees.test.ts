import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DirectoryService } from '../../src/domain/directory/directory-service.js';
import { STORES } from '../helpers/stores.js';
import { DEMO, graph, startTestApp, type TestApp } from '../helpers/test-app.js';

const C = DEMO.contoso;
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- parsed JSON under test

for (const kind of STORES) {
  describe(`${kind}: an invited attendee reads the meeting (issue #14, Graph's get page)`, () => {
    let t: TestApp;
    let meeting: Json;
    let bob: string;
    let carol: string;
    before(async () => {
      t = await startTestApp(kind);
      const alice = await t.userToken();
      [bob, carol] = await Promise.all([t.userToken(C.bob.upn), t.userToken(C.carol.upn)]);
      const res = await graph(t, 'POST', '/v1.0/me/onlineMeetings', alice, {
        subject: 'Invited',
        participants: { attendees: [{ identity: { user: { id: C.bob.id } } }, { upn: C.carol.upn }] },
      });
      assert.equal(res.statusCode, 201, res.body);
      meeting = res.json();
    });
    after(() => t.close());

    test('attendees listed by id or UPN GET it through /me and their own /users path', async () => {
      for (const [token, url] of [
        [bob, `/v1.0/me/onlineMeetings/${meeting.id}`],
        [carol, `/v1.0/me/onlineMeetings/${meeting.id}`],
        [bob, `/v1.0/users/${C.bob.id}/onlineMeetings/${meeting.id}`],
      ] as const) {
        const res = await graph(t, 'GET', url, token);
        assert.equal(res.statusCode, 200, res.body);
        assert.equal(res.json().id, meeting.id);
        assert.equal(res.json().joinWebUrl, meeting.joinWebUrl);
      }
    });

    test('they still cannot update or delete it; a user not invited still gets Organizer Id mismatch', async () => {
      const patch = await graph(t, 'PATCH', `/v1.0/me/onlineMeetings/${meeting.id}`, bob, { subject: 'hijack' });
      assert.equal(patch.statusCode, 404);
      assert.match(patch.json().error.message, /Organizer Id mismatch/);
      assert.equal((await graph(t, 'DELETE', `/v1.0/me/onlineMeetings/${meeting.id}`, bob)).statusCode, 404);
      await new DirectoryService(t.testStore.store.db).createUser({
        tenant: C.tenantId,
        upn: 'erin@contoso.test',
        displayName: 'Erin',
        password: DEMO.password,
      });
      const uninvited = await t.userToken('erin@contoso.test');
      const res = await graph(t, 'GET', `/v1.0/me/onlineMeetings/${meeting.id}`, uninvited);
      assert.equal(res.statusCode, 404);
      // An app acting for bob is not bob: the organizer rule holds for application tokens.
      const app = await t.appToken();
      const viaApp = await graph(t, 'GET', `/v1.0/users/${C.bob.id}/onlineMeetings/${meeting.id}`, app);
      assert.equal(viaApp.statusCode, 404);
      const still = await graph(t, 'GET', `/v1.0/me/onlineMeetings/${meeting.id}`, await t.userToken());
      assert.equal(still.json().subject, 'Invited');
    });
  });

  describe(`${kind}: LINK_STYLE=teams (issue #14)`, () => {
    let t: TestApp;
    let meeting: Json;
    let alice: string;
    before(async () => {
      t = await startTestApp(kind, { env: { LINK_STYLE: 'teams' } });
      alice = await t.userToken();
      meeting = (await graph(t, 'POST', '/v1.0/me/onlineMeetings', alice, { subject: 'Teams links' })).json();
    });
    after(() => t.close());

    test('every link looks exactly like Teams’ own', async () => {
      assert.match(
        meeting.joinWebUrl,
        /^https:\/\/teams\.microsoft\.com\/l\/meetup-join\/19%3ameeting_[A-Za-z0-9%]+%40thread\.v2\/0\?context=%7b%22Tid%22%3a%22[0-9a-f-]{36}%22%2c%22Oid%22%3a%22[0-9a-f-]{36}%22%7d$/,
      );
      assert.equal(meeting.joinUrl, meeting.joinWebUrl);
      assert.match(meeting.audioConferencing.dialinUrl, new RegExp(`^https://dialin\\.teams\\.microsoft\\.com/${C.tenantId}\\?id=\\d{9}$`));
      assert.match(meeting.meetingOptionsWebUrl, /^https:\/\/teams\.microsoft\.com\/meetingOptions\/\?organizerId=/);
      const html = decodeURIComponent(meeting.joinInformation.content.replace(/\+/g, ' '));
      assert.ok(html.includes(`href="${meeting.joinWebUrl}"`));
      assert.ok(!html.includes('127.0.0.1'));
      const va = await graph(t, 'GET', `/v1.0/me/onlineMeetings/${meeting.id}/getVirtualAppointmentJoinWebUrl`, alice);
      assert.match(va.json().value, /^https:\/\/visit\.teams\.microsoft\.com\/webrtc-svc\/api\/route\?tid=/);
    });

    test('lookups by JoinWebUrl accept both styles', async () => {
      const own = meeting.joinWebUrl.replace('https://teams.microsoft.com', t.app.graphMeetings.origin());
      for (const url of [meeting.joinWebUrl, own, encodeURIComponent(meeting.joinWebUrl)]) {
        const filter = encodeURIComponent(`JoinWebUrl eq '${url}'`);
        const res = await graph(t, 'GET', `/v1.0/me/onlineMeetings?$filter=${filter}`, alice);
        assert.equal(res.statusCode, 200, res.body);
        assert.deepEqual(
          res.json().value.map((m: Json) => m.id),
          [meeting.id],
        );
      }
    });
  });
}
