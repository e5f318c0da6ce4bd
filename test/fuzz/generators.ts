import fc from 'fast-check';

/**
 * fast-check arbitraries for the bad-input fuzz suite (run-fuzz.ts). Every arbitrary is built from a
 * FuzzContext (tokens, reference meetings) that exists only once the app is up, and yields a FuzzRequest:
 * a concrete request for `app.inject`, plus what the property must hold for it.
 *
 * JSON bodies are written by writeJson() rather than JSON.stringify so that they can carry what a JS
 * object cannot: duplicate keys and `__proto__` keys (Pairs), and nesting far deeper than JSON.stringify's
 * recursion allows (RawJson).
 */

// ---------------------------------------------------------------------------------------------------
// JSON with duplicate keys, special keys and verbatim fragments

/** A JSON fragment written verbatim (deep nesting, `1e999`, `-0`, …). */
export class RawJson {
  constructor(readonly text: string) {}
}
/** A JSON object written from ordered pairs: duplicate keys and `__proto__` keys survive. */
export class Pairs {
  constructor(readonly pairs: ReadonlyArray<readonly [string, Json]>) {}
}
export type Json = null | boolean | number | string | RawJson | Pairs | Json[] | { [key: string]: Json };

export function writeJson(value: Json): string {
  if (value instanceof RawJson) return value.text;
  if (value instanceof Pairs) return `{${value.pairs.map(([k, v]) => `${JSON.stringify(k)}:${writeJson(v)}`).join(',')}}`;
  if (Array.isArray(value)) return `[${value.map(writeJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.entries(value)
      .map(([k, v]) => `${JSON.stringify(k)}:${writeJson(v)}`)
      .join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

// ---------------------------------------------------------------------------------------------------
// The context and the generated request

export interface FuzzUser {
  id: string;
  upn: string;
}
export type Owner = 'alice' | 'bob';
export interface RefMeeting {
  id: string;
  owner: Owner;
  threadId: string;
  joinWebUrl: string;
  joinMeetingId: string;
  videoTeleconferenceId: string;
  externalId: string | null;
}
export interface FuzzContext {
  tenantId: string;
  domain: string;
  templateId: string;
  password: string;
  users: { alice: FuzzUser; bob: FuzzUser; carol: FuzzUser; dave: FuzzUser };
  apps: {
    scheduler: { clientId: string; secret: string };
    client: { clientId: string; secret: string };
    fabrikam: { clientId: string; secret: string; tenantId: string; domain: string };
  };
  /** Bearer tokens: delegated (alice: ReadWrite, aliceRead: Read only, bob, carol) and app-only. */
  tokens: { alice: string; aliceRead: string; bob: string; carol: string; app: string; fabrikamApp: string };
  /** Meetings created before the run; they must be byte-identical afterwards. */
  refs: RefMeeting[];
}

export const REQUEST_KINDS = ['create', 'createOrGet', 'patchRef', 'patchNew', 'filter', 'idPath', 'token', 'users', 'batch'] as const;
export type RequestKind = (typeof REQUEST_KINDS)[number];
export type Headers = Record<string, string | string[]>;

export interface FuzzRequest {
  kind: RequestKind;
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE' | 'PUT';
  /** For patchNew, `{new}` stands for the id of the throwaway meeting made just before. */
  url: string;
  headers: Headers;
  payload?: string | Buffer;
  /** patchNew: the throwaway meeting's organizer and create body ('{}' is used if the body is refused). */
  setup?: { owner: Owner; body: string };
  /** patchRef: the request must be refused (the body is invalid, or the caller may not change the meeting). */
  mustFail?: boolean;
  /** createOrGet naming a reference meeting's key: a 2xx must be 200 with that meeting. */
  expectExisting?: string;
  /** Strings that must not appear in a 2xx answer (another tenant's users, issue #14). */
  mustNotLeak?: string[];
  /** Short description of what was generated, for reports. */
  note: string;
}

// ---------------------------------------------------------------------------------------------------
// Small building blocks

const ABSENT = Symbol('absent');
type Maybe<T> = T | typeof ABSENT;
/** Present with probability 1/(1+absentWeight). */
const sometimes = <T>(arb: fc.Arbitrary<T>, absentWeight = 5): fc.Arbitrary<Maybe<T>> =>
  fc.oneof({ weight: absentWeight, arbitrary: fc.constant(ABSENT) }, { weight: 1, arbitrary: arb });

const pick = <T>(...values: T[]) => fc.constantFrom(...values);

/** Header values Node's HTTP layer can send: tab, visible ASCII, space and obs-text (0x80-0xff). */
export const headerSafe = (s: string) => s.replace(/[^\t\x20-\x7e\x80-\xff]/g, '?');

/**
 * encodeURIComponent that also takes lone surrogates (which it refuses), writing them as the 3-byte
 * sequences a careless encoder would produce (%ED%A0%80): invalid UTF-8 in the URL.
 */
export function encodeAny(s: string): string {
  return Array.from(s, (ch) => {
    const c = ch.charCodeAt(0);
    if (ch.length === 1 && c >= 0xd800 && c <= 0xdfff) {
      return [0xe0 | (c >> 12), 0x80 | ((c >> 6) & 0x3f), 0x80 | (c & 0x3f)].map((b) => `%${b.toString(16).toUpperCase()}`).join('');
    }
    return encodeURIComponent(ch);
  }).join('');
}

/** Strings worth trying anywhere a string goes. */
const NASTY_STRINGS = [
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  '\uFEFF',
  '\uD800',
  '\uDFFF\uD800',
  '\u202Egnp.exe',
  '𝕏🎉👩‍👩‍👧',
  '<script>alert(1)</script>',
  "'; DROP TABLE meetings; --",
  '" OR 1=1 --',
  '${jndi:ldap://x}',
  '{{7*7}}',
  '%00',
  '%E0%A4%A',
  '\\u0000',
  '\r\n',
  'null',
  'undefined',
  'true',
  'NaN',
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  'ａｌｉｃｅ',
];

const unicodeString = fc.oneof(
  { weight: 3, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 20 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 20 }) },
  { weight: 2, arbitrary: fc.constantFrom(...NASTY_STRINGS) },
);

/** The limits of the body schema and the service, where off-by-one bugs live. */
const LENGTH_EDGES = [35, 36, 63, 64, 65, 256, 257, 320, 321, 400, 401, 500, 501, 512, 513, 2048, 2049, 4096, 4097, 8192, 8193, 16385];

/** Strings from a few characters up to ~200 KB, built by repetition so generation stays cheap. */
export const hugeStringArb: fc.Arbitrary<string> = fc
  .tuple(
    fc.oneof(
      fc.string({ minLength: 1, maxLength: 8 }),
      fc.string({ unit: 'grapheme', minLength: 1, maxLength: 4 }),
      pick('x', 'é', '\u0000', '🎉'),
    ),
    fc.oneof({ weight: 3, arbitrary: pick(...LENGTH_EDGES) }, { weight: 2, arbitrary: fc.integer({ min: 1, max: 200_000 }) }),
  )
  .map(([chunk, length]) => chunk.repeat(Math.ceil(length / chunk.length)).slice(0, length));

/** A body just over the 1 MiB limit (413). */
export const overLimitBodyArb: fc.Arbitrary<string> = fc
  .tuple(fc.integer({ min: 1, max: 4096 }), pick('subject', 'externalId', 'x'))
  .map(([extra, key]) => `{"${key}":"${'x'.repeat(1_048_576 + extra)}"}`);

type DeepShape = 'object' | 'array' | 'mixed' | 'proto' | 'constructor';
const DEEP_SHAPES: Record<DeepShape, [open: string, close: string]> = {
  object: ['{"a":', '}'],
  array: ['[', ']'],
  mixed: ['{"a":[', ']}'],
  proto: ['{"__proto__":', '}'],
  constructor: ['{"constructor":{"prototype":', '}}'],
};

/** Objects or arrays nested 100-5000 levels, written as text (JSON.stringify gives up near 4000). */
export function deepJsonArb(shapes: DeepShape[] = Object.keys(DEEP_SHAPES) as DeepShape[]): fc.Arbitrary<RawJson> {
  return fc
    .tuple(
      fc.oneof(pick(100, 1000, 2000, 4000, 5000), fc.integer({ min: 100, max: 5000 })),
      fc.constantFrom(...shapes),
      pick('1', 'null', '"x"', '{}', '[]', '{"__proto__":{"isBroadcast":true}}'),
    )
    .map(([depth, shape, leaf]) => {
      const [open, close] = DEEP_SHAPES[shape];
      return new RawJson(open.repeat(depth) + leaf + close.repeat(depth));
    });
}

/** Any JSON, shallow, with special keys among the ordinary ones. */
export const SPECIAL_KEYS = ['__proto__', 'constructor', 'prototype'];
const anyKey = fc.oneof({ weight: 3, arbitrary: fc.string({ maxLength: 12 }) }, { weight: 1, arbitrary: pick(...SPECIAL_KEYS) });
export const anyJsonArb: fc.Arbitrary<Json> = fc.letrec<{ value: Json }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constant(null),
    fc.boolean(),
    fc.integer(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    pick(new RawJson('1e999'), new RawJson('-0'), new RawJson('1E+400'), new RawJson('12345678901234567890123456789')),
    unicodeString,
    fc.array(tie('value'), { maxLength: 4 }),
    fc.array(fc.tuple(anyKey, tie('value')), { maxLength: 4 }).map((pairs) => new Pairs(pairs)),
  ),
})).value;

/** Something of the wrong type for a property whose type is `expected`. */
function wrongTypeArb(expected: 'string' | 'boolean' | 'object' | 'array'): fc.Arbitrary<Json> {
  // A deep object is still an object, and a deep array an array: only the other shapes are wrong types.
  const deep =
    expected === 'object' ? deepJsonArb(['array']) : expected === 'array' ? deepJsonArb(['object', 'mixed', 'proto']) : deepJsonArb();
  const choices: fc.Arbitrary<Json>[] = [fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), deep];
  if (expected !== 'string') choices.push(unicodeString, pick('true', 'false', '1', '{}'));
  if (expected !== 'boolean') choices.push(fc.boolean());
  if (expected !== 'object') choices.push(fc.dictionary(fc.string({ maxLength: 5 }), fc.string({ maxLength: 5 }), { maxKeys: 2 }));
  if (expected !== 'array') choices.push(fc.array(fc.string({ maxLength: 5 }), { maxLength: 3 }));
  if (expected === 'array') choices.push(fc.dictionary(fc.string({ maxLength: 5 }), fc.string({ maxLength: 5 }), { maxKeys: 2 }));
  return fc.oneof(...choices);
}

// ---------------------------------------------------------------------------------------------------
// Date-times

const pad = (n: number, width: number) => String(n).padStart(width, '0');
const UNICODE_DIGITS = ['０', '٠', '०', '𝟎', '০'];
/** Replaces ASCII digits with digits of another script (fullwidth, Arabic-Indic, Devanagari, …). */
const toUnicodeDigits = (s: string, zero: string, all: boolean) =>
  s.replace(/\d/g, (d, i: number) => (all || i % 3 === 0 ? String.fromCodePoint(zero.codePointAt(0)! + Number(d)) : d));

/** ISO 8601 look-alikes: leap seconds, years 0000 and 10000, ±25:00 offsets, 20 fractional digits, empty. */
export const dateTimeArb: fc.Arbitrary<string> = fc.oneof(
  // Valid, any offset and precision.
  {
    weight: 4,
    arbitrary: fc
      .tuple(
        fc.date({ min: new Date('0001-01-02T00:00:00Z'), max: new Date('9999-12-30T00:00:00Z'), noInvalidDate: true }),
        pick('Z', '+00:00', '-07:00', '+05:30', '+14:00', '-12:00', ''),
        fc.integer({ min: 0, max: 9 }),
      )
      .map(([d, offset, digits]) => {
        const iso = d.toISOString();
        const frac = digits === 0 ? '' : `.${(iso.slice(20, 23) + '1234567').slice(0, digits)}`;
        return `${iso.slice(0, 19)}${frac}${offset}`;
      }),
  },
  // Edges of the representable range.
  {
    weight: 2,
    arbitrary: pick(
      '9999-12-31T23:59:59.9999999Z',
      '9999-12-31T23:59:59Z',
      '9999-12-31T23:30:00Z',
      '9999-12-31T23:00:00Z',
      '9999-12-31T22:59:59Z',
      '9999-12-31T22:00:00-01:00',
      '9999-12-31T23:59:59-00:01',
      '0001-01-01T00:00:00Z',
      '0001-01-01T00:00:00+00:01',
      '0001-01-01T00:59:59+01:00',
      '1969-12-31T23:59:59.9999999Z',
      '1970-01-01T00:00:00Z',
      '2024-02-29T12:00:00Z',
      '2023-02-29T12:00:00Z',
      '2024-04-31T12:00:00Z',
      '2016-12-31T23:59:60Z',
      '2024-06-30T23:59:60.5+00:00',
    ),
  },
  // Assembled from odd parts.
  {
    weight: 4,
    arbitrary: fc
      .record({
        year: fc.oneof(
          pick('0000', '0001', '1969', '2024', '9999', '10000', '+2024', '-0001', '99999', '20', ''),
          fc.integer({ min: 0, max: 9999 }).map((y) => pad(y, 4)),
        ),
        month: fc.oneof(
          pick('00', '01', '02', '12', '13', '1', '99', ''),
          fc.integer({ min: 1, max: 12 }).map((m) => pad(m, 2)),
        ),
        day: fc.oneof(
          pick('00', '01', '28', '29', '30', '31', '32', '1'),
          fc.integer({ min: 1, max: 28 }).map((d) => pad(d, 2)),
        ),
        sep: pick('T', 't', ' ', '_', ''),
        hour: pick('00', '12', '23', '24', '25', '7', '99'),
        minute: pick('00', '30', '59', '60', '5'),
        second: pick('', ':00', ':59', ':60', ':61', ':5', ':99'),
        frac: fc.oneof(
          pick('', '.', ','),
          fc.integer({ min: 1, max: 20 }).map((n) => `.${'1234567890'.repeat(2).slice(0, n)}`),
        ),
        offset: pick(
          '',
          'Z',
          'z',
          '+00:00',
          '-00:00',
          '+14:00',
          '-12:00',
          '+23:59',
          '+24:00',
          '+25:00',
          '-25:00',
          '+00:60',
          '+0530',
          '+05',
          '+5:30',
          'UTC',
          ' Z',
          '+99:99',
          'ZZ',
        ),
      })
      .map((p) => `${p.year}-${p.month}-${p.day}${p.sep}${p.hour}:${p.minute}${p.second}${p.frac}${p.offset}`),
  },
  // Unicode digits (\d in a JS regex is ASCII only; Number() is not).
  {
    weight: 1,
    arbitrary: fc
      .tuple(pick('2024-05-01T14:30:00Z', '2030-01-02T10:00:00.1234567+01:00'), pick(...UNICODE_DIGITS), fc.boolean())
      .map(([s, zero, all]) => toUnicodeDigits(s, zero, all)),
  },
  // Not date-times at all.
  {
    weight: 1,
    arbitrary: fc.oneof(
      pick(
        '',
        ' ',
        'now',
        'NaN',
        'Infinity',
        '0',
        '1e10',
        '2024-05-01',
        '14:30:00',
        'T',
        '2024-05-01T14:30:00Z/2024-05-02',
        ' 2024-05-01T14:30:00Z ',
      ),
      fc.string({ maxLength: 30 }),
      hugeStringArb,
    ),
  },
);

// ---------------------------------------------------------------------------------------------------
// Meeting bodies

const ENUM_VALUES = {
  allowedLobbyAdmitters: ['organizerAndCoOrganizersAndPresenters', 'organizerAndCoOrganizers', 'unknownFutureValue'],
  allowedPresenters: ['everyone', 'organization', 'roleIsPresenter', 'organizer', 'unknownFutureValue'],
  allowLiveShare: ['enabled', 'disabled', 'unknownFutureValue'],
  allowMeetingChat: ['enabled', 'disabled', 'limited', 'unknownFutureValue'],
  shareMeetingChatHistoryDefault: ['none', 'all', 'unknownFutureValue'],
  role: ['attendee', 'presenter', 'unknownFutureValue', 'producer', 'coorganizer'],
  lobbyBypassScope: [
    'organizer',
    'organization',
    'organizationAndFederated',
    'everyone',
    'unknownFutureValue',
    'invited',
    'organizationExcludingGuests',
  ],
} as const;

/** Writable string properties and their schema maxLength (src/http/schemas/online-meeting.ts). */
const STRING_PROPS = {
  subject: 4096,
  startDateTime: 64,
  endDateTime: 64,
  externalId: 512,
  meetingTemplateId: 64,
  meetingSpokenLanguageTag: 35,
} as const;
const BOOL_PROPS = [
  'isBroadcast',
  'allowAttendeeToEnableCamera',
  'allowAttendeeToEnableMic',
  'allowBreakoutRooms',
  'allowCopyingAndSharingMeetingContent',
  'allowParticipantsToChangeName',
  'allowPowerPointSharing',
  'allowRecording',
  'allowTeamworkReactions',
  'allowTranscription',
  'allowWhiteboard',
  'isEndToEndEncryptionEnabled',
  'isEntryExitAnnounced',
  'recordAutomatically',
] as const;
const ENUM_PROPS = [
  'allowedLobbyAdmitters',
  'allowedPresenters',
  'allowLiveShare',
  'allowMeetingChat',
  'shareMeetingChatHistoryDefault',
] as const;
/** Object properties and their fields' kinds. */
const OBJECT_PROPS: Record<string, Record<string, 'bool' | 'string' | keyof typeof ENUM_VALUES>> = {
  chatRestrictions: { allowTextOnly: 'bool' },
  lobbyBypassSettings: { scope: 'lobbyBypassScope', isDialInBypassEnabled: 'bool' },
  watermarkProtection: { isEnabledForContentSharing: 'bool', isEnabledForVideo: 'bool' },
  joinMeetingIdSettings: { isPasscodeRequired: 'bool', passcode: 'string' },
  sensitivityLabelAssignment: { sensitivityLabelId: 'string' },
};
/** Properties the service generates; Graph ignores them on input (meetingType is refused on PATCH). */
const READ_ONLY_PROPS = [
  'id',
  'joinWebUrl',
  'joinUrl',
  'chatInfo',
  'creationDateTime',
  'expiryDateTime',
  'audioConferencing',
  'videoTeleconferenceId',
  'meetingOptionsWebUrl',
  'joinInformation',
  'isEntryExitAnnounced ',
  '@odata.type',
  '@odata.context',
  'Subject',
  'SUBJECT',
  'broadcastSettings',
  'meetingInfo',
];

/** An enum member in the wrong case or padded, or some other word: never a member. */
const notAMember = (values: readonly string[]) =>
  fc
    .oneof(
      fc.constantFrom(...values).map((v) => v.toUpperCase()),
      fc.constantFrom(...values).map((v) => ` ${v}`),
      fc.constantFrom(...values).map((v) => `${v}\u0000`),
      pick('', 'unknown', 'Everyone', 'none ', 'null'),
      fc.string({ maxLength: 12 }),
    )
    .filter((v) => !values.includes(v));

function fieldArb(kind: 'bool' | 'string' | keyof typeof ENUM_VALUES, valid: boolean): fc.Arbitrary<Json> {
  if (kind === 'bool') return valid ? fc.oneof(fc.boolean(), fc.constant(null)) : wrongTypeArb('boolean');
  // The string fields of nested objects (passcode, sensitivityLabelId) allow 64 characters.
  if (kind === 'string') {
    return valid
      ? fc.oneof(unicodeString, fc.constant(null), fc.uuid())
      : fc.oneof(
          wrongTypeArb('string'),
          hugeStringArb.filter((x) => x.length > 64),
        );
  }
  const values = ENUM_VALUES[kind];
  return valid ? fc.oneof(fc.constantFrom(...values), fc.constant(null)) : fc.oneof(notAMember(values), wrongTypeArb('string'));
}

/** A Pairs object from a record of optional fields, with special keys mixed in now and then. */
function objectArb(fields: Record<string, fc.Arbitrary<Json>>, specialWeight = 8): fc.Arbitrary<Pairs> {
  const present = Object.fromEntries(Object.entries(fields).map(([k, a]) => [k, sometimes(a, 1)]));
  return fc
    .tuple(
      fc.record(present),
      fc.oneof(
        { weight: specialWeight, arbitrary: fc.constant([]) },
        { weight: 1, arbitrary: fc.array(fc.tuple(pick(...SPECIAL_KEYS), anyJsonArb), { maxLength: 2 }) },
      ),
    )
    .map(([rec, specials]) => new Pairs([...specials, ...Object.entries(rec).filter((e): e is [string, Json] => e[1] !== ABSENT)]));
}

function identityArb(ctx: FuzzContext): fc.Arbitrary<Json> {
  const u = ctx.users;
  return objectArb({
    id: fc.oneof(pick(u.alice.id, u.bob.id, u.carol.id, u.dave.id, u.alice.id.toUpperCase()), fc.uuid(), unicodeString, fc.constant(null)),
    displayName: fc.oneof(unicodeString, fc.constant(null)),
    tenantId: fc.oneof(pick(ctx.tenantId, ctx.apps.fabrikam.tenantId), fc.uuid(), fc.constant(null)),
    identityProvider: fc.oneof(pick('AAD', 'None', 'MSA'), fc.constant(null)),
  });
}

function upnArb(ctx: FuzzContext): fc.Arbitrary<Json> {
  const u = ctx.users;
  return fc.oneof(
    pick(u.alice.upn, u.bob.upn, u.carol.upn, u.dave.upn, u.bob.upn.toUpperCase(), 'guest@example.com', 'nobody@contoso.test'),
    fc.emailAddress(),
    unicodeString,
    fc.constant(null),
  );
}

function attendeeArb(ctx: FuzzContext, valid: boolean): fc.Arbitrary<Json> {
  if (!valid) {
    return fc.oneof(
      wrongTypeArb('object'),
      objectArb({ role: fieldArb('role', false) }, 100),
      objectArb({ upn: wrongTypeArb('string') }, 100),
      objectArb({ identity: wrongTypeArb('object') }, 100),
      objectArb({ identity: objectArb({ user: objectArb({ id: wrongTypeArb('string') }, 100) }, 100) }, 100),
      objectArb({ upn: hugeStringArb }, 100),
    );
  }
  return objectArb({
    identity: objectArb({
      user: identityArb(ctx),
      guest: identityArb(ctx),
      phone: identityArb(ctx),
      application: identityArb(ctx),
      encrypted: identityArb(ctx),
    }),
    upn: upnArb(ctx),
    role: fieldArb('role', true),
  });
}

/** Attendee lists: short ones, and ones at the 1,000-member chat limit (checked by the service, not the schema). */
function attendeesArb(ctx: FuzzContext, valid: boolean): fc.Arbitrary<Json> {
  const list = fc.array(attendeeArb(ctx, valid), { maxLength: 4 });
  if (!valid)
    return fc.oneof(
      list.filter((l) => l.length > 0),
      wrongTypeArb('array'),
    );
  return fc.oneof(
    { weight: 20, arbitrary: list },
    { weight: 1, arbitrary: fc.constant(null) },
    {
      weight: 1,
      arbitrary: pick(998, 999, 1000, 1001).map((n) => Array.from({ length: n }, (_, i) => ({ upn: `guest${i}@example.com` }))),
    },
  );
}

function participantsArb(ctx: FuzzContext, valid: boolean): fc.Arbitrary<Json> {
  const organizer = fc.oneof(anyJsonArb, deepJsonArb(), fc.constant({ identity: { user: { id: ctx.users.carol.id } } }));
  return valid
    ? objectArb({ organizer, attendees: attendeesArb(ctx, true) })
    : fc.oneof(
        wrongTypeArb('object'),
        objectArb({ organizer, attendees: attendeesArb(ctx, false) }, 100).filter((p) => p.pairs.some(([k]) => k === 'attendees')),
      );
}

/** The value of one writable property, valid or not. */
function propertyArb(ctx: FuzzContext, key: string, valid: boolean): fc.Arbitrary<Json> {
  if (key in STRING_PROPS) {
    const max = STRING_PROPS[key as keyof typeof STRING_PROPS];
    if (!valid) {
      return fc.oneof(
        wrongTypeArb('string'),
        fc.integer({ min: 1, max: 64 }).map((extra) => 'x'.repeat(max + extra)),
        ...(key.endsWith('DateTime') ? [hugeStringArb.filter((s) => s.length > max)] : []),
      );
    }
    if (key.endsWith('DateTime'))
      return fc.oneof({ weight: 8, arbitrary: dateTimeArb.filter((s) => s.length <= max) }, { weight: 1, arbitrary: fc.constant(null) });
    if (key === 'meetingTemplateId')
      return fc.oneof(pick(ctx.templateId, ctx.templateId.toUpperCase(), '', null), fc.uuid(), unicodeString);
    if (key === 'meetingSpokenLanguageTag')
      return fc.oneof(pick('en-US', 'de', 'zh-Hans-CN', 'x-klingon', 'en_US', '', null), fc.string({ maxLength: 35 }));
    return fc.oneof(
      unicodeString,
      fc.constant(null),
      hugeStringArb.filter((s) => s.length <= max),
    );
  }
  if ((BOOL_PROPS as readonly string[]).includes(key)) return fieldArb('bool', valid);
  if ((ENUM_PROPS as readonly string[]).includes(key)) return fieldArb(key as keyof typeof ENUM_VALUES, valid);
  if (key in OBJECT_PROPS) {
    const fields = OBJECT_PROPS[key]!;
    if (!valid) {
      return fc.oneof(
        wrongTypeArb('object'),
        fc.constantFrom(...Object.keys(fields)).chain((f) => fieldArb(fields[f]!, false).map((v) => new Pairs([[f, v]]))),
      );
    }
    return fc.oneof(
      { weight: 8, arbitrary: objectArb(Object.fromEntries(Object.entries(fields).map(([f, k]) => [f, fieldArb(k, true)]))) },
      { weight: 1, arbitrary: fc.constant(null) },
    );
  }
  if (key === 'participants') return participantsArb(ctx, valid);
  if (key === 'anonymizeIdentityForRoles') {
    return valid
      ? fc.oneof(
          fc.array(pick('attendee'), { maxLength: 3 }),
          fc.array(fc.constantFrom(...ENUM_VALUES.role), { maxLength: 3 }),
          fc.constant(null),
        )
      : fc.oneof(
          wrongTypeArb('array'),
          fc.array(notAMember(ENUM_VALUES.role), { minLength: 1, maxLength: 3 }),
          fc.array(pick('attendee'), { minLength: 11, maxLength: 20 }),
          fc.array(fc.integer(), { minLength: 1, maxLength: 3 }),
        );
  }
  throw new Error(`no arbitrary for ${key}`);
}

/** Every property of createMeetingBody (src/http/schemas/online-meeting.ts). */
export const WRITABLE_PROPS = [
  ...Object.keys(STRING_PROPS),
  ...BOOL_PROPS,
  ...ENUM_PROPS,
  ...Object.keys(OBJECT_PROPS),
  'participants',
  'anonymizeIdentityForRoles',
];
/** Of those, what createOrGet reads. */
const CREATE_OR_GET_PROPS = ['externalId', 'subject', 'startDateTime', 'endDateTime', 'participants'];

/** Extra pairs: read-only and unknown properties, `__proto__`/`constructor`/`prototype` keys, deep values. */
function extraPairArb(): fc.Arbitrary<readonly [string, Json]> {
  return fc.oneof(
    fc.tuple(pick(...READ_ONLY_PROPS), anyJsonArb),
    fc.tuple(
      pick(...SPECIAL_KEYS),
      fc.oneof(
        anyJsonArb,
        deepJsonArb(),
        fc.constant(
          new Pairs([
            ['isBroadcast', true],
            ['subject', 1],
          ]),
        ),
        fc.constant(new Pairs([['prototype', new Pairs([['allowRecording', 'yes']])]])),
      ),
    ),
    fc.tuple(fc.string({ maxLength: 20 }), fc.oneof(anyJsonArb, deepJsonArb())),
  );
}

export interface MeetingBody {
  pairs: Array<readonly [string, Json]>;
}

/**
 * A meeting body: a few writable properties, each valid or (with probability `1/(1+validWeight)`)
 * invalid, shuffled with read-only, unknown and special keys, sometimes with a key given twice.
 */
export function meetingBodyArb(ctx: FuzzContext, props: readonly string[] = WRITABLE_PROPS): fc.Arbitrary<MeetingBody> {
  const valueOf = (key: string, validWeight: number) =>
    fc.oneof({ weight: validWeight, arbitrary: propertyArb(ctx, key, true) }, { weight: 1, arbitrary: propertyArb(ctx, key, false) });
  return fc
    .tuple(pick(0, 2, 8, 30, 100), fc.uniqueArray(fc.constantFrom(...props), { maxLength: 7 }))
    .chain(([validWeight, keys]) =>
      fc.record({
        pairs: fc.tuple(...keys.map((k) => valueOf(k, validWeight).map((v) => [k, v] as const))),
        extras: fc.array(fc.tuple(extraPairArb(), fc.nat()), { maxLength: 3 }),
        duplicate: fc.option(fc.tuple(fc.nat(), fc.nat()), { freq: 6 }),
        duplicateValue: keys.length > 0 ? valueOf(keys[0]!, validWeight) : fc.constant(null),
      }),
    )
    .map(({ pairs: given, extras, duplicate, duplicateValue }) => {
      const pairs: Array<readonly [string, Json]> = [...given];
      for (const [pair, at] of extras) pairs.splice(at % (pairs.length + 1), 0, pair);
      if (duplicate && given.length > 0) {
        // The first property again, somewhere: JSON.parse keeps the last one.
        pairs.splice(duplicate[1] % (pairs.length + 1), 0, [given[0]![0], duplicateValue]);
      }
      return { pairs };
    });
}

/** The value the server sees for `key` (the last one wins in JSON.parse), if any. */
export const effectiveValue = (body: MeetingBody, key: string): Json | undefined => body.pairs.filter(([k]) => k === key).pop()?.[1];

/**
 * One property that makes any PATCH body invalid whatever else it holds: a wrong type, a string over its
 * maxLength, an enum non-member, too many roles, or `meetingType` (refused even unchanged).
 */
export function patchPoisonArb(ctx: FuzzContext): fc.Arbitrary<readonly [string, Json]> {
  return fc.oneof(
    fc.constantFrom(...WRITABLE_PROPS).chain((k) => propertyArb(ctx, k, false).map((v) => [k, v] as const)),
    fc.tuple(fc.constant('meetingType'), fc.oneof(pick('scheduled', 'adhoc', 'broadcast', null), anyJsonArb)),
  );
}

// ---------------------------------------------------------------------------------------------------
// Raw bodies

const INVALID_UTF8: number[][] = [
  [0xff],
  [0xfe, 0xff],
  [0xc0, 0xaf],
  [0xc3],
  [0xe0, 0xa4],
  [0xed, 0xa0, 0x80],
  [0xf4, 0x90, 0x80, 0x80],
  [0xf8, 0x88, 0x80, 0x80, 0x80],
  [0x80],
  [0xbf, 0xbf],
  [0xef, 0xbf, 0xbe],
];

/** Bytes of `text` with invalid UTF-8 inserted at `at` (a fraction of the length; inside strings or not). */
export function withInvalidUtf8(text: string, at: number, which: number): Buffer {
  const bytes = Buffer.from(text, 'utf8');
  const i = Math.floor(at * bytes.length);
  return Buffer.concat([bytes.subarray(0, i), Buffer.from(INVALID_UTF8[which % INVALID_UTF8.length]!), bytes.subarray(i)]);
}

export type Corruption =
  | { kind: 'none' }
  | { kind: 'invalidUtf8'; at: number; which: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'bom'; bom: 'utf8' | 'utf8x2' | 'utf16le' | 'utf16be' }
  | { kind: 'nul'; at: number }
  | { kind: 'trailing'; text: string }
  | { kind: 'utf16' };

export const corruptionArb: fc.Arbitrary<Corruption> = fc.oneof(
  { weight: 40, arbitrary: fc.constant({ kind: 'none' as const }) },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant('invalidUtf8' as const), at: fc.double({ min: 0, max: 1, noNaN: true }), which: fc.nat() }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('truncate' as const), at: fc.double({ min: 0, max: 0.9999, noNaN: true }) }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('bom' as const),
      bom: pick<'utf8' | 'utf8x2' | 'utf16le' | 'utf16be'>('utf8', 'utf8x2', 'utf16le', 'utf16be'),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('nul' as const), at: fc.double({ min: 0, max: 1, noNaN: true }) }) },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('trailing' as const), text: pick('}', ' x', '{}', '// c', '/* c */', '\u0000', ',', '\n\n') }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'utf16' as const }) },
);

/** Applies a corruption to the first `mutable` characters of `text` (the rest, if any, is kept intact). */
export function corrupt(text: string, c: Corruption, mutable = text.length): string | Buffer {
  const head = text.slice(0, mutable);
  const tail = text.slice(mutable);
  switch (c.kind) {
    case 'none':
      return text;
    case 'invalidUtf8':
      return Buffer.concat([withInvalidUtf8(head, c.at, c.which), Buffer.from(tail, 'utf8')]);
    case 'truncate':
      return text.slice(0, Math.floor(c.at * text.length));
    case 'bom': {
      const bom = { utf8: [0xef, 0xbb, 0xbf], utf8x2: [0xef, 0xbb, 0xbf, 0xef, 0xbb, 0xbf], utf16le: [0xff, 0xfe], utf16be: [0xfe, 0xff] }[
        c.bom
      ];
      return Buffer.concat([Buffer.from(bom), Buffer.from(text, 'utf8')]);
    }
    case 'nul': {
      const i = Math.floor(c.at * head.length);
      return `${head.slice(0, i)}\u0000${head.slice(i)}${tail}`;
    }
    case 'trailing':
      return text + c.text;
    case 'utf16':
      return Buffer.from(text, 'utf16le');
  }
}

/** Bodies that are not a JSON object, or not JSON. */
export const rawBodyArb: fc.Arbitrary<string | Buffer> = fc.oneof(
  pick(
    '',
    ' ',
    '\n',
    'null',
    'true',
    '0',
    '-1',
    '"x"',
    '[]',
    '[{}]',
    '{',
    '}',
    '{"subject":',
    '{"subject":"a"',
    '{"a":1}}',
    "{'subject':'a'}",
  ),
  pick(
    '{"subject":NaN}',
    '{"subject":Infinity}',
    '{"subject":undefined}',
    '{subject:"a"}',
    '{"subject":"a",}',
    '{"a":1}{"b":2}',
    '{"subject":"\\ud800"}',
  ),
  pick(
    '{"subject":"a\\u0000b"}',
    '{"subject":"\u0001"}',
    '{"__proto__":{"isBroadcast":true}}',
    '{"constructor":{"prototype":{"isBroadcast":true}}}',
  ),
  fc.string({ maxLength: 40 }),
  fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a)),
  deepJsonArb().map((r) => r.text),
  fc.tuple(pick('{', '[', '{"a":', '{"a":['), fc.integer({ min: 100, max: 5000 })).map(([open, n]) => open.repeat(n)),
  fc
    .array(fc.tuple(pick('subject', 'isBroadcast', 'startDateTime', 'externalId', '__proto__'), anyJsonArb), { minLength: 2, maxLength: 6 })
    .map((pairs) => writeJson(new Pairs(pairs))),
);

// ---------------------------------------------------------------------------------------------------
// Headers

const jsonContentTypes = [
  'application/json',
  'application/json; charset=utf-8',
  'application/json;charset=UTF-8',
  'Application/JSON',
  'application/json;odata.metadata=minimal;odata.streaming=true',
  'application/json; charset=latin1',
  'application/json; charset=utf-16',
  'application/json; charset="',
  'application/json;;;',
  'application/json ; q=0.5',
  'application/json\t',
];
const otherContentTypes = [
  '',
  ' ',
  'application/jsonp',
  'application/json-patch+json',
  'application/merge-patch+json',
  'application/jsonx',
  'text/json',
  'text/plain',
  'text/plain; charset=utf-8',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/xml',
  '*/*',
  'application/*',
  ';',
  'application/json, text/plain',
  'text/plain, application/json',
  'application',
  '/json',
  'json',
];

export const contentTypeArb = (preferJson = 40): fc.Arbitrary<string | string[]> =>
  fc.oneof(
    { weight: preferJson, arbitrary: fc.constant('application/json') },
    { weight: 2, arbitrary: pick(...jsonContentTypes) },
    { weight: 2, arbitrary: pick(...otherContentTypes) },
    { weight: 1, arbitrary: fc.array(pick(...jsonContentTypes, ...otherContentTypes), { minLength: 2, maxLength: 3 }) },
    { weight: 1, arbitrary: fc.string({ maxLength: 30 }).map(headerSafe) },
  );

const acceptLanguageArb = fc.oneof(
  pick(
    'en-US',
    'de-DE,de;q=0.9',
    'ja',
    'fr-CA;q=0.8, *;q=0.1',
    '*',
    '*;q=0',
    'en;q=0, *;q=0',
    'zz',
    'zh-Hans-CN',
    'pt-BR;q=1.0000001',
    'ko;q=-1',
  ),
  pick('en;q=NaN', 'en;q=1e999', 'en;q=', ';q=1', ',,,,', 'en-', '-', 'en-US;q=0.5;q=0.9', 'en-US-x-private-extension-too-long-subtag'),
  fc.tuple(pick('en-US;q=0.5,', 'xx-YY;q=0.001,', '*;q=0,', 'de,', 'a,'), fc.integer({ min: 100, max: 6000 })).map(([s, n]) => s.repeat(n)),
  fc.string({ maxLength: 40 }).map(headerSafe),
  fc.array(pick('de', 'ja;q=0.5', '*'), { minLength: 2, maxLength: 3 }),
);

const preferArb = fc.oneof(
  pick(
    'include-unknown-enum-members',
    'INCLUDE-UNKNOWN-ENUM-MEMBERS',
    'return=minimal',
    'include-unknown-enum-members; x=1',
    'odata.maxpagesize=1',
  ),
  pick(';;;,,,', ',', '=', 'include-unknown-enum-members=', '"include-unknown-enum-members"', 'include-unknown-enum-members,'.repeat(2000)),
  fc.string({ maxLength: 40 }).map(headerSafe),
  fc.array(pick('respond-async', 'include-unknown-enum-members', ''), { minLength: 2, maxLength: 3 }),
);

const clientRequestIdArb = fc.oneof(
  fc.uuid(),
  pick(
    'abc-123',
    '',
    ' ',
    'a'.repeat(128),
    'a'.repeat(129),
    'x\\r\\nSet-Cookie: a=b',
    '%0D%0ASet-Cookie:%20a=b',
    '"><script>',
    '../../etc/passwd',
    'é\u00ff',
  ),
  fc.tuple(pick('a', '0', '-', '%0d%0a'), fc.integer({ min: 200, max: 20_000 })).map(([s, n]) => s.repeat(n)),
  fc.string({ maxLength: 40 }).map(headerSafe),
  fc.array(fc.uuid(), { minLength: 2, maxLength: 2 }),
);

const b64url = (s: string) => Buffer.from(s, 'utf8').toString('base64url');

/** Authorization values that must all be refused with 401 (or at least never accepted wrongly). */
export function badAuthorizationArb(ctx: FuzzContext): fc.Arbitrary<string | string[]> {
  const real = ctx.tokens.alice;
  const [h = '', p = '', s = ''] = real.split('.');
  const header = JSON.parse(Buffer.from(h, 'base64url').toString('utf8')) as Record<string, unknown>;
  const payload = JSON.parse(Buffer.from(p, 'base64url').toString('utf8')) as Record<string, unknown>;
  const fabrikam = ctx.tokens.fabrikamApp.split('.');
  return fc.oneof(
    pick(
      '',
      'Bearer',
      'Bearer ',
      'Bearer null',
      'Bearer undefined',
      'Bearer a.b.c',
      'Bearer ...',
      'Bearer ..',
      'Negotiate YII=',
      'NTLM TlRMTVNTUAAB',
      'Digest x',
    ),
    pick(`Basic ${Buffer.from(`${ctx.apps.scheduler.clientId}:${ctx.apps.scheduler.secret}`).toString('base64')}`, 'Basic', 'Basic !!!'),
    pick(`PoP ${real}`, `Bearer${real}`, `Bearer ${real}, Bearer ${real}`, `Bearer ${real} x`, `Bearer ${h}.${p}`, `Bearer ${h}..${s}`),
    pick(
      `Bearer ${b64url(JSON.stringify({ ...header, alg: 'none' }))}.${p}.`,
      `Bearer ${b64url(JSON.stringify({ ...header, alg: 'HS256' }))}.${p}.${s}`,
    ),
    pick(
      `Bearer ${b64url(JSON.stringify({ ...header, jku: 'https://evil.test/keys' }))}.${p}.${s}`,
      `Bearer ${b64url(JSON.stringify({ ...header, crit: ['exp'] }))}.${p}.${s}`,
    ),
    pick(
      `Bearer ${b64url(JSON.stringify({ ...header, kid: { a: 1 } }))}.${p}.${s}`,
      `Bearer ${b64url(JSON.stringify({ ...header, kid: '../../x' }))}.${p}.${s}`,
    ),
    pick(`Bearer ${b64url('{"alg":')}.${p}.${s}`, `Bearer ${b64url('[]')}.${p}.${s}`, `Bearer ${b64url('null')}.${p}.${s}`),
    pick(
      `Bearer ${h}.${b64url(JSON.stringify({ ...payload, tid: ctx.apps.fabrikam.tenantId }))}.${s}`,
      `Bearer ${h}.${b64url(JSON.stringify({ ...payload, idtyp: 'app', roles: {} }))}.${s}`,
    ),
    pick(`Bearer ${fabrikam[0]}.${p}.${fabrikam[2]}`, `Bearer ${h}.${b64url('not json')}.${s}`, `Bearer ${'A'.repeat(16 * 1024 + 1)}`),
    // One character of the real token changed.
    fc.tuple(fc.nat(), fc.constantFrom('A', '_', '-', '.', '=', '0')).map(([i, c]) => {
      const at = i % real.length;
      return `Bearer ${real.slice(0, at)}${real[at] === c ? 'B' : c}${real.slice(at + 1)}`;
    }),
    fc.string({ maxLength: 60 }).map((x) => headerSafe(`Bearer ${x}`)),
    fc.array(pick(`Bearer ${real}`, 'Bearer x'), { minLength: 2, maxLength: 2 }),
  );
}

/** Extra headers with random names (valid token characters) and header-safe values. */
const extraHeadersArb = fc.array(
  fc.tuple(
    fc.oneof(
      pick(
        'x-ms-client-request-id',
        'return-client-request-id',
        'x-forwarded-for',
        'x-forwarded-host',
        'if-match',
        'odata-version',
        'sdkversion',
        'accept',
        'accept-charset',
      ),
      fc.stringMatching(/^x-[a-z0-9-]{1,12}$/),
    ),
    fc
      .oneof(
        fc.string({ maxLength: 30 }),
        pick('*', '4.0', 'application/json;odata.metadata=full', '1.1.1.1, evil.test', 'W/"1"'),
        hugeStringArb.filter((s) => s.length < 70_000),
      )
      .map(headerSafe),
  ),
  { maxLength: 2 },
);

interface HeaderFuzz {
  contentType: Maybe<string | string[]>;
  acceptLanguage: Maybe<string | string[]>;
  prefer: Maybe<string | string[]>;
  clientRequestId: Maybe<string | string[]>;
  authorization: Maybe<string | string[]>;
  extra: Array<[string, string]>;
}

/** Headers of a Graph request around the caller's token; `withBody` decides whether Content-Type is sent. */
export function graphHeadersArb(ctx: FuzzContext, withBody: boolean): fc.Arbitrary<HeaderFuzz> {
  return fc.record({
    contentType: withBody
      ? fc.oneof({ weight: 12, arbitrary: contentTypeArb() }, { weight: 1, arbitrary: fc.constant(ABSENT) })
      : sometimes(contentTypeArb(), 12),
    acceptLanguage: sometimes(acceptLanguageArb, 3),
    prefer: sometimes(preferArb, 4),
    clientRequestId: sometimes(clientRequestIdArb, 3),
    authorization: sometimes(badAuthorizationArb(ctx), 24),
    extra: extraHeadersArb,
  });
}

/** Notes that the caller's token was replaced by a fuzzed Authorization value. */
const authNote = (h: HeaderFuzz) => (h.authorization === ABSENT ? '' : ', Authorization fuzzed');

export function buildHeaders(token: string | undefined, h: HeaderFuzz): Headers {
  const out: Headers = {};
  if (token !== undefined) out.authorization = `Bearer ${token}`;
  if (h.authorization !== ABSENT) out.authorization = h.authorization;
  if (h.contentType !== ABSENT) out['content-type'] = h.contentType;
  if (h.acceptLanguage !== ABSENT) out['accept-language'] = h.acceptLanguage;
  if (h.prefer !== ABSENT) out.prefer = h.prefer;
  if (h.clientRequestId !== ABSENT) out['client-request-id'] = h.clientRequestId;
  for (const [k, v] of h.extra) if (!(k in out)) out[k] = v;
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Who calls, on which path

export interface Caller {
  token: string | undefined;
  /** '/me' or '/users/{id or UPN}'. */
  base: string;
  /** Whose meetings this caller may write on this path, if anyone's. */
  writesFor: Owner | null;
  label: string;
}

const versionArb = fc.oneof(
  { weight: 6, arbitrary: fc.constant('/v1.0') },
  { weight: 2, arbitrary: fc.constant('/beta') },
  { weight: 1, arbitrary: pick('/V1.0', '/BETA', '/v1.0/', '/v2.0', '/v1.0/v1.0') },
);
const collectionSegmentArb = fc.oneof(
  { weight: 8, arbitrary: fc.constant('onlineMeetings') },
  { weight: 1, arbitrary: pick('onlinemeetings', 'ONLINEMEETINGS', 'onlineMeetings/', 'onlineMeeting', 'events') },
);

/** Callers allowed to write for Alice or Bob, and callers that are not. */
export function callers(ctx: FuzzContext): { authorized: Caller[]; unauthorized: Record<Owner, Caller[]>; other: Caller[] } {
  const { alice, bob, carol, dave } = ctx.users;
  const t = ctx.tokens;
  const authorized: Caller[] = [
    { token: t.alice, base: '/me', writesFor: 'alice', label: 'alice /me' },
    { token: t.alice, base: `/users/${alice.id}`, writesFor: 'alice', label: 'alice /users/alice' },
    { token: t.app, base: `/users/${alice.upn}`, writesFor: 'alice', label: 'app /users/alice@' },
    { token: t.app, base: `/users/${bob.id}`, writesFor: 'bob', label: 'app /users/bob' },
    { token: t.app, base: `/users/${bob.upn.toUpperCase()}`, writesFor: 'bob', label: 'app /users/BOB@' },
    { token: t.bob, base: '/me', writesFor: 'bob', label: 'bob /me' },
  ];
  const common: Caller[] = [
    { token: undefined, base: '/me', writesFor: null, label: 'no token /me' },
    { token: t.aliceRead, base: '/me', writesFor: null, label: 'alice(Read) /me' },
    { token: t.carol, base: '/me', writesFor: null, label: 'carol /me' },
    { token: t.app, base: '/me', writesFor: null, label: 'app /me' },
    { token: t.app, base: `/users/${carol.id}`, writesFor: null, label: 'app /users/carol' },
    { token: t.fabrikamApp, base: `/users/${alice.id}`, writesFor: null, label: 'fabrikam app /users/alice' },
    { token: t.fabrikamApp, base: `/users/${dave.id}`, writesFor: null, label: 'fabrikam app /users/dave' },
    { token: t.carol, base: `/users/${alice.id}`, writesFor: null, label: 'carol /users/alice' },
  ];
  const unauthorized: Record<Owner, Caller[]> = {
    alice: [
      ...common,
      { token: t.bob, base: '/me', writesFor: null, label: 'bob /me' },
      { token: t.app, base: `/users/${bob.id}`, writesFor: null, label: 'app /users/bob' },
      { token: t.alice, base: `/users/${bob.id}`, writesFor: null, label: 'alice /users/bob' },
    ],
    bob: [
      ...common,
      { token: t.alice, base: '/me', writesFor: null, label: 'alice /me' },
      { token: t.app, base: `/users/${alice.id}`, writesFor: null, label: 'app /users/alice' },
      { token: t.aliceRead, base: `/users/${bob.id}`, writesFor: null, label: 'alice(Read) /users/bob' },
    ],
  };
  const other: Caller[] = [
    ...common,
    { token: t.app, base: `/users/${encodeAny('nobody@contoso.test')}`, writesFor: null, label: 'app /users/nobody' },
    { token: t.app, base: '/users/00000000-0000-0000-0000-000000000000', writesFor: null, label: 'app /users/zero-guid' },
    { token: t.app, base: '/users/a%00b', writesFor: null, label: 'app /users/NUL' },
    { token: t.app, base: `/users/${'x'.repeat(501)}`, writesFor: null, label: 'app /users/501 chars' },
    { token: t.app, base: '/users/%E0%A4%A', writesFor: null, label: 'app /users/bad-percent' },
    { token: t.app, base: "/users/alice@contoso.test'", writesFor: null, label: "app /users/alice'" },
    { token: t.app, base: '/users/%2e%2e', writesFor: null, label: 'app /users/..' },
  ];
  return { authorized, unauthorized, other };
}

function callerArb(ctx: FuzzContext): fc.Arbitrary<Caller> {
  const c = callers(ctx);
  return fc.oneof({ weight: 10, arbitrary: fc.constantFrom(...c.authorized) }, { weight: 2, arbitrary: fc.constantFrom(...c.other) });
}

/** A short description of a body for notes and reports. */
const preview = (body: string | Buffer | undefined) => {
  if (body === undefined) return '(none)';
  const s = typeof body === 'string' ? body : `<${body.length} bytes> ${body.toString('latin1')}`;
  return s.length > 160 ? `${s.slice(0, 160)}…(${s.length})` : s;
};

/** Serializes a meeting body, maybe corrupting it. */
const bodyText = (body: MeetingBody, c: Corruption) => corrupt(writeJson(new Pairs(body.pairs)), c);

const structuredOrRaw = (ctx: FuzzContext, props?: readonly string[]) =>
  fc.oneof(
    {
      weight: 40,
      arbitrary: fc
        .tuple(meetingBodyArb(ctx, props), corruptionArb)
        .map(([b, c]) => ({ body: b as MeetingBody | undefined, payload: bodyText(b, c), clean: c.kind === 'none' })),
    },
    { weight: 4, arbitrary: rawBodyArb.map((r) => ({ body: undefined, payload: r, clean: false })) },
    { weight: 1, arbitrary: overLimitBodyArb.map((r) => ({ body: undefined, payload: r as string | Buffer, clean: false })) },
  );

// ---------------------------------------------------------------------------------------------------
// The request kinds

function createArb(ctx: FuzzContext): fc.Arbitrary<FuzzRequest> {
  return fc
    .tuple(
      callerArb(ctx),
      versionArb,
      collectionSegmentArb,
      structuredOrRaw(ctx),
      graphHeadersArb(ctx, true),
      fc.oneof(
        { weight: 12, arbitrary: fc.constant('') },
        { weight: 1, arbitrary: pick('?$select=id', '?$filter=x', '?a=%E0%A4%A', '?$expand=*') },
      ),
    )
    .map(([caller, version, segment, b, h, query]) => ({
      kind: 'create' as const,
      method: 'POST' as const,
      url: `${version}${caller.base}/${segment}${query}`,
      headers: buildHeaders(caller.token, h),
      payload: b.payload,
      note: `create as ${caller.label}${authNote(h)}`,
    }));
}

function createOrGetArb(ctx: FuzzContext): fc.Arbitrary<FuzzRequest> {
  const refKeys = ctx.refs.filter((r) => r.externalId !== null);
  const externalIdArb = fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...refKeys.map((r) => r.externalId!)) },
    { weight: 3, arbitrary: pick('fuzz-1', 'fuzz-2', 'fuzz-3') },
    { weight: 3, arbitrary: unicodeString },
    { weight: 1, arbitrary: fc.oneof(pick('', '   ', 'x'.repeat(512), 'x'.repeat(513), 'a\u0000b'), wrongTypeArb('string')) },
  );
  return fc
    .tuple(
      callerArb(ctx),
      versionArb,
      structuredOrRaw(ctx, CREATE_OR_GET_PROPS),
      fc.option(externalIdArb, { freq: 8 }),
      fc.nat(),
      graphHeadersArb(ctx, true),
    )
    .map(([caller, version, b, externalId, at, h]) => {
      let payload = b.payload;
      let body = b.body;
      if (body && externalId !== null && b.clean) {
        // createOrGet needs an externalId: put one at a random place (a duplicate key may still override it).
        const pairs = [...body.pairs];
        pairs.splice(at % (pairs.length + 1), 0, ['externalId', externalId]);
        body = { pairs };
        payload = writeJson(new Pairs(pairs));
      }
      // With the Authorization fuzz the caller may be someone else, whose key space differs: no expectation then.
      const key = body && b.clean && h.authorization === ABSENT ? effectiveValue(body, 'externalId') : undefined;
      const ref = ctx.refs.find((r) => r.externalId !== null && r.externalId === key && r.owner === caller.writesFor);
      return {
        kind: 'createOrGet' as const,
        method: 'POST' as const,
        url: `${version}${caller.base}/onlineMeetings/createOrGet`,
        headers: buildHeaders(caller.token, h),
        payload,
        ...(ref ? { expectExisting: ref.id } : {}),
        note: `createOrGet as ${caller.label}${authNote(h)}${ref ? ` (existing ${ref.owner} key)` : ''}`,
      };
    });
}

/**
 * PATCH on the reference meetings, which must never change: by a caller that may write them, only with a
 * body that is invalid whatever else it holds (a poison property written last, so no duplicate key
 * overrides it, and corruption only before it); by any other caller, with any body.
 */
function patchRefArb(ctx: FuzzContext): fc.Arbitrary<FuzzRequest> {
  const c = callers(ctx);
  const invalidBody = fc.oneof(
    {
      weight: 8,
      arbitrary: fc.tuple(meetingBodyArb(ctx), patchPoisonArb(ctx), corruptionArb).map(([b, poison, corruption]) => {
        const head = writeJson(new Pairs(b.pairs)).slice(0, -1);
        const tail = `${b.pairs.length > 0 ? ',' : ''}${JSON.stringify(poison[0])}:${writeJson(poison[1])}}`;
        // Corrupt only the head: the poison must reach the server intact. 'trailing' and 'truncate' only add invalidity.
        const payload = corruption.kind === 'utf16' ? Buffer.from(head + tail, 'utf16le') : corrupt(head + tail, corruption, head.length);
        return { payload, note: `poison ${poison[0]}` };
      }),
    },
    {
      weight: 2,
      arbitrary: rawBodyArb
        .filter((r) => {
          // Only raw bodies that cannot be a JSON object the schema accepts.
          const text = typeof r === 'string' ? r : r.toString('utf8');
          try {
            const v: unknown = JSON.parse(text.replace(/^\uFEFF/, ''));
            return v === null || typeof v !== 'object' || Array.isArray(v);
          } catch {
            return true;
          }
        })
        .map((payload) => ({ payload, note: 'raw' })),
    },
    { weight: 1, arbitrary: overLimitBodyArb.map((payload) => ({ payload: payload as string | Buffer, note: '413' })) },
  );
  const authorizedInvalid = fc
    .tuple(fc.constantFrom(...ctx.refs), fc.nat(), invalidBody, graphHeadersArb(ctx, true), versionArb)
    .map(([ref, i, body, h, version]) => {
      const mine = c.authorized.filter((a) => a.writesFor === ref.owner);
      const caller = mine[i % mine.length]!;
      const headers = buildHeaders(caller.token, h);
      return { ref, caller, headers, payload: body.payload, note: `${body.note} as ${caller.label}${authNote(h)}`, version };
    });
  const unauthorizedAny = fc
    .tuple(fc.constantFrom(...ctx.refs), fc.nat(), structuredOrRaw(ctx), graphHeadersArb(ctx, true), versionArb)
    .map(([ref, i, b, h, version]) => {
      const theirs = c.unauthorized[ref.owner];
      const caller = theirs[i % theirs.length]!;
      // No Authorization fuzz here: some of its values are still the owner's valid token (a duplicate header keeps
      // the first; a changed padding bit decodes to the same signature), and with any body that may rightly succeed.
      const headers = buildHeaders(caller.token, { ...h, authorization: ABSENT });
      return { ref, caller, headers, payload: b.payload, note: `any body as ${caller.label}`, version };
    });
  return fc.oneof({ weight: 3, arbitrary: authorizedInvalid }, { weight: 2, arbitrary: unauthorizedAny }).map((x) => ({
    kind: 'patchRef' as const,
    method: 'PATCH' as const,
    url: `${x.version}${x.caller.base}/onlineMeetings/${x.ref.id}`,
    headers: x.headers,
    payload: x.payload,
    mustFail: true,
    note: `patch ${x.ref.owner}'s reference: ${x.note}`,
  }));
}

