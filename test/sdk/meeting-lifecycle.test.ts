/**
 * The life of an onlineMeeting after create, through the official clients (Kiota @microsoft/msgraph-sdk and
 * graph-client v3, in the NODE_EXTRA_CA_CERTS worker): createOrGet (§3.2), including a race on one
 * externalId; the §3.4 lookups by joinWebUrl, joinMeetingId and VTC id; PATCH (§3.5); DELETE (§3.6);
 * getVirtualAppointmentJoinWebUrl (§3.7); and `Prefer: include-unknown-enum-members` (§2.8).
 * Statuses and raw bodies are read from the exchange the worker recorded at fetch; errors as the SDK threw them.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import {
  SdkCallError,
  startSdkWorker,
  type CredentialSpec,
  type SdkErrorSummary,
  type SdkWorker,
  type WireExchange,
  DEMO_ALICE,
  DEMO_APP,
} from '../helpers/sdk-worker-client.js';
import { STORES } from '../helpers/stores.js';
import { DEMO, startTestApp, type TestApp } from '../helpers/test-app.js';

const C = DEMO.contoso;
const APP = DEMO_APP;
const ALICE = DEMO_ALICE;

type Json = Record<string, unknown>;
type ClientName = 'v3' | 'Kiota';

interface Caller {
  label: string;
  client: ClientName;
  cred: CredentialSpec;
  /** Set for app-only: the path user (Alice). */
  userId?: string;
}

const KIOTA_ME: Caller = { label: 'Kiota, delegated Alice (/me)', client: 'Kiota', cred: ALICE };
const KIOTA_APP: Caller = { label: 'Kiota, app-only (/users/{alice})', client: 'Kiota', cred: APP, userId: C.alice.id };
const V3_ME: Caller = { label: 'graph-client v3, delegated Alice (/me)', client: 'v3', cred: ALICE };
const V3_APP: Caller = { label: 'graph-client v3, app-only (/users/{alice})', client: 'v3', cred: APP, userId: C.alice.id };

const collectionPath = (caller: Caller) => (caller.userId === undefined ? '/me/onlineMeetings' : `/users/${caller.userId}/onlineMeetings`);

const WINDOW = { startDateTime: '2030-05-06T10:00:00Z', endDateTime: '2030-05-06T11:00:00Z' };

/** One call through an SDK: the exchange, the body as the server sent it, and what the application got. */
interface Outcome {
  wire: WireExchange;
  raw: Json;
  /** v3's parsed JSON, or Kiota's model as plain JSON (Dates as ISO strings, unknowns in additionalData). */
  sdk: Json;
}

function asJson(value: unknown, what: string): Json {
  assert.ok(value !== null && typeof value === 'object' && !Array.isArray(value), `${what} is not a JSON object: ${JSON.stringify(value)}`);
  return value as Json;
}

/** Reads a nested property, e.g. at(meeting, 'lobbyBypassSettings', 'scope'). */
function at(value: unknown, ...keys: string[]): unknown {
  return keys.reduce<unknown>((v, k) => (v !== null && typeof v === 'object' ? (v as Json)[k] : undefined), value);
}

/** Awaits a call that must fail and returns the summary of what the SDK threw. */
async function refused(promise: Promise<unknown>, client: ClientName): Promise<SdkErrorSummary> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof SdkCallError, `expected an SDK error, got ${String(err)}`);
    assert.equal(err.sdkError.kind, client === 'v3' ? 'GraphError' : 'ODataError', err.message);
    return err.sdkError;
  }
  assert.fail('expected the call to be refused');
}

function assertRefusal(e: SdkErrorSummary, expect: { status: number; code: string; message?: string }) {
  const what = JSON.stringify(e);
  assert.equal(e.statusCode, expect.status, what);
  assert.equal(e.code, expect.code, what);
  if (expect.message !== undefined) assert.equal(e.message, expect.message, what);
}

// ---------------------------------------------------------------------------------------------------
// Calls, per client.

async function createOrGet(w: SdkWorker, origin: string, caller: Caller, body: Json): Promise<Outcome> {
  if (caller.client === 'v3') {
    const path = `${collectionPath(caller)}/createOrGet`;
    const { result, wire } = await w.call('v3RequestTraced', { origin, cred: caller.cred, method: 'post', path, body });
    return { wire, raw: asJson(wire.body, 'response'), sdk: asJson(result, 'v3 result') };
  }
  const r = await w.call('kiotaCreateOrGetTraced', { origin, cred: caller.cred, userId: caller.userId, body });
  return { wire: r.wire, raw: asJson(r.wire.body, 'response'), sdk: r.body };
}

