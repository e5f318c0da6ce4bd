import { propertyValidationFailure, unableToDeserializePostBody } from '../errors.js';
import { requireZone, wallToUtc } from './time-zones.js';

/** Enums of graph-events-spec.md §1.2, in their canonical spelling. Input is matched case-insensitively (`"HTML"` → `html`). */
export const EVENT_ENUMS = {
  onlineMeetingProvider: ['unknown', 'skypeForBusiness', 'skypeForConsumer', 'teamsForBusiness'],
  showAs: ['unknown', 'free', 'tentative', 'busy', 'oof', 'workingElsewhere'],
  importance: ['low', 'normal', 'high'],
  sensitivity: ['normal', 'personal', 'private', 'confidential'],
  attendeeType: ['required', 'optional', 'resource'],
  bodyType: ['text', 'html'],
  locationType: [
    'default',
    'conferenceRoom',
    'homeAddress',
    'businessAddress',
    'geoCoordinates',
    'streetAddress',
    'hotel',
    'restaurant',
    'localBusiness',
    'postalAddress',
  ],
  locationUniqueIdType: ['unknown', 'locationStore', 'directory', 'private', 'bing'],
} as const;

/** Exchange's limits, as far as the fact sheet knows them (§0 attendee cap) or as chosen here (README). */
export const LIMITS = {
  attendees: 500,
  subject: 255,
  text: 1000,
  categories: 50,
  locations: 50,
  transactionId: 255,
  reminderMinutes: 525_600 * 10,
} as const;

export interface EmailAddress {
  name: string | null;
  address: string | null;
}
export interface Attendee {
  type: string;
  status: { response: string; time: string };
  emailAddress: EmailAddress;
}
export interface EventLocation {
  displayName: string;
  locationType: string;
  uniqueId?: string;
  uniqueIdType: string;
  locationUri?: string;
  locationEmailAddress?: string;
  address?: Record<string, string>;
  coordinates?: Record<string, number>;
}
export interface OnlineMeetingInfo {
  conferenceId: string | null;
  joinUrl: string;
  phones: Array<{ number: string; type: string; region: string | null; language: string | null }>;
  quickDial: string | null;
  tollFreeNumbers: string[];
  tollNumber: string | null;
}

/** A time as stored: the UTC instant, and for all-day events the wall dates they span (§2.4). */
export interface EventTime {
  /** UTC, 7 fractional digits, `Z`. */
  utc: string;
  /** The zone name the client sent (originalStartTimeZone / originalEndTimeZone). */
  timeZone: string;
  /** All-day only: YYYY-MM-DD in that zone. */
  date?: string;
}

/** An event as graph-meetings keeps it. */
export interface CalendarEvent {
  id: string;
  tenantId: string;
  ownerId: string;
  iCalUId: string;
  transactionId: string | null;
  start: EventTime;
  end: EventTime;
  createdDateTime: string;
  lastModifiedDateTime: string;
  isOnlineMeeting: boolean;
  meetingId: string | null;
  subject: string;
  /** Always HTML as stored (§4.2); the text rendition is derived. */
  body: string;
  isAllDay: boolean;
  location: EventLocation;
  locations: EventLocation[];
  attendees: Attendee[];
  categories: string[];
  importance: string;
  sensitivity: string;
  showAs: string;
  isReminderOn: boolean;
  reminderMinutesBeforeStart: number;
  responseRequested: boolean;
  allowNewTimeProposals: boolean;
  hideAttendees: boolean;
  onlineMeetingProvider: string;
  onlineMeeting: OnlineMeetingInfo | null;
  organizer: EmailAddress;
  version: number;
}

/** What a create or PATCH body asks for, validated; absent keys were not sent (or sent as null). */
export interface EventInput {
  subject?: string;
  body?: { contentType: 'text' | 'html'; content: string };
  start?: { wallMs: number; ticks: number; offsetMs: number | null; timeZone: string | null; dateOnly: boolean };
  end?: EventInput['start'];
  isAllDay?: boolean;
  location?: EventLocation;
  locations?: EventLocation[];
  attendees?: Array<{ type: string; emailAddress: EmailAddress }>;
  categories?: string[];
  importance?: string;
  sensitivity?: string;
  showAs?: string;
  isReminderOn?: boolean;
  reminderMinutesBeforeStart?: number;
  responseRequested?: boolean;
  allowNewTimeProposals?: boolean;
  hideAttendees?: boolean;
  isOnlineMeeting?: boolean;
  onlineMeetingProvider?: string;
  transactionId?: string;
}

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const given = (body: Json, key: string) => body[key] !== undefined && body[key] !== null;

