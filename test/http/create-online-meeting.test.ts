import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { STORES } from '../helpers/stores.js';
import { DEMO, graph, startTestApp, type TestApp } from '../helpers/test-app.js';

const C = DEMO.contoso;
// The seed's example request bodies (Graph's "Create onlineMeeting" page).
const SEED_TIMES = { startDateTime: '2019-07-12T14:30:34.2444915-07:00', endDateTime: '2019-07-12T15:00:34.2464912-07:00' };
const GRAPH_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z$/;
const decodeJoinInformation = (content: string) => decodeURIComponent(content.replace(/\+/g, ' '));

/** Counts calls so that collisions can be forced: each source yields its list, then random-looking fresh values. */
function scriptedNumbers() {
  const scripts = { joinMeetingId: [] as string[], conferenceId: [] as string[], videoTeleconferenceId: [] as string[] };
  let n = 0;
  const next = (key: keyof typeof scripts, digits: number) =>
    scripts[key].shift() ?? String(10 ** (digits - 1) + 7919 * ++n + Math.floor(Math.random() * 1e6));
  return {
    scripts,
    source: {
      joinMeetingId: () => next('joinMeetingId', 12),
      conferenceId: () => next('conferenceId', 9),
      videoTeleconferenceId: () => next('videoTeleconferenceId', 10),
    },
  };
}