/** PATCH on a throwaway meeting created (with a fuzzed create body) just before, by its organizer. */
function patchNewArb(ctx: FuzzContext): fc.Arbitrary<FuzzRequest> {
  const c = callers(ctx);
  return fc
    .tuple(fc.constantFrom(...c.authorized), meetingBodyArb(ctx), structuredOrRaw(ctx), graphHeadersArb(ctx, true), versionArb)
    .map(([caller, setupBody, b, h, version]) => ({
      kind: 'patchNew' as const,
      method: 'PATCH' as const,
      url: `${version}${caller.base}/onlineMeetings/{new}`,
      headers: buildHeaders(caller.token, h),
      payload: b.payload,
      setup: { owner: caller.writesFor!, body: writeJson(new Pairs(setupBody.pairs)) },
      note: `patch a new meeting as ${caller.label}${authNote(h)}`,
    }));
}

const teamsEncode = (s: string) => encodeAny(s).replace(/%[0-9A-F]{2}/g, (e) => e.toLowerCase());

/** $filter expressions: the grammar, near misses, the reference meetings' links and numbers, garbage. */
export function filterExpressionArb(ctx: FuzzContext): fc.Arbitrary<string> {
  const values = fc.oneof(
    fc.constantFrom(
      ...ctx.refs.flatMap((r) => [r.joinWebUrl, encodeAny(r.joinWebUrl), encodeAny(encodeAny(r.joinWebUrl)), teamsEncode(r.joinWebUrl)]),
    ),
    fc.constantFrom(
      ...ctx.refs.flatMap((r) => [r.joinMeetingId, r.videoTeleconferenceId, ` ${r.joinMeetingId}`, `${r.joinMeetingId}0`, r.threadId]),
    ),
    // Encoded six times: more than the service decodes.
    fc.constantFrom(...ctx.refs.map((r) => [1, 2, 3, 4, 5, 6].reduce((v) => encodeAny(v), r.joinWebUrl))),
    fc.tuple(fc.constantFrom(...ctx.refs.map((r) => r.joinWebUrl)), fc.nat()).map(([u, n]) => u.slice(0, n % u.length)),
    pick(
      '',
      "it''s",
      "'",
      "''",
      "' or 1 eq 1 or '",
      '%E0%A4%A',
      '%00',
      '%',
      '%%',
      '%ZZ',
      '\u0000',
      '99999999999999999999',
      '1e3',
      '-1',
      '０１２',
    ),
    unicodeString,
    hugeStringArb,
  );
  const property = fc.oneof(
    {
      weight: 6,
      arbitrary: pick(
        'joinWebUrl',
        'JoinWebUrl',
        'JOINWEBURL',
        'joinMeetingIdSettings/joinMeetingId',
        'VideoTeleconferenceId',
        'videoTeleconferenceId',
      ),
    },
    { weight: 1, arbitrary: pick('joinMeetingId', 'joinMeetingIdSettings/', '/joinWebUrl', 'subject', 'id', 'joinWebUrl/x', '') },
    { weight: 1, arbitrary: fc.string({ maxLength: 12 }) },
  );
  const op = fc.oneof(
    { weight: 6, arbitrary: fc.constant(' eq ') },
    { weight: 1, arbitrary: pick(' EQ ', ' ne ', 'eq', ' eq', '  eq  ', ' eq eq ', '\teq\t', ' in ', ' = ') },
  );
  const quoted = fc
    .tuple(values, pick("'", '"', '', "'", "'"))
    .map(([v, q]) => (q === "'" ? `'${v.replace(/'/g, "''")}'` : q === '"' ? `"${v}"` : v));
  const unbalanced = fc.tuple(values, pick("'", '"')).map(([v, q]) => `${q}${v}`);
  return fc.oneof(
    {
      weight: 10,
      arbitrary: fc
        .tuple(property, op, fc.oneof({ weight: 4, arbitrary: quoted }, { weight: 1, arbitrary: unbalanced }))
        .map(([p, o, v]) => `${p}${o}${v}`),
    },
    {
      weight: 1,
      arbitrary: pick(
        '',
        ' ',
        'eq',
        "joinWebUrl eq 'a' and subject eq 'b'",
        "contains(joinWebUrl,'x')",
        "joinWebUrl eq 'a' eq 'b'",
        '(((((',
        "joinWebUrl eq '''",
      ),
    },
    { weight: 1, arbitrary: fc.string({ maxLength: 60 }) },
    { weight: 1, arbitrary: fc.integer({ min: 8190, max: 8200 }).map((n) => `joinWebUrl eq '${'a'.repeat(n)}'`) },
  );
}