async function create(w: SdkWorker, origin: string, caller: Caller, body: Json): Promise<Outcome> {
  if (caller.client === 'v3') {
    const { result, wire } = await w.call('v3RequestTraced', {
      origin,
      cred: caller.cred,
      method: 'post',
      path: collectionPath(caller),
      body,
    });
    return { wire, raw: asJson(wire.body, 'response'), sdk: asJson(result, 'v3 result') };
  }
  const r = await w.call('kiotaCreateTraced', { origin, cred: caller.cred, userId: caller.userId, body });
  return { wire: r.wire, raw: asJson(r.wire.body, 'response'), sdk: r.body };
}

async function get(w: SdkWorker, origin: string, caller: Caller, meetingId: string, headers?: Record<string, string>): Promise<Outcome> {
  if (caller.client === 'v3') {
    const path = `${collectionPath(caller)}/${meetingId}`;
    const { result, wire } = await w.call('v3RequestTraced', { origin, cred: caller.cred, method: 'get', path, headers });
    return { wire, raw: asJson(wire.body, 'response'), sdk: asJson(result, 'v3 result') };
  }
  const r = await w.call('kiotaGetTraced', { origin, cred: caller.cred, userId: caller.userId, meetingId, headers });
  return { wire: r.wire, raw: asJson(r.wire.body, 'response'), sdk: r.body };
}

/** A §3.4 lookup: `collection` is /communications/onlineMeetings for the VTC lookup, else the caller's path. */
async function find(w: SdkWorker, origin: string, caller: Caller, filter: string, collection = collectionPath(caller)): Promise<Outcome> {
  if (caller.client === 'v3') {
    const { result, wire } = await w.call('v3RequestTraced', { origin, cred: caller.cred, method: 'get', path: collection, filter });
    return { wire, raw: asJson(wire.body, 'response'), sdk: asJson(result, 'v3 result') };
  }
  assert.equal(collection, collectionPath(caller), 'the Kiota lookup goes through me/users onlineMeetings');
  const r = await w.call('kiotaFindTraced', { origin, cred: caller.cred, userId: caller.userId, filter });
  return { wire: r.wire, raw: asJson(r.wire.body, 'response'), sdk: r.body };
}

async function patch(w: SdkWorker, origin: string, caller: Caller, meetingId: string, body: Json): Promise<Outcome> {
  if (caller.client === 'v3') {
    const path = `${collectionPath(caller)}/${meetingId}`;
    const { result, wire } = await w.call('v3RequestTraced', { origin, cred: caller.cred, method: 'patch', path, body });
    return { wire, raw: asJson(wire.body, 'response'), sdk: asJson(result, 'v3 result') };
  }
  const r = await w.call('kiotaPatchTraced', { origin, cred: caller.cred, userId: caller.userId, meetingId, body });
  return { wire: r.wire, raw: asJson(r.wire.body, 'response'), sdk: r.body };
}

/** DELETE: returns the exchange and what the SDK resolved to (v3: null for 204; Kiota: always undefined). */
async function remove(w: SdkWorker, origin: string, caller: Caller, meetingId: string): Promise<{ wire: WireExchange; result: unknown }> {
  if (caller.client === 'v3') {
    const path = `${collectionPath(caller)}/${meetingId}`;
    return w.call('v3RequestTraced', { origin, cred: caller.cred, method: 'delete', path });
  }
  const { wire } = await w.call('kiotaDeleteTraced', { origin, cred: caller.cred, userId: caller.userId, meetingId });
  return { wire, result: null };
}

/** The `value` array of a collection response, as the server sent it and as the SDK handed it over. */
function values(o: Outcome): { raw: Json[]; sdk: Json[] } {
  assert.ok(Array.isArray(o.raw.value), `no value array: ${JSON.stringify(o.raw)}`);
  assert.ok(Array.isArray(o.sdk.value), `the SDK gave no value array: ${JSON.stringify(o.sdk)}`);
  return { raw: o.raw.value as Json[], sdk: o.sdk.value as Json[] };
}

