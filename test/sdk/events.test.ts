/**
 * Calendar-backed Teams meetings through the official clients (Kiota @microsoft/msgraph-sdk with
 * @microsoft/msgraph-sdk-users, and graph-client v3, in the NODE_EXTRA_CA_CERTS worker): create an event
 * with a Teams meeting as a scheduler does (delegated and app-only), read onlineMeeting.joinUrl, find the
 * onlineMeeting by it, reschedule and see the meeting follow, list with paging and calendarView across
 * time zones, cancel and delete (graph-events-spec.md §3, §4; issue #16 "Done when").
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DEMO_APP, SdkCallError, startSdkWorker, type CredentialSpec, type SdkWorker } from '../helpers/sdk-worker-client.js';
import { STORES } from '../helpers/stores.js';
import type { Ops } from './protocol.js';
import { DEMO, startTestApp, type TestApp } from '../helpers/test-app.js';

const C = DEMO.contoso;
type EventsArgs = Ops['kiotaEventsTraced']['args'];
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- parsed JSON under test
type Json = any;

/** Alice through the demo Meeting Client, with the calendar scope it is consented to (README demo directory). */
const ALICE: CredentialSpec = {
  type: 'user',
  tenant: C.tenantId,
  clientId: C.client.clientId,
  username: C.alice.upn,
  password: DEMO.password,
  scopes: ['https://graph.microsoft.com/Calendars.ReadWrite', 'https://graph.microsoft.com/OnlineMeetings.ReadWrite'],
};

const schedulerEvent = (subject: string) => ({
  subject,
  body: { contentType: 'html', content: '<p>Agenda</p>' },
  start: { dateTime: '2030-05-02T09:00:00', timeZone: 'Europe/London' },
  end: { dateTime: '2030-05-02T09:30:00', timeZone: 'Europe/London' },
  attendees: [{ emailAddress: { address: C.bob.upn, name: 'Bob Baker' }, type: 'required' }],
  isOnlineMeeting: true,
  allowNewTimeProposals: true,
  onlineMeetingProvider: 'teamsForBusiness',
});