/** How the filter goes into the query string: encoded, raw, or with percent-encoding garbage spliced in. */
const encodingArb = pick('encodeURIComponent', 'raw', 'garbage', 'plus');

function filterArb(ctx: FuzzContext): fc.Arbitrary<FuzzRequest> {
  const { authorized, other } = callers(ctx);
  const lookupCaller = fc.oneof(
    { weight: 8, arbitrary: fc.constantFrom(...authorized) },
    { weight: 2, arbitrary: fc.constantFrom(...other) },
    {
      weight: 2,
      arbitrary: pick(
        { token: ctx.tokens.app, base: '/communications', writesFor: null, label: 'app /communications' } as Caller,
        { token: ctx.tokens.alice, base: '/communications', writesFor: null, label: 'alice /communications' } as Caller,
      ),
    },
  );
  const extraParams = fc.array(
    fc.oneof(
      pick(
        '$select=id,subject',
        '$select=',
        '$select=*',
        '$select=__proto__',
        '$select=joinWebUrl,,%20',
        '$top=1',
        '$count=true',
        '$skip=-1',
        '$search="x"',
        '$orderby=id',
        '$expand=*',
      ),
      pick(
        '$filter=',
        '$FILTER=x',
        '$Filter=joinWebUrl%20eq%20%27x%27',
        '__proto__[x]=1',
        'constructor=1',
        '%E0%A4%A=1',
        '=1',
        '&&',
        '$',
        '%24filter=x',
      ),
      fc.string({ maxLength: 12 }).map((s) => `${encodeAny(s)}=${encodeAny(s)}`),
    ),
    { maxLength: 2 },
  );
  return fc
    .tuple(
      lookupCaller,
      versionArb,
      filterExpressionArb(ctx),
      encodingArb,
      fc.nat(),
      pick('%E0%A4%A', '%00', '%', '%%', '%ZZ', '%C0%AF', '%FF', '%u0041', '+', '#', '%23'),
      extraParams,
      pick('$filter', '$filter', '$FILTER', '%24filter'),
      graphHeadersArb(ctx, false),
      fc.boolean(),
    )
    .map(([caller, version, expr, encoding, at, garbage, extra, name, h, trailingSlash]) => {
      let value: string;
      if (encoding === 'encodeURIComponent') value = encodeAny(expr);
      else if (encoding === 'plus') value = encodeAny(expr).replace(/%20/g, '+');
      else if (encoding === 'raw') value = expr.replace(/[#&]/g, (m) => encodeAny(m));
      else {
        const enc = encodeAny(expr);
        const i = at % (enc.length + 1);
        value = `${enc.slice(0, i)}${garbage}${enc.slice(i)}`;
      }
      const path = caller.base === '/communications' ? '/communications/onlineMeetings' : `${caller.base}/onlineMeetings`;
      const query = [`${name}=${value}`, ...extra].join('&');
      return {
        kind: 'filter' as const,
        method: 'GET' as const,
        url: `${version}${path}${trailingSlash ? '/' : ''}?${query}`,
        headers: buildHeaders(caller.token, h),
        note: `filter (${encoding}) as ${caller.label}${authNote(h)}`,
      };
    });
}

/** Meeting ids in paths: random base64, other users' valid-looking ids, raw thread ids, overlong ids. */
export function meetingIdArb(ctx: FuzzContext): fc.Arbitrary<string> {
  const encode = (user: string, thread: string) => Buffer.from(`1*${user}*0**${thread}`).toString('base64');
  const thread = fc.uint8Array({ minLength: 8, maxLength: 40 }).map((b) => `19:meeting_${Buffer.from(b).toString('base64')}@thread.v2`);
  const userId = fc.oneof(fc.constantFrom(...Object.values(ctx.users).map((u) => u.id)), fc.uuid());
  const refIds = ctx.refs.map((r) => r.id);
  return fc.oneof(
    fc.tuple(userId, thread).map(([u, t]) => encode(u, t)),
    fc.tuple(userId, thread).map(([u, t]) => encodeAny(encode(u.toUpperCase(), t))),
    thread.map((t) => encodeAny(t)),
    thread,
    fc.constantFrom(...ctx.refs.map((r) => encodeAny(r.threadId))),
    fc.uint8Array({ maxLength: 120 }).map((b) => Buffer.from(b).toString('base64')),
    fc.uint8Array({ maxLength: 120 }).map((b) => encodeAny(Buffer.from(b).toString('base64'))),
    fc.constantFrom(
      ...refIds.map((id) => id.slice(0, -2)),
      ...refIds.map((id) => `${id}=`),
      ...refIds.map((id) => id.toLowerCase()),
      ...refIds.map((id) => `${id}%00`),
    ),
    fc.constantFrom(
      ...refIds.map((id) => Buffer.from(Buffer.from(id, 'base64').toString('utf8').replace('*0**', '*1**')).toString('base64')),
    ),
    pick(
      '',
      '%20',
      '%2F',
      '..',
      '%2e%2e',
      '%E0%A4%A',
      '%00',
      'null',
      '__proto__',
      'constructor',
      'A'.repeat(400),
      'A'.repeat(401),
      'A'.repeat(500),
      'A'.repeat(501),
      '====',
    ),
    fc.string({ maxLength: 30 }).map(encodeAny),
  );
}

function idPathArb(ctx: FuzzContext): fc.Arbitrary<FuzzRequest> {
  const decodedRefs = new Set(ctx.refs.map((r) => Buffer.from(r.id, 'base64').toString('utf8')));
  const addressesRef = (id: string) => {
    let raw: string;
    try {
      raw = decodeURIComponent(id.split('?')[0]!);
    } catch {
      return false;
    }
    return decodedRefs.has(Buffer.from(raw, 'base64').toString('utf8'));
  };
  const { authorized, other } = callers(ctx);
  const anyCaller = fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...authorized) }, { weight: 1, arbitrary: fc.constantFrom(...other) });
  const refRead = fc
    .tuple(fc.constantFrom(...ctx.refs), anyCaller)
    .map(([ref, caller]) => ({ id: ref.id, caller, method: 'GET' as const }));
  const random = fc
    .tuple(
      meetingIdArb(ctx),
      anyCaller,
      fc.oneof(
        { weight: 4, arbitrary: fc.constant('GET' as const) },
        { weight: 1, arbitrary: pick('DELETE' as const, 'PUT' as const, 'POST' as const) },
      ),
    )
    .map(([id, caller, method]) => ({ id, caller, method }));
  return fc
    .tuple(
      fc.oneof({ weight: 1, arbitrary: refRead }, { weight: 4, arbitrary: random }),
      versionArb,
      fc.oneof(
        { weight: 8, arbitrary: fc.constant('') },
        {
          weight: 1,
          arbitrary: pick('/getVirtualAppointmentJoinWebUrl', '/getVirtualAppointmentJoinWebUrl()', '/attendanceReports', '/x', '/'),
        },
      ),
      fc.oneof(
        { weight: 8, arbitrary: fc.constant('') },
        {
          weight: 2,
          arbitrary: pick('?$select=id', '?$select=nope', '?$select=', '?$filter=x', '?$select=id&$select=subject', '?$select=%E0%A4%A'),
        },
      ),
      graphHeadersArb(ctx, false),
    )
    .map(([x, version, suffix, query, h]) => {
      // Never DELETE (or anything but GET) a reference meeting, under any spelling of its id (`{id}=` decodes to the
      // same meeting): idPath checks addressing, patchRef covers writes.
      const method = addressesRef(x.id) ? 'GET' : x.method;
      return {
        kind: 'idPath' as const,
        method,
        url: `${version}${x.caller.base}/onlineMeetings/${x.id}${suffix}${query}`,
        headers: buildHeaders(x.caller.token, h),
        ...(method === 'PUT' || method === 'POST' ? { payload: '{}' } : {}),
        note: `${method} by id as ${x.caller.label}${authNote(h)}`,
      };
    });
}

