/**
 * Graph's "Create onlineMeeting" page (the seed): its five examples, sent with the request bodies exactly as
 * the page shows them, through both official clients (Kiota @microsoft/msgraph-sdk and graph-client v3),
 * delegated (Alice, UsernamePasswordCredential, /me) and app-only (ClientSecretCredential, /users/{alice}).
 * Each response is checked twice: as it crossed the wire (recorded at the worker's fetch, so status and raw
 * JSON are exactly what the server sent) and as the application sees it through the SDK.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  startSdkWorker,
  type CredentialSpec,
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

// ---------------------------------------------------------------------------------------------------
// The seed's request bodies, verbatim.

const SEED_START = '2019-07-12T14:30:34.2444915-07:00';
const SEED_END = '2019-07-12T15:00:34.2464912-07:00';
const TEMPLATE_ID = '05b9ed5f-2ac3-4470-aae9-f4a0c30b1a4b';

const EXAMPLE_1 = { startDateTime: SEED_START, endDateTime: SEED_END, subject: 'User Token Meeting' };
const EXAMPLE_2 = {
  startDateTime: SEED_START,
  endDateTime: SEED_END,
  subject: 'User meeting',
  joinMeetingIdSettings: { isPasscodeRequired: true },
};
const EXAMPLE_3 = {
  startDateTime: SEED_START,
  endDateTime: SEED_END,
  subject: 'User meeting in Microsoft Teams channel.',
  joinMeetingIdSettings: { isPasscodeRequired: false },
};
const EXAMPLE_3_OR = { startDateTime: SEED_START, endDateTime: SEED_END, subject: 'User meeting in Microsoft Teams channel.' };
const EXAMPLE_4 = { startDateTime: SEED_START, endDateTime: SEED_END, subject: 'User meeting', meetingTemplateId: TEMPLATE_ID };
const EXAMPLE_5 = {
  startDateTime: '2025-02-01T14:30:34.2444915-07:00',
  endDateTime: '2025-02-01T15:00:34.2464912-07:00',
  subject: 'Encrypted Meeting',
  isEndToEndEncryptionEnabled: true,
};

// ---------------------------------------------------------------------------------------------------
// Callers: each client, delegated and app-only.

type ClientName = 'v3' | 'Kiota';

interface Caller {
  label: string;
  client: ClientName;
  cred: CredentialSpec;
  /** Set for app-only: the path user (Alice). */
  userId?: string;
}

const CALLERS: Caller[] = [
  { label: 'Kiota, delegated Alice: POST /me/onlineMeetings', client: 'Kiota', cred: ALICE },
  { label: 'Kiota, app-only: POST /users/{alice}/onlineMeetings', client: 'Kiota', cred: APP, userId: C.alice.id },
  { label: 'graph-client v3, delegated Alice: POST /me/onlineMeetings', client: 'v3', cred: ALICE },
  { label: 'graph-client v3, app-only: POST /users/{alice}/onlineMeetings', client: 'v3', cred: APP, userId: C.alice.id },
];

const collectionPath = (caller: Caller) => (caller.userId === undefined ? '/me/onlineMeetings' : `/users/${caller.userId}/onlineMeetings`);

interface Outcome {
  /** The exchange as it crossed the wire. */
  wire: WireExchange;
  /** The response body exactly as the server sent it. */
  raw: Json;
  /** What the application got from the SDK: v3's parsed JSON, or Kiota's model as plain JSON (Dates as ISO strings). */
  sdk: Json;
  /** Kiota only: the typed model properties it populated. */
  populated: string[];
}

function asJson(value: unknown, what: string): Json {
  assert.ok(value !== null && typeof value === 'object' && !Array.isArray(value), `${what} is not a JSON object: ${JSON.stringify(value)}`);
  return value as Json;
}

/**
 * Creates a meeting through the caller's SDK. Dates travel to the worker as the seed's strings: v3 sends the
 * object as JSON as is, and the worker hands Kiota `new Date(...)` objects, as its typed model requires.
 */
