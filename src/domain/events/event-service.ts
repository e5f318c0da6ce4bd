import type { Kysely } from 'kysely';
import type { Principal } from '../../identity/access-tokens.js';
import type { CompiledQuery, QueryResult } from 'kysely';
import type { Reader, Writer } from '../../storage/database.js';
import { uniqueViolation } from '../../storage/errors.js';
import * as directoryRepo from '../../storage/repositories/directory-repository.js';
import * as repo from '../../storage/repositories/event-repository.js';
import type { Database, UserRow } from '../../storage/tables.js';
import { formatDateTime, now } from '../datetime.js';
import type { DirectoryLookups } from '../directory/directory-lookups.js';
import {
  calendarAccessDenied,
  conflict,
  eventIdMalformed,
  eventNotFound,
  mailboxUserInvalid,
  meRequiresDelegatedOutlook,
  propertyValidationFailure,
  serviceUnavailable,
  unableToDeserializePostBody,
} from '../errors.js';
import type { Meeting } from '../meetings/meeting.js';
import type { ChangeFeed } from '../notifications/change-feed.js';
import type { CalendarMeetingInput, MeetingService } from '../meetings/meeting-service.js';
import { hasJoinLink, htmlBody, withTeamsBlock } from './event-body.js';
import { decodeOutlookId, defaultCalendarId, newEventId, newICalUId } from './event-ids.js';
import {
  instantOf,
  type CalendarEvent,
  type EventInput,
  type EventLocation,
  type EventTime,
  type OnlineMeetingInfo,
  parseEventInput,
} from './event.js';
import type { EventQueryOptions } from './event-query.js';
import { requireZone, utcToWall } from './time-zones.js';

/** Whose calendar a path addresses: `/me/…` or `/users/{id or UPN}/…`, optionally through `/calendars/{id}`. */
export type MailboxPath = { me: true; calendarId?: string } | { me: false; userId: string; calendarId?: string };

type Access = 'read' | 'write' | 'mailboxSettings';

/**
 * graph-events-spec.md §5: Calendars.Read or Calendars.ReadWrite to read, Calendars.ReadWrite to write,
 * delegated for the signed-in user's own calendar and application for any mailbox of the tenant (no Teams
 * application access policy: that governs onlineMeetings only). MailboxSettings.* for mailboxSettings.
 */
const NEEDED: Record<Access, string[]> = {
  read: ['Calendars.Read', 'Calendars.ReadWrite'],
  write: ['Calendars.ReadWrite'],
  mailboxSettings: ['MailboxSettings.Read', 'MailboxSettings.ReadWrite'],
};

/** §3.1, §1.3: the calendar's providers; Teams is the only one this service runs. */
export const ALLOWED_PROVIDERS = ['teamsForBusiness'] as const;
export const DEFAULT_PROVIDER = 'teamsForBusiness';
const UPDATE_ATTEMPTS = 20;
const DAY_MS = 86_400_000;

export interface EventServiceDeps {
  db: Kysely<Database>;
  write?: Writer;
  /** The store's reader of the request path (Store.read), for GET by id. */
  read?: Reader;
  directory: DirectoryLookups;
  meetings: MeetingService;
  clock?: () => number;
  /**
   * Change notifications (issue #18): each write commits together with the outbox rows of the subscriptions
   * that see it (Store.writeTogether), so a change is never lost between the write and its notifications.
   */
  notifications?: {
    feed: ChangeFeed;
    writeTogether: (queries: CompiledQuery[]) => Promise<QueryResult<unknown>>;
    /** Called after a change committed: the deliverer may start at once. */
    queued: () => void;
  };
}

/**
 * The rules of Outlook events (graph-events-spec.md §1 to §5) and their tie to onlineMeetings (§3): a
 * Teams event owns a calendar-backed meeting, created and updated through MeetingService's public
 * calendar methods. Routes stay thin; the repository only stores.
 */
export class EventService {
  private readonly clock: () => number;
  private readonly write: Writer | undefined;
  private readonly reads: repo.EventReads;

  constructor(private readonly deps: EventServiceDeps) {
    this.clock = deps.clock ?? Date.now;
    this.write = deps.write;
    this.reads = new repo.EventReads(deps.db, deps.read);
  }