// ---------------------------------------------------------------------------------------------------
// The token endpoint

const TOKEN_KEYS = [
  'grant_type',
  'client_id',
  'client_secret',
  'scope',
  'username',
  'password',
  'refresh_token',
  'client_assertion',
  'client_assertion_type',
  'claims',
  'client_info',
];

function tokenValueArb(ctx: FuzzContext, key: string): fc.Arbitrary<string> {
  const a = ctx.apps;
  const u = ctx.users;
  const specific: Record<string, string[]> = {
    grant_type: [
      'client_credentials',
      'password',
      'refresh_token',
      'authorization_code',
      'urn:ietf:params:oauth:grant-type:device_code',
      'CLIENT_CREDENTIALS',
      ' password',
      'toString',
      '__proto__',
    ],
    client_id: [
      a.scheduler.clientId,
      a.client.clientId,
      a.fabrikam.clientId,
      a.scheduler.clientId.toUpperCase(),
      '00000000-0000-0000-0000-000000000000',
      'not-a-guid',
    ],
    client_secret: [a.scheduler.secret, a.client.secret, 'wrong', ''],
    scope: [
      'https://graph.microsoft.com/.default',
      'https://graph.microsoft.com/OnlineMeetings.ReadWrite openid',
      '00000003-0000-0000-c000-000000000000/.default',
      'openid profile',
      'https://evil/.default',
      '.default',
      ' ',
    ],
    username: [u.alice.upn, u.dave.upn, 'ALICE@CONTOSO.TEST', 'nobody@contoso.test', 'a\u0000b'],
    password: [ctx.password, 'wrong', ''],
    refresh_token: ['a.b.c', ctx.tokens.alice, 'eyJhbGciOiJub25lIn0.e30.'],
    claims: ['{"access_token":{"xms_cc":{"values":["cp1"]}}}', '{', 'cp1'],
  };
  return fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...(Object.hasOwn(specific, key) ? specific[key]! : ['x'])) },
    { weight: 2, arbitrary: unicodeString },
    { weight: 1, arbitrary: hugeStringArb },
  );
}

