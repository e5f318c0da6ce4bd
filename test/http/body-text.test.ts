import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { STORES } from '../helpers/stores.js';
import { DEMO, graph, startTestApp, type TestApp } from '../helpers/test-app.js';

/** Issue #11 items 7 and 10: text is checked before any database access, the same on both stores. */
for (const kind of STORES) {
  describe(`${kind}: text in bodies and meeting ids`, () => {
    let t: TestApp;
    let alice: string;
    before(async () => {
      t = await startTestApp(kind, { env: { THROTTLE: 'on' } });
      alice = await t.userToken();
    });
    after(() => t.close());
    const createOrGet = (externalId: string, extra: Record<string, unknown> = {}) =>
      graph(t, 'POST', '/v1.0/me/onlineMeetings/createOrGet', alice, { externalId, ...extra });

    test('a NUL in externalId is a 400 naming it, with the quota on (no 500 from the quota query)', async () => {
      const res = await createOrGet('a\u0000b');
      assert.equal(res.statusCode, 400, res.body);
      assert.match(res.json().error.message, /externalId/);
    });

    test('lone surrogates are refused with a 400 naming the property; U+FFFD is an ordinary character', async () => {
      for (const bad of ['x\ud800', 'x\udbff', 'x\udc00y']) {
        const res = await createOrGet(bad);
        assert.equal(res.statusCode, 400, `${JSON.stringify(bad)}: ${res.body}`);
        assert.match(res.json().error.message, /'externalId'.*surrogate/);
      }
      const subject = await graph(t, 'POST', '/v1.0/me/onlineMeetings', alice, { subject: 'ok \ud83d\ude00 then \ud800' });
      assert.equal(subject.statusCode, 400);
      assert.match(subject.json().error.message, /'subject'/);
      const attendee = await graph(t, 'POST', '/v1.0/me/onlineMeetings', alice, {
        participants: { attendees: [{ upn: 'a\udfff@example.com' }] },
      });
      assert.match(attendee.json().error.message, /'participants\.attendees\[0\]\.upn'/);
      const first = await createOrGet('x\ufffd');
      assert.equal(first.statusCode, 201);
      assert.equal((await createOrGet('x\ufffd')).statusCode, 200);
      assert.equal(first.json().externalId, 'x\ufffd');
      const pair = await createOrGet('x\ud83d\ude00');
      assert.equal(pair.statusCode, 201, 'a proper surrogate pair is fine');
    });

    test('invalid UTF-8 in a body is a 400, not stored as U+FFFD', async () => {
      const payload = Buffer.concat([Buffer.from('{"subject":"bad '), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]);
      const res = await t.inject({
        method: 'POST',
        url: '/v1.0/me/onlineMeetings',
        headers: { authorization: `Bearer ${alice}`, 'content-type': 'application/json' },
        payload,
      });
      assert.equal(res.statusCode, 400, res.body);
      assert.match(res.json().error.message, /UTF-8/);
    });

    test('a meeting id with extra = padding is a different id, not the same meeting', async () => {
      const bob = await t.userToken(DEMO.contoso.bob.upn);
      const app = await t.appToken();
      const m = (
        await graph(t, 'POST', '/v1.0/me/onlineMeetings', alice, {
          subject: 'padded',
          participants: { attendees: [{ upn: DEMO.contoso.bob.upn, identity: { user: { id: DEMO.contoso.bob.id } } }] },
        })
      ).json();
      const paths = (id: string) => [`/v1.0/me/onlineMeetings/${id}`, `/beta/users/${DEMO.contoso.alice.id}/onlineMeetings/${id}`];
      assert.equal((await graph(t, 'GET', paths(m.id)[0]!, alice)).statusCode, 200);
      // An invited attendee reads it by its own id (issue #14), through the path that re-encodes the id.
      assert.equal((await graph(t, 'GET', paths(m.id)[0]!, bob)).statusCode, 200);
      for (const variant of [`${m.id}=`, `${m.id}==`, (m.id as string).replace(/=+$/, '')].filter((v) => v !== m.id)) {
        const [mine, asApp] = paths(encodeURIComponent(variant));
        // Every verb, the organizer, the attendee and an app: a padded spelling never reaches the meeting.
        for (const [method, url, token, body] of [
          ['GET', mine, alice],
          ['GET', mine, bob],
          ['GET', asApp, app],
          ['PATCH', mine, alice, { subject: 'changed through a padded id' }],
          ['GET', `${mine}/getVirtualAppointmentJoinWebUrl`, alice],
          ['DELETE', mine, alice],
          ['DELETE', asApp, app],
        ] as const) {
          const res = await graph(t, method, url!, token, body);
          assert.equal(res.statusCode, 400, `${method} ${url}: ${res.statusCode} ${res.body.slice(0, 200)}`);
        }
      }
      const unchanged = await graph(t, 'GET', paths(m.id)[0]!, alice);
      assert.equal(unchanged.statusCode, 200, 'not deleted');
      assert.equal(unchanged.json().subject, 'padded', 'not changed');
    });
  });
}