function str(value: unknown, path: string, max: number = LIMITS.text): string {
  if (typeof value !== 'string') throw unableToDeserializePostBody(`${path}: expected a string`);
  if (value.length > max) throw propertyValidationFailure(`${path}: longer than ${max} characters`);
  return value;
}
function bool(value: unknown, path: string): boolean {
  if (typeof value !== 'boolean') throw unableToDeserializePostBody(`${path}: expected true or false`);
  return value;
}
function member(value: unknown, members: readonly string[], path: string): string {
  if (typeof value !== 'string') throw unableToDeserializePostBody(`${path}: expected a string`);
  const found = members.find((m) => m.toLowerCase() === value.toLowerCase());
  if (!found) throw unableToDeserializePostBody(`${path}: '${value.slice(0, 50)}' is not one of ${members.join(', ')}`);
  return found;
}
function optionalStr(body: Json, key: string, path: string, max?: number): string | undefined {
  return given(body, key) ? str(body[key], `${path}.${key}`, max) : undefined;
}

function emailAddress(value: unknown, path: string): EmailAddress {
  if (!isObject(value)) throw unableToDeserializePostBody(`${path}: expected an object`);
  return {
    name: optionalStr(value, 'name', path, 320) ?? null,
    address: optionalStr(value, 'address', path, 320) ?? null,
  };
}

function location(value: unknown, path: string): EventLocation {
  if (!isObject(value)) throw unableToDeserializePostBody(`${path}: expected an object`);
  const displayName = optionalStr(value, 'displayName', path) ?? '';
  const out: EventLocation = {
    displayName,
    locationType: given(value, 'locationType') ? member(value.locationType, EVENT_ENUMS.locationType, `${path}.locationType`) : 'default',
    uniqueIdType: given(value, 'uniqueIdType')
      ? member(value.uniqueIdType, EVENT_ENUMS.locationUniqueIdType, `${path}.uniqueIdType`)
      : displayName
        ? 'private'
        : 'unknown',
  };
  // §1.1: a named location comes back with its name as uniqueId ("Harry's Bar" → uniqueId "Harry's Bar", private).
  const uniqueId = optionalStr(value, 'uniqueId', path) ?? (displayName || undefined);
  if (uniqueId !== undefined) out.uniqueId = uniqueId;
  const uri = optionalStr(value, 'locationUri', path);
  if (uri !== undefined) out.locationUri = uri;
  const mail = optionalStr(value, 'locationEmailAddress', path, 320);
  if (mail !== undefined) out.locationEmailAddress = mail;
  if (given(value, 'address')) {
    if (!isObject(value.address)) throw unableToDeserializePostBody(`${path}.address: expected an object`);
    const address: Record<string, string> = {};
    for (const k of ['street', 'city', 'state', 'countryOrRegion', 'postalCode']) {
      const v = optionalStr(value.address, k, `${path}.address`);
      if (v !== undefined) address[k] = v;
    }
    out.address = address;
  }
  if (given(value, 'coordinates')) {
    if (!isObject(value.coordinates)) throw unableToDeserializePostBody(`${path}.coordinates: expected an object`);
    const coordinates: Record<string, number> = {};
    for (const k of ['latitude', 'longitude', 'accuracy', 'altitude', 'altitudeAccuracy']) {
      const v = value.coordinates[k];
      if (v === undefined || v === null) continue;
      if (typeof v !== 'number' || !Number.isFinite(v)) throw unableToDeserializePostBody(`${path}.coordinates.${k}: expected a number`);
      coordinates[k] = v;
    }
    out.coordinates = coordinates;
  }
  return out;
}

const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})(?:[Tt](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,7})\d*)?)?)?(?:([Zz])|([+-])(\d{2}):?(\d{2}))?$/;

/**
 * A dateTimeTimeZone (§2.1): `dateTime` as `{date}T{time}` with up to 7 fractional digits (more are cut,
 * as .NET does), or a bare date (all-day events, §2.4); an explicit `Z` or offset is honoured, otherwise
 * the wall time is read in `timeZone` (UTC when absent). The zone is checked here, the arithmetic later.
 */
function dateTimeTimeZone(value: unknown, path: string): NonNullable<EventInput['start']> {
  if (!isObject(value)) throw unableToDeserializePostBody(`${path}: expected an object with dateTime and timeZone`);
  if (typeof value.dateTime !== 'string') throw unableToDeserializePostBody(`${path}.dateTime: expected a string`);
  const timeZone = given(value, 'timeZone') ? str(value.timeZone, `${path}.timeZone`, 200) : null;
  if (timeZone !== null) requireZone(timeZone);
  const m = DATE_TIME.exec(value.dateTime.trim());
  if (!m) throw unableToDeserializePostBody(`${path}.dateTime: '${value.dateTime.slice(0, 60)}' is not a date-time`);
  const [, y, mo, d, h = '00', mi = '00', s = '00', frac = '', z, sign, oh, om] = m;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const dim = new Date(Date.UTC(2000, month, 0)).getUTCDate() - (month === 2 && !isLeap(year) ? 1 : 0);
  if (year < 1 || month < 1 || month > 12 || day < 1 || day > dim || Number(h) > 23 || Number(mi) > 59 || Number(s) > 59) {
    throw unableToDeserializePostBody(`${path}.dateTime: '${value.dateTime.slice(0, 60)}' is not a valid date-time`);
  }
  const digits = (frac + '0000000').slice(0, 7);
  const base = new Date(Date.UTC(2000, month - 1, day, Number(h), Number(mi), Number(s)));
  base.setUTCFullYear(year);
  const wallMs = base.getTime() + Number(digits.slice(0, 3));
  let offsetMs: number | null = null;
  if (z) offsetMs = 0;
  else if (sign) {
    if (Number(oh) > 23 || Number(om) > 59) throw unableToDeserializePostBody(`${path}.dateTime: bad offset`);
    offsetMs = (sign === '-' ? -1 : 1) * (Number(oh) * 60 + Number(om)) * 60_000;
  }
  return { wallMs, ticks: Number(digits.slice(3)), offsetMs, timeZone, dateOnly: m[4] === undefined };
}