/** How a form is written: URLSearchParams, or raw with invalid percent-encoding and odd separators. */
function formArb(ctx: FuzzContext): fc.Arbitrary<string> {
  const key = fc.oneof(
    { weight: 8, arbitrary: pick(...TOKEN_KEYS) },
    { weight: 1, arbitrary: pick('__proto__', 'constructor', 'prototype', '', 'grant_type[]', 'Grant_Type') },
    { weight: 1, arbitrary: fc.string({ maxLength: 10 }) },
  );
  const pairs = fc.array(
    key.chain((k) => fc.tuple(fc.constant(k), tokenValueArb(ctx, k))),
    { maxLength: 7 },
  );
  const plausible = fc
    .tuple(
      pick('client_credentials', 'password', 'refresh_token'),
      fc.constantFrom(ctx.apps.scheduler.clientId, ctx.apps.client.clientId),
      pairs,
    )
    .map(([grant, clientId, rest]) => [['grant_type', grant] as [string, string], ['client_id', clientId] as [string, string], ...rest]);
  return fc.oneof(
    { weight: 4, arbitrary: fc.oneof(pairs, plausible).map((p) => new URLSearchParams(p).toString()) },
    {
      weight: 2,
      arbitrary: fc
        .tuple(
          fc.oneof(pairs, plausible),
          fc.array(pick('%E0%A4%A', '%', '%%', '%ZZ', '%00', '%FF', '&&', '=', '==', ';', '+', '%2B', '\u0000', 'é'), {
            minLength: 1,
            maxLength: 3,
          }),
          fc.nat(),
        )
        .map(([p, garbage, at]) => {
          const text = new URLSearchParams(p).toString();
          const i = at % (text.length + 1);
          return `${text.slice(0, i)}${garbage.join('')}${text.slice(i)}`;
        }),
    },
    {
      weight: 1,
      arbitrary: fc.oneof(
        fc.string({ maxLength: 60 }),
        pick('', '=', '&', 'grant_type', 'grant_type=&grant_type=', '{"grant_type":"client_credentials"}'),
      ),
    },
    {
      weight: 1,
      arbitrary: fc
        .tuple(pick('a=', 'grant_type=password&', 'scope=x%20'), fc.integer({ min: 1000, max: 1_100_000 }))
        .map(([s, n]) => s + 'x'.repeat(n)),
    },
  );
}

