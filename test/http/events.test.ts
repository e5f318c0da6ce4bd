import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { STORES } from '../helpers/stores.js';
import { DEMO, graph, startTestApp, type TestApp } from '../helpers/test-app.js';

const C = DEMO.contoso;
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- parsed JSON under test
type Json = any;

/** A nextLink as a path for inject(). */
const relative = (link: string) => {
  const u = new URL(link);
  return `${u.pathname}${u.search}`;
};

const ALICE_SCOPES = ['OnlineMeetings.ReadWrite', 'Calendars.ReadWrite', 'MailboxSettings.Read'];

/** What Cal.com, Moodle and the docs send to create a Teams meeting through an event (graph-events-spec.md §1.4, §8). */
const teamsEvent = (overrides: Record<string, unknown> = {}) => ({
  subject: 'Prep for customer meeting',
  body: { contentType: 'HTML', content: 'Does this time work for you?' },
  start: { dateTime: '2030-11-20T13:00:00', timeZone: 'Pacific Standard Time' },
  end: { dateTime: '2030-11-20T14:00:00', timeZone: 'Pacific Standard Time' },
  attendees: [{ emailAddress: { address: C.bob.upn, name: 'Bob Baker' }, type: 'required' }],
  allowNewTimeProposals: true,
  isOnlineMeeting: true,
  onlineMeetingProvider: 'teamsForBusiness',
  ...overrides,
});