  /** One event write; with change notifications on, committed together with the outbox rows it causes. */
  private async writeEvent(query: CompiledQuery, event: CalendarEvent, changeType: 'created' | 'updated' | 'deleted'): Promise<boolean> {
    const n = this.deps.notifications;
    const result = n
      ? await n.writeTogether([query, n.feed.eventChanged(event, changeType)])
      : await (this.write ?? ((q: CompiledQuery) => this.deps.db.executeQuery(q)))(query);
    const changed = Number(result.numAffectedRows ?? 0) === 1;
    if (changed) n?.queued();
    return changed;
  }

  /** Resolves the mailbox a path addresses and checks the caller may act on it (§5). */
  async authorize(principal: Principal, path: MailboxPath, access: Access): Promise<UserRow> {
    if (principal.kind === 'app' && path.me) throw meRequiresDelegatedOutlook();
    const granted = principal.kind === 'user' ? principal.scopes : principal.roles;
    if (!NEEDED[access].some((p) => granted.has(p))) throw calendarAccessDenied(`token lacks every one of: ${NEEDED[access].join(', ')}`);
    const key = path.me ? (principal as { userId: string }).userId : path.userId;
    const user = await this.deps.directory.userInTenant(principal.tenantId, key);
    if (!user) throw mailboxUserInvalid(key, principal.tenantId);
    // Delegated tokens reach only the signed-in user's calendar (Calendars.*.Shared is not emulated).
    if (principal.kind === 'user' && user.id !== principal.userId) throw calendarAccessDenied('delegated token on another user');
    if (path.calendarId !== undefined) this.checkCalendar(user, path.calendarId);
    return user;
  }

  /** `/calendars/{id}`: only the default calendar exists; another mailbox's or an unknown folder is not found. */
  private checkCalendar(owner: UserRow, calendarId: string): void {
    const decoded = decodeOutlookId(calendarId);
    if (decoded.kind !== 'folder' || decoded.mailboxId !== owner.id || calendarId !== defaultCalendarId(owner.id)) throw eventNotFound();
  }

  /** GET /me/calendar, /me/calendars/{id} and the /users forms. */
  async calendar(principal: Principal, path: MailboxPath): Promise<UserRow> {
    return this.authorize(principal, path, 'read');
  }

  async mailboxOwner(principal: Principal, path: MailboxPath): Promise<UserRow> {
    return this.authorize(principal, path, 'mailboxSettings');
  }

  /**
   * POST …/events (§4.1). transactionId makes it idempotent: a repeat gets the first event. `linkOrigin`
   * is where the links of its Teams meeting point (teams.microsoft.com when the request came through the
   * impersonated graph.microsoft.com, see MeetingService.create); undefined for the service's own origin.
   */
  async create(
    principal: Principal,
    path: MailboxPath,
    body: unknown,
    linkOrigin?: string,
  ): Promise<{ owner: UserRow; event: CalendarEvent }> {
    const owner = await this.authorize(principal, path, 'write');
    const input = parseEventInput(body);
    if (input.transactionId !== undefined) {
      const existing = await repo.findEventByTransaction(this.deps.db, owner.id, input.transactionId);
      if (existing) return { owner, event: existing };
    }
    if (!input.start || !input.end) throw propertyValidationFailure('start and end are required');
    const created = formatDateTime(now(this.clock));
    const id = newEventId(owner.id);
    const isAllDay = input.isAllDay ?? false;
    const { start, end } = resolveTimes(input, undefined, isAllDay);
    const { location, locations } = resolveLocations(input, undefined);
    let event: CalendarEvent = {
      id,
      tenantId: owner.tenant_id,
      ownerId: owner.id,
      iCalUId: newICalUId(this.clock()),
      transactionId: input.transactionId ?? null,
      start,
      end,
      createdDateTime: created,
      lastModifiedDateTime: created,
      isOnlineMeeting: false,
      meetingId: null,
      subject: input.subject ?? '',
      body: htmlBody(input.body ?? { contentType: 'text', content: '' }),
      isAllDay,
      location,
      locations,
      attendees: (input.attendees ?? []).map(attendee),
      categories: input.categories ?? [],
      importance: input.importance ?? 'normal',
      sensitivity: input.sensitivity ?? 'normal',
      showAs: input.showAs ?? 'busy',
      isReminderOn: input.isReminderOn ?? true,
      reminderMinutesBeforeStart: input.reminderMinutesBeforeStart ?? 15,
      responseRequested: input.responseRequested ?? true,
      allowNewTimeProposals: input.allowNewTimeProposals ?? true,
      hideAttendees: input.hideAttendees ?? false,
      onlineMeetingProvider: 'unknown',
      onlineMeeting: null,
      organizer: { name: owner.display_name, address: owner.upn },
      version: 1,
    };
    let meeting: Meeting | undefined;
    if (input.isOnlineMeeting === true) {
      meeting = await this.deps.meetings.createCalendarBacked(
        owner,
        await this.meetingInput(owner, event),
        { iCalUId: event.iCalUId, eventId: event.id },
        linkOrigin,
      );
      event = goOnline(event, meeting);
    }
    try {
      await this.writeEvent(repo.insertEventQuery(this.deps.db, event), event, 'created');
      return { owner, event };
    } catch (err) {
      const which = uniqueViolation(err);
      if (which === undefined) throw err;
      if (meeting) await this.deps.meetings.discardCalendarBacked(meeting.id);
      // A concurrent create with the same transactionId won: answer with its event (§4.1).
      if (input.transactionId !== undefined && which.includes('transaction')) {
        const winner = await repo.findEventByTransaction(this.deps.db, owner.id, input.transactionId);
        if (winner) return { owner, event: winner };
      }
      throw serviceUnavailable();
    }
  }