function tokenArb(ctx: FuzzContext): fc.Arbitrary<FuzzRequest> {
  const tenant = fc.oneof(
    { weight: 6, arbitrary: pick(ctx.domain, ctx.tenantId, ctx.domain.toUpperCase(), ctx.apps.fabrikam.domain) },
    {
      weight: 1,
      arbitrary: pick(
        'common',
        'organizations',
        'consumers',
        'a%00b',
        '%E0%A4%A',
        '%ZZ',
        'x'.repeat(501),
        '..',
        '%2F',
        'contoso.test%00',
        ' ',
        '%20',
      ),
    },
    { weight: 1, arbitrary: fc.string({ minLength: 1, maxLength: 20 }).map(encodeAny) },
  );
  const basic = fc.oneof(
    pick(
      `${ctx.apps.scheduler.clientId}:${ctx.apps.scheduler.secret}`,
      `${ctx.apps.client.clientId}:`,
      ':',
      'no-colon',
      '%E0%A4%A:%ZZ',
      `${ctx.apps.scheduler.clientId}:wrong`,
    ),
    fc.string({ maxLength: 30 }),
  );
  const authorization = fc.oneof(
    { weight: 8, arbitrary: fc.constant(ABSENT) },
    { weight: 2, arbitrary: basic.map((b) => `Basic ${Buffer.from(b, 'utf8').toString('base64')}`) },
    {
      weight: 1,
      arbitrary: pick('Basic', 'Basic !!!', 'Basic ====', 'basic    Og==', `Bearer ${ctx.tokens.app}`, 'Basic ' + 'A'.repeat(20_000)),
    },
  );
  const formContentType = fc.oneof(
    { weight: 10, arbitrary: fc.constant('application/x-www-form-urlencoded') },
    {
      weight: 3,
      arbitrary: pick(
        'application/x-www-form-urlencoded; charset=utf-8',
        'APPLICATION/X-WWW-FORM-URLENCODED',
        'application/x-www-form-urlencoded;charset=utf-16',
        'application/json',
        'text/plain',
        'multipart/form-data; boundary=x',
        '',
        'application/x-www-form-urlencodedx',
        'application/x-www-form-urlencoded, application/json',
      ),
    },
    { weight: 1, arbitrary: fc.array(pick('application/x-www-form-urlencoded', 'application/json'), { minLength: 2, maxLength: 2 }) },
    { weight: 1, arbitrary: fc.constant(ABSENT) },
  );
  return fc
    .tuple(
      tenant,
      fc.oneof(
        { weight: 10, arbitrary: fc.constant('/oauth2/v2.0/token') },
        {
          weight: 1,
          arbitrary: pick('/oauth2/v2.0/token/', '/OAUTH2/V2.0/TOKEN', '/oauth2/token', '/oauth2/v2.0/token?client-request-id=%E0%A4%A'),
        },
      ),
      fc.oneof(
        { weight: 12, arbitrary: formArb(ctx).map((f) => f as string | Buffer) },
        { weight: 1, arbitrary: fc.tuple(formArb(ctx), fc.nat(), fc.nat()).map(([f, at, w]) => withInvalidUtf8(f, (at % 100) / 100, w)) },
      ),
      formContentType,
      authorization,
      sometimes(clientRequestIdArb, 3),
      sometimes(pick('evil.test', '127.0.0.1:1', 'localhost', '[::1]:8443', 'a b', ''), 8),
    )
    .map(([tenantSegment, path, payload, ct, auth, crid, host]) => {
      const headers: Headers = {};
      if (ct !== ABSENT) headers['content-type'] = ct;
      if (auth !== ABSENT) headers.authorization = auth;
      if (crid !== ABSENT) headers['client-request-id'] = crid;
      if (host !== ABSENT) headers.host = host;
      return {
        kind: 'token' as const,
        method: 'POST' as const,
        url: `/${tenantSegment}${path}`,
        headers,
        payload,
        note: `token for ${tenantSegment.slice(0, 40)}`,
      };
    });
}