/** A lookup that must find exactly `meetingId`, both on the wire and in what the SDK returned. */
function assertFoundOnly(o: Outcome, meetingId: string, context: string) {
  assert.equal(o.wire.status, 200, JSON.stringify(o.raw));
  assert.equal(o.wire.method, 'GET');
  const v = values(o);
  assert.deepEqual(
    v.raw.map((m) => m.id),
    [meetingId],
    `wire value for ${o.wire.url}`,
  );
  assert.deepEqual(
    v.sdk.map((m) => m.id),
    [meetingId],
    `SDK value for ${o.wire.url}`,
  );
  assert.ok(String(o.raw['@odata.context']).endsWith(context), `@odata.context ${String(o.raw['@odata.context'])}`);
}

/** A join link of the server's form that names a thread no meeting has. */
function unknownJoinWebUrl(origin: string): string {
  const thread = `19:meeting_${Buffer.from(randomUUID()).toString('base64')}@thread.v2`;
  const context = encodeURIComponent(JSON.stringify({ Tid: C.tenantId, Oid: C.alice.id })).toLowerCase();
  return `${origin}/l/meetup-join/${encodeURIComponent(thread).toLowerCase()}/0?context=${context}`;
}

const newExternalId = (what: string) => `lifecycle-${what}-${randomUUID()}`;

// ---------------------------------------------------------------------------------------------------

