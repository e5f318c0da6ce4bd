/**
 * Attacks on the Outlook calendar routes (issue #16): another tenant's app, another user's delegated
 * token, forged ids that name another mailbox, injection through $filter, transactionId and stored text.
 * Every attempt must fail with Outlook's error and leave the victim's event exactly as it was.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { STORES } from '../helpers/stores.js';
import { DEMO, graph, startTestApp, type TestApp } from '../helpers/test-app.js';

const C = DEMO.contoso;
const F = DEMO.fabrikam;
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- parsed JSON under test
type Json = any;

/** Re-encodes an Outlook REST id with another mailbox GUID, keeping its entry bytes (graph-events-spec.md §0.1). */
function reMailbox(id: string, mailboxId: string): string {
  const bytes = Buffer.from(id.replace(/-/g, '/').replace(/_/g, '+'), 'base64');
  bytes.write(mailboxId, 4, 'ascii');
  return bytes.toString('base64').replace(/\//g, '-').replace(/\+/g, '_');
}

for (const kind of STORES) {
  describe(`${kind}: attacks on events`, () => {
    let t: TestApp;
    let alice: string;
    let bob: string;
    let contosoApp: string;
    let fabrikamApp: string;
    let victim: Json;
    let victimBody: string;
    before(async () => {
      t = await startTestApp(kind);
      [alice, bob, contosoApp, fabrikamApp] = await Promise.all([
        t.userToken(C.alice.upn, ['Calendars.ReadWrite', 'OnlineMeetings.ReadWrite']),
        t.userToken(C.bob.upn, ['Calendars.ReadWrite', 'OnlineMeetings.ReadWrite']),
        t.appToken(),
        t.appToken(F.scheduler.clientId, F.scheduler.secret, F.tenantId),
      ]);
      const res = await graph(t, 'POST', '/v1.0/me/events', alice, {
        subject: 'Board meeting',
        transactionId: 'victim-txn',
        start: { dateTime: '2030-09-01T10:00:00', timeZone: 'UTC' },
        end: { dateTime: '2030-09-01T11:00:00', timeZone: 'UTC' },
        isOnlineMeeting: true,
      });
      assert.equal(res.statusCode, 201, res.body);
      victim = res.json();
      victimBody = (await graph(t, 'GET', `/v1.0/me/events/${victim.id}`, alice)).body;
    });
    after(async () => {
      // Whatever was attempted, the victim's event is byte for byte what it was.
      assert.equal((await graph(t, 'GET', `/v1.0/me/events/${victim.id}`, alice)).body, victimBody);
      await t.close();
    });

    const attempts = (token: string, prefixes: string[], id: string) =>
      prefixes.flatMap((p) => [
        graph(t, 'GET', `${p}/${id}`, token),
        graph(t, 'PATCH', `${p}/${id}`, token, { subject: 'pwned' }),
        graph(t, 'POST', `${p}/${id}/cancel`, token, {}),
        graph(t, 'DELETE', `${p}/${id}`, token),
      ]);

    test("Fabrikam's app never reaches a Contoso event, by any path", async () => {
      const contosoPaths = [
        `/v1.0/users/${C.alice.id}/events`,
        `/v1.0/users/${C.alice.upn}/calendar/events`,
        `/beta/users/${C.alice.id}/events`,
      ];
      for (const res of await Promise.all(attempts(fabrikamApp, contosoPaths, victim.id))) {
        assert.equal(res.statusCode, 404, res.body);
        assert.equal(res.json().error.code, 'ErrorInvalidUser');
      }
      // Through its own user's mailbox, with the Contoso id and with the id re-pointed at Dave's mailbox.
      for (const id of [victim.id, reMailbox(victim.id, F.dave.id)]) {
        for (const res of await Promise.all(attempts(fabrikamApp, [`/v1.0/users/${F.dave.id}/events`], id))) {
          assert.equal(res.statusCode, 404, res.body);
          assert.equal(res.json().error.code, 'ErrorItemNotFound');
        }
      }
      const list = await graph(
        t,
        'GET',
        `/v1.0/users/${C.alice.id}/calendarView?startDateTime=2000-01-01&endDateTime=2100-01-01`,
        fabrikamApp,
      );
      assert.equal(list.statusCode, 404);
      // Fabrikam's app finds no Contoso meeting by the event's join link either.
      const byUrl = await graph(
        t,
        'GET',
        `/v1.0/users/${F.dave.id}/onlineMeetings?$filter=${encodeURIComponent(`JoinWebUrl eq '${victim.onlineMeeting.joinUrl}'`)}`,
        fabrikamApp,
      );
      assert.equal(byUrl.statusCode, 200, byUrl.body);
      assert.deepEqual(byUrl.json().value, []);
    });

    test("Bob (same tenant, delegated) never reaches Alice's event, even with a forged id naming his mailbox", async () => {
      for (const res of await Promise.all(attempts(bob, [`/v1.0/users/${C.alice.id}/events`], victim.id))) {
        assert.equal(res.statusCode, 403, res.body);
        assert.equal(res.json().error.code, 'ErrorAccessDenied');
      }
      for (const id of [victim.id, reMailbox(victim.id, C.bob.id)]) {
        for (const res of await Promise.all(attempts(bob, ['/v1.0/me/events', '/v1.0/me/calendar/events'], id))) {
          assert.equal(res.statusCode, 404, res.body);
          assert.equal(res.json().error.code, 'ErrorItemNotFound');
        }
      }
      const aliceCalendar = (await graph(t, 'GET', '/v1.0/me/calendar', alice)).json().id as string;
      const forgedCalendar = reMailbox(aliceCalendar, C.bob.id);
      const res = await graph(t, 'GET', `/v1.0/me/calendars/${forgedCalendar}/events`, bob);
      assert.equal(res.statusCode, 404, res.body);
    });

    test("$filter and $orderby injection attempts never widen a list beyond the caller's mailbox", async () => {
      for (const filter of [
        "start/dateTime ge '2000-01-01' or 1 eq 1",
        "start/dateTime ge '2000-01-01'' OR owner_id IS NOT NULL --'",
        "start/dateTime ge '2000-01-01T00:00:00Z') or (1=1",
        'isOrganizer eq true; DROP TABLE events',
      ]) {
        const res = await graph(t, 'GET', `/v1.0/me/events?$filter=${encodeURIComponent(filter)}`, bob);
        if (res.statusCode === 200) assert.ok(!res.json().value.some((e: Json) => e.id === victim.id));
        else assert.equal(res.statusCode, 400, res.body);
      }
      const ordered = await graph(t, 'GET', `/v1.0/me/events?$orderby=${encodeURIComponent('start/dateTime; DROP TABLE events')}`, bob);
      assert.equal(ordered.statusCode, 400);
      const all = await graph(t, 'GET', '/v1.0/me/events?$top=1000', bob);
      assert.ok(!all.json().value.some((e: Json) => e.id === victim.id));
    });

    test("a transactionId reused by another mailbox or tenant creates its own event, never returns the victim's", async () => {
      const body = {
        transactionId: 'victim-txn',
        subject: 'mine',
        start: { dateTime: '2030-09-02T10:00:00', timeZone: 'UTC' },
        end: { dateTime: '2030-09-02T11:00:00', timeZone: 'UTC' },
      };
      for (const [token, path] of [
        [bob, '/v1.0/me/events'],
        [contosoApp, `/v1.0/users/${C.carol.id}/events`],
        [fabrikamApp, `/v1.0/users/${F.dave.id}/events`],
      ] as const) {
        const res = await graph(t, 'POST', path, token, body);
        assert.equal(res.statusCode, 201, res.body);
        assert.notEqual(res.json().id, victim.id);
        assert.equal(res.json().subject, 'mine');
      }
    });

    test('stored text comes back as data: script in subject, body and location is never executed or unescaped in JSON', async () => {
      const payload = '</script><script>alert(1)</script>';
      const res = await graph(t, 'POST', '/v1.0/me/events', bob, {
        subject: payload,
        body: { contentType: 'text', content: payload },
        location: { displayName: payload },
        start: { dateTime: '2030-09-03T10:00:00', timeZone: 'UTC' },
        end: { dateTime: '2030-09-03T11:00:00', timeZone: 'UTC' },
        isOnlineMeeting: true,
      });
      assert.equal(res.statusCode, 201, res.body);
      assert.match(String(res.headers['content-type']), /^application\/json/);
      const e = res.json() as Json;
      assert.equal(e.subject, payload);
      // A text body is HTML-escaped when Outlook wraps it (§4.2).
      assert.ok(!e.body.content.includes('<script>'));
      assert.ok(e.body.content.includes('&lt;script&gt;'));
    });
  });
}
