import { invalidProperty } from './errors.js';

/**
 * A Graph DateTimeOffset with Graph's 100-ns precision. Graph accepts any ISO 8601 offset and up to 7
 * fractional digits (the seed's examples send `2019-07-12T14:30:34.2444915-07:00`) and answers in UTC
 * with exactly 7 digits (`2019-07-11T02:17:17.6491364Z`, fact sheet §1 creationDateTime). A JS Date
 * keeps milliseconds only, so the sub-millisecond ticks ride along separately.
 */
export interface GraphDateTime {
  /** Milliseconds since the Unix epoch. */
  readonly ms: number;
  /** 100-ns ticks inside that millisecond, 0..9999. */
  readonly ticks: number;
}

const ISO = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(?:([Zz])|([+-])(\d{2}):?(\d{2}))?$/;

/** Parses an ISO 8601 date-time; returns undefined when it is not one (a date-time without an offset is UTC, as Graph reads it). */
export function parseDateTime(text: string): GraphDateTime | undefined {
  const m = ISO.exec(text);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s = '00', frac = '', , sign, oh, om] = m;
  const year = Number(y),
    month = Number(mo),
    day = Number(d),
    hour = Number(h),
    minute = Number(mi),
    second = Number(s);
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return undefined;
  const dim = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (day > dim) return undefined;
  let offsetMinutes = 0;
  if (sign) {
    if (Number(oh) > 23 || Number(om) > 59) return undefined;
    offsetMinutes = (sign === '-' ? -1 : 1) * (Number(oh) * 60 + Number(om));
  }
  const digits = (frac + '0000000').slice(0, 7); // beyond 100 ns is truncated, as .NET does
  const base = Date.UTC(year, month - 1, day, hour, minute, second);
  // Date.UTC maps years 0..99 to 1900..1999; set the year explicitly.
  const fixed = new Date(base);
  fixed.setUTCFullYear(year);
  const ms = fixed.getTime() + Number(digits.slice(0, 3)) - offsetMinutes * 60_000;
  const result = { ms, ticks: Number(digits.slice(3)) };
  return inRange(result) ? result : undefined;
}

const MIN_MS = Date.parse('0001-01-01T00:00:00Z');
const MAX_MS = Date.parse('9999-12-31T23:59:59.999Z');
const inRange = (t: GraphDateTime) => t.ms >= MIN_MS && t.ms <= MAX_MS;

/** Parses a request property or throws Graph's 400 naming it. */
export function requireDateTime(value: unknown, property: string): GraphDateTime {
  if (typeof value !== 'string') throw invalidProperty(property, 'expected a date-time string such as 2024-05-01T14:30:00Z.');
  const parsed = parseDateTime(value);
  if (!parsed)
    throw invalidProperty(
      property,
      `'${truncate(value)}' is not a valid ISO 8601 date-time (e.g. 2024-05-01T14:30:00Z or 2024-05-01T07:30:00-07:00).`,
    );
  return parsed;
}

/** UTC with exactly seven fractional digits and `Z`: Graph's wire form, and the stored, sortable form. */
export function formatDateTime(t: GraphDateTime): string {
  const iso = new Date(t.ms).toISOString(); // YYYY-MM-DDTHH:mm:ss.sssZ (years 0001..9999)
  return `${iso.slice(0, 23)}${String(t.ticks).padStart(4, '0')}Z`;
}

export function addMilliseconds(t: GraphDateTime, ms: number): GraphDateTime {
  return { ms: t.ms + ms, ticks: t.ticks };
}

/** The last instant Graph's format can write (9999-12-31T23:59:59.9999999Z). */
export const LATEST: GraphDateTime = { ms: MAX_MS, ticks: 9999 };

export const isRepresentable = (t: GraphDateTime) => inRange(t);

/** `t`, or the last representable instant if it is later (an expiry computed past year 9999). */
export function clampToLatest(t: GraphDateTime): GraphDateTime {
  return inRange(t) ? t : LATEST;
}

export function compareDateTime(a: GraphDateTime, b: GraphDateTime): number {
  return a.ms - b.ms || a.ticks - b.ticks;
}

export function fromDate(d: Date, ticks = 0): GraphDateTime {
  return { ms: d.getTime(), ticks };
}

/** Now, with sub-millisecond ticks from the high-resolution clock so that creationDateTime looks like Graph's. */
/** `ticks`: the sub-millisecond part (0–9999); drawn from the seeded sequence under ID_SEED so snapshots repeat. */
export function now(clock: () => number = Date.now, ticks?: () => number): GraphDateTime {
  return { ms: clock(), ticks: ticks ? ticks() : Math.floor((performance.now() % 1) * 10_000) % 10_000 };
}

function truncate(s: string) {
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}