// ---------------------------------------------------------------------------------------------------

/** Every request kind, weighted. */
// ---------------------------------------------------------------------------------------------------
// Users and $batch (issue #14)

const USER_FILTERS = [
  "mail eq 'alice@contoso.test'",
  "userPrincipalName eq 'x' or displayName eq 'y'",
  "startswith(displayName,'A')",
  "endswith(mail,'.test')",
  "(mail eq 'a' or mail eq 'b') and startswith(surname,'c')",
  "id eq '00000000-0000-0000-0000-000000000000'",
  'mail eq',
  "mail eq 'unterminated",
  "mail eq ''''",
  "contains(mail,'a')",
  "not(mail eq 'a')",
  "mail ne 'a'",
  'jobTitle eq null',
  "foo eq 'bar'",
  "startswith(displayName,'%_\\')",
  `${'('.repeat(30)}mail eq 'a'${')'.repeat(30)}`,
  Array.from({ length: 16 }, (_, i) => `mail eq '${i}'`).join(' or '),
  "mail eq 'a' and",
  ',,,',
  "startswith(displayName,'" + 'x'.repeat(121) + "')",
];

function usersArb(ctx: FuzzContext): fc.Arbitrary<FuzzRequest> {
  const { alice, bob, dave } = ctx.users;
  const t = ctx.tokens;
  const contosoIds = [alice.id, bob.id, ctx.users.carol.id];
  const callerArb = fc.oneof(
    { weight: 4, arbitrary: fc.constant({ token: t.app as string | undefined, label: 'app', leak: [dave.id, dave.upn] }) },
    {
      weight: 3,
      arbitrary: fc.constant({ token: t.fabrikamApp as string | undefined, label: 'fabrikam app', leak: [...contosoIds, alice.upn] }),
    },
    { weight: 2, arbitrary: fc.constant({ token: t.alice as string | undefined, label: 'alice', leak: [dave.id] }) },
    { weight: 1, arbitrary: fc.constant({ token: undefined as string | undefined, label: 'anonymous', leak: [] as string[] }) },
  );
  const keyArb = fc.oneof(
    fc.constantFrom(alice.id, alice.upn, bob.upn.toUpperCase(), dave.id, dave.upn, `('${alice.upn}')`),
    meetingIdArb(ctx),
    fc.string({ maxLength: 40 }).map(encodeAny),
    pick('$count', 'x'.repeat(2001), '%00', '..', "('$x@contoso.test')", `${alice.id}%00`),
  );
  const pathArb = fc.oneof(
    { weight: 4, arbitrary: fc.constant('/users') },
    { weight: 3, arbitrary: keyArb.map((k) => `/users/${k}`) },
    { weight: 2, arbitrary: fc.constant('/me') },
    { weight: 1, arbitrary: fc.constant('/users/$count') },
  );
  const queryPart = fc.oneof(
    fc.constantFrom(...USER_FILTERS).map((f) => `$filter=${encodeURIComponent(f)}`),
    fc.string({ maxLength: 60 }).map((f) => `$filter=${encodeAny(f)}`),
    pick('$select=id,displayName', '$select=nope', '$select=', '$select=*', '$select=businessPhones,MAIL'),
    pick('$top=1', '$top=0', '$top=999', '$top=1000', '$top=-1', '$top=1e3', '$top=99999999999', '$top='),
    pick(
      '$count=true',
      '$count=false',
      '$count=yes',
      '$skiptoken=abc',
      '$skiptoken=dXNlcnM6eA',
      '$search="displayName:a"',
      '$orderby=displayName',
      '$expand=manager',
    ),
    fc.string({ maxLength: 30 }).map(encodeAny),
  );
  return fc
    .tuple(
      callerArb,
      versionArb,
      pathArb,
      fc.array(queryPart, { maxLength: 4 }),
      sometimes(pick('eventual', 'EVENTUAL', 'session', ''), 2),
      sometimes(pick('application/json;odata.metadata=none', 'application/json;odata.metadata=full', 'text/html', '*/*'), 3),
      fc.oneof(
        { weight: 8, arbitrary: fc.constant('GET' as const) },
        { weight: 1, arbitrary: pick('POST' as const, 'PATCH' as const, 'DELETE' as const) },
      ),
    )
    .map(([caller, version, path, query, consistency, accept, method]) => {
      const headers: Headers = {};
      if (caller.token) headers.authorization = `Bearer ${caller.token}`;
      if (consistency !== ABSENT) headers.consistencylevel = consistency;
      if (accept !== ABSENT) headers.accept = accept;
      if (method !== 'GET' && method !== 'DELETE') headers['content-type'] = 'application/json';
      return {
        kind: 'users' as const,
        method,
        url: `${version}${path}${query.length ? `?${query.join('&')}` : ''}`,
        headers,
        ...(method === 'POST' || method === 'PATCH' ? { payload: '{}' } : {}),
        mustNotLeak: [...caller.leak],
        note: `${method} ${path.slice(0, 40)} as ${caller.label}`,
      };
    });
}