async function create(w: SdkWorker, origin: string, caller: Caller, body: Json, headers?: Record<string, string>): Promise<Outcome> {
  if (caller.client === 'v3') {
    const { result, wire } = await w.call('v3RequestTraced', {
      origin,
      cred: caller.cred,
      method: 'post',
      path: collectionPath(caller),
      body,
      headers,
    });
    return { wire, raw: asJson(wire.body, 'response'), sdk: asJson(result, 'v3 result'), populated: [] };
  }
  const r = await w.call('kiotaCreateTraced', { origin, cred: caller.cred, userId: caller.userId, body, headers });
  return { wire: r.wire, raw: asJson(r.wire.body, 'response'), sdk: r.body, populated: r.populated };
}

async function get(w: SdkWorker, origin: string, caller: Caller, meetingId: string): Promise<Outcome> {
  if (caller.client === 'v3') {
    const path = `${collectionPath(caller)}/${meetingId}`;
    const { result, wire } = await w.call('v3RequestTraced', { origin, cred: caller.cred, method: 'get', path });
    return { wire, raw: asJson(wire.body, 'response'), sdk: asJson(result, 'v3 result'), populated: [] };
  }
  const r = await w.call('kiotaGetTraced', { origin, cred: caller.cred, userId: caller.userId, meetingId });
  return { wire: r.wire, raw: asJson(r.wire.body, 'response'), sdk: r.body, populated: r.populated };
}

/** Reads a nested property, e.g. at(meeting, 'participants', 'organizer'). */
function at(value: unknown, ...keys: string[]): unknown {
  return keys.reduce<unknown>((v, k) => (v !== null && typeof v === 'object' ? (v as Json)[k] : undefined), value);
}

/** A Kiota request carries Dates, which have millisecond precision: what the server receives and echoes. */
const msPrecision = (seed: string) => new Date(seed).toISOString();
/** Graph's answer for a time: UTC, exactly 7 fractional digits, Z. */
const graphUtc = (iso: string) =>
  iso.replace(/^(.*T\d{2}:\d{2}:\d{2})(?:\.(\d{1,7}))?Z$/, (_m, base: string, f = '') => `${base}.${f.padEnd(7, '0')}Z`);

/** The body the caller's SDK must have put on the wire for a seed body. */
function expectedRequestBody(caller: Caller, body: Json): Json {
  if (caller.client === 'v3') return body;
  const out = { ...body };
  for (const f of ['startDateTime', 'endDateTime']) if (typeof out[f] === 'string') out[f] = msPrecision(out[f] as string);
  return out;
}

/** The start/end the server must answer for a seed body sent by this client. */
function expectedTimes(caller: Caller, body: Json, v3: { start: string; end: string }) {
  if (caller.client === 'v3') return v3;
  return {
    start: graphUtc(msPrecision(body.startDateTime as string)),
    end: graphUtc(msPrecision(body.endDateTime as string)),
  };
}

/** joinInformation.content is one form-encoded `data:text/html,` string (fact sheet §6.4). */
function decodeJoinInformation(content: unknown): string {
  assert.equal(typeof content, 'string', `joinInformation.content: ${JSON.stringify(content)}`);
  return decodeURIComponent((content as string).replace(/\+/g, ' '));
}

/**
 * Everything Example 1's response shows, as Graph sends it, plus what the SDK made of it. Times are checked
 * by the caller (they depend on what the client sent).
 */