  /** GET …/events/{id} (§4.2). */
  async get(principal: Principal, path: MailboxPath, eventId: string): Promise<{ owner: UserRow; event: CalendarEvent }> {
    const owner = await this.authorize(principal, path, 'read');
    return { owner, event: await this.owned(owner, eventId, true) };
  }

  /** PATCH …/events/{id} (§4.5, §3.5): the Teams meeting follows time, subject and attendee changes. `linkOrigin` as for create. */
  async update(
    principal: Principal,
    path: MailboxPath,
    eventId: string,
    body: unknown,
    linkOrigin?: string,
  ): Promise<{ owner: UserRow; event: CalendarEvent }> {
    const owner = await this.authorize(principal, path, 'write');
    // The id is checked before the body, as Exchange resolves the item first (§6).
    if (decodeOutlookId(eventId).kind !== 'item') throw eventIdMalformed();
    const input = parseEventInput(body);
    for (let attempt = 0; attempt < UPDATE_ATTEMPTS; attempt++) {
      const current = await this.owned(owner, eventId);
      const isAllDay = input.isAllDay ?? current.isAllDay;
      const { start, end } = resolveTimes(input, current, isAllDay);
      const { location, locations } = resolveLocations(input, current);
      let next: CalendarEvent = {
        ...current,
        start,
        end,
        isAllDay,
        location,
        locations,
        subject: input.subject ?? current.subject,
        body: input.body ? htmlBody(input.body) : current.body,
        attendees: input.attendees ? input.attendees.map(attendee) : current.attendees,
        categories: input.categories ?? current.categories,
        importance: input.importance ?? current.importance,
        sensitivity: input.sensitivity ?? current.sensitivity,
        showAs: input.showAs ?? current.showAs,
        isReminderOn: input.isReminderOn ?? current.isReminderOn,
        reminderMinutesBeforeStart: input.reminderMinutesBeforeStart ?? current.reminderMinutesBeforeStart,
        responseRequested: input.responseRequested ?? current.responseRequested,
        hideAttendees: input.hideAttendees ?? current.hideAttendees,
        // §4.5: allowNewTimeProposals is not in the update table; transactionId cannot change (§1).
        lastModifiedDateTime: formatDateTime(now(this.clock)),
      };
      let created: Meeting | undefined;
      let meeting: Meeting | undefined;
      if (current.isOnlineMeeting && current.meetingId) {
        // §3.1 one-way: isOnlineMeeting false and provider changes are ignored. §3.5: a new body without the
        // join link would drop the meeting in Outlook; here the block is put back (the link stays usable).
        const meetingChanged =
          input.subject !== undefined ||
          input.start !== undefined ||
          input.end !== undefined ||
          input.attendees !== undefined ||
          input.isAllDay !== undefined;
        if (meetingChanged) {
          meeting = await this.deps.meetings.updateCalendarBacked(owner, current.meetingId, await this.meetingInput(owner, next));
        }
        if (input.body) {
          meeting ??= await this.deps.meetings.calendarBackedMeeting(current.meetingId);
          if (meeting && !hasJoinLink(next.body, meeting)) next.body = withTeamsBlock(next.body, meeting);
        }
      } else if (input.isOnlineMeeting === true) {
        // §3.1: a PATCH can turn an existing event into a Teams meeting.
        created = await this.deps.meetings.createCalendarBacked(
          owner,
          await this.meetingInput(owner, next),
          {
            iCalUId: current.iCalUId,
            eventId: current.id,
          },
          linkOrigin,
        );
        next = goOnline(next, created);
      }
      const written = { ...next, version: current.version + 1 };
      if (await this.writeEvent(repo.updateEventQuery(this.deps.db, next, current.version), written, 'updated')) {
        return { owner, event: { ...next, version: current.version + 1 } };
      }
      if (created) await this.deps.meetings.discardCalendarBacked(created.id);
      await new Promise((r) => setTimeout(r, Math.random() * 5 * (attempt + 1)));
    }
    throw conflict('The event was changed by another request at the same time; retry the update.');
  }