for (const kind of STORES) {
  describe(`${kind}: Outlook events through Kiota and graph-client v3`, () => {
    let t: TestApp;
    let w: SdkWorker;
    let origin: string;
    before(async () => {
      t = await startTestApp(kind, { listen: true });
      origin = t.origin;
      w = await startSdkWorker(t.caPath);
    });
    after(async () => {
      await w?.close();
      await t?.close();
    });

    const kiota = (cred: CredentialSpec, userId: string | undefined, action: EventsArgs['action'], rest: Partial<EventsArgs> = {}) =>
      w.call('kiotaEventsTraced', { origin, cred, userId, action, ...rest });
    const v3 = async (
      cred: CredentialSpec,
      method: 'get' | 'post' | 'patch' | 'delete',
      path: string,
      body?: unknown,
      headers?: Record<string, string>,
      filter?: string,
    ) => w.call('v3RequestTraced', { origin, cred, method, path, body, headers, ...(filter ? { filter } : {}) });

    for (const [label, cred, userId] of [
      ['Kiota, delegated Alice (graph.me.events)', ALICE, undefined],
      ['Kiota, app-only Meeting Scheduler (graph.users.byUserId(alice).events)', DEMO_APP, C.alice.id],
    ] as const) {
      test(`${label}: create a Teams event, find its meeting by joinUrl, reschedule, cancel`, async () => {
        const created = await kiota(cred, userId, 'create', { body: schedulerEvent(`Kiota ${label}`) });
        assert.equal(created.wire.status, 201, JSON.stringify(created.wire.body));
        const event = created.body as Json;
        // Kiota's Event model took every property (nothing unknown left in additionalData but the annotations).
        assert.deepEqual(
          Object.keys(event.additionalData ?? {}).filter((k) => !k.startsWith('@odata')),
          [],
        );
        assert.equal(event.isOnlineMeeting, true);
        assert.equal(event.onlineMeetingProvider, 'teamsForBusiness');
        assert.deepEqual(event.start, { dateTime: '2030-05-02T08:00:00.0000000', timeZone: 'UTC' });
        const joinUrl = event.onlineMeeting.joinUrl as string;
        assert.match(joinUrl, /\/l\/meetup-join\/19%3ameeting_/);

        // The scheduler's next step (§3.7): find the onlineMeeting by that URL, through v3's own .filter().
        const path = userId === undefined ? '/me/onlineMeetings' : `/users/${userId}/onlineMeetings`;
        const found = await v3(cred, 'get', path, undefined, undefined, `JoinWebUrl eq '${joinUrl}'`);
        const meeting = (found.result as Json).value[0];
        assert.equal(meeting.joinWebUrl, joinUrl);
        assert.equal(meeting.startDateTime, '2030-05-02T08:00:00.0000000Z');

        // Reschedule in another zone through Kiota; the meeting follows, the link stays.
        const moved = await kiota(cred, userId, 'patch', {
          eventId: event.id,
          body: {
            start: { dateTime: '2030-05-03T10:00:00', timeZone: 'Pacific Standard Time' },
            end: { dateTime: '2030-05-03T11:00:00', timeZone: 'Pacific Standard Time' },
          },
          headers: { Prefer: 'outlook.timezone="Pacific Standard Time"' },
        });
        assert.equal(moved.wire.status, 200);
        assert.equal(moved.wire.headers['preference-applied'], 'outlook.timezone="Pacific Standard Time"');
        assert.equal((moved.body as Json).start.dateTime, '2030-05-03T10:00:00.0000000');
        assert.equal((moved.body as Json).onlineMeeting.joinUrl, joinUrl);
        const followed = await v3(cred, 'get', `${path}/${meeting.id}`);
        assert.equal((followed.result as Json).startDateTime, '2030-05-03T17:00:00.0000000Z');

        const got = await kiota(cred, userId, 'get', { eventId: event.id });
        assert.equal((got.body as Json).iCalUId, event.iCalUId);

        const cancelled = await kiota(cred, userId, 'cancel', { eventId: event.id, body: { comment: 'Cancelled by the scheduler' } });
        assert.equal(cancelled.wire.status, 202);
        await assert.rejects(kiota(cred, userId, 'get', { eventId: event.id }), (err: unknown) => {
          assert.ok(err instanceof SdkCallError);
          assert.equal(err.sdkError.statusCode, 404);
          assert.equal(err.sdkError.code, 'ErrorItemNotFound');
          return true;
        });
      });
    }

    test('graph-client v3: create (delegated and app-only), delete, and Outlook errors as GraphError', async () => {
      const mine = (await v3(ALICE, 'post', '/me/events', schedulerEvent('v3 delegated'))).result as Json;
      assert.ok(mine.onlineMeeting.joinUrl);
      const apps = (await v3(DEMO_APP, 'post', `/users/${C.alice.upn}/calendar/events`, schedulerEvent('v3 app'))).result as Json;
      assert.ok(apps.onlineMeeting.joinUrl);
      const deleted = await v3(DEMO_APP, 'delete', `/users/${C.alice.id}/events/${apps.id}`);
      assert.equal(deleted.wire.status, 204);
      await assert.rejects(v3(ALICE, 'get', '/me/events/not-an-id'), (err: unknown) => {
        assert.ok(err instanceof SdkCallError);
        assert.equal(err.sdkError.kind, 'GraphError');
        assert.equal(err.sdkError.statusCode, 400);
        assert.equal(err.sdkError.code, 'ErrorInvalidIdMalformed');
        return true;
      });
      await assert.rejects(v3(ALICE, 'get', '/me/calendarView'), (err: unknown) => {
        assert.ok(err instanceof SdkCallError);
        assert.equal(err.sdkError.code, 'ErrorInvalidParameter');
        return true;
      });
      await assert.rejects(v3(DEMO_APP, 'get', '/me/events'), (err: unknown) => {
        assert.ok(err instanceof SdkCallError);
        assert.equal(err.sdkError.statusCode, 400);
        return true;
      });
    });

    test('Kiota: list with $top/$select/$filter/$orderby, follow @odata.nextLink with withUrl, calendarView across zones, calendar', async () => {
      const bob = C.bob.id;
      for (let i = 1; i <= 7; i++) {
        const r = await kiota(DEMO_APP, bob, 'create', {
          body: {
            subject: `Standup ${i}`,
            start: { dateTime: `2032-02-0${i}T09:00:00`, timeZone: 'Tokyo Standard Time' },
            end: { dateTime: `2032-02-0${i}T09:15:00`, timeZone: 'Tokyo Standard Time' },
            isOnlineMeeting: i % 2 === 1,
          },
        });
        assert.equal(r.wire.status, 201);
      }
      const first = await kiota(DEMO_APP, bob, 'list', {
        query: { top: 3, select: ['subject', 'start'], filter: "start/dateTime ge '2032-02-01T00:00:00Z'", orderby: ['start/dateTime'] },
      });
      const page1 = first.body as Json;
      assert.deepEqual(
        page1.value.map((e: Json) => e.subject),
        ['Standup 1', 'Standup 2', 'Standup 3'],
      );
      const subjects: string[] = page1.value.map((e: Json) => e.subject);
      let next: string | undefined = page1.odataNextLink;
      assert.ok(next, JSON.stringify(page1));
      while (next) {
        const page = (await kiota(DEMO_APP, bob, 'nextPage', { url: next })).body as Json;
        subjects.push(...page.value.map((e: Json) => e.subject));
        next = page.odataNextLink;
      }
      assert.deepEqual(
        subjects,
        [1, 2, 3, 4, 5, 6, 7].map((i) => `Standup ${i}`),
      );

      // 09:00 Tokyo is 00:00 UTC: a window given in New York time (UTC-5) that spans 2032-02-02 00:00Z..2032-02-04 00:00Z.
      const view = await kiota(DEMO_APP, bob, 'calendarView', {
        query: { startDateTime: '2032-02-01T19:00:00-05:00', endDateTime: '2032-02-03T19:00:00-05:00' },
        headers: { Prefer: 'outlook.timezone="Tokyo Standard Time"' },
      });
      const events = (view.body as Json).value as Json[];
      assert.deepEqual(
        events.map((e) => e.subject),
        ['Standup 2', 'Standup 3'],
      );
      assert.deepEqual(events[0].start, { dateTime: '2032-02-02T09:00:00.0000000', timeZone: 'Tokyo Standard Time' });

      const calendar = (await kiota(DEMO_APP, bob, 'calendar')).body as Json;
      assert.deepEqual(calendar.allowedOnlineMeetingProviders, ['teamsForBusiness']);
      assert.equal(calendar.defaultOnlineMeetingProvider, 'teamsForBusiness');
      const settings = (await kiota(DEMO_APP, bob, 'mailboxSettings')).body as Json;
      assert.equal(settings.timeZone, 'UTC');
    });
  });
}