function assertGraphMeeting(o: Outcome, caller: Caller, origin: string, expect: { status: number; method: string; subject: string }) {
  const { wire, raw, sdk } = o;
  assert.equal(wire.status, expect.status, JSON.stringify(raw));
  assert.equal(wire.method, expect.method);
  assert.ok(new URL(wire.url).pathname.startsWith(`/v1.0${collectionPath(caller)}`), wire.url);
  assert.match(wire.headers['content-type'] ?? '', /^application\/json/);

  assert.ok(
    String(raw['@odata.context']).endsWith(`users('${C.alice.id}')/onlineMeetings/$entity`),
    `@odata.context: ${String(raw['@odata.context'])}`,
  );
  assert.equal(raw.subject, expect.subject);

  // chatInfo and the id that names organizer and thread (§0.1, §2.3).
  const threadId = String(at(raw, 'chatInfo', 'threadId'));
  assert.match(threadId, /^19:meeting_[A-Za-z0-9+/=]+@thread\.v2$/);
  assert.equal(at(raw, 'chatInfo', 'messageId'), '0');
  assert.equal(typeof raw.id, 'string');
  assert.equal(Buffer.from(raw.id as string, 'base64').toString('utf8'), `1*${C.alice.id}*0**${threadId}`);

  // Join links on the server's origin (§0.2, §1.1).
  const joinWebUrl = String(raw.joinWebUrl);
  assert.ok(joinWebUrl.startsWith(`${origin}/l/meetup-join/19%3ameeting_`), joinWebUrl);
  assert.equal(raw.joinUrl, joinWebUrl);

  // The organizer is the caller (delegated) or the path user (app-only), a presenter (§4.3).
  assert.equal(at(raw, 'participants', 'organizer', 'identity', 'user', 'id'), C.alice.id);
  assert.equal(at(raw, 'participants', 'organizer', 'role'), 'presenter');
  assert.equal(at(raw, 'participants', 'organizer', 'upn'), C.alice.upn);

  // Dial-in (§2.2): camelCase conferenceId, as the service really sends it (not the examples' ConferenceId).
  const audio = asJson(raw.audioConferencing, 'audioConferencing');
  assert.match(String(audio.conferenceId), /^\d+$/);
  assert.ok(!('ConferenceId' in audio), 'audioConferencing must spell conferenceId in camelCase');
  assert.ok(String(audio.dialinUrl).startsWith(`${origin}/`), String(audio.dialinUrl));

  // joinMeetingIdSettings: exactly the three documented properties (§2.1).
  const join = asJson(raw.joinMeetingIdSettings, 'joinMeetingIdSettings');
  assert.deepEqual(Object.keys(join).sort(), ['isPasscodeRequired', 'joinMeetingId', 'passcode']);
  assert.match(String(join.joinMeetingId), /^\d+$/);

  // What the application sees.
  if (caller.client === 'v3') {
    assert.deepEqual(sdk, raw, 'graph-client v3 hands the application the JSON as sent');
  } else {
    assert.equal(sdk.id, raw.id);
    assert.equal(sdk.subject, raw.subject);
    assert.equal(sdk.joinWebUrl, raw.joinWebUrl);
    assert.equal(sdk.startDateTime, new Date(raw.startDateTime as string).toISOString());
    assert.equal(sdk.endDateTime, new Date(raw.endDateTime as string).toISOString());
    assert.equal(at(sdk, 'participants', 'organizer', 'identity', 'user', 'id'), C.alice.id);
    assert.equal(at(sdk, 'chatInfo', 'threadId'), threadId);
    assert.equal(at(sdk, 'audioConferencing', 'conferenceId'), audio.conferenceId);
    assert.equal(at(sdk, 'joinMeetingIdSettings', 'joinMeetingId'), join.joinMeetingId);
    assert.equal(at(sdk, 'additionalData', '@odata.context'), raw['@odata.context']);
    assert.equal(at(sdk, 'additionalData', 'joinUrl'), joinWebUrl);
  }
}

/** The request body must be the seed's, as this client serializes it. */
function assertSent(o: Outcome, caller: Caller, body: Json) {
  assert.ok(o.wire.requestBody, 'the SDK sent no body');
  assert.deepEqual(JSON.parse(o.wire.requestBody), expectedRequestBody(caller, body));
}

