import { WINDOWS_TO_IANA_MAP } from 'windows-iana';
import { timeZoneNotSupported } from '../errors.js';

/**
 * Time zones of Outlook's dateTimeTimeZone (graph-events-spec.md §2): Windows names ("Pacific Standard
 * Time") and IANA names ("Europe/Paris") in, any of them out (Prefer: outlook.timezone). Windows names
 * map to IANA through CLDR's windowsZones table (the `windows-iana` package, the same one Cal.com uses for
 * this; it is the CLDR data and nothing else, without dependencies); Node's Intl does the arithmetic.
 */
export interface ResolvedZone {
  /** The name the client sent, echoed back (originalStartTimeZone, the Prefer label, §2.1). */
  name: string;
  iana: string;
}

/** Windows zone name (lower-case) → the IANA zone of CLDR's territory 001 for it. */
const WINDOWS = new Map<string, string>();
for (const entry of WINDOWS_TO_IANA_MAP) {
  if (entry.territory === '001' && entry.iana[0]) WINDOWS.set(entry.windowsName.toLowerCase(), entry.iana[0]);
}
WINDOWS.set('utc', 'UTC');

const IANA_CACHE = new Map<string, string | null>();
const FORMATTERS = new Map<string, Intl.DateTimeFormat>();

/** The zone behind a Windows or IANA name, or undefined when neither knows it. */
export function findZone(name: string): ResolvedZone | undefined {
  if (name.length === 0 || name.length > 100) return undefined;
  const windows = WINDOWS.get(name.toLowerCase());
  if (windows) return { name, iana: windows };
  // Outlook takes IANA names as listed (§2.1); Intl knows the whole tz database, aliases included.
  if (!/^[A-Za-z][A-Za-z0-9_+\-/]*$/.test(name)) return undefined;
  let iana = IANA_CACHE.get(name);
  if (iana === undefined) {
    try {
      iana = new Intl.DateTimeFormat('en-US', { timeZone: name }).resolvedOptions().timeZone;
    } catch {
      iana = null;
    }
    if (IANA_CACHE.size < 2000) IANA_CACHE.set(name, iana);
  }
  return iana ? { name, iana } : undefined;
}

/** findZone or Outlook's TimeZoneNotSupportedException (§2.1). */
export function requireZone(name: string): ResolvedZone {
  const zone = findZone(name);
  if (!zone) throw timeZoneNotSupported(name);
  return zone;
}

function formatter(iana: string): Intl.DateTimeFormat {
  let f = FORMATTERS.get(iana);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: iana,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    FORMATTERS.set(iana, f);
  }
  return f;
}

/** The zone's offset from UTC at `ms`, in milliseconds (positive east of Greenwich). */
export function offsetAt(ms: number, iana: string): number {
  if (iana === 'UTC') return 0;
  const parts: Record<string, number> = {};
  for (const p of formatter(iana).formatToParts(new Date(ms))) if (p.type !== 'literal') parts[p.type] = Number(p.value);
  const wall = Date.UTC(parts.year!, parts.month! - 1, parts.day!, parts.hour!, parts.minute!, parts.second!);
  const fixed = new Date(wall);
  fixed.setUTCFullYear(parts.year!);
  return fixed.getTime() - (ms - (((ms % 1000) + 1000) % 1000));
}

/**
 * The UTC instant of a wall-clock time in a zone. `wallMs` is the wall time read as if it were UTC.
 * In a gap (spring forward) the time moves forward by the gap; in an overlap the earlier instant wins,
 * as Windows does.
 */
export function wallToUtc(wallMs: number, iana: string): number {
  if (iana === 'UTC') return wallMs;
  const first = wallMs - offsetAt(wallMs, iana);
  const second = wallMs - offsetAt(first, iana);
  if (first === second) return first;
  const earlier = Math.min(first, second);
  return offsetAt(earlier, iana) + earlier === wallMs ? earlier : Math.max(first, second);
}

/** The wall-clock time of a UTC instant in a zone, as milliseconds read as UTC. */
export function utcToWall(ms: number, iana: string): number {
  return ms + offsetAt(ms, iana);
}