const isLeap = (y: number) => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;

/** The UTC instant (ms) of a parsed dateTimeTimeZone. */
export function instantOf(t: NonNullable<EventInput['start']>): number {
  if (t.offsetMs !== null) return t.wallMs - t.offsetMs;
  return wallToUtc(t.wallMs, requireZone(t.timeZone ?? 'UTC').iana);
}

/**
 * Validates a create or PATCH body (§1): known properties with the wrong JSON type or an unknown enum
 * member get UnableToDeserializePostBody; over-long values ErrorPropertyValidationFailure; unknown and
 * read-only properties (id, organizer, isOrganizer, onlineMeeting, …) are ignored, as Graph does.
 */
export function parseEventInput(raw: unknown): EventInput {
  if (!isObject(raw)) throw unableToDeserializePostBody('the body must be a JSON object');
  const b = raw;
  const out: EventInput = {};
  if (given(b, 'subject')) out.subject = str(b.subject, 'subject', LIMITS.subject);
  if (given(b, 'body')) {
    if (!isObject(b.body)) throw unableToDeserializePostBody('body: expected an itemBody object');
    const contentType = given(b.body, 'contentType') ? member(b.body.contentType, EVENT_ENUMS.bodyType, 'body.contentType') : 'text';
    out.body = { contentType: contentType as 'text' | 'html', content: optionalStr(b.body, 'content', 'body', 4_000_000) ?? '' };
  }
  if (given(b, 'start')) out.start = dateTimeTimeZone(b.start, 'start');
  if (given(b, 'end')) out.end = dateTimeTimeZone(b.end, 'end');
  for (const key of [
    'isAllDay',
    'isReminderOn',
    'responseRequested',
    'allowNewTimeProposals',
    'hideAttendees',
    'isOnlineMeeting',
  ] as const) {
    if (given(b, key)) out[key] = bool(b[key], key);
  }
  for (const key of ['importance', 'sensitivity', 'showAs', 'onlineMeetingProvider'] as const) {
    if (given(b, key)) out[key] = member(b[key], EVENT_ENUMS[key], key);
  }
  if (given(b, 'reminderMinutesBeforeStart')) {
    const v = b.reminderMinutesBeforeStart;
    if (typeof v !== 'number' || !Number.isInteger(v)) throw unableToDeserializePostBody('reminderMinutesBeforeStart: expected an integer');
    if (v < 0 || v > LIMITS.reminderMinutes) throw propertyValidationFailure('reminderMinutesBeforeStart: out of range');
    out.reminderMinutesBeforeStart = v;
  }
  if (given(b, 'categories')) {
    if (!Array.isArray(b.categories)) throw unableToDeserializePostBody('categories: expected an array');
    if (b.categories.length > LIMITS.categories) throw propertyValidationFailure('categories: too many');
    out.categories = b.categories.map((c, i) => str(c, `categories[${i}]`, 255));
  }
  if (given(b, 'location')) out.location = location(b.location, 'location');
  if (given(b, 'locations')) {
    if (!Array.isArray(b.locations)) throw unableToDeserializePostBody('locations: expected an array');
    if (b.locations.length > LIMITS.locations) throw propertyValidationFailure('locations: too many');
    out.locations = b.locations.map((l, i) => location(l, `locations[${i}]`));
  }
  if (given(b, 'attendees')) {
    if (!Array.isArray(b.attendees)) throw unableToDeserializePostBody('attendees: expected an array');
    if (b.attendees.length > LIMITS.attendees) throw propertyValidationFailure(`attendees: more than ${LIMITS.attendees}`);
    out.attendees = b.attendees.map((a, i) => {
      if (!isObject(a)) throw unableToDeserializePostBody(`attendees[${i}]: expected an object`);
      const type = given(a, 'type') ? member(a.type, EVENT_ENUMS.attendeeType, `attendees[${i}].type`) : 'required';
      if (!given(a, 'emailAddress')) throw propertyValidationFailure(`attendees[${i}]: no emailAddress`);
      const email = emailAddress(a.emailAddress, `attendees[${i}].emailAddress`);
      if (!email.address) throw propertyValidationFailure(`attendees[${i}]: no emailAddress.address`);
      return { type, emailAddress: email };
    });
  }
  if (given(b, 'transactionId')) out.transactionId = str(b.transactionId, 'transactionId', LIMITS.transactionId);
  return out;
}
