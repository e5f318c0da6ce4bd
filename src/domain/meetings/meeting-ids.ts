import { cryptoRandomness, type Randomness } from '../../util/randomness.js';
import { invalidMeetingId, meetingIdCorrupted } from '../errors.js';

/**
 * Identifiers in Graph's formats (fact sheet §0.1, §0.2). The meeting id is
 * base64("1*{organizerOid}*0**{threadId}"): it names its organizer, which is how Graph answers
 * "Organizer Id mismatch" before looking anything up. Its alphabet never produces '/' or '+' for these
 * ASCII contents, so an id is always one safe path segment.
 */
const THREAD = /^19:meeting_[A-Za-z0-9+/=]{8,200}@thread\.v2$/;
const DECODED = /^1\*([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\*0\*\*(19:meeting_[A-Za-z0-9+/=]{8,200}@thread\.v2)$/;

export function newThreadId(random: Randomness = cryptoRandomness): string {
  return `19:meeting_${Buffer.from(random.uuid()).toString('base64')}@thread.v2`;
}

export function encodeMeetingId(organizerId: string, threadId: string): string {
  return Buffer.from(`1*${organizerId}*0**${threadId}`, 'utf8').toString('base64');
}

/** Decodes a meeting id from a path; a raw thread id and anything malformed get Graph's 400s (§8). */
export function decodeMeetingId(id: string): { organizerId: string; threadId: string } {
  if (id.startsWith('19:')) throw invalidMeetingId(id.length > 200 ? `${id.slice(0, 200)}...` : id);
  if (id.length > 400 || !/^[A-Za-z0-9+/]+={0,2}$/.test(id)) throw meetingIdCorrupted();
  const bytes = Buffer.from(id, 'base64');
  // Only the canonical spelling names the meeting: `…=` or extra padding decodes to the same bytes but is
  // a different id to Graph (issue #11 item 10).
  if (bytes.toString('base64') !== id) throw meetingIdCorrupted();
  const m = DECODED.exec(bytes.toString('utf8'));
  if (!m) throw meetingIdCorrupted();
  return { organizerId: m[1]!, threadId: m[2]! };
}

/** Teams writes lower-case percent escapes (`19%3ameeting_…%40thread.v2`, `%7b%22Tid%22%3a…`). */
const teamsEncode = (s: string) => encodeURIComponent(s).replace(/%[0-9A-F]{2}/g, (e) => e.toLowerCase());

/**
 * Where a meeting's links point. By default every link is a page of this service (its origin); with
 * LINK_STYLE=teams they take Teams' own hosts and paths (issue #14), for apps that validate links with a
 * pattern such as `^https://teams\.microsoft\.com/l/meetup-join/`. Such links lead to Teams, not here.
 */
export type LinkStyle = 'service' | 'teams';

export interface LinkBases {
  /** Origin of the join and meeting-options links. */
  teams: string;
  /** Prefix of the dial-in link, before the tenant id. */
  dialin: string;
  /** Origin of the virtual-appointment link. */
  visit: string;
}

export function linkBases(origin: string, style: LinkStyle = 'service'): LinkBases {
  return style === 'teams'
    ? { teams: 'https://teams.microsoft.com', dialin: 'https://dialin.teams.microsoft.com', visit: 'https://visit.teams.microsoft.com' }
    : { teams: origin, dialin: `${origin}/dialin`, visit: origin };
}

const bases = (b: string | LinkBases) => (typeof b === 'string' ? linkBases(b) : b);

/** The classic Teams join link (§0.2). */
export function joinWebUrl(base: string | LinkBases, threadId: string, tenantId: string, organizerId: string): string {
  const context = teamsEncode(JSON.stringify({ Tid: tenantId, Oid: organizerId }));
  return `${bases(base).teams}/l/meetup-join/${teamsEncode(threadId)}/0?context=${context}`;
}

export function meetingOptionsWebUrl(base: string | LinkBases, threadId: string, tenantId: string, organizerId: string): string {
  const q = new URLSearchParams({ organizerId, tenantId, threadId: threadId.replace(/^19:/, '19_'), messageId: '0' });
  return `${bases(base).teams}/meetingOptions/?${q.toString()}`;
}

export function dialinUrl(base: string | LinkBases, tenantId: string, conferenceId: string): string {
  return `${bases(base).dialin}/${tenantId}?id=${conferenceId}`;
}

/** §3.7's virtual appointment link: `…/webrtc-svc/api/route?tid=…&convId=19:meeting_…`. */
export function virtualAppointmentUrl(base: string | LinkBases, tenantId: string, threadId: string): string {
  const q = new URLSearchParams({ tid: tenantId, convId: threadId });
  return `${bases(base).visit}/webrtc-svc/api/route?${q.toString()}`;
}

/**
 * The chat thread a join link points at, from any encoding clients send: raw, single- or double-
 * percent-encoded (the docs double-encode, SDKs send raw; fact sheet §3.4). Decodes until stable.
 */
export function threadFromJoinUrl(value: string): string | undefined {
  let v = value;
  for (let i = 0; i < 5; i++) {
    let next: string;
    try {
      next = decodeURIComponent(v);
    } catch {
      break;
    }
    if (next === v) break;
    v = next;
  }
  const m = /\/l\/meetup-join\/(19:meeting_[A-Za-z0-9+/=]+@thread\.v2)\/0(?:[?#]|$)/.exec(v);
  return m && THREAD.test(m[1]!) ? m[1] : undefined;
}

/** A random number of `length` digits with no leading zero. */
export function randomDigits(length: number, random: Randomness = cryptoRandomness): string {
  let s = String(random.int(1, 10));
  while (s.length < length) s += String(random.int(0, 10));
  return s;
}

const PASSCODE_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789';
/** Teams-style passcode: six characters without look-alikes (0/O, 1/l/I). */
export function newPasscode(random: Randomness = cryptoRandomness): string {
  let s = '';
  for (let i = 0; i < 6; i++) s += PASSCODE_ALPHABET[random.int(0, PASSCODE_ALPHABET.length)];
  return s;
}

/** Sources of generated numbers; tests substitute their own to force collisions. */
export interface MeetingNumberSource {
  joinMeetingId(): string;
  conferenceId(): string;
  videoTeleconferenceId(): string;
}

/** Meeting numbers drawn from `random` (reproducible under ID_SEED). */
export function meetingNumbers(random: Randomness = cryptoRandomness): MeetingNumberSource {
  return {
    // Teams' current meeting ids are 12 digits (earlier ones 10); a collision is retried, never surfaced.
    joinMeetingId: () => randomDigits(12, random),
    conferenceId: () => randomDigits(9, random),
    videoTeleconferenceId: () => randomDigits(10, random),
  };
}

export const randomMeetingNumbers: MeetingNumberSource = meetingNumbers();