/** Asserts the start/end on the wire (Graph's UTC form) and in the SDK. */
function assertTimes(o: Outcome, caller: Caller, body: Json, v3: { start: string; end: string }) {
  const expected = expectedTimes(caller, body, v3);
  assert.equal(o.raw.startDateTime, expected.start);
  assert.equal(o.raw.endDateTime, expected.end);
  if (caller.client === 'Kiota') {
    assert.equal(o.sdk.startDateTime, msPrecision(body.startDateTime as string));
    assert.equal(o.sdk.endDateTime, msPrecision(body.endDateTime as string));
  }
}

/** A passcode as the SDK shows it: Kiota drops JSON nulls by design (client-compat §3.4). */
function sdkPasscode(o: Outcome): unknown {
  const v = at(o.sdk, 'joinMeetingIdSettings', 'passcode');
  return v === undefined ? null : v;
}

const EXAMPLE_1_TIMES = { start: '2019-07-12T21:30:34.2444915Z', end: '2019-07-12T22:00:34.2464912Z' };
const EXAMPLE_5_TIMES = { start: '2025-02-01T21:30:34.2444915Z', end: '2025-02-01T22:00:34.2464912Z' };

// ---------------------------------------------------------------------------------------------------
// Kiota fidelity: nothing the server sent is lost in Kiota's model.

const kiotaProperty = (jsonKey: string) => (jsonKey === '@odata.type' ? 'odataType' : jsonKey);
const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/**
 * Every non-null value in `raw` must reach `kiota` (plain JSON of the model), either as the matching typed
 * property or in that level's additionalData, with the same value. Dates compare at millisecond precision
 * (a JS Date holds no more). Returns the paths that were lost or changed.
 */
function lostInKiota(raw: unknown, kiota: unknown, path: string): string[] {
  if (raw === null) return [];
  if (Array.isArray(raw)) {
    if (!Array.isArray(kiota) || kiota.length !== raw.length) return [`${path} (array ${JSON.stringify(kiota)})`];
    return raw.flatMap((item, i) => lostInKiota(item, kiota[i], `${path}[${i}]`));
  }
  if (typeof raw === 'object') {
    if (kiota === null || typeof kiota !== 'object') return [`${path} (object became ${JSON.stringify(kiota)})`];
    const model = kiota as Json;
    const extra = (model.additionalData ?? {}) as Json;
    return Object.entries(raw as Json).flatMap(([key, value]) => {
      if (value === null) return [];
      const prop = kiotaProperty(key);
      if (model[prop] !== undefined && model[prop] !== null) return lostInKiota(value, model[prop], `${path}.${key}`);
      if (key in extra) return lostInKiota(value, extra[key], `${path}.${key}`);
      return [`${path}.${key}`];
    });
  }
  if (typeof raw === 'string' && ISO_DATE_TIME.test(raw) && typeof kiota === 'string' && raw !== kiota) {
    return Math.floor(Date.parse(raw)) === Date.parse(kiota) ? [] : [`${path} (${raw} became ${kiota})`];
  }
  return raw === kiota ? [] : [`${path} (${JSON.stringify(raw)} became ${JSON.stringify(kiota)})`];
}

/** The top-level rule: a key is a populated known field of Kiota's OnlineMeeting, or sits in additionalData. */
function assertKiotaKeepsEveryKey(o: Outcome, knownFields: ReadonlySet<string>) {
  const extra = (o.sdk.additionalData ?? {}) as Json;
  const lost: string[] = [];
  for (const [key, value] of Object.entries(o.raw)) {
    if (value === null) continue; // Kiota drops JSON nulls by design (client-compat §3.4)
    const ok = knownFields.has(key) ? o.populated.includes(kiotaProperty(key)) : key in extra;
    if (!ok) lost.push(`${key}${knownFields.has(key) ? ' (known field, not populated)' : ' (unknown field, not in additionalData)'}`);
  }
  assert.deepEqual(lost, [], `keys Kiota lost: ${lost.join(', ')}`);
  assert.deepEqual(lostInKiota(o.raw, o.sdk, '$'), []);
}