function batchArb(ctx: FuzzContext): fc.Arbitrary<FuzzRequest> {
  const { alice, dave } = ctx.users;
  const urlArb = fc.oneof(
    pick('/me', 'me', '/users', `/users/${alice.id}`, `/users/${dave.id}`, '/me/onlineMeetings', '/$batch', '/v1.0/me', '/beta/me'),
    pick('https://graph.microsoft.com/v1.0/me', '//evil.example/x', '/../common/oauth2/v2.0/token', '/%2e%2e/x', '/me#x', '/me\\x', ''),
    fc.constantFrom(...ctx.refs.map((r) => `/me/onlineMeetings/${r.id}`)),
    fc.string({ maxLength: 40 }),
  );
  const stepArb = fc.record(
    {
      id: fc.oneof(fc.constantFrom('1', '2', '3', 'a', 'A'), fc.string({ maxLength: 8 }), fc.integer(), fc.constant(null)),
      // Only reads and unknown methods: batches must not change the reference meetings.
      method: fc.oneof({ weight: 6, arbitrary: fc.constant('GET') }, { weight: 1, arbitrary: pick('get', 'TRACE', '', 'POST', 'PATCH') }),
      url: urlArb,
      headers: fc.oneof(
        fc.constant(undefined),
        fc.constant({ 'content-type': 'application/json' }),
        fc.constant({ Authorization: 'Bearer x' }),
        fc.constant({ 'x-bad\n': 'v' }),
        fc.constant('not an object'),
        fc.dictionary(fc.string({ maxLength: 10 }), fc.string({ maxLength: 20 }), { maxKeys: 3 }),
      ),
      body: fc.oneof(fc.constant(undefined), fc.constant({}), fc.constant('e30='), anyJsonArb),
      dependsOn: fc.oneof(fc.constant(undefined), fc.array(fc.constantFrom('1', '2', '3', 'a', 'zz'), { maxLength: 3 }), fc.constant('1')),
    },
    { requiredKeys: ['id', 'method', 'url'] },
  );
  const bodyArb = fc.oneof(
    { weight: 6, arbitrary: fc.array(stepArb, { minLength: 0, maxLength: 22 }).map((requests) => ({ requests })) },
    { weight: 1, arbitrary: anyJsonArb },
  );
  return fc
    .tuple(
      fc.constantFrom(ctx.tokens.alice, ctx.tokens.app, ctx.tokens.fabrikamApp),
      fc.constantFrom('/v1.0', '/beta'),
      bodyArb,
      sometimes(pick('text/plain', 'application/json; charset=utf-8'), 6),
    )
    .map(([token, version, body, contentType]) => {
      // Writes in a batch are refused before anything runs only when they lack a body or Content-Type; keep them
      // away from the reference meetings by never sending writes to a meeting path with both.
      const safe = JSON.stringify(body, (k, v: unknown) => (k === 'method' && (v === 'POST' || v === 'PATCH') ? 'GET' : v));
      return {
        kind: 'batch' as const,
        method: 'POST' as const,
        url: `${version}/$batch`,
        headers: { authorization: `Bearer ${token}`, 'content-type': contentType === ABSENT ? 'application/json' : contentType },
        payload: safe ?? 'null',
        mustNotLeak: token === ctx.tokens.fabrikamApp ? [alice.id, alice.upn] : [],
        note: `batch of ${isBatchBody(body) ? body.requests.length : 'non-batch'} on ${version}`,
      };
    });
}

const isBatchBody = (b: unknown): b is { requests: unknown[] } =>
  typeof b === 'object' && b !== null && Array.isArray((b as { requests?: unknown }).requests);

export function requestArbitrary(ctx: FuzzContext): fc.Arbitrary<FuzzRequest> {
  return fc
    .oneof(
      { weight: 20, arbitrary: createArb(ctx) },
      { weight: 12, arbitrary: createOrGetArb(ctx) },
      { weight: 15, arbitrary: patchRefArb(ctx) },
      { weight: 10, arbitrary: patchNewArb(ctx) },
      { weight: 15, arbitrary: filterArb(ctx) },
      { weight: 8, arbitrary: idPathArb(ctx) },
      { weight: 20, arbitrary: tokenArb(ctx) },
      { weight: 10, arbitrary: usersArb(ctx) },
      { weight: 6, arbitrary: batchArb(ctx) },
    )
    .map((r) => withDescription(r));
}

/** fast-check prints counterexamples with this: a one-line summary instead of megabytes of body. */
export function withDescription(r: FuzzRequest): FuzzRequest {
  // Tokens share their first 80 characters: show the end too, to tell whose they are.
  const value = (k: string, v: string) =>
    k === 'authorization' && v.length > 80 ? `${v.slice(0, 24)}…${v.slice(-16)}` : preview(v).slice(0, 80);
  const headers = Object.entries(r.headers)
    .map(([k, v]) => `${k}: ${Array.isArray(v) ? v.map((x) => value(k, x)).join(' | ') : value(k, v)}`)
    .join('; ');
  const text = `${r.kind}: ${r.method} ${r.url.length > 200 ? `${r.url.slice(0, 200)}…(${r.url.length})` : r.url} [${headers}] body=${preview(r.payload)}${r.setup ? ` setup=${preview(r.setup.body)}` : ''} (${r.note})`;
  Object.defineProperty(r, fc.toStringMethod, { value: () => text, enumerable: false });
  return r;
}

export const describeRequest = (r: FuzzRequest): string =>
  (r as unknown as { [fc.toStringMethod]?: () => string })[fc.toStringMethod]?.() ?? r.note;
