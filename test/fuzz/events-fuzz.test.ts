/**
 * The fixed-seed fuzz slice for the Outlook calendar routes (issue #16): generated event bodies (known
 * properties with any JSON, date-times and zone names of every shape), event and calendar ids, $filter,
 * $orderby, $top/$skip/$select, calendarView windows and Prefer headers, on every path form and method.
 * No request may get a 5xx, every error must be in Graph's envelope, and the reference event (and its
 * Teams meeting) must not change. A failure prints fast-check's shrunk counterexample.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { STORES } from '../helpers/stores.js';
import { DEMO, graph, startTestApp, type TestApp } from '../helpers/test-app.js';
import { anyJsonArb, dateTimeArb, encodeAny, headerSafe, rawBodyArb, writeJson, type Json } from './generators.js';

const RUNS = Number(process.env.EVENTS_FUZZ_RUNS ?? 600);
const SEED = Number(process.env.EVENTS_FUZZ_SEED ?? 16);
const C = DEMO.contoso;

const PROPS = [
  'subject',
  'body',
  'start',
  'end',
  'isAllDay',
  'location',
  'locations',
  'attendees',
  'categories',
  'importance',
  'sensitivity',
  'showAs',
  'isReminderOn',
  'reminderMinutesBeforeStart',
  'responseRequested',
  'allowNewTimeProposals',
  'hideAttendees',
  'isOnlineMeeting',
  'onlineMeetingProvider',
  'transactionId',
  'organizer',
  'id',
  '@odata.type',
] as const;

const ZONES = [
  'UTC',
  'Pacific Standard Time',
  'pacific standard time',
  'Europe/Paris',
  'Etc/GMT+12',
  'tzone://Microsoft/Custom',
  'GMT+6:30',
  '',
  ' ',
  'Europe/../etc/passwd',
  'A'.repeat(300),
  '\u0000',
  'undefined',
];
const zoneArb = fc.oneof(fc.constantFrom(...ZONES), fc.string({ maxLength: 40 }));
const dateTimeTimeZoneArb: fc.Arbitrary<Json> = fc.oneof(
  fc.record({
    dateTime: fc.oneof(dateTimeArb, fc.constantFrom('2030-01-01', '2030-02-30T10:00:00', '14/03/2021', '2030-1-1')),
    timeZone: zoneArb,
  }),
  fc.record({ dateTime: dateTimeArb }),
  anyJsonArb,
);
const valueFor = (prop: string): fc.Arbitrary<Json> => {
  switch (prop) {
    case 'start':
    case 'end':
      return dateTimeTimeZoneArb;
    case 'attendees':
      return fc.oneof(
        fc.array(
          fc.record({
            emailAddress: fc.oneof(fc.record({ address: fc.string({ maxLength: 400 }), name: fc.string() }), anyJsonArb),
            type: fc.oneof(fc.constantFrom('required', 'Optional', 'RESOURCE', 'boss'), anyJsonArb),
          }),
          { maxLength: 4 },
        ),
        anyJsonArb,
      );
    case 'body':
      return fc.oneof(
        fc.record({
          contentType: fc.oneof(fc.constantFrom('text', 'HTML', 'markdown'), anyJsonArb),
          content: fc.oneof(fc.string({ maxLength: 300 }), fc.constant('<script>alert(1)</script>'), anyJsonArb),
        }),
        anyJsonArb,
      );
    case 'location':
      return fc.oneof(
        fc.record({
          displayName: fc.string(),
          locationType: fc.constantFrom('default', 'hotel', 'moon'),
          coordinates: anyJsonArb,
          address: anyJsonArb,
        }),
        anyJsonArb,
      );
    case 'isOnlineMeeting':
      return fc.oneof(fc.boolean(), anyJsonArb);
    default:
      return anyJsonArb;
  }
};
const bodyArb: fc.Arbitrary<string | Buffer> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc
      .array(
        fc.constantFrom(...PROPS).chain((p) => valueFor(p).map((v) => [p, v] as const)),
        { maxLength: 6 },
      )
      .map((pairs) => JSON.stringify(Object.fromEntries(pairs.map(([k, v]) => [k, JSON.parse(writeJson(v)) as unknown])))),
  },
  { weight: 1, arbitrary: rawBodyArb },
);

const queryArb: fc.Arbitrary<string> = fc
  .array(
    fc.tuple(
      fc.constantFrom(
        '$filter',
        '$orderby',
        '$top',
        '$skip',
        '$select',
        '$count',
        '$expand',
        '$search',
        'startDateTime',
        'endDateTime',
        'StartDateTime',
        '$FILTER',
      ),
      fc.oneof(
        fc.constantFrom(
          "start/dateTime ge '2030-01-01T00:00:00'",
          "start/dateTime ge '2030",
          "end/dateTime lt '2030-01-01T00:00:00Z' and isOrganizer eq true",
          "isOnlineMeeting eq 'x'",
          "subject eq 'a'' or 1=1 --'",
          'start/dateTime desc,end/dateTime',
          'start',
          '-1',
          '99999999999999999999',
          'subject,start,nope',
          "contains(subject,'x')",
          '((((((((',
        ),
        dateTimeArb,
        fc.string({ maxLength: 60 }),
      ),
    ),
    { maxLength: 4 },
  )
  .map((pairs) => pairs.map(([k, v]) => `${encodeAny(k)}=${encodeAny(v)}`).join('&'));

for (const kind of STORES) {
  describe(`${kind}: fuzzing the calendar routes`, () => {
    let t: TestApp;
    let alice: string;
    let app: string;
    let reference: { id: string; body: string };
    let calendarId: string;
    before(async () => {
      t = await startTestApp(kind);
      [alice, app] = await Promise.all([t.userToken(C.alice.upn, ['Calendars.ReadWrite', 'OnlineMeetings.ReadWrite']), t.appToken()]);
      // The reference lives in Bob's calendar; the fuzzed requests act on Alice's (and send Bob's ids there).
      const res = await graph(t, 'POST', `/v1.0/users/${C.bob.id}/events`, app, {
        subject: 'reference',
        start: { dateTime: '2030-06-01T10:00:00', timeZone: 'UTC' },
        end: { dateTime: '2030-06-01T11:00:00', timeZone: 'UTC' },
        isOnlineMeeting: true,
      });
      assert.equal(res.statusCode, 201, res.body);
      reference = { id: res.json().id, body: '' };
      reference.body = (await graph(t, 'GET', `/v1.0/users/${C.bob.id}/events/${reference.id}`, app)).body;
      calendarId = (await graph(t, 'GET', '/v1.0/me/calendar', alice)).json().id;
    });
    after(() => t.close());

    test(
      `${RUNS} generated requests (seed ${SEED}): no 5xx, errors in Graph's envelope, the reference event unchanged`,
      { timeout: 300_000 },
      async () => {
        const idArb = fc.oneof(
          fc.constantFrom(
            reference.id,
            `${reference.id}=`,
            reference.id.slice(0, 150),
            reference.id.replace(/A/g, 'B'),
            calendarId,
            'AAMkA',
            '..',
            '%2e%2e',
            '%00',
          ),
          fc.string({ maxLength: 200 }).map(encodeAny),
        );
        const pathArb = fc.tuple(
          fc.constantFrom(
            '/v1.0/me',
            '/beta/me',
            `/v1.0/users/${C.alice.id}`,
            `/v1.0/users/${encodeURIComponent(C.alice.upn)}`,
            '/v1.0/users/nobody',
            `/v1.0/users/${'x'.repeat(500)}`,
          ),
          fc.constantFrom(
            '/events',
            '/calendar/events',
            `/calendars/${calendarId}/events`,
            '/calendars/{id}/events',
            '/calendarView',
            '/calendar/calendarView',
            '/calendar',
            '/calendars',
            '/calendars/{id}',
            '/mailboxSettings',
            '/mailboxSettings/timeZone',
          ),
          fc.constantFrom('', '/{id}', '/{id}/cancel'),
          idArb,
        );
        const requestArb = fc.record({
          method: fc.constantFrom('GET', 'POST', 'PATCH', 'DELETE', 'PUT'),
          path: pathArb,
          query: queryArb,
          body: fc.option(bodyArb, { nil: undefined }),
          contentType: fc.constantFrom('application/json', 'application/json; charset=utf-8', 'text/plain', undefined),
          prefer: fc.option(
            fc.oneof(
              fc.constantFrom(
                'outlook.timezone="Pacific Standard Time"',
                'outlook.timezone="[]"',
                'outlook.timezone=GMT+6:30',
                'outlook.body-content-type="text"',
                'outlook.timezone="',
              ),
              fc.string({ maxLength: 80 }).map(headerSafe),
            ),
            { nil: undefined },
          ),
          asApp: fc.boolean(),
        });
        let requests = 0;
        await fc.assert(
          fc.asyncProperty(requestArb, async (r) => {
            const [user, collection, item, id] = r.path;
            const url = `${user}${collection.replace('{id}', id)}${item.replace('{id}', id)}${r.query ? `?${r.query}` : ''}`;
            const headers: Record<string, string> = { authorization: `Bearer ${r.asApp ? app : alice}` };
            if (r.contentType && r.body !== undefined) headers['content-type'] = r.contentType;
            if (r.prefer !== undefined) headers.prefer = r.prefer;
            const res = await t.inject({ method: r.method as 'GET', url, headers, ...(r.body !== undefined ? { payload: r.body } : {}) });
            requests++;
            assert.ok(res.statusCode < 500, `${r.method} ${url} -> ${res.statusCode} ${res.body.slice(0, 300)}`);
            if (res.statusCode >= 400) {
              const error = (JSON.parse(res.body) as { error: { code: unknown; message: unknown; innerError: Record<string, unknown> } })
                .error;
              assert.equal(typeof error.code, 'string');
              assert.equal(typeof error.message, 'string');
              assert.equal(typeof error.innerError['request-id'], 'string');
            }
          }),
          { numRuns: RUNS, seed: SEED, endOnFailure: true },
        );
        assert.equal(requests, RUNS);
        const after = await graph(t, 'GET', `/v1.0/users/${C.bob.id}/events/${reference.id}`, app);
        assert.equal(after.body, reference.body);
      },
    );
  });
}