for (const kind of STORES) {
  describe(`${kind}: Outlook events and calendar-backed Teams meetings (graph-events-spec.md)`, () => {
    let t: TestApp;
    let alice: string;
    let bob: string;
    let app: string;
    let fabrikamApp: string;
    before(async () => {
      t = await startTestApp(kind);
      [alice, bob, app, fabrikamApp] = await Promise.all([
        t.userToken(C.alice.upn, ALICE_SCOPES),
        t.userToken(C.bob.upn, ALICE_SCOPES),
        t.appToken(),
        t.appToken(DEMO.fabrikam.scheduler.clientId, DEMO.fabrikam.scheduler.secret, DEMO.fabrikam.tenantId),
      ]);
    });
    after(() => t.close());
    const call = (
      method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
      url: string,
      token = alice,
      body?: unknown,
      headers: Record<string, string> = {},
    ) => graph(t, method, url, token, body, headers);
    const create = async (body: unknown = teamsEvent(), token = alice, path = '/v1.0/me/events', headers: Record<string, string> = {}) => {
      const res = await call('POST', path, token, body, headers);
      assert.equal(res.statusCode, 201, res.body);
      return res.json() as Json;
    };
    const expectError = (res: { statusCode: number; body: string }, status: number, code: string, message?: RegExp) => {
      assert.equal(res.statusCode, status, res.body);
      const error = (JSON.parse(res.body) as Json).error;
      assert.equal(error.code, code);
      if (message) assert.match(error.message, message);
      assert.ok(error.innerError['request-id']);
    };
    const meetingByJoinUrl = async (joinUrl: string, token = alice, path = '/v1.0/me/onlineMeetings') => {
      const res = await call('GET', `${path}?$filter=${encodeURIComponent(`JoinWebUrl eq '${joinUrl}'`)}`, token);
      assert.equal(res.statusCode, 200, res.body);
      return (res.json() as Json).value as Json[];
    };

    describe('create a Teams meeting as a scheduler does (§1.4, §3)', () => {
      test('delegated POST /me/events: 201, Graph defaults, onlineMeeting.joinUrl, the Teams block in the body', async () => {
        const e = await create();
        assert.match(e['@odata.context'], new RegExp(`/v1\\.0/\\$metadata#users\\('${C.alice.id}'\\)/events/\\$entity$`));
        assert.match(e.id, /^AAMkA[A-Za-z0-9_-]+=*$/);
        assert.equal(e.id.length, 152);
        assert.equal(e['@odata.etag'], `W/"${e.changeKey}"`);
        assert.match(e.iCalUId, /^040000008200E00074C5B7101A82E008[0-9A-F]{80}$/);
        assert.match(e.createdDateTime, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{7}Z$/);
        // §2.2: UTC out, seven digits, the zones that were sent kept as original*TimeZone.
        assert.deepEqual(e.start, { dateTime: '2030-11-20T21:00:00.0000000', timeZone: 'UTC' });
        assert.deepEqual(e.end, { dateTime: '2030-11-20T22:00:00.0000000', timeZone: 'UTC' });
        assert.equal(e.originalStartTimeZone, 'Pacific Standard Time');
        for (const [k, v] of Object.entries({
          transactionId: null,
          onlineMeetingUrl: null,
          isOnlineMeeting: true,
          onlineMeetingProvider: 'teamsForBusiness',
          importance: 'normal',
          sensitivity: 'normal',
          showAs: 'busy',
          type: 'singleInstance',
          isAllDay: false,
          isCancelled: false,
          isOrganizer: true,
          isDraft: false,
          hideAttendees: false,
          responseRequested: true,
          reminderMinutesBeforeStart: 15,
          isReminderOn: true,
          recurrence: null,
          seriesMasterId: null,
          hasAttachments: false,
        })) {
          assert.deepEqual(e[k], v, k);
        }
        assert.deepEqual(e.categories, []);
        assert.deepEqual(e.responseStatus, { response: 'organizer', time: '0001-01-01T00:00:00Z' });
        assert.deepEqual(e.organizer, { emailAddress: { name: C.alice.displayName, address: C.alice.upn } });
        assert.deepEqual(e.attendees, [
          {
            type: 'required',
            status: { response: 'none', time: '0001-01-01T00:00:00Z' },
            emailAddress: { name: 'Bob Baker', address: C.bob.upn },
          },
        ]);
        // §1.1: no location sent, so Teams names it.
        assert.equal(e.location.displayName, 'Microsoft Teams Meeting');
        assert.equal(e.webLink, `https://outlook.office365.com/owa/?itemid=${encodeURIComponent(e.id)}&exvsurl=1&path=/calendar/item`);
        // §3.3, §3.4
        assert.match(e.onlineMeeting.joinUrl, /\/l\/meetup-join\/19%3ameeting_[^/]+%40thread\.v2\/0\?context=/);
        assert.equal(e.onlineMeeting.tollNumber, '+14255550100');
        assert.match(e.onlineMeeting.conferenceId, /^\d+$/);
        assert.equal(e.body.contentType, 'html');
        assert.match(e.body.content, /^<html>/);
        assert.ok(e.body.content.includes('Does this time work for you?'));
        assert.ok(e.body.content.includes('Join Microsoft Teams Meeting'));
        assert.ok(e.body.content.includes(e.onlineMeeting.joinUrl));
        assert.match(e.bodyPreview, /^Does this time work for you\?\r\n/);
        assert.ok(e.bodyPreview.length <= 255);
      });

      test('the calendar-backed onlineMeeting: found by JoinWebUrl, organized by the owner, attendees and times from the event', async () => {
        const e = await create();
        const [m] = await meetingByJoinUrl(e.onlineMeeting.joinUrl);
        assert.ok(m);
        assert.equal(m.joinWebUrl, e.onlineMeeting.joinUrl);
        assert.equal(m.subject, 'Prep for customer meeting');
        assert.equal(m.startDateTime, '2030-11-20T21:00:00.0000000Z');
        assert.equal(m.endDateTime, '2030-11-20T22:00:00.0000000Z');
        assert.equal(m.participants.organizer.identity.user.id, C.alice.id);
        assert.deepEqual(
          m.participants.attendees.map((a: Json) => [a.upn, a.identity.user.id]),
          [[C.bob.upn, C.bob.id]],
        );
        // The meeting knows it is calendar-backed (artifacts spec §5.2), and by which event.
        const row = await t.testStore.store.db.selectFrom('meetings').select(['ical_uid']).where('id', '=', m.id).executeTakeFirstOrThrow();
        assert.equal(row.ical_uid, e.iCalUId);
        const plain = await call('POST', '/v1.0/me/onlineMeetings', alice, { subject: 'standalone' });
        const plainRow = await t.testStore.store.db
          .selectFrom('meetings')
          .select(['ical_uid'])
          .where('id', '=', plain.json().id)
          .executeTakeFirstOrThrow();
        assert.equal(plainRow.ical_uid, null);
      });

      test('app-only on every path form: /users/{upn}/calendar/events, /users/{id}/events, /users/{id}/calendars/{id}/events', async () => {
        const viaUpn = await create(teamsEvent({ subject: 'app' }), app, `/v1.0/users/${C.alice.upn}/calendar/events`);
        // §0.5: the path segment is echoed, @ percent-encoded.
        assert.match(viaUpn['@odata.context'], /#users\('alice%40contoso\.test'\)\/events\/\$entity$/);
        assert.equal(viaUpn.organizer.emailAddress.address, C.alice.upn);
        const viaId = await create(teamsEvent(), app, `/beta/users/${C.bob.id}/events`);
        assert.equal(viaId.organizer.emailAddress.address, C.bob.upn);
        // Events need no Teams application access policy (§5): Carol has none, the event is still online.
        const carol = await create(teamsEvent(), app, `/v1.0/users/${C.carol.id}/events`);
        assert.equal(carol.isOnlineMeeting, true);
        const cal = (await call('GET', `/v1.0/users/${C.alice.id}/calendar`, app)).json() as Json;
        const viaCalendar = await create(teamsEvent(), app, `/v1.0/users/${C.alice.id}/calendars/${cal.id}/events`);
        assert.equal(viaCalendar.isOnlineMeeting, true);
        // The organizer's meeting, looked up as the scheduler does (Teams policy needed there: Alice has one).
        const found = await meetingByJoinUrl(viaUpn.onlineMeeting.joinUrl, app, `/v1.0/users/${C.alice.id}/onlineMeetings`);
        assert.equal(found.length, 1);
        // GET on every path form.
        for (const path of [
          `/v1.0/users/${C.alice.upn}/events/`,
          `/v1.0/users/${C.alice.id}/calendar/events/`,
          `/v1.0/users/${C.alice.id}/calendars/${cal.id}/events/`,
        ]) {
          const res = await call('GET', `${path}${viaUpn.id}`, app);
          assert.equal(res.statusCode, 200, `${path}: ${res.body}`);
          assert.equal(res.json().id, viaUpn.id);
        }
      });

      test('isOnlineMeeting without a provider uses the calendar default; an event without it is not online', async () => {
        const n8n = await create(teamsEvent({ onlineMeetingProvider: undefined }));
        assert.equal(n8n.onlineMeetingProvider, 'teamsForBusiness');
        assert.ok(n8n.onlineMeeting.joinUrl);
        const offline = await create({
          subject: 'Lunch',
          start: teamsEvent().start,
          end: teamsEvent().end,
          body: { contentType: 'text', content: 'a < b' },
        });
        assert.equal(offline.isOnlineMeeting, false);
        assert.equal(offline.onlineMeetingProvider, 'unknown');
        assert.equal(offline.onlineMeeting, null);
        assert.equal(offline.location.displayName, '');
        assert.deepEqual(offline.locations, []);
        // §4.2: plain text comes back as escaped HTML.
        assert.ok(offline.body.content.includes('a &lt; b'));
        assert.equal(offline.bodyPreview, 'a < b');
      });

      test('location given: kept, mirrored into locations (§1.1)', async () => {
        const e = await create(teamsEvent({ location: { displayName: "Harry's Bar" } }));
        assert.deepEqual(e.location, {
          displayName: "Harry's Bar",
          locationType: 'default',
          uniqueIdType: 'private',
          uniqueId: "Harry's Bar",
        });
        assert.equal(e.locations.length, 1);
      });

      test('transactionId makes a create idempotent (§4.1)', async () => {
        const body = teamsEvent({ transactionId: 'txn-7f3a' });
        const first = await create(body);
        assert.equal(first.transactionId, 'txn-7f3a');
        const again = await create(body);
        assert.equal(again.id, first.id);
        assert.equal(again.onlineMeeting.joinUrl, first.onlineMeeting.joinUrl);
        const racing = await Promise.all(
          [1, 2, 3].map(() => call('POST', '/v1.0/me/events', alice, teamsEvent({ transactionId: 'txn-race' }))),
        );
        assert.deepEqual(
          racing.map((r) => r.statusCode),
          [201, 201, 201],
        );
        assert.equal(new Set(racing.map((r) => r.json().id)).size, 1);
        // Another mailbox may use the same transactionId.
        const bobs = await create(body, bob);
        assert.notEqual(bobs.id, first.id);
      });
    });

    describe('updates: the meeting follows (§3.5)', () => {
      test('reschedule, rename, change attendees: the same join link, the meeting moves with the event', async () => {
        const e = await create();
        const res = await call('PATCH', `/v1.0/me/events/${e.id}`, alice, {
          subject: 'Moved',
          start: { dateTime: '2030-11-21T09:00:00', timeZone: 'Europe/Berlin' },
          end: { dateTime: '2030-11-21T10:30:00', timeZone: 'Europe/Berlin' },
          attendees: [{ emailAddress: { address: C.carol.upn, name: 'Carol' }, type: 'optional' }],
        });
        assert.equal(res.statusCode, 200, res.body);
        const p = res.json() as Json;
        assert.equal(p.subject, 'Moved');
        assert.deepEqual(p.start, { dateTime: '2030-11-21T08:00:00.0000000', timeZone: 'UTC' });
        assert.equal(p.originalStartTimeZone, 'Europe/Berlin');
        assert.equal(p.onlineMeeting.joinUrl, e.onlineMeeting.joinUrl);
        assert.notEqual(p.changeKey, e.changeKey);
        assert.ok(p.lastModifiedDateTime >= e.lastModifiedDateTime);
        const [m] = await meetingByJoinUrl(e.onlineMeeting.joinUrl);
        assert.equal(m.subject, 'Moved');
        assert.equal(m.startDateTime, '2030-11-21T08:00:00.0000000Z');
        assert.equal(m.endDateTime, '2030-11-21T09:30:00.0000000Z');
        assert.deepEqual(
          m.participants.attendees.map((a: Json) => a.upn),
          [C.carol.upn],
        );
      });

      test('isOnlineMeeting false and provider changes are ignored (§3.1 one-way); a body without the link gets the block back', async () => {
        const e = await create();
        const res = await call('PATCH', `/v1.0/me/calendar/events/${e.id}`, alice, {
          isOnlineMeeting: false,
          onlineMeetingProvider: 'skypeForBusiness',
          body: { contentType: 'html', content: '<p>New agenda</p>' },
        });
        assert.equal(res.statusCode, 200, res.body);
        const p = res.json() as Json;
        assert.equal(p.isOnlineMeeting, true);
        assert.equal(p.onlineMeetingProvider, 'teamsForBusiness');
        assert.ok(p.body.content.includes('New agenda'));
        assert.ok(p.body.content.includes(e.onlineMeeting.joinUrl));
      });

      test('PATCH isOnlineMeeting true turns an event into a Teams meeting; read-only and unknown properties are ignored', async () => {
        const e = await create({ subject: 'Plain', start: teamsEvent().start, end: teamsEvent().end });
        const res = await call('PATCH', `/v1.0/me/events/${e.id}`, alice, {
          isOnlineMeeting: true,
          onlineMeetingProvider: 'teamsForBusiness',
          id: 'ignored',
          iCalUId: 'ignored',
          organizer: { emailAddress: { address: 'mallory@evil.test' } },
          transactionId: 'late',
          somethingElse: 1,
        });
        assert.equal(res.statusCode, 200, res.body);
        const p = res.json() as Json;
        assert.equal(p.id, e.id);
        assert.equal(p.iCalUId, e.iCalUId);
        assert.equal(p.organizer.emailAddress.address, C.alice.upn);
        assert.equal(p.transactionId, null);
        assert.ok(p.onlineMeeting.joinUrl);
        assert.equal((await meetingByJoinUrl(p.onlineMeeting.joinUrl)).length, 1);
      });

      test('cancel: 202, the event is gone, the meeting stays findable and is marked cancelled (§3.6)', async () => {
        const e = await create();
        const res = await call('POST', `/v1.0/me/events/${e.id}/cancel`, alice, { Comment: 'Sorry, cancelled' });
        assert.equal(res.statusCode, 202, res.body);
        assert.equal(res.body, '');
        expectError(
          await call('GET', `/v1.0/me/events/${e.id}`),
          404,
          'ErrorItemNotFound',
          /^The specified object was not found in the store\.$/,
        );
        const [m] = await meetingByJoinUrl(e.onlineMeeting.joinUrl);
        assert.ok(m);
        const row = await t.testStore.store.db.selectFrom('meetings').select(['resource']).where('id', '=', m.id).executeTakeFirstOrThrow();
        assert.match(JSON.parse(row.resource).calendarEvent.cancelledDateTime, /Z$/);
        expectError(await call('POST', `/v1.0/me/events/${e.id}/cancel`, alice, {}), 404, 'ErrorItemNotFound');
      });

      test('delete: 204 on every path form, then ErrorItemNotFound', async () => {
        const cal = (await call('GET', '/v1.0/me/calendar')).json() as Json;
        for (const path of [
          '/v1.0/me/events',
          '/v1.0/me/calendar/events',
          `/v1.0/me/calendars/${cal.id}/events`,
          `/v1.0/users/${C.alice.id}/events`,
        ]) {
          const e = await create();
          const res = await call('DELETE', `${path}/${e.id}`);
          assert.equal(res.statusCode, 204, `${path}: ${res.body}`);
          expectError(await call('DELETE', `${path}/${e.id}`), 404, 'ErrorItemNotFound');
          assert.equal((await meetingByJoinUrl(e.onlineMeeting.joinUrl)).length, 1);
        }
      });
    });

    describe('time zones (§2)', () => {
      test('IANA in, Windows in, offsets honoured, 7 digits kept; Prefer: outlook.timezone out with Preference-Applied', async () => {
        const e = await create({
          subject: 'tz',
          start: { dateTime: '2030-03-01T09:00:00.1234567', timeZone: 'Europe/London' },
          end: { dateTime: '2030-03-01T10:00:00-05:00', timeZone: 'Tokyo Standard Time' },
        });
        assert.deepEqual(e.start, { dateTime: '2030-03-01T09:00:00.1234567', timeZone: 'UTC' });
        assert.deepEqual(e.end, { dateTime: '2030-03-01T15:00:00.0000000', timeZone: 'UTC' });
        for (const [zone, start] of [
          ['Pacific Standard Time', '2030-03-01T01:00:00.1234567'],
          ['Asia/Kolkata', '2030-03-01T14:30:00.1234567'],
          ['UTC', '2030-03-01T09:00:00.1234567'],
        ] as const) {
          const res = await call('GET', `/v1.0/me/events/${e.id}`, alice, undefined, { prefer: `outlook.timezone="${zone}"` });
          assert.equal(res.statusCode, 200, res.body);
          assert.deepEqual(res.json().start, { dateTime: start, timeZone: zone });
          assert.equal(res.headers['preference-applied'], `outlook.timezone="${zone}"`);
        }
        // Honoured on POST too (current create docs, §2.2).
        const posted = await create(teamsEvent(), alice, '/v1.0/me/events', { prefer: 'outlook.timezone="Pacific Standard Time"' });
        assert.deepEqual(posted.start, { dateTime: '2030-11-20T13:00:00.0000000', timeZone: 'Pacific Standard Time' });
      });

      test('daylight saving: the same wall time maps to different UTC times in winter and summer', async () => {
        const winter = await create({
          start: { dateTime: '2030-01-15T09:00:00', timeZone: 'W. Europe Standard Time' },
          end: { dateTime: '2030-01-15T10:00:00', timeZone: 'W. Europe Standard Time' },
        });
        const summer = await create({
          start: { dateTime: '2030-07-15T09:00:00', timeZone: 'W. Europe Standard Time' },
          end: { dateTime: '2030-07-15T10:00:00', timeZone: 'W. Europe Standard Time' },
        });
        assert.equal(winter.start.dateTime, '2030-01-15T08:00:00.0000000');
        assert.equal(summer.start.dateTime, '2030-07-15T07:00:00.0000000');
      });

      test('unknown zones get TimeZoneNotSupportedException, in the body and in Prefer', async () => {
        const res = await call(
          'POST',
          '/v1.0/me/events',
          alice,
          teamsEvent({ start: { dateTime: '2030-01-01T10:00:00', timeZone: 'Greenwich Mean Time' } }),
        );
        expectError(
          res,
          400,
          'TimeZoneNotSupportedException',
          /^A valid TimeZone value must be specified\. The following TimeZone value is not supported: 'Greenwich Mean Time'\.$/,
        );
        for (const prefer of ['outlook.timezone="undefined"', 'outlook.timezone="[]"', 'outlook.timezone="GMT+6:30"']) {
          expectError(await call('GET', '/v1.0/me/events', alice, undefined, { prefer }), 400, 'TimeZoneNotSupportedException');
        }
        // Nothing was created by the refused POST.
        const before = (await call('GET', '/v1.0/me/events?$count=true&$top=1')).json()['@odata.count'];
        expectError(
          await call('POST', '/v1.0/me/events', alice, teamsEvent(), { prefer: 'outlook.timezone="Nowhere/City"' }),
          400,
          'TimeZoneNotSupportedException',
        );
        assert.equal((await call('GET', '/v1.0/me/events?$count=true&$top=1')).json()['@odata.count'], before);
      });

      test('all-day events: midnight to midnight in any zone; not midnight or under a day is refused (§2.4)', async () => {
        const e = await create({
          subject: 'Offsite',
          isAllDay: true,
          start: { dateTime: '2030-10-24', timeZone: 'W. Europe Standard Time' },
          end: { dateTime: '2030-10-26', timeZone: 'W. Europe Standard Time' },
        });
        assert.deepEqual(e.start, { dateTime: '2030-10-24T00:00:00.0000000', timeZone: 'UTC' });
        assert.deepEqual(e.end, { dateTime: '2030-10-26T00:00:00.0000000', timeZone: 'UTC' });
        const prefer = await call('GET', `/v1.0/me/events/${e.id}`, alice, undefined, { prefer: 'outlook.timezone="Tokyo Standard Time"' });
        assert.deepEqual(prefer.json().start, { dateTime: '2030-10-24T00:00:00.0000000', timeZone: 'Tokyo Standard Time' });
        // §2.3: stored as the zone's midnight in UTC (2030-10-23T22:00Z), so a UTC-midnight filter misses it.
        const filtered = await call(
          'GET',
          `/v1.0/me/events?$filter=${encodeURIComponent("start/dateTime ge '2030-10-24T00:00:00' and subject eq 'x'".replace(" and subject eq 'x'", ''))}&$select=subject`,
        );
        assert.ok(!filtered.json().value.some((v: Json) => v.id === e.id));
        const at = (d: string) => ({ dateTime: d, timeZone: 'UTC' });
        expectError(
          await call('POST', '/v1.0/me/events', alice, {
            isAllDay: true,
            start: at('2030-10-24T10:00:00'),
            end: at('2030-10-25T10:00:00'),
          }),
          400,
          'ErrorPropertyValidationFailure',
        );
        expectError(
          await call('POST', '/v1.0/me/events', alice, { isAllDay: true, start: at('2030-10-24'), end: at('2030-10-24') }),
          400,
          'ErrorPropertyValidationFailure',
        );
      });
    });

    describe('lists, paging and calendarView (§4.3, §4.4)', () => {
      let owner: string;
      let ids: string[];
      before(async () => {
        // Dave (Fabrikam) has an empty calendar: the scheduler fills it with 23 events, one a day.
        owner = DEMO.fabrikam.dave.id;
        ids = [];
        for (let i = 0; i < 23; i++) {
          const day = String(i + 1).padStart(2, '0');
          const e = await create(
            {
              subject: `Day ${day}`,
              isOnlineMeeting: i % 2 === 0,
              start: { dateTime: `2031-01-${day}T10:00:00`, timeZone: 'UTC' },
              end: { dateTime: `2031-01-${day}T11:00:00`, timeZone: 'UTC' },
            },
            fabrikamApp,
            `/v1.0/users/${owner}/events`,
          );
          ids.push(e.id);
        }
      });

      test('default page of 10 with a skip-based @odata.nextLink, followed to the end', async () => {
        const seen: string[] = [];
        let url: string | undefined = `/v1.0/users/${owner}/events`;
        let pages = 0;
        while (url) {
          const res = await call('GET', url, fabrikamApp);
          assert.equal(res.statusCode, 200, res.body);
          const body = res.json() as Json;
          if (pages === 0) assert.match(body['@odata.context'], new RegExp(`#users\\('${owner}'\\)/events$`));
          seen.push(...body.value.map((v: Json) => v.id));
          pages++;
          const next: string | undefined = body['@odata.nextLink'];
          if (next) assert.match(next, /\$skip=\d+$/);
          url = next && relative(next);
        }
        assert.equal(pages, 3);
        assert.deepEqual(seen, ids);
      });

      test('$top, $skip, $select (id and @odata.etag always), $orderby desc, $count', async () => {
        const res = await call(
          'GET',
          `/v1.0/users/${owner}/events?$top=5&$skip=2&$select=subject,start&$orderby=start/dateTime desc&$count=true`,
          fabrikamApp,
        );
        assert.equal(res.statusCode, 200, res.body);
        const body = res.json() as Json;
        assert.equal(body['@odata.count'], 23);
        assert.match(body['@odata.context'], /\/events\(subject,start\)$/);
        assert.deepEqual(
          body.value.map((v: Json) => v.subject),
          ['Day 21', 'Day 20', 'Day 19', 'Day 18', 'Day 17'],
        );
        assert.deepEqual(Object.keys(body.value[0]).sort(), ['@odata.etag', 'id', 'start', 'subject']);
        assert.match(body['@odata.nextLink'], /\$top=5&\$select=subject,start&\$orderby=start\/dateTime%20desc&\$count=true&\$skip=7$/);
        const huge = await call('GET', `/v1.0/users/${owner}/events?$top=100000`, fabrikamApp);
        assert.equal(huge.json().value.length, 23);
        assert.equal(huge.json()['@odata.nextLink'], undefined);
      });

      test('$filter on start/dateTime and end/dateTime (as pnp CLI sends it), isOnlineMeeting, isOrganizer', async () => {
        const filter = "start/dateTime ge '2031-01-05T00:00:00' and end/dateTime lt '2031-01-08T00:00:00Z' and isOrganizer eq true";
        const res = await call(
          'GET',
          `/v1.0/users/${owner}/events?$filter=${encodeURIComponent(filter)}&$select=onlineMeeting`,
          fabrikamApp,
        );
        assert.equal(res.statusCode, 200, res.body);
        assert.deepEqual(
          res.json().value.map((v: Json) => v.id),
          ids.slice(4, 7),
        );
        const online = await call('GET', `/v1.0/users/${owner}/events?$top=100&$filter=isOnlineMeeting eq true`, fabrikamApp);
        assert.equal(online.json().value.length, 12);
        assert.ok(online.json().value.every((v: Json) => v.onlineMeeting.joinUrl));
        const none = await call('GET', `/v1.0/users/${owner}/events?$filter=isOrganizer eq false`, fabrikamApp);
        assert.deepEqual(none.json().value, []);
      });

      test('malformed or unsupported $filter/$orderby/$top get 400s', async () => {
        const base = `/v1.0/users/${owner}/events`;
        expectError(
          await call('GET', `${base}?$orderby=start`, fabrikamApp),
          400,
          'BadRequest',
          /must evaluate to a single value of primitive type/,
        );
        expectError(await call('GET', `${base}?$orderby=nonsense`, fabrikamApp), 400, 'BadRequest');
        expectError(
          await call('GET', `${base}?$filter=${encodeURIComponent("start/dateTime ge '2031")}`, fabrikamApp),
          400,
          'BadRequest',
          /Invalid filter clause/,
        );
        expectError(
          await call('GET', `${base}?$filter=${encodeURIComponent("contains(subject,'x')")}`, fabrikamApp),
          400,
          'BadRequest',
          /This filter query is not supported\./,
        );
        expectError(
          await call('GET', `${base}?$filter=${encodeURIComponent("subject eq 'x' or subject eq 'y'")}`, fabrikamApp),
          400,
          'BadRequest',
        );
        expectError(
          await call('GET', `${base}?$filter=${encodeURIComponent("start/dateTime ge 'tomorrow'")}`, fabrikamApp),
          400,
          'BadRequest',
        );
        expectError(await call('GET', `${base}?$top=-1`, fabrikamApp), 400, 'BadRequest');
        expectError(await call('GET', `${base}?$expand=attachments`, fabrikamApp), 400, 'BadRequest');
        expectError(await call('GET', `${base}?$select=nope`, fabrikamApp), 400, 'BadRequest', /Could not find a property named 'nope'/);
      });

      test('calendarView: overlap, offsets in the window, Prefer zone in the output, nextLink keeps the window', async () => {
        // 2031-01-03T10:00Z–11:00Z and 01-04 overlap 2031-01-03T11:30+01:00 (10:30Z) .. 2031-01-04T10:30Z.
        const q = `startDateTime=${encodeURIComponent('2031-01-03T11:30:00+01:00')}&endDateTime=2031-01-04T10:30:00Z`;
        for (const path of ['calendarView', 'calendar/calendarView']) {
          const res = await call('GET', `/v1.0/users/${owner}/${path}?${q}`, fabrikamApp, undefined, {
            prefer: 'outlook.timezone="Eastern Standard Time"',
          });
          assert.equal(res.statusCode, 200, res.body);
          const body = res.json() as Json;
          assert.match(body['@odata.context'], /\/calendarView$/);
          assert.deepEqual(
            body.value.map((v: Json) => v.subject),
            ['Day 03', 'Day 04'],
          );
          assert.deepEqual(body.value[0].start, { dateTime: '2031-01-03T05:00:00.0000000', timeZone: 'Eastern Standard Time' });
        }
        const paged = await call(
          'GET',
          `/v1.0/users/${owner}/calendarView?startDateTime=2031-01-01T00:00:00Z&endDateTime=2031-02-01T00:00:00Z&$top=20`,
          fabrikamApp,
        );
        const next = paged.json()['@odata.nextLink'] as string;
        assert.match(next, /startDateTime=2031-01-01T00:00:00Z&endDateTime=2031-02-01T00:00:00Z&\$top=20&\$skip=20$/);
        const rest = await call('GET', relative(next), fabrikamApp);
        assert.deepEqual(
          rest.json().value.map((v: Json) => v.subject),
          ['Day 21', 'Day 22', 'Day 23'],
        );
      });

      test("calendarView without its window: ErrorInvalidParameter with Graph's message", async () => {
        for (const q of ['', '?startDateTime=2031-01-01T00:00:00Z', '?endDateTime=2031-01-01T00:00:00Z']) {
          expectError(
            await call('GET', `/v1.0/users/${owner}/calendarView${q}`, fabrikamApp),
            400,
            'ErrorInvalidParameter',
            /^This request requires a time window specified by the query string parameters StartDateTime and EndDateTime\.$/,
          );
        }
        expectError(
          await call('GET', `/v1.0/users/${owner}/calendarView?startDateTime=yesterday&endDateTime=2031-01-01`, fabrikamApp),
          400,
          'ErrorInvalidParameter',
        );
      });
    });

    describe('calendar and mailboxSettings (§1.3, §10)', () => {
      test('GET /me/calendar, /me/calendars, /me/calendars/{id}: the default calendar with its online meeting providers', async () => {
        const cal = await call('GET', '/v1.0/me/calendar');
        assert.equal(cal.statusCode, 200, cal.body);
        const c = cal.json() as Json;
        assert.match(c['@odata.context'], /#users\('[^']+'\)\/calendar\/\$entity$/);
        assert.equal(c.id.length, 120);
        assert.deepEqual(c.allowedOnlineMeetingProviders, ['teamsForBusiness']);
        assert.equal(c.defaultOnlineMeetingProvider, 'teamsForBusiness');
        assert.equal(c.isDefaultCalendar, true);
        assert.deepEqual(c.owner, { name: C.alice.displayName, address: C.alice.upn });
        const list = (await call('GET', '/v1.0/me/calendars?$select=id,name,isDefaultCalendar,canEdit')).json() as Json;
        assert.deepEqual(list.value, [{ id: c.id, name: 'Calendar', isDefaultCalendar: true, canEdit: true }]);
        assert.equal((await call('GET', `/v1.0/me/calendars/${c.id}`)).json().id, c.id);
        // Another mailbox's calendar id, or an invented folder id, is not found; garbage is malformed.
        const bobs = (await call('GET', '/v1.0/me/calendar', bob)).json() as Json;
        expectError(await call('GET', `/v1.0/me/calendars/${bobs.id}/events`), 404, 'ErrorItemNotFound');
        expectError(await call('GET', '/v1.0/me/calendars/not-an-id/events'), 400, 'ErrorInvalidIdMalformed', /^Id is malformed\.$/);
      });

      test('GET /me/mailboxSettings and /me/mailboxSettings/timeZone', async () => {
        const s = await call('GET', '/v1.0/me/mailboxSettings');
        assert.equal(s.statusCode, 200, s.body);
        assert.equal(s.json().timeZone, 'UTC');
        const tz = await call('GET', '/v1.0/me/mailboxSettings/timeZone');
        assert.deepEqual(tz.json().value, 'UTC');
        assert.match(tz.json()['@odata.context'], /\/mailboxSettings\/timeZone$/);
        assert.equal((await call('GET', `/v1.0/users/${C.bob.id}/mailboxSettings/timeZone`, app)).statusCode, 200);
      });
    });

    describe('permissions and isolation (§5, §6)', () => {
      test('an app token on /me gets 400 BadRequest; a token without Calendars permission 403 ErrorAccessDenied', async () => {
        expectError(
          await call('GET', '/v1.0/me/events', app),
          400,
          'BadRequest',
          /^\/me request is only valid with delegated authentication flow\.$/,
        );
        const meetingsOnly = await t.userToken(C.alice.upn, ['OnlineMeetings.ReadWrite']);
        expectError(
          await call('GET', '/v1.0/me/events', meetingsOnly),
          403,
          'ErrorAccessDenied',
          /^Access is denied\. Check credentials and try again\.$/,
        );
      });

      test("a delegated user cannot reach another user's calendar or events", async () => {
        const e = await create();
        expectError(await call('GET', `/v1.0/users/${C.alice.id}/events/${e.id}`, bob), 403, 'ErrorAccessDenied');
        expectError(await call('GET', `/v1.0/me/events/${e.id}`, bob), 404, 'ErrorItemNotFound');
        expectError(await call('PATCH', `/v1.0/me/events/${e.id}`, bob, { subject: 'x' }), 404, 'ErrorItemNotFound');
        expectError(await call('DELETE', `/v1.0/me/events/${e.id}`, bob), 404, 'ErrorItemNotFound');
        expectError(await call('POST', `/v1.0/users/${C.alice.id}/events`, bob, teamsEvent()), 403, 'ErrorAccessDenied');
      });

      test("another tenant's app sees neither the user nor the event", async () => {
        const e = await create();
        expectError(await call('GET', `/v1.0/users/${C.alice.id}/events/${e.id}`, fabrikamApp), 404, 'ErrorInvalidUser');
        expectError(await call('GET', `/v1.0/users/${C.alice.upn}/events`, fabrikamApp), 404, 'ErrorInvalidUser');
        expectError(await call('GET', `/v1.0/users/${DEMO.fabrikam.dave.id}/events/${e.id}`, fabrikamApp), 404, 'ErrorItemNotFound');
      });
    });

    describe("bad input gets Outlook's errors, never a 500 (§6)", () => {
      test('malformed ids: ErrorInvalidIdMalformed; well-formed unknown ids: ErrorItemNotFound', async () => {
        const e = await create();
        for (const bad of [
          'abc',
          'AAMkA',
          e.id.slice(0, 100),
          `${e.id}x`,
          e.id.replace(/-/g, '/').replace(/_/g, '+').replace(/\//g, '%2F'),
          '%00',
          'A'.repeat(3000),
        ]) {
          const res = await call('GET', `/v1.0/me/events/${bad}`);
          assert.ok(res.statusCode === 400 || res.statusCode === 414, `${bad}: ${res.body}`);
          if (res.statusCode === 400) assert.equal(res.json().error.code, 'ErrorInvalidIdMalformed', bad);
        }
        // Alice's own id with the last entry bytes changed is well-formed but unknown.
        const unknown = `${e.id.slice(0, 140)}${e.id.slice(140, 148) === 'AAAAAAAA' ? 'BBBBBBBB' : 'AAAAAAAA'}${e.id.slice(148)}`;
        expectError(await call('GET', `/v1.0/me/events/${unknown}`), 404, 'ErrorItemNotFound');
        // A calendar id where an event id belongs.
        const cal = (await call('GET', '/v1.0/me/calendar')).json() as Json;
        expectError(await call('GET', `/v1.0/me/events/${cal.id}`), 400, 'ErrorInvalidIdMalformed');
      });

      test('wrong JSON types and unknown enum members: UnableToDeserializePostBody; a missing Content-Type too', async () => {
        for (const body of [
          { subject: 42 },
          { isOnlineMeeting: 'yes' },
          { showAs: 'sleeping' },
          { start: '2030-01-01T10:00:00' },
          { start: { dateTime: 20300101 } },
          { start: { dateTime: '14/03/2021', timeZone: 'UTC' } },
          { attendees: { emailAddress: {} } },
          { attendees: [{ emailAddress: { address: 5 } }] },
          { body: { contentType: 'markdown', content: 'x' } },
          { reminderMinutesBeforeStart: 1.5 },
          [1, 2],
        ]) {
          const payload = Array.isArray(body) ? body : teamsEvent(body);
          expectError(
            await call('POST', '/v1.0/me/events', alice, payload),
            400,
            'UnableToDeserializePostBody',
            /^were unable to deserialize $/,
          );
        }
        const noType = await t.inject({
          method: 'POST',
          url: '/v1.0/me/events',
          headers: { authorization: `Bearer ${alice}` },
          payload: JSON.stringify(teamsEvent()),
        });
        expectError(noType, 400, 'UnableToDeserializePostBody');
        const textType = await t.inject({
          method: 'POST',
          url: '/v1.0/me/events',
          headers: { authorization: `Bearer ${alice}`, 'content-type': 'text/plain' },
          payload: 'x',
        });
        expectError(textType, 400, 'UnableToDeserializePostBody');
        const broken = await t.inject({
          method: 'POST',
          url: '/v1.0/me/events',
          headers: { authorization: `Bearer ${alice}`, 'content-type': 'application/json' },
          payload: '{"subject":',
        });
        expectError(broken, 400, 'UnableToDeserializePostBody');
      });

      test('end before start, missing times, over-long values, too many attendees: ErrorPropertyValidationFailure', async () => {
        const at = (d: string) => ({ dateTime: d, timeZone: 'UTC' });
        for (const body of [
          { start: at('2030-01-01T10:00:00'), end: at('2030-01-01T09:59:59') },
          { subject: 'no times' },
          teamsEvent({ subject: 'x'.repeat(256) }),
          teamsEvent({ attendees: Array.from({ length: 501 }, (_, i) => ({ emailAddress: { address: `u${i}@example.test` } })) }),
          teamsEvent({ attendees: [{ emailAddress: { name: 'no address' } }] }),
        ]) {
          expectError(
            await call('POST', '/v1.0/me/events', alice, body),
            400,
            'ErrorPropertyValidationFailure',
            /^At least one property failed validation\.$/,
          );
        }
        // Start equal to end is accepted (§4.1).
        await create({ start: at('2030-01-01T10:00:00'), end: at('2030-01-01T10:00:00') });
        const e = await create();
        expectError(
          await call('PATCH', `/v1.0/me/events/${e.id}`, alice, { end: at('2000-01-01T00:00:00') }),
          400,
          'ErrorPropertyValidationFailure',
        );
      });

      test('unknown methods get 405; unknown paths 404', async () => {
        const e = await create();
        assert.equal((await call('PUT' as 'GET', `/v1.0/me/events/${e.id}`)).statusCode, 405);
        assert.equal((await call('DELETE', '/v1.0/me/events')).statusCode, 405);
        assert.equal((await call('GET', `/v1.0/me/events/${e.id}/cancel`)).statusCode, 405);
        assert.equal((await call('GET', `/v1.0/me/events/${e.id}/attachments`)).statusCode, 404);
      });
    });
  });
}