  /** DELETE …/events/{id} (§3.6): 204; the Teams meeting stays (its link keeps working), marked cancelled. */
  async delete(principal: Principal, path: MailboxPath, eventId: string): Promise<void> {
    const owner = await this.authorize(principal, path, 'write');
    await this.remove(await this.owned(owner, eventId));
  }

  /**
   * POST …/events/{id}/cancel (§3.6, §4.7): organizer only (every event here is its owner's own), an
   * optional comment, and the event leaves the calendar (Outlook moves it to Deleted Items).
   */
  async cancel(principal: Principal, path: MailboxPath, eventId: string, body: unknown): Promise<void> {
    const owner = await this.authorize(principal, path, 'write');
    if (body !== undefined && body !== null) {
      if (typeof body !== 'object' || Array.isArray(body)) throw unableToDeserializePostBody('the body must be a JSON object');
      for (const [k, v] of Object.entries(body as Record<string, unknown>)) {
        if (k.toLowerCase() === 'comment' && v !== null && typeof v !== 'string')
          throw unableToDeserializePostBody('comment: expected a string');
      }
    }
    await this.remove(await this.owned(owner, eventId));
  }

  private async remove(event: CalendarEvent): Promise<void> {
    if (!(await this.writeEvent(repo.deleteEventQuery(this.deps.db, event.id), event, 'deleted'))) throw eventNotFound();
    if (event.meetingId) await this.deps.meetings.cancelCalendarBacked(event.meetingId);
  }

  /** GET …/events and …/calendarView (§4.3, §4.4). */
  async list(
    principal: Principal,
    path: MailboxPath,
    options: EventQueryOptions & { window?: { start: string; end: string } },
    withCount = false,
  ): Promise<{ owner: UserRow; events: CalendarEvent[]; count?: number }> {
    const owner = await this.authorize(principal, path, 'read');
    const query = {
      ...options,
      ownerId: owner.id,
      orderBy: options.orderBy.length ? options.orderBy : [{ column: 'start_utc' as const, desc: false }],
    };
    const [events, count] = await Promise.all([
      repo.listEvents(this.deps.db, query),
      withCount ? repo.countEvents(this.deps.db, query) : Promise.resolve(undefined),
    ]);
    return { owner, events, ...(count === undefined ? {} : { count }) };
  }

  /** The event behind an id, if it lives in `owner`'s mailbox (§0.1, §6). */
  /** The owner's event; `shared`: the cached parse (EventReads), for callers that only read it. */
  private async owned(owner: UserRow, eventId: string, shared = false): Promise<CalendarEvent> {
    const decoded = decodeOutlookId(eventId);
    if (decoded.kind !== 'item') throw eventIdMalformed();
    if (decoded.mailboxId !== owner.id) throw eventNotFound();
    const event = shared ? await this.reads.byId(eventId) : await repo.findEventById(this.deps.db, eventId);
    if (!event || event.ownerId !== owner.id || event.tenantId !== owner.tenant_id) throw eventNotFound();
    return event;
  }

  /** The meeting side of an event (§3.1): attendees become meeting attendees, directory users by id. */
  private async meetingInput(owner: UserRow, event: CalendarEvent): Promise<CalendarMeetingInput> {
    const addresses = event.attendees.map((a) => a.emailAddress.address!.toLowerCase());
    const known = addresses.length ? await directoryRepo.usersByUpns(this.deps.db, owner.tenant_id, addresses) : [];
    return {
      subject: event.subject,
      startDateTime: event.start.utc,
      endDateTime: event.end.utc,
      attendees: event.attendees.map((a) => ({
        address: a.emailAddress.address!,
        name: a.emailAddress.name,
        userId: known.find((u) => u.upn === a.emailAddress.address!.toLowerCase())?.id ?? null,
      })),
    };
  }
}

