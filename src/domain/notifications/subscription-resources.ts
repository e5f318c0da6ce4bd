import type { MailboxPath } from '../events/event-service.js';

/**
 * The resources a subscription may watch (graph-meeting-artifacts-spec.md §3.3, graph-events-spec.md §7),
 * parsed from `resource`: the path without the base URL, a leading slash tolerated (Cal.com sends one),
 * segments compared case-insensitively as Graph's router does.
 */
export type SubscriptionResource =
  | { kind: 'events'; mailbox: MailboxPath }
  | { kind: 'transcripts' | 'recordings'; scope: 'tenant' }
  | { kind: 'transcripts' | 'recordings'; scope: 'meeting'; meetingId: string }
  | { kind: 'transcripts' | 'recordings'; scope: 'user'; userId: string };

/** §3.3 lifetime table: Outlook 4,230 min (1 day with resource data, events spec §7); transcripts and recordings 4,320. */
export function maxLifetimeMinutes(resource: SubscriptionResource, includeResourceData: boolean): number {
  if (resource.kind === 'events') return includeResourceData ? 1440 : 4230;
  return 4320;
}

const key = (segment: string) => /^\('(.*)'\)$/s.exec(segment)?.[1]?.replace(/''/g, "'") ?? segment;

export function parseSubscriptionResource(raw: string): SubscriptionResource | undefined {
  const path = raw.split('?')[0]!.replace(/^\/+/, '').replace(/\/+$/, '');
  // users('id')/events and onlineMeetings('id')/transcripts are Graph's key syntax for the same paths.
  const segments = path.split('/').flatMap((s) => {
    const m = /^([A-Za-z]+)(\('.*'\))$/s.exec(s);
    return m ? [m[1]!, m[2]!] : [s];
  });
  if (segments.some((s) => s === '')) return undefined;
  const lower = segments.map((s) => s.toLowerCase());
  const artifact = (name: string) =>
    name === 'gettranscripts' ? undefined : name === 'transcripts' ? 'transcripts' : name === 'recordings' ? 'recordings' : undefined;
  const all = (name: string) => (name === 'getalltranscripts' ? 'transcripts' : name === 'getallrecordings' ? 'recordings' : undefined);

  // me/events, me/calendar/events, me/calendars/{id}/events and the users/{id} forms (events spec §7).
  const events = (rest: string[], restLower: string[]): { calendarId?: string } | undefined => {
    if (restLower.length === 1 && restLower[0] === 'events') return {};
    if (restLower.length === 2 && restLower[0] === 'calendar' && restLower[1] === 'events') return {};
    if (restLower.length === 3 && restLower[0] === 'calendars' && restLower[2] === 'events') return { calendarId: key(rest[1]!) };
    return undefined;
  };
  if (lower[0] === 'me') {
    const e = events(segments.slice(1), lower.slice(1));
    return e ? { kind: 'events', mailbox: { me: true, ...e } } : undefined;
  }
  if (lower[0] === 'users' && segments.length >= 3) {
    const userId = key(segments[1]!);
    const e = events(segments.slice(2), lower.slice(2));
    if (e) return { kind: 'events', mailbox: { me: false, userId, ...e } };
    const kind = lower.length === 4 && lower[2] === 'onlinemeetings' ? all(lower[3]!) : undefined;
    return kind ? { kind, scope: 'user', userId } : undefined;
  }
  if (lower[0] === 'communications' && lower[1] === 'onlinemeetings') {
    if (lower.length === 3) {
      const kind = all(lower[2]!);
      return kind ? { kind, scope: 'tenant' } : undefined;
    }
    if (lower.length === 4) {
      const kind = artifact(lower[3]!);
      return kind ? { kind, scope: 'meeting', meetingId: key(segments[2]!) } : undefined;
    }
  }
  return undefined;
}
