import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DirectoryService } from '../../src/domain/directory/directory-service.js';
import { STORES } from '../helpers/stores.js';
import { DEMO, graph, startTestApp, type TestApp } from '../helpers/test-app.js';

const C = DEMO.contoso;
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- parsed JSON under test
type Json = any;

for (const kind of STORES) {
  describe(`${kind}: the onlineMeeting lifecycle (fact sheet §3.2 to §3.7)`, () => {
    let t: TestApp;
    let alice: string;
    let bob: string;
    let app: string;
    let clockOffset = 0;
    const scriptedJoinIds: string[] = [];
    before(async () => {
      t = await startTestApp(kind, {
        deps: {
          clock: () => Date.now() + clockOffset,
          numbers: {
            joinMeetingId: () => scriptedJoinIds.shift() ?? String(100000000000 + Math.floor(Math.random() * 899999999999)),
            conferenceId: () => String(100000000 + Math.floor(Math.random() * 899999999)),
            videoTeleconferenceId: () => String(1000000000 + Math.floor(Math.random() * 8999999999)),
          },
        },
      });
      [alice, bob, app] = await Promise.all([t.userToken(), t.userToken(C.bob.upn), t.appToken()]);
    });
    after(() => t.close());
    const call = (
      method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
      url: string,
      token = alice,
      body?: unknown,
      headers: Record<string, string> = {},
    ) => graph(t, method, url, token, body, headers);
    const create = async (body: unknown = {}, token = alice, path = '/v1.0/me/onlineMeetings'): Promise<Json> => {
      const res = await call('POST', path, token, body);
      assert.equal(res.statusCode, 201, res.body);
      return res.json();
    };
    const expectError = (res: { statusCode: number; json(): Json }, status: number, code: string, message?: RegExp) => {
      assert.equal(res.statusCode, status, JSON.stringify(res.json()));
      assert.equal(res.json().error.code, code);
      if (message) assert.match(res.json().error.message, message);
    };

    describe('createOrGet (§3.2)', () => {
      test('creates once (201), then returns the stored meeting unchanged (200)', async () => {
        const first = await call('POST', '/v1.0/me/onlineMeetings/createOrGet', alice, {
          externalId: 'ext-1',
          subject: 'Original',
          startDateTime: '2030-03-01T10:00:00Z',
          endDateTime: '2030-03-01T11:00:00Z',
        });
        assert.equal(first.statusCode, 201, first.body);
        assert.equal(first.json().externalId, 'ext-1');
        const again = await call('POST', '/v1.0/me/onlineMeetings/createOrGet', alice, {
          externalId: 'ext-1',
          subject: 'Changed',
          startDateTime: '2031-01-01T00:00:00Z',
        });
        assert.equal(again.statusCode, 200);
        assert.deepEqual(again.json(), first.json());
      });

      test('takes only its documented parameters', async () => {
        const res = await call('POST', '/v1.0/me/onlineMeetings/createOrGet', alice, {
          externalId: 'ext-params',
          allowedPresenters: 'organizer',
          joinMeetingIdSettings: { isPasscodeRequired: true },
          meetingTemplateId: 'not-even-a-template',
          participants: { attendees: [{ upn: C.bob.upn, identity: { user: { id: C.bob.id } } }] },
        });
        assert.equal(res.statusCode, 201, res.body);
        assert.equal(res.json().allowedPresenters, 'everyone');
        assert.equal(res.json().joinMeetingIdSettings.passcode, null);
        assert.equal(res.json().meetingTemplateId, null);
        assert.equal(res.json().participants.attendees[0].upn, C.bob.upn);
      });

      test('externalId is required; the key is per organizer; apps use /users/{id}', async () => {
        expectError(await call('POST', '/v1.0/me/onlineMeetings/createOrGet', alice, { subject: 'x' }), 400, 'BadRequest', /externalId/);
        expectError(await call('POST', '/v1.0/me/onlineMeetings/createOrGet', alice, { externalId: '' }), 400, 'BadRequest', /externalId/);
        const a = await call('POST', '/v1.0/me/onlineMeetings/createOrGet', alice, { externalId: 'shared-key' });
        const b = await call('POST', '/v1.0/me/onlineMeetings/createOrGet', bob, { externalId: 'shared-key' });
        assert.equal(a.statusCode, 201);
        assert.equal(b.statusCode, 201);
        assert.notEqual(a.json().id, b.json().id, 'the same externalId for different users gives different meetings');
        const viaApp = await call('POST', `/v1.0/users/${C.alice.id}/onlineMeetings/createOrGet`, app, { externalId: 'shared-key' });
        assert.equal(viaApp.statusCode, 200);
        assert.equal(viaApp.json().id, a.json().id);
        expectError(await call('POST', '/v1.0/me/onlineMeetings/createOrGet', app, { externalId: 'x' }), 400, 'Request_BadRequest');
        expectError(await call('POST', `/v1.0/users/${C.carol.id}/onlineMeetings/createOrGet`, app, { externalId: 'x' }), 403, 'Forbidden');
      });

      test('racing identical requests leave exactly one meeting', async () => {
        const results = await Promise.all(
          Array.from({ length: 40 }, (_, i) =>
            call(
              'POST',
              i % 2 ? '/v1.0/me/onlineMeetings/createOrGet' : `/v1.0/users/${C.alice.id}/onlineMeetings/createOrGet`,
              i % 2 ? alice : app,
              {
                externalId: 'race-1',
                subject: `racer ${i}`,
              },
            ),
          ),
        );
        const statuses = results.map((r) => r.statusCode);
        assert.equal(statuses.filter((s) => s === 201).length, 1, `statuses: ${statuses.join(',')}`);
        assert.equal(statuses.filter((s) => s === 200).length, 39);
        assert.equal(new Set(results.map((r) => r.json().id)).size, 1);
        const rows = await t.app.graphMeetings.store.db.selectFrom('meetings').select('id').where('external_id', '=', 'race-1').execute();
        assert.equal(rows.length, 1);
      });
    });

    describe('lookups (§3.4)', () => {
      let m: Json;
      before(async () => {
        m = await create({ subject: 'Find me' });
      });
      const lookup = (filter: string, token = alice, base = '/v1.0/me/onlineMeetings', extra = '') =>
        call('GET', `${base}?$filter=${encodeURIComponent(filter)}${extra}`, token);

      test('by joinWebUrl: raw, single- and double-encoded values, property name in any case', async () => {
        const url = m.joinWebUrl as string;
        const forms = [url, encodeURIComponent(url), encodeURIComponent(encodeURIComponent(url)), decodeURIComponent(url)];
        for (const value of forms) {
          for (const prop of ['JoinWebUrl', 'joinWebUrl', 'JOINWEBURL']) {
            const res = await lookup(`${prop} eq '${value}'`);
            assert.equal(res.statusCode, 200, `${prop} ${value}: ${res.body}`);
            const body = res.json();
            assert.equal(body['@odata.context'], `${t.app.graphMeetings.origin()}/v1.0/$metadata#users('${C.alice.id}')/onlineMeetings`);
            assert.deepEqual(
              body.value.map((v: Json) => v.id),
              [m.id],
            );
          }
        }
        const dq = await lookup(`JoinWebUrl eq "${url}"`);
        assert.equal(dq.json().value.length, 1);
      });

      test('by joinMeetingId, with $select; apps through /users/{id}', async () => {
        const res = await lookup(
          `joinMeetingIdSettings/joinMeetingId eq '${m.joinMeetingIdSettings.joinMeetingId}'`,
          alice,
          '/v1.0/me/onlineMeetings',
          '&$select=id,subject',
        );
        assert.deepEqual(res.json().value, [{ id: m.id, subject: 'Find me' }]);
        const viaApp = await lookup(`JoinWebUrl eq '${m.joinWebUrl}'`, app, `/v1.0/users/${C.alice.upn}/onlineMeetings`);
        assert.equal(viaApp.json().value[0].id, m.id);
      });

      test('nothing found: an empty value', async () => {
        const res = await lookup(`joinMeetingIdSettings/joinMeetingId eq '999'`);
        assert.deepEqual(res.json().value, []);
        const bogus = await lookup(`JoinWebUrl eq 'https://teams.microsoft.com/l/meetup-join/19%3ameeting_bm9wZQ%40thread.v2/0'`);
        assert.deepEqual(bogus.json().value, []);
      });

      test('only the organizer finds a meeting (§9 quirk 4); another tenant does not see it at all', async () => {
        expectError(await lookup(`JoinWebUrl eq '${m.joinWebUrl}'`, bob), 403, 'Forbidden', /An error has occurred/);
        const fabrikam = await t.appToken(DEMO.fabrikam.scheduler.clientId, DEMO.fabrikam.scheduler.secret, DEMO.fabrikam.tenantId);
        const res = await lookup(`JoinWebUrl eq '${m.joinWebUrl}'`, fabrikam, `/v1.0/users/${DEMO.fabrikam.dave.id}/onlineMeetings`);
        assert.deepEqual(res.json().value, []);
      });

      test('any other filter, or none: InvalidArgument', async () => {
        for (const filter of [
          `subject eq 'Find me'`,
          `startswith(subject,'F')`,
          `JoinWebUrl ne 'x'`,
          `VideoTeleconferenceId eq '${m.videoTeleconferenceId}'`,
          '',
        ]) {
          expectError(await lookup(filter), 400, 'InvalidArgument', /Filter expression expected/);
        }
        expectError(await call('GET', '/v1.0/me/onlineMeetings'), 400, 'InvalidArgument');
        expectError(
          await call('GET', `/v1.0/me/onlineMeetings?$filter=${encodeURIComponent(`JoinWebUrl eq '${m.joinWebUrl}'`)}&$top=5`),
          400,
          'BadRequest',
          /\$top/,
        );
      });

      test('by VideoTeleconferenceId on /communications: app-only, no access policy, tenant-scoped', async () => {
        const carolMeeting = await create({ subject: 'Carol VTC' }, await t.userToken(C.carol.upn));
        const path = (vtc: string) =>
          `/v1.0/communications/onlineMeetings/?$filter=${encodeURIComponent(`VideoTeleconferenceId eq '${vtc}'`)}`;
        const res = await call('GET', path(carolMeeting.videoTeleconferenceId), app);
        assert.equal(res.statusCode, 200, res.body);
        assert.equal(res.json().value[0].id, carolMeeting.id, 'Carol has no policy, yet the VTC lookup finds her meeting');
        assert.match(res.json()['@odata.context'], /\$metadata#communications\/onlineMeetings$/);
        expectError(await call('GET', path(carolMeeting.videoTeleconferenceId), alice), 403, 'Forbidden');
        const fabrikam = await t.appToken(DEMO.fabrikam.scheduler.clientId, DEMO.fabrikam.scheduler.secret, DEMO.fabrikam.tenantId);
        assert.deepEqual((await call('GET', path(carolMeeting.videoTeleconferenceId), fabrikam)).json().value, []);
        expectError(await call('POST', '/v1.0/communications/onlineMeetings', app, {}), 400, 'BadRequest', /An error has occurred/);
      });
    });

    describe('update (§3.5)', () => {
      test('changes what is sent, merges nested objects, answers 200 with the whole meeting, moves the expiry', async () => {
        const m = await create({ subject: 'Before', startDateTime: '2020-01-01T10:00:00Z', endDateTime: '2020-01-01T11:00:00Z' });
        const res = await call('PATCH', `/v1.0/me/onlineMeetings/${m.id}`, alice, {
          subject: 'After',
          lobbyBypassSettings: { isDialInBypassEnabled: true },
        });
        assert.equal(res.statusCode, 200, res.body);
        const u = res.json();
        assert.equal(u.subject, 'After');
        assert.deepEqual(u.lobbyBypassSettings, { scope: 'organization', isDialInBypassEnabled: true });
        assert.equal(u.id, m.id);
        assert.equal(u.joinWebUrl, m.joinWebUrl);
        assert.equal(u.startDateTime, m.startDateTime);
        assert.ok(Date.parse(u.expiryDateTime) >= Date.now() + 59 * 86_400_000, 'an update pushes the expiry 60 days out');
        const read = await call('GET', `/v1.0/me/onlineMeetings/${m.id}`);
        assert.deepEqual(read.json(), u);
      });

      test('start and end only together; attendees replaced as a whole list', async () => {
        const m = await create({ participants: { attendees: [{ upn: C.bob.upn, identity: { user: { id: C.bob.id } } }] } });
        expectError(
          await call('PATCH', `/v1.0/me/onlineMeetings/${m.id}`, alice, { startDateTime: '2030-01-01T10:00:00Z' }),
          400,
          'BadRequest',
          /together/,
        );
        expectError(
          await call('PATCH', `/v1.0/me/onlineMeetings/${m.id}`, alice, { endDateTime: '2030-01-01T10:00:00Z' }),
          400,
          'BadRequest',
          /together/,
        );
        const times = await call('PATCH', `/v1.0/me/onlineMeetings/${m.id}`, alice, {
          startDateTime: '2040-01-01T10:00:00-05:00',
          endDateTime: '2040-01-01T12:00:00-05:00',
        });
        assert.deepEqual(
          [times.json().startDateTime, times.json().endDateTime],
          ['2040-01-01T15:00:00.0000000Z', '2040-01-01T17:00:00.0000000Z'],
        );
        assert.equal(times.json().expiryDateTime, '2040-03-01T17:00:00.0000000Z');
        const res = await call('PATCH', `/v1.0/me/onlineMeetings/${m.id}`, alice, {
          participants: { attendees: [{ upn: C.carol.upn, identity: { user: { id: C.carol.id } }, role: 'presenter' }] },
        });
        assert.deepEqual(
          res.json().participants.attendees.map((a: Json) => a.upn),
          [C.carol.upn],
        );
        expectError(
          await call('PATCH', `/v1.0/me/onlineMeetings/${m.id}`, alice, {
            participants: { attendees: [{ upn: 'x@partner.example', role: 'presenter' }] },
          }),
          400,
          'BadRequest',
          /registered/,
        );
      });

      test('what cannot change is refused with a clear error', async () => {
        const m = await create({
          meetingTemplateId: C.templateId,
          joinMeetingIdSettings: { isPasscodeRequired: true },
          anonymizeIdentityForRoles: ['attendee'],
        });
        const patch = (body: unknown) => call('PATCH', `/v1.0/me/onlineMeetings/${m.id}`, alice, body);
        expectError(await patch({ meetingType: 'scheduled' }), 400, 'BadRequest', /^Updating meeting type is not supported\.$/);
        expectError(await patch({ joinMeetingIdSettings: { isPasscodeRequired: false } }), 400, 'BadRequest', /joinMeetingIdSettings/);
        expectError(await patch({ meetingTemplateId: '00000000-0000-0000-0000-000000000000' }), 400, 'BadRequest', /meetingTemplateId/);
        expectError(await patch({ allowedPresenters: 'everyone' }), 400, 'BadRequest', /allowedPresenters.*locked/);
        expectError(await patch({ lobbyBypassSettings: { scope: 'everyone' } }), 400, 'BadRequest', /lobbyBypassSettings.*locked/);
        expectError(await patch({ participants: { organizer: { identity: { user: { id: C.bob.id } } } } }), 400, 'BadRequest', /organizer/);
        expectError(await patch({ anonymizeIdentityForRoles: [] }), 400, 'BadRequest', /anonymizeIdentityForRoles/);
        expectError(await patch({ externalId: 'new' }), 400, 'BadRequest', /externalId/);
        expectError(await patch({ allowRecording: 'no' }), 400, 'BadRequest', /'allowRecording'/);
        // Sending back what is already there is not a change: SDKs that PATCH whole objects keep working.
        const same = await patch({
          joinMeetingIdSettings: { isPasscodeRequired: true },
          meetingTemplateId: C.templateId,
          allowedPresenters: 'organizer',
          allowMeetingChat: 'enabled',
        });
        assert.equal(same.statusCode, 200, same.body);
        assert.equal(same.json().allowMeetingChat, 'enabled', 'options the template set without locking can change');
      });

      test('who may update: write scope, the organizer, an app with a policy', async () => {
        const m = await create();
        const reader = await t.userToken(C.alice.upn, ['OnlineMeetings.Read']);
        expectError(await call('PATCH', `/v1.0/me/onlineMeetings/${m.id}`, reader, { subject: 'x' }), 403, 'Forbidden');
        expectError(
          await call('PATCH', `/v1.0/me/onlineMeetings/${m.id}`, bob, { subject: 'x' }),
          404,
          'NotFound',
          /Organizer Id mismatch/,
        );
        const viaApp = await call('PATCH', `/v1.0/users/${C.alice.id}/onlineMeetings/${m.id}`, app, { subject: 'by app' });
        assert.equal(viaApp.json().subject, 'by app');
        const res = await t.inject({
          method: 'PATCH',
          url: `/v1.0/me/onlineMeetings/${m.id}`,
          headers: { authorization: `Bearer ${alice}` },
          payload: '{}',
        });
        expectError(res, 415, 'UnsupportedMediaType');
      });
    });

    describe('delete (§3.6)', () => {
      test('204, then gone for reads, lookups and createOrGet', async () => {
        const c = await call('POST', '/v1.0/me/onlineMeetings/createOrGet', alice, { externalId: 'to-delete' });
        const m = c.json();
        const del = await call('DELETE', `/v1.0/me/onlineMeetings/${m.id}`);
        assert.equal(del.statusCode, 204);
        assert.equal(del.body, '');
        expectError(await call('GET', `/v1.0/me/onlineMeetings/${m.id}`), 404, 'NotFound');
        expectError(await call('DELETE', `/v1.0/me/onlineMeetings/${m.id}`), 404, 'NotFound');
        const byUrl = await call('GET', `/v1.0/me/onlineMeetings?$filter=${encodeURIComponent(`JoinWebUrl eq '${m.joinWebUrl}'`)}`);
        assert.deepEqual(byUrl.json().value, []);
        const byId = await call(
          'GET',
          `/v1.0/me/onlineMeetings?$filter=${encodeURIComponent(`joinMeetingIdSettings/joinMeetingId eq '${m.joinMeetingIdSettings.joinMeetingId}'`)}`,
        );
        assert.deepEqual(byId.json().value, []);
        expectError(await call('PATCH', `/v1.0/me/onlineMeetings/${m.id}`, alice, { subject: 'x' }), 404, 'NotFound');
        const again = await call('POST', '/v1.0/me/onlineMeetings/createOrGet', alice, { externalId: 'to-delete' });
        assert.equal(again.statusCode, 201);
        assert.notEqual(again.json().id, m.id);
      });

      test("a deleted meeting's join meeting id is not reused for 60 days, then it may be", async () => {
        const m = await create();
        const jid = m.joinMeetingIdSettings.joinMeetingId;
        assert.equal((await call('DELETE', `/v1.0/me/onlineMeetings/${m.id}`)).statusCode, 204);
        scriptedJoinIds.push(jid);
        const next = await create();
        assert.notEqual(next.joinMeetingIdSettings.joinMeetingId, jid, 'the tombstone keeps the number taken');
        clockOffset = 61 * 86_400_000;
        try {
          assert.ok((await t.app.graphMeetings.meetings.purgeTombstones()) >= 1);
          scriptedJoinIds.push(jid);
          const later = await create({}, await t.userToken()); // tokens minted 61 days earlier have expired
          assert.equal(later.joinMeetingIdSettings.joinMeetingId, jid, 'after 60 days the number is free again');
        } finally {
          clockOffset = 0;
        }
      });

      test('who may delete', async () => {
        const m = await create();
        expectError(await call('DELETE', `/v1.0/me/onlineMeetings/${m.id}`, bob), 404, 'NotFound', /Organizer Id mismatch/);
        expectError(
          await call('DELETE', `/v1.0/me/onlineMeetings/${m.id}`, await t.userToken(C.alice.upn, ['OnlineMeetings.Read'])),
          403,
          'Forbidden',
        );
        assert.equal((await call('DELETE', `/v1.0/users/${C.alice.id}/onlineMeetings/${m.id}`, app)).statusCode, 204);
      });
    });

    test('getVirtualAppointmentJoinWebUrl (§3.7): delegated, or application with VirtualAppointment.*.All and a policy', async () => {
      const m = await create();
      const reader = await t.userToken(C.alice.upn, ['OnlineMeetings.Read']);
      for (const suffix of ['getVirtualAppointmentJoinWebUrl', 'getVirtualAppointmentJoinWebUrl()']) {
        const res = await call('GET', `/v1.0/me/onlineMeetings/${m.id}/${suffix}`, reader);
        assert.equal(res.statusCode, 200, res.body);
        assert.equal(res.json()['@odata.context'], `${t.app.graphMeetings.origin()}/v1.0/$metadata#Edm.String`);
        const url = new URL(res.json().value);
        assert.equal(url.searchParams.get('tid'), C.tenantId);
        assert.equal(url.searchParams.get('convId'), m.chatInfo.threadId);
      }
      expectError(
        await call('GET', `/v1.0/users/${C.alice.id}/onlineMeetings/${m.id}/getVirtualAppointmentJoinWebUrl`, app),
        403,
        'Forbidden',
      );
      // Issue #14: VirtualAppointment.Read / .ReadWrite delegated; .Read.All / .ReadWrite.All as application
      // permissions, under the online meetings application access policy.
      const dir = new DirectoryService(t.testStore.store.db);
      await dir.consentDelegated(C.client.clientId, ['VirtualAppointment.Read']);
      const vaReader = await t.userToken(C.alice.upn, ['VirtualAppointment.Read']);
      assert.equal((await call('GET', `/v1.0/me/onlineMeetings/${m.id}/getVirtualAppointmentJoinWebUrl`, vaReader)).statusCode, 200);
      // VirtualAppointment.Read is not a meetings permission: the meeting itself stays unreadable with it.
      expectError(await call('GET', `/v1.0/me/onlineMeetings/${m.id}`, vaReader), 403, 'Forbidden');
      await dir.grantApplicationPermission(C.scheduler.clientId, 'VirtualAppointment.Read.All');
      const vaApp = await t.appToken();
      const viaApp = await call('GET', `/v1.0/users/${C.alice.id}/onlineMeetings/${m.id}/getVirtualAppointmentJoinWebUrl`, vaApp);
      assert.equal(viaApp.statusCode, 200, viaApp.body);
      assert.equal(new URL(viaApp.json().value).searchParams.get('convId'), m.chatInfo.threadId);
      // Carol has no access policy for the scheduler.
      const carolMeeting = await call('POST', '/v1.0/me/onlineMeetings', await t.userToken(C.carol.upn), { subject: 'carol' });
      expectError(
        await call('GET', `/v1.0/users/${C.carol.id}/onlineMeetings/${carolMeeting.json().id}/getVirtualAppointmentJoinWebUrl`, vaApp),
        403,
        'Forbidden',
      );
      expectError(await call('GET', `/v1.0/me/onlineMeetings/${m.id}/getVirtualAppointmentJoinWebUrl`, vaApp), 400, 'Request_BadRequest');
      await dir.revokeApplicationPermission(C.scheduler.clientId, 'VirtualAppointment.Read.All');
    });
  });
}