/** §3.3: the event's onlineMeetingInfo, from the Teams meeting; dial-in only when the tenant has numbers. */
export function onlineMeetingInfo(meeting: Meeting): OnlineMeetingInfo {
  const a = meeting.audioConferencing;
  const toll = a.tollNumbers[0] ?? null;
  return {
    conferenceId: toll ? a.conferenceId : null,
    joinUrl: meeting.joinWebUrl,
    phones: a.tollNumbers.map((n) => ({ number: n, type: 'business', region: null, language: null })),
    quickDial: toll ? `${toll},,${a.conferenceId}#` : null,
    tollFreeNumbers: [...a.tollFreeNumbers],
    tollNumber: toll,
  };
}

/** §3.1, §3.4, §1.1: online with Teams, the invitation block appended, "Microsoft Teams Meeting" as the default location. */
function goOnline(event: CalendarEvent, meeting: Meeting): CalendarEvent {
  const next = { ...event, isOnlineMeeting: true, onlineMeetingProvider: DEFAULT_PROVIDER, meetingId: meeting.id };
  next.onlineMeeting = onlineMeetingInfo(meeting);
  next.body = withTeamsBlock(event.body, meeting);
  if (!event.location.displayName) {
    next.location = namedLocation('Microsoft Teams Meeting');
    next.locations = [namedLocation('Microsoft Teams Meeting')];
  }
  return next;
}

const namedLocation = (displayName: string): EventLocation => ({
  displayName,
  locationType: 'default',
  uniqueId: displayName,
  uniqueIdType: 'private',
});

const EMPTY_LOCATION: EventLocation = { displayName: '', locationType: 'default', uniqueIdType: 'unknown', address: {}, coordinates: {} };

/** §1 location/locations: setting `location` replaces `locations`; `locations` alone sets `location` to its first. */
function resolveLocations(input: EventInput, current: CalendarEvent | undefined): { location: EventLocation; locations: EventLocation[] } {
  if (input.location)
    return { location: input.location, locations: input.locations ?? (input.location.displayName ? [input.location] : []) };
  if (input.locations) return { location: input.locations[0] ?? structuredClone(EMPTY_LOCATION), locations: input.locations };
  return current
    ? { location: current.location, locations: current.locations }
    : { location: structuredClone(EMPTY_LOCATION), locations: [] };
}

function attendee(a: NonNullable<EventInput['attendees']>[number]) {
  // §4.8: the organizer's view of an attendee who has not answered.
  return { type: a.type, status: { response: 'none', time: '0001-01-01T00:00:00Z' }, emailAddress: a.emailAddress };
}

/**
 * Start and end as stored (§2): the instants, the zones sent, and for all-day events the dates. Checks
 * §2.4 (end not before start; all-day: midnight in one zone, whole days, at least one).
 */
function resolveTimes(input: EventInput, current: CalendarEvent | undefined, isAllDay: boolean): { start: EventTime; end: EventTime } {
  const start = input.start ? timeOf(input.start) : current!.start;
  const end = input.end ? timeOf(input.end) : current!.end;
  if (end.utc < start.utc) throw propertyValidationFailure('end is before start');
  if (!isAllDay) return { start: { utc: start.utc, timeZone: start.timeZone }, end: { utc: end.utc, timeZone: end.timeZone } };
  const startZone = requireZone(start.timeZone).iana;
  const endZone = requireZone(end.timeZone).iana;
  if (startZone !== endZone) throw propertyValidationFailure('all-day start and end must be in the same time zone');
  const wallStart = utcToWall(Date.parse(start.utc), startZone);
  const wallEnd = utcToWall(Date.parse(end.utc), endZone);
  if (wallStart % DAY_MS !== 0 || wallEnd % DAY_MS !== 0) throw propertyValidationFailure('all-day start and end must be at midnight');
  if (wallEnd - wallStart < DAY_MS) throw propertyValidationFailure('an all-day event lasts at least one day');
  return {
    start: { utc: start.utc, timeZone: start.timeZone, date: new Date(wallStart).toISOString().slice(0, 10) },
    end: { utc: end.utc, timeZone: end.timeZone, date: new Date(wallEnd).toISOString().slice(0, 10) },
  };
}

function timeOf(t: NonNullable<EventInput['start']>): EventTime {
  const ms = instantOf(t);
  if (ms < Date.parse('0001-01-01T00:00:00Z') || ms > Date.parse('9999-12-31T23:59:59.999Z'))
    throw propertyValidationFailure('date out of range');
  return { utc: formatDateTime({ ms, ticks: t.ticks }), timeZone: t.timeZone ?? 'UTC' };
}