// ---------------------------------------------------------------------------------------------------

for (const kind of STORES) {
  describe(`${kind}: Create onlineMeeting, the seed's five examples, through the official SDKs`, () => {
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

    for (const caller of CALLERS) {
      describe(caller.label, () => {
        test('Example 1: user token meeting, 201 with the full onlineMeeting; times normalized to UTC', async () => {
          const o = await create(w, origin, caller, EXAMPLE_1);
          assertSent(o, caller, EXAMPLE_1);
          assertGraphMeeting(o, caller, origin, { status: 201, method: 'POST', subject: 'User Token Meeting' });
          assertTimes(o, caller, EXAMPLE_1, EXAMPLE_1_TIMES);
          assert.deepEqual(o.raw.joinMeetingIdSettings, {
            isPasscodeRequired: false,
            joinMeetingId: at(o.raw, 'joinMeetingIdSettings', 'joinMeetingId'),
            passcode: null,
          });
          assert.equal(sdkPasscode(o), null);

          // No Accept-Language: the invitation is in English.
          assert.equal(at(o.raw, 'joinInformation', 'contentType'), 'html');
          const content = at(o.raw, 'joinInformation', 'content');
          assert.match(String(content), /^data:text\/html,%3cdiv\+/);
          const html = decodeJoinInformation(content);
          assert.ok(html.startsWith('data:text/html,'), html.slice(0, 60));
          assert.ok(html.includes('Join Microsoft Teams meeting'), html);
          assert.ok(html.includes(String(o.raw.joinWebUrl)), 'the invitation links to joinWebUrl');
        });

        test("Example 1 with Accept-Language: ja: joinInformation in Japanese ('会議に参加')", async () => {
          const o = await create(w, origin, caller, EXAMPLE_1, { 'Accept-Language': 'ja' });
          assertGraphMeeting(o, caller, origin, { status: 201, method: 'POST', subject: 'User Token Meeting' });
          assert.equal(at(o.raw, 'joinInformation', 'contentType'), 'html');
          const html = decodeJoinInformation(at(o.raw, 'joinInformation', 'content'));
          assert.ok(html.startsWith('data:text/html,'), html.slice(0, 60));
          assert.ok(html.includes('会議に参加'), html);
          assert.ok(!html.includes('Join Microsoft Teams meeting'), html);
          assert.equal(at(o.sdk, 'joinInformation', 'content'), at(o.raw, 'joinInformation', 'content'));
          assert.equal(at(o.sdk, 'joinInformation', 'contentType'), 'html');
        });

        test('Example 2: isPasscodeRequired true generates a passcode', async () => {
          const o = await create(w, origin, caller, EXAMPLE_2);
          assertSent(o, caller, EXAMPLE_2);
          assertGraphMeeting(o, caller, origin, { status: 201, method: 'POST', subject: 'User meeting' });
          assertTimes(o, caller, EXAMPLE_2, EXAMPLE_1_TIMES);
          assert.equal(at(o.raw, 'joinMeetingIdSettings', 'isPasscodeRequired'), true);
          const passcode = at(o.raw, 'joinMeetingIdSettings', 'passcode');
          assert.equal(typeof passcode, 'string');
          assert.ok((passcode as string).length > 0);
          assert.equal(sdkPasscode(o), passcode);
          assert.equal(at(o.sdk, 'joinMeetingIdSettings', 'isPasscodeRequired'), true);
        });

        test('Example 3: isPasscodeRequired false, or no joinMeetingIdSettings at all: passcode null', async () => {
          for (const body of [EXAMPLE_3, EXAMPLE_3_OR]) {
            const o = await create(w, origin, caller, body);
            assertSent(o, caller, body);
            assertGraphMeeting(o, caller, origin, { status: 201, method: 'POST', subject: 'User meeting in Microsoft Teams channel.' });
            assertTimes(o, caller, body, EXAMPLE_1_TIMES);
            assert.equal(at(o.raw, 'joinMeetingIdSettings', 'isPasscodeRequired'), false, JSON.stringify(body));
            assert.equal(at(o.raw, 'joinMeetingIdSettings', 'passcode'), null, JSON.stringify(body));
            assert.equal(sdkPasscode(o), null);
          }
        });

        test("Example 4: meeting template; its locked options hold even against allowedPresenters: 'everyone'", async () => {
          const variants: Json[] = [EXAMPLE_4, { ...EXAMPLE_4, allowedPresenters: 'everyone' }];
          for (const body of variants) {
            const o = await create(w, origin, caller, body);
            assertSent(o, caller, body);
            assertGraphMeeting(o, caller, origin, { status: 201, method: 'POST', subject: 'User meeting' });
            assertTimes(o, caller, body, EXAMPLE_1_TIMES);
            for (const view of [o.raw, o.sdk]) {
              const which = `${view === o.raw ? 'wire' : caller.client} for ${JSON.stringify(body)}`;
              assert.equal(view.meetingTemplateId, TEMPLATE_ID, which);
              assert.equal(view.allowedPresenters, 'organizer', which);
              assert.equal(view.allowRecording, false, which);
              assert.equal(at(view, 'watermarkProtection', 'isEnabledForContentSharing'), true, which);
              assert.equal(at(view, 'watermarkProtection', 'isEnabledForVideo'), true, which);
            }
          }
        });

        test('Example 5: isEndToEndEncryptionEnabled true, returned and kept (GET through the same SDK)', async () => {
          const o = await create(w, origin, caller, EXAMPLE_5);
          assertSent(o, caller, EXAMPLE_5);
          assertGraphMeeting(o, caller, origin, { status: 201, method: 'POST', subject: 'Encrypted Meeting' });
          assertTimes(o, caller, EXAMPLE_5, EXAMPLE_5_TIMES);
          assert.equal(o.raw.isEndToEndEncryptionEnabled, true);
          assert.equal(o.sdk.isEndToEndEncryptionEnabled, true);

          const g = await get(w, origin, caller, o.raw.id as string);
          assertGraphMeeting(g, caller, origin, { status: 200, method: 'GET', subject: 'Encrypted Meeting' });
          assert.equal(g.raw.id, o.raw.id);
          assert.equal(g.raw.startDateTime, o.raw.startDateTime);
          assert.equal(g.raw.isEndToEndEncryptionEnabled, true);
          assert.equal(g.sdk.isEndToEndEncryptionEnabled, true);
        });
      });
    }

    test('Kiota deserializes a full create response (and the GET of it) without losing a field', async () => {
      const knownFields = new Set(await w.call('kiotaOnlineMeetingFields', {}));
      assert.ok(knownFields.has('joinWebUrl') && knownFields.has('participants'), [...knownFields].join(', '));
      const caller = CALLERS[0]!;
      const created = await create(w, origin, caller, EXAMPLE_2, { 'Accept-Language': 'ja' });
      assert.equal(created.wire.status, 201);
      const got = await get(w, origin, caller, created.raw.id as string);
      assert.equal(got.wire.status, 200);
      for (const o of [created, got]) {
        assertKiotaKeepsEveryKey(o, knownFields);
        for (const path of [
          ['participants', 'organizer', 'identity', 'user', 'id'],
          ['participants', 'organizer', 'identity', 'user', 'displayName'],
          ['lobbyBypassSettings', 'scope'],
          ['audioConferencing', 'conferenceId'],
          ['audioConferencing', 'tollNumbers'],
          ['joinMeetingIdSettings', 'passcode'],
        ]) {
          const value = at(o.raw, ...path);
          assert.ok(value !== undefined && value !== null, `the server sent no ${path.join('.')}`);
          assert.deepEqual(at(o.sdk, ...path), value, path.join('.'));
        }
        assert.equal(at(o.raw, 'participants', 'organizer', 'identity', 'user', 'displayName'), C.alice.displayName);
      }
    });
  });
}