for (const kind of STORES) {
  describe(`${kind}: create onlineMeeting (seed examples and fact sheet §4)`, () => {
    let t: TestApp;
    let alice: string;
    let app: string;
    const numbers = scriptedNumbers();
    before(async () => {
      t = await startTestApp(kind, { deps: { numbers: numbers.source } });
      alice = await t.userToken();
      app = await t.appToken();
    });
    after(() => t.close());
    const create = (body: unknown, headers: Record<string, string> = {}, token = alice, path = '/v1.0/me/onlineMeetings') =>
      graph(t, 'POST', path, token, body, headers);
    const created = async (body: unknown, headers: Record<string, string> = {}) => {
      const res = await create(body, headers);
      assert.equal(res.statusCode, 201, res.body);
      return res.json();
    };
    const badRequest = async (body: unknown, property: RegExp) => {
      const res = await create(body);
      assert.equal(res.statusCode, 400, res.body);
      assert.equal(res.json().error.code, 'BadRequest');
      assert.match(res.json().error.message, property);
      return res.json().error.message as string;
    };

    test('example 1: everything Graph generates', async () => {
      const m = await created({ ...SEED_TIMES, subject: 'User Token Meeting' }, { 'accept-language': 'ja' });
      assert.equal(
        m['@odata.context'],
        `https://127.0.0.1/v1.0/$metadata#users('${C.alice.id}')/onlineMeetings/$entity`.replace(
          'https://127.0.0.1',
          t.app.graphMeetings.origin(),
        ),
      );
      assert.equal(m.subject, 'User Token Meeting');
      assert.equal(m.startDateTime, '2019-07-12T21:30:34.2444915Z');
      assert.equal(m.endDateTime, '2019-07-12T22:00:34.2464912Z');
      assert.match(m.creationDateTime, GRAPH_TIME);
      assert.equal(m.expiryDateTime, '2019-09-10T22:00:34.2464912Z', 'end + 60 days');
      assert.match(m.chatInfo.threadId, /^19:meeting_[A-Za-z0-9+/=]+@thread\.v2$/);
      assert.equal(m.chatInfo.messageId, '0');
      assert.equal(Buffer.from(m.id, 'base64').toString(), `1*${C.alice.id}*0**${m.chatInfo.threadId}`);
      const origin = t.app.graphMeetings.origin();
      const thread = encodeURIComponent(m.chatInfo.threadId).replace(/%[0-9A-F]{2}/g, (e) => e.toLowerCase());
      assert.equal(
        m.joinWebUrl,
        `${origin}/l/meetup-join/${thread}/0?context=%7b%22Tid%22%3a%22${C.tenantId}%22%2c%22Oid%22%3a%22${C.alice.id}%22%7d`,
      );
      assert.equal(m.joinUrl, m.joinWebUrl);
      assert.ok(m.meetingOptionsWebUrl.startsWith(`${origin}/meetingOptions/?organizerId=${C.alice.id}&tenantId=${C.tenantId}`));
      assert.deepEqual(m.participants.organizer, {
        upn: C.alice.upn,
        role: 'presenter',
        identity: { user: { id: C.alice.id, displayName: C.alice.displayName, tenantId: C.tenantId, identityProvider: 'AAD' } },
      });
      assert.deepEqual(m.participants.attendees, []);
      assert.equal(m.joinMeetingIdSettings.isPasscodeRequired, false);
      assert.match(m.joinMeetingIdSettings.joinMeetingId, /^\d{10,12}$/);
      assert.equal(m.joinMeetingIdSettings.passcode, null);
      assert.match(m.audioConferencing.conferenceId, /^\d+$/);
      assert.equal(m.audioConferencing.ConferenceId, undefined, 'camelCase only (§9 quirk 1)');
      assert.deepEqual([m.audioConferencing.tollNumber, m.audioConferencing.tollFreeNumber], ['+14255550100', '+18005550100']);
      assert.deepEqual([m.audioConferencing.tollNumbers, m.audioConferencing.tollFreeNumbers], [['+14255550100'], ['+18005550100']]);
      assert.equal(m.audioConferencing.dialinUrl, `${origin}/dialin/${C.tenantId}?id=${m.audioConferencing.conferenceId}`);
      assert.match(m.videoTeleconferenceId, /^\d{10}$/);
      // §4.4 defaults from the tenant's meeting policy
      assert.equal(m.isEntryExitAnnounced, true);
      assert.equal(m.allowedPresenters, 'everyone');
      assert.equal(m.allowMeetingChat, 'enabled');
      assert.equal(m.allowTeamworkReactions, true);
      assert.deepEqual(m.lobbyBypassSettings, { scope: 'organization', isDialInBypassEnabled: false });
      assert.equal(m.isBroadcast, false);
      assert.equal(m.meetingTemplateId, null);
      assert.equal(m.externalId, null);
      // §6.4: joinInformation in the caller's language
      assert.equal(m.joinInformation.contentType, 'html');
      assert.ok(m.joinInformation.content.startsWith('data:text/html,%3cdiv+style%3d'), m.joinInformation.content.slice(0, 40));
      const html = decodeJoinInformation(m.joinInformation.content);
      assert.match(html, /会議に参加/);
      assert.ok(html.includes(`tel:+14255550100,,${m.audioConferencing.conferenceId}&#35;`));
      assert.ok(html.includes(m.joinMeetingIdSettings.joinMeetingId.replace(/(\d{3})(?=\d)/g, '$1 ')));
    });

    test('example 2: a passcode is generated only when required', async () => {
      const m = await created({ ...SEED_TIMES, subject: 'User meeting', joinMeetingIdSettings: { isPasscodeRequired: true } });
      assert.equal(m.joinMeetingIdSettings.isPasscodeRequired, true);
      assert.match(m.joinMeetingIdSettings.passcode, /^[A-Za-z0-9]{6}$/);
      assert.ok(decodeJoinInformation(m.joinInformation.content).includes(m.joinMeetingIdSettings.passcode));
    });

    test('example 3: no passcode when not required or not specified', async () => {
      for (const extra of [{ joinMeetingIdSettings: { isPasscodeRequired: false } }, {}]) {
        const m = await created({ ...SEED_TIMES, subject: 'User meeting in Microsoft Teams channel.', ...extra });
        assert.equal(m.joinMeetingIdSettings.isPasscodeRequired, false);
        assert.equal(m.joinMeetingIdSettings.passcode, null);
      }
    });

    test('a passcode in the request is refused (custom passcodes are not supported)', async () => {
      await badRequest({ joinMeetingIdSettings: { isPasscodeRequired: true, passcode: '123abc' } }, /joinMeetingIdSettings\.passcode/);
    });

    test('example 4: the template applies its values and its locks win over the request', async () => {
      const m = await created({
        ...SEED_TIMES,
        subject: 'User meeting',
        meetingTemplateId: C.templateId,
        allowedPresenters: 'everyone', // locked by the template: ignored
        allowRecording: true, // locked: ignored
        allowTeamworkReactions: true, // preset but not locked: the request wins
      });
      assert.equal(m.meetingTemplateId, C.templateId);
      assert.equal(m.allowedPresenters, 'organizer');
      assert.equal(m.allowRecording, false);
      assert.deepEqual(m.watermarkProtection, { isEnabledForContentSharing: true, isEnabledForVideo: true });
      assert.deepEqual(m.lobbyBypassSettings, { scope: 'organizer', isDialInBypassEnabled: false });
      assert.equal(m.allowMeetingChat, 'limited');
      assert.equal(m.allowTeamworkReactions, true);
    });

    test('an unknown template: 400', async () => {
      await badRequest({ meetingTemplateId: '00000000-0000-0000-0000-000000000000' }, /meetingTemplateId/);
    });

    test('example 5: isEndToEndEncryptionEnabled is stored and returned', async () => {
      const m = await created({
        startDateTime: '2025-02-01T14:30:34.2444915-07:00',
        endDateTime: '2025-02-01T15:00:34.2464912-07:00',
        subject: 'Encrypted Meeting',
        isEndToEndEncryptionEnabled: true,
      });
      assert.equal(m.isEndToEndEncryptionEnabled, true);
      const got = await graph(t, 'GET', `/v1.0/me/onlineMeetings/${m.id}`, alice);
      assert.equal(got.json().isEndToEndEncryptionEnabled, true);
    });

    test('§4.1 times: defaults, offsets, precision, order', async () => {
      const before = Date.now();
      const none = await created({});
      const start = Date.parse(none.startDateTime);
      assert.ok(start >= before - 1000 && start <= Date.now() + 1000, 'start defaults to now');
      assert.equal(Date.parse(none.endDateTime) - start, 3600_000, 'end defaults to start + 1 h');
      assert.equal(none.subject, null, '§4.2: omitted subject is null');

      const startOnly = await created({ startDateTime: '2030-05-01T08:00:00+02:00' });
      assert.deepEqual([startOnly.startDateTime, startOnly.endDateTime], ['2030-05-01T06:00:00.0000000Z', '2030-05-01T07:00:00.0000000Z']);
      const precise = await created({ startDateTime: '2030-05-01T08:00:00.1Z', endDateTime: '2030-05-01T08:00:00.123456789Z' });
      assert.deepEqual([precise.startDateTime, precise.endDateTime], ['2030-05-01T08:00:00.1000000Z', '2030-05-01T08:00:00.1234567Z']);
      const noZone = await created({ startDateTime: '2030-05-01T08:00:00', endDateTime: '2030-05-01T09:00:00' });
      assert.equal(noZone.startDateTime, '2030-05-01T08:00:00.0000000Z');
      const equal = await created({ startDateTime: '2030-05-01T08:00:00Z', endDateTime: '2030-05-01T08:00:00Z' });
      assert.equal(equal.startDateTime, equal.endDateTime, 'start == end is allowed');
      const past = await created({ startDateTime: '2001-01-01T00:00:00Z', endDateTime: '2001-01-01T01:00:00Z' });
      assert.equal(past.startDateTime, '2001-01-01T00:00:00.0000000Z', 'past dates are allowed');

      await badRequest({ endDateTime: '2030-05-01T09:00:00Z' }, /startDateTime/);
      await badRequest({ startDateTime: '2030-05-01T09:00:00Z', endDateTime: '2030-05-01T08:59:59Z' }, /endDateTime/);
      for (const bad of ['tomorrow', '2030-02-30T10:00:00Z', '2030-05-01T25:00:00Z', '2030-05-01', '2030-05-01T10:00:00+25:00', '']) {
        await badRequest({ startDateTime: bad }, /'startDateTime'/);
      }
      await badRequest({ startDateTime: 20300501 }, /'startDateTime'/);
    });

    test('times near the end of year 9999: refused if the meeting would end later, expiry clamped', async () => {
      await badRequest({ startDateTime: '9999-12-31T23:30:00Z' }, /'startDateTime'.*9999/);
      const late = await created({ startDateTime: '9999-12-01T00:00:00Z' });
      assert.equal(late.endDateTime, '9999-12-01T01:00:00.0000000Z');
      assert.equal(late.expiryDateTime, '9999-12-31T23:59:59.9999999Z');
      const patched = await graph(t, 'PATCH', `/v1.0/me/onlineMeetings/${late.id}`, alice, { subject: 'still fine' });
      assert.equal(patched.statusCode, 200, patched.body);
      assert.equal(patched.json().expiryDateTime, '9999-12-31T23:59:59.9999999Z');
    });

    test('externalId belongs to createOrGet; isBroadcast cannot create live events', async () => {
      await badRequest({ externalId: 'ext-1' }, /externalId/);
      await badRequest({ isBroadcast: true }, /live event/i);
    });

    test('read-only and unknown properties are ignored', async () => {
      const m = await created({
        id: 'forged',
        joinWebUrl: 'https://evil.example/join',
        creationDateTime: '2000-01-01T00:00:00Z',
        videoTeleconferenceId: '1',
        chatInfo: { threadId: '19:forged@thread.v2' },
        audioConferencing: { conferenceId: '1' },
        meetingType: 'broadcast',
        someUnknownProperty: { deep: [1, 2, 3] },
        subject: 'ignored extras',
      });
      assert.notEqual(m.id, 'forged');
      assert.ok(m.joinWebUrl.startsWith(t.app.graphMeetings.origin()));
      assert.notEqual(m.creationDateTime, '2000-01-01T00:00:00.0000000Z');
      assert.notEqual(m.videoTeleconferenceId, '1');
      assert.notEqual(m.chatInfo.threadId, '19:forged@thread.v2');
      assert.notEqual(m.audioConferencing.conferenceId, '1');
      assert.equal(m.meetingType, 'scheduled');
      assert.equal(m.someUnknownProperty, undefined);
    });

    test('every writable option is accepted, validated and returned; nested objects merge with the defaults', async () => {
      const options = {
        allowAttendeeToEnableCamera: false,
        allowAttendeeToEnableMic: false,
        allowBreakoutRooms: false,
        allowCopyingAndSharingMeetingContent: false,
        allowedLobbyAdmitters: 'organizerAndCoOrganizers',
        allowedPresenters: 'roleIsPresenter',
        allowLiveShare: 'disabled',
        allowMeetingChat: 'disabled',
        allowParticipantsToChangeName: true,
        allowPowerPointSharing: false,
        allowRecording: false,
        allowTeamworkReactions: false,
        allowTranscription: false,
        allowWhiteboard: false,
        chatRestrictions: { allowTextOnly: true },
        isEntryExitAnnounced: false,
        recordAutomatically: true,
        shareMeetingChatHistoryDefault: 'none',
        watermarkProtection: { isEnabledForVideo: true },
        anonymizeIdentityForRoles: ['attendee'],
        meetingSpokenLanguageTag: 'fr-FR',
        sensitivityLabelAssignment: { sensitivityLabelId: 'c0ffee00-0000-0000-0000-000000000001' },
      };
      const m = await created({ ...options, lobbyBypassSettings: { isDialInBypassEnabled: true } });
      for (const [k, v] of Object.entries(options)) {
        if (k === 'watermarkProtection') assert.deepEqual(m[k], { isEnabledForContentSharing: false, isEnabledForVideo: true });
        else assert.deepEqual(m[k], v, k);
      }
      assert.deepEqual(m.lobbyBypassSettings, { scope: 'organization', isDialInBypassEnabled: true });
    });

    test('invalid enum members and types name the property', async () => {
      const msg = await badRequest({ allowedPresenters: 'anyone' }, /'allowedPresenters'/);
      assert.match(msg, /everyone, organization, roleIsPresenter, organizer, unknownFutureValue/);
      await badRequest({ lobbyBypassSettings: { scope: 'world' } }, /'lobbyBypassSettings\.scope'/);
      await badRequest({ allowRecording: 'yes' }, /'allowRecording'/);
      await badRequest({ participants: { attendees: [{ upn: 'x@y.test', role: 'boss' }] } }, /'participants\.attendees\[0\]\.role'/);
      await badRequest({ anonymizeIdentityForRoles: ['presenter'] }, /anonymizeIdentityForRoles/);
      await badRequest({ meetingSpokenLanguageTag: 'not a tag!' }, /meetingSpokenLanguageTag/);
      await badRequest({ chatRestrictions: { allowTextOnly: 1 } }, /'chatRestrictions\.allowTextOnly'/);
    });

    test('§2.8 evolvable members are accepted, and sent only with Prefer: include-unknown-enum-members', async () => {
      const body = {
        lobbyBypassSettings: { scope: 'invited' },
        participants: { attendees: [{ upn: C.bob.upn, identity: { user: { id: C.bob.id } }, role: 'coorganizer' }] },
      };
      const plain = await created(body);
      assert.equal(plain.lobbyBypassSettings.scope, 'unknownFutureValue');
      assert.equal(plain.participants.attendees[0].role, 'unknownFutureValue');
      const opted = await created(body, { prefer: 'return=representation, include-unknown-enum-members' });
      assert.equal(opted.lobbyBypassSettings.scope, 'invited');
      assert.equal(opted.participants.attendees[0].role, 'coorganizer');
      const read = await graph(t, 'GET', `/v1.0/me/onlineMeetings/${plain.id}`, alice, undefined, {
        prefer: 'include-unknown-enum-members',
      });
      assert.equal(read.json().lobbyBypassSettings.scope, 'invited', 'the stored value is the real one');
    });

    test('§4.3 participants: the organizer is the caller, attendees as given', async () => {
      const m = await created({
        participants: {
          organizer: { identity: { user: { id: C.bob.id } }, upn: C.bob.upn },
          attendees: [
            { identity: { user: { id: C.bob.id, displayName: 'Bob' } }, upn: C.bob.upn },
            { identity: { user: { id: C.carol.id } }, upn: C.carol.upn, role: 'presenter' },
            { upn: 'guest@partner.example', role: 'attendee' },
          ],
        },
      });
      assert.equal(m.participants.organizer.identity.user.id, C.alice.id, 'a supplied organizer is ignored');
      assert.deepEqual(m.participants.attendees[0], {
        upn: C.bob.upn,
        role: null,
        identity: { user: { id: C.bob.id, displayName: 'Bob' } },
      });
      assert.equal(m.participants.attendees[1].role, 'presenter');
      assert.deepEqual(m.participants.attendees[2], { upn: 'guest@partner.example', role: 'attendee', identity: {} });
      const viaApp = await create({ subject: 'app organizer' }, {}, app, `/v1.0/users/${C.bob.id}/onlineMeetings`);
      assert.equal(viaApp.json().participants.organizer.identity.user.id, C.bob.id, 'app: the path user organizes');
    });

    test('presenter and coorganizer only for users of the directory', async () => {
      await badRequest({ participants: { attendees: [{ upn: 'guest@partner.example', role: 'presenter' }] } }, /registered/);
      await badRequest(
        { participants: { attendees: [{ identity: { user: { id: DEMO.fabrikam.dave.id } }, role: 'coorganizer' }] } },
        /registered/,
      );
      await badRequest({ participants: { attendees: [{ identity: {} }] } }, /'participants\.attendees\[0\]'/);
    });

    test('a chat that would pass 1,000 members is refused', async () => {
      const attendees = (n: number) => Array.from({ length: n }, (_, i) => ({ upn: `guest${i}@partner.example` }));
      const ok = await created({ participants: { attendees: attendees(999) } });
      assert.equal(ok.participants.attendees.length, 999);
      await badRequest({ participants: { attendees: attendees(1000) } }, /1000 members/);
    });

    test('generated numbers that collide are redrawn, never surfaced', async () => {
      numbers.scripts.joinMeetingId.push('111111111111', '111111111111', '222222222222');
      numbers.scripts.conferenceId.push('333333333', '333333333', '444444444');
      numbers.scripts.videoTeleconferenceId.push('5555555555', '5555555555', '6666666666');
      const a = await created({ subject: 'first' });
      const b = await created({ subject: 'second' });
      assert.equal(a.joinMeetingIdSettings.joinMeetingId, '111111111111');
      assert.equal(b.joinMeetingIdSettings.joinMeetingId, '222222222222');
      assert.deepEqual([a.audioConferencing.conferenceId, b.audioConferencing.conferenceId], ['333333333', '444444444']);
      assert.deepEqual([a.videoTeleconferenceId, b.videoTeleconferenceId], ['5555555555', '6666666666']);
      assert.equal(b.audioConferencing.dialinUrl.endsWith('?id=444444444'), true);
    });

    test('meeting-policy defaults come from the tenant settings', async () => {
      const db = t.app.graphMeetings.store.db;
      const row = await db.selectFrom('tenants').select('settings').where('id', '=', C.tenantId).executeTakeFirstOrThrow();
      const settings = JSON.parse(row.settings);
      try {
        await db
          .updateTable('tenants')
          .set({
            settings: JSON.stringify({
              ...settings,
              meetingPolicy: { ...settings.meetingPolicy, allowedPresenters: 'organization', isEntryExitAnnounced: false },
              dialIn: { tollNumbers: ['+4930555010'], tollFreeNumbers: [] },
            }),
          })
          .where('id', '=', C.tenantId)
          .execute();
        t.app.graphMeetings.directory.clear();
        const m = await created({});
        assert.equal(m.allowedPresenters, 'organization');
        assert.equal(m.isEntryExitAnnounced, false);
        assert.deepEqual(m.audioConferencing.tollNumbers, ['+4930555010']);
        assert.equal(m.audioConferencing.tollFreeNumber, null);
      } finally {
        await db.updateTable('tenants').set({ settings: row.settings }).where('id', '=', C.tenantId).execute();
        t.app.graphMeetings.directory.clear();
      }
    });
  });
}