for (const kind of STORES) {
  describe(`${kind}: onlineMeeting lifecycle through the official SDKs`, () => {
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

    /** Live (not deleted) meetings stored under a createOrGet key: the ground truth behind the race. */
    const liveMeetingsWithExternalId = async (externalId: string) => {
      const rows = await t.testStore.store.db
        .selectFrom('meetings')
        .select('id')
        .where('external_id', '=', externalId)
        .where('deleted_at', 'is', null)
        .execute();
      return rows.map((r) => r.id);
    };

    describe('createOrGet (§3.2)', () => {
      for (const caller of [KIOTA_APP, KIOTA_ME, V3_ME, V3_APP]) {
        test(`${caller.label}: 201 creates, then 200 returns the same meeting with its original subject`, async () => {
          const externalId = newExternalId(caller.client);
          const first = await createOrGet(w, origin, caller, { externalId, subject: 'Original subject', ...WINDOW });
          assert.equal(first.wire.method, 'POST');
          assert.equal(new URL(first.wire.url).pathname, `/v1.0${collectionPath(caller)}/createOrGet`);
          assert.equal(JSON.parse(first.wire.requestBody ?? '{}').externalId, externalId, 'the SDK sent the externalId');
          assert.equal(first.wire.status, 201, JSON.stringify(first.raw));
          assert.equal(first.raw.externalId, externalId);
          assert.equal(first.raw.subject, 'Original subject');
          assert.equal(first.raw.startDateTime, '2030-05-06T10:00:00.0000000Z');
          assert.equal(at(first.raw, 'participants', 'organizer', 'identity', 'user', 'id'), C.alice.id);
          assert.ok(String(first.raw['@odata.context']).endsWith(`users('${C.alice.id}')/onlineMeetings/$entity`));
          assert.equal(first.sdk.externalId, externalId, `${caller.client} hands the application the externalId`);
          assert.equal(first.sdk.id, first.raw.id);

          const second = await createOrGet(w, origin, caller, {
            externalId,
            subject: 'A different subject',
            startDateTime: '2031-01-01T09:00:00Z',
            endDateTime: '2031-01-01T10:00:00Z',
          });
          assert.equal(second.wire.status, 200, JSON.stringify(second.raw));
          assert.equal(second.raw.id, first.raw.id);
          assert.equal(second.raw.subject, 'Original subject', 'an existing meeting is returned as is (§9 quirk 7)');
          assert.equal(second.raw.startDateTime, first.raw.startDateTime);
          assert.equal(second.raw.endDateTime, first.raw.endDateTime);
          assert.equal(second.raw.externalId, externalId);
          assert.equal(second.raw.joinWebUrl, first.raw.joinWebUrl);
          assert.equal(second.sdk.id, first.raw.id);
          assert.equal(second.sdk.subject, 'Original subject');
          assert.equal(second.sdk.externalId, externalId);
        });
      }

      test('20 concurrent createOrGet on one new externalId (10 Kiota, 10 v3, app-only): one meeting, one 201', async () => {
        const externalId = newExternalId('race');
        const outcomes = await Promise.all(
          Array.from({ length: 20 }, (_, i) =>
            createOrGet(w, origin, i % 2 === 0 ? KIOTA_APP : V3_APP, { externalId, subject: `Racer ${i}`, ...WINDOW }),
          ),
        );
        const ids = new Set(outcomes.map((o) => o.raw.id));
        assert.equal(ids.size, 1, `ids: ${[...ids].join(', ')}`);
        const id = String(outcomes[0]!.raw.id);
        for (const o of outcomes) {
          assert.equal(o.sdk.id, id);
          assert.equal(o.raw.externalId, externalId);
        }
        const statuses = outcomes.map((o) => o.wire.status);
        assert.equal(statuses.filter((s) => s === 201).length, 1, `statuses: ${statuses.join(', ')}`);
        assert.equal(statuses.filter((s) => s === 200).length, 19, `statuses: ${statuses.join(', ')}`);
        const winner = outcomes.find((o) => o.wire.status === 201)!;
        for (const o of outcomes) assert.equal(o.raw.subject, winner.raw.subject, 'every caller sees the meeting the winner made');

        const byUrl = await find(w, origin, KIOTA_APP, `JoinWebUrl eq '${String(winner.raw.joinWebUrl)}'`);
        assertFoundOnly(byUrl, id, `users('${C.alice.id}')/onlineMeetings`);
        assert.deepEqual(await liveMeetingsWithExternalId(externalId), [id], 'exactly one meeting is stored under the key');
        const again = await createOrGet(w, origin, V3_APP, { externalId, subject: 'Late' });
        assert.equal(again.wire.status, 200);
        assert.equal(again.raw.id, id);
      });
    });

    describe('lookups (§3.4)', () => {
      let meeting: Json;
      before(async () => {
        meeting = (await create(w, origin, V3_ME, { subject: 'Lookup target', ...WINDOW })).raw;
      });
      const ctx = () => `users('${C.alice.id}')/onlineMeetings`;

      for (const caller of [KIOTA_ME, V3_ME]) {
        test(`${caller.label}: JoinWebUrl eq '<joinWebUrl>' finds exactly that meeting`, async () => {
          const o = await find(w, origin, caller, `JoinWebUrl eq '${String(meeting.joinWebUrl)}'`);
          assertFoundOnly(o, String(meeting.id), ctx());
          assert.equal(new URL(o.wire.url).pathname, '/v1.0/me/onlineMeetings');
          const filter = `JoinWebUrl eq '${String(meeting.joinWebUrl)}'`;
          if (caller.client === 'Kiota') {
            // Kiota percent-encodes the whole value (the link's own %3a goes out as %253a): the server sees it verbatim.
            assert.equal(new URL(o.wire.url).searchParams.get('$filter'), filter, o.wire.url);
          } else {
            // v3 appends `$filter=` + the string untouched (fetch then escapes spaces and quotes), so the server
            // sees the link percent-decoded once: 19:meeting_…@thread.v2 (client-compat §2.2).
            assert.ok(o.wire.url.endsWith(`?$filter=${filter}`), o.wire.url);
          }
          assert.equal(at(o.sdk, 'value', '0', 'joinWebUrl'), meeting.joinWebUrl);
          assert.equal(at(o.sdk, 'value', '0', 'subject'), 'Lookup target');
        });

        test(`${caller.label}: joinMeetingIdSettings/joinMeetingId eq '<id>' finds exactly that meeting`, async () => {
          const joinMeetingId = String(at(meeting, 'joinMeetingIdSettings', 'joinMeetingId'));
          const o = await find(w, origin, caller, `joinMeetingIdSettings/joinMeetingId eq '${joinMeetingId}'`);
          assertFoundOnly(o, String(meeting.id), ctx());
          assert.equal(at(o.sdk, 'value', '0', 'joinMeetingIdSettings', 'joinMeetingId'), joinMeetingId);
        });

        test(`${caller.label}: an unknown joinWebUrl gives 200 with an empty value array`, async () => {
          const o = await find(w, origin, caller, `JoinWebUrl eq '${unknownJoinWebUrl(origin)}'`);
          assert.equal(o.wire.status, 200, JSON.stringify(o.raw));
          assert.deepEqual(values(o), { raw: [], sdk: [] });
        });

        test(`${caller.label}: a filter on subject is 400 InvalidArgument`, async () => {
          const call = find(w, origin, caller, "subject eq 'Lookup target'");
          assertRefusal(await refused(call, caller.client), {
            status: 400,
            code: 'InvalidArgument',
            message: "Filter expression expected - /onlineMeetings?$filter={ParameterName} eq '{id}'.",
          });
        });
      }

      test("graph-client v3, app-only: /communications/onlineMeetings?$filter=VideoTeleconferenceId eq '<vtc>'", async () => {
        const vtc = String(meeting.videoTeleconferenceId);
        assert.match(vtc, /^\d+$/);
        const o = await find(w, origin, V3_APP, `VideoTeleconferenceId eq '${vtc}'`, '/communications/onlineMeetings');
        assertFoundOnly(o, String(meeting.id), 'communications/onlineMeetings');
        assert.equal(new URL(o.wire.url).pathname, '/v1.0/communications/onlineMeetings');
        assert.equal(at(o.sdk, 'value', '0', 'videoTeleconferenceId'), vtc);

        const none = await find(w, origin, V3_APP, "VideoTeleconferenceId eq '1234567890'", '/communications/onlineMeetings');
        assert.equal(none.wire.status, 200);
        assert.deepEqual(
          values(none).raw.filter((m) => m.id === meeting.id),
          [],
        );
      });
    });

    describe('PATCH (§3.5)', () => {
      for (const caller of [KIOTA_ME, V3_APP]) {
        test(`${caller.label}: subject and lobbyBypassSettings.isDialInBypassEnabled; 200 with the whole meeting`, async () => {
          const original = (await create(w, origin, caller, { subject: 'Before', ...WINDOW })).raw;
          assert.deepEqual(original.lobbyBypassSettings, { scope: 'organization', isDialInBypassEnabled: false });
          const change = { subject: 'new', lobbyBypassSettings: { isDialInBypassEnabled: true } };
          const o = await patch(w, origin, caller, String(original.id), change);
          assert.equal(o.wire.method, 'PATCH');
          assert.deepEqual(JSON.parse(o.wire.requestBody ?? 'null'), change, 'the SDK sends only the changed fields');
          assert.equal(o.wire.status, 200, JSON.stringify(o.raw));
          assert.ok(String(o.raw['@odata.context']).endsWith(`users('${C.alice.id}')/onlineMeetings/$entity`));
          assert.equal(o.raw.subject, 'new');
          assert.deepEqual(o.raw.lobbyBypassSettings, { scope: 'organization', isDialInBypassEnabled: true });
          for (const key of ['id', 'joinWebUrl', 'startDateTime', 'endDateTime', 'creationDateTime', 'chatInfo', 'participants']) {
            assert.deepEqual(o.raw[key], original[key], `${key} is unchanged and present`);
          }
          assert.deepEqual(o.raw.joinMeetingIdSettings, original.joinMeetingIdSettings);
          assert.deepEqual(o.raw.audioConferencing, original.audioConferencing);
          assert.equal(o.sdk.subject, 'new');
          assert.equal(at(o.sdk, 'lobbyBypassSettings', 'scope'), 'organization');
          assert.equal(at(o.sdk, 'lobbyBypassSettings', 'isDialInBypassEnabled'), true);

          const g = await get(w, origin, caller, String(original.id));
          assert.equal(g.raw.subject, 'new');
          assert.deepEqual(g.raw.lobbyBypassSettings, { scope: 'organization', isDialInBypassEnabled: true });
        });

        test(`${caller.label}: startDateTime alone is 400 BadRequest and changes nothing`, async () => {
          const m = (await create(w, origin, caller, { subject: 'Times', ...WINDOW })).raw;
          const call = patch(w, origin, caller, String(m.id), { startDateTime: '2030-05-06T10:30:00Z' });
          assertRefusal(await refused(call, caller.client), { status: 400, code: 'BadRequest' });
          const g = await get(w, origin, caller, String(m.id));
          assert.equal(g.raw.startDateTime, m.startDateTime);
          assert.equal(g.raw.endDateTime, m.endDateTime);
        });
      }

      test("graph-client v3: meetingType in the body is 400 'Updating meeting type is not supported.'", async () => {
        for (const caller of [V3_ME, V3_APP]) {
          const m = (await create(w, origin, caller, { subject: 'Typed', ...WINDOW })).raw;
          assert.equal(m.meetingType, 'scheduled');
          const call = patch(w, origin, caller, String(m.id), { subject: 'Retyped', meetingType: 'scheduled' });
          assertRefusal(await refused(call, caller.client), {
            status: 400,
            code: 'BadRequest',
            message: 'Updating meeting type is not supported.',
          });
          assert.equal((await get(w, origin, caller, String(m.id))).raw.subject, 'Typed', caller.label);
        }
      });
    });

    describe('DELETE (§3.6)', () => {
      for (const caller of [KIOTA_ME, V3_ME, KIOTA_APP, V3_APP]) {
        test(`${caller.label}: 204, then GET is 404, then createOrGet on the same externalId makes a new meeting`, async () => {
          const externalId = newExternalId(`delete-${caller.client}`);
          const created = await createOrGet(w, origin, caller, { externalId, subject: 'Doomed', ...WINDOW });
          assert.equal(created.wire.status, 201);
          const id = String(created.raw.id);

          const d = await remove(w, origin, caller, id);
          assert.equal(d.wire.method, 'DELETE');
          assert.equal(d.wire.status, 204);
          assert.equal(d.wire.body, null, 'no body');
          assert.equal(d.result, null);

          const gone = await refused(get(w, origin, caller, id), caller.client);
          assertRefusal(gone, { status: 404, code: 'NotFound' });

          const again = await createOrGet(w, origin, caller, { externalId, subject: 'Reborn', ...WINDOW });
          assert.equal(again.wire.status, 201, JSON.stringify(again.raw));
          assert.notEqual(again.raw.id, id);
          assert.equal(again.raw.subject, 'Reborn');
          assert.equal(again.raw.externalId, externalId);
          assert.deepEqual(await liveMeetingsWithExternalId(externalId), [again.raw.id]);
        });
      }
    });

    test('getVirtualAppointmentJoinWebUrl, Kiota delegated: a string carrying the meeting thread as convId (§3.7)', async () => {
      const m = (await create(w, origin, KIOTA_ME, { subject: 'Virtual appointment', ...WINDOW })).raw;
      const threadId = String(at(m, 'chatInfo', 'threadId'));
      const r = await w.call('kiotaVirtualAppointmentJoinWebUrlTraced', { origin, cred: ALICE, meetingId: String(m.id) });
      // Kiota's URI template ends in the OData function-call parentheses; the server answers both spellings.
      assert.equal(
        decodeURIComponent(new URL(r.wire.url).pathname),
        `/v1.0/me/onlineMeetings/${String(m.id)}/getVirtualAppointmentJoinWebUrl()`,
      );
      assert.equal(r.wire.method, 'GET');
      assert.equal(r.wire.status, 200, JSON.stringify(r.wire.body));
      assert.ok(String(at(r.wire.body, '@odata.context')).endsWith('$metadata#Edm.String'));
      const value = r.body.value;
      assert.equal(typeof value, 'string', JSON.stringify(r.body));
      assert.equal(value, at(r.wire.body, 'value'));
      const url = new URL(value as string);
      assert.equal(url.searchParams.get('convId'), threadId);
      assert.equal(url.searchParams.get('tid'), C.tenantId);
      assert.ok((value as string).includes(`convId=${encodeURIComponent(threadId)}`), value as string);

      // graph-client v3 spells it without parentheses: same answer.
      const v3 = await w.call('v3RequestTraced', {
        origin,
        cred: ALICE,
        method: 'get',
        path: `/me/onlineMeetings/${String(m.id)}/getVirtualAppointmentJoinWebUrl`,
      });
      assert.ok(new URL(v3.wire.url).pathname.endsWith('/getVirtualAppointmentJoinWebUrl'), v3.wire.url);
      assert.equal(v3.wire.status, 200);
      assert.equal(at(v3.result, 'value'), value);
    });

    test("Prefer: include-unknown-enum-members (v3 .header): lobbyBypassSettings.scope 'invited' (§2.8)", async () => {
      const created = await create(w, origin, V3_ME, { subject: 'Invited only', ...WINDOW, lobbyBypassSettings: { scope: 'invited' } });
      assert.equal(created.wire.status, 201, JSON.stringify(created.raw));
      assert.equal(at(created.raw, 'lobbyBypassSettings', 'scope'), 'unknownFutureValue');
      const id = String(created.raw.id);

      const plain = await get(w, origin, V3_ME, id);
      assert.equal(plain.wire.status, 200);
      assert.equal(at(plain.raw, 'lobbyBypassSettings', 'scope'), 'unknownFutureValue');
      assert.equal(at(plain.sdk, 'lobbyBypassSettings', 'scope'), 'unknownFutureValue');

      const preferred = await get(w, origin, V3_ME, id, { Prefer: 'include-unknown-enum-members' });
      assert.equal(preferred.wire.status, 200);
      assert.equal(at(preferred.raw, 'lobbyBypassSettings', 'scope'), 'invited');
      assert.equal(at(preferred.sdk, 'lobbyBypassSettings', 'scope'), 'invited');
      assert.equal(at(preferred.raw, 'lobbyBypassSettings', 'isDialInBypassEnabled'), false);
    });
  });
}
