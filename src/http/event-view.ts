import { bodyPreview, textOf } from '../domain/events/event-body.js';
import type { CalendarEvent, EventTime } from '../domain/events/event.js';
import { changeKey, defaultCalendarId, webLink } from '../domain/events/event-ids.js';
import { ALLOWED_PROVIDERS, DEFAULT_PROVIDER } from '../domain/events/event-service.js';
import { utcToWall, type ResolvedZone } from '../domain/events/time-zones.js';
import { badRequest } from '../domain/errors.js';
import type { UserRow } from '../storage/tables.js';

/** What shapes an event's JSON besides the event: the zone of Prefer: outlook.timezone and the body type. */
export interface EventViewContext {
  serviceRoot: string;
  /** The user segment of @odata.context: the object id for /me, the path's id or UPN (percent-encoded) otherwise. */
  userSegment: string;
  /** Prefer: outlook.timezone (§2.2); UTC when absent. */
  zone: ResolvedZone | undefined;
  /** Prefer: outlook.body-content-type="text" (§2.2). */
  bodyText: boolean;
}

export const etag = (e: CalendarEvent) => `W/"${changeKey(e.ownerId, e.version)}"`;

/** §2.2: seven fractional digits, no offset, in UTC or the preferred zone; all-day events midnight to midnight. */
function dateTimeTimeZone(t: EventTime, ctx: EventViewContext) {
  const timeZone = ctx.zone?.name ?? 'UTC';
  if (t.date) return { dateTime: `${t.date}T00:00:00.0000000`, timeZone };
  if (!ctx.zone || ctx.zone.iana === 'UTC') return { dateTime: t.utc.slice(0, 27), timeZone };
  const wall = utcToWall(Date.parse(t.utc), ctx.zone.iana);
  return { dateTime: `${new Date(wall).toISOString().slice(0, 23)}${t.utc.slice(23, 27)}`, timeZone };
}

/** An event as Graph's JSON (fact sheet §1, §1.4's order), without @odata.context. */
export function eventJson(e: CalendarEvent, ctx: EventViewContext): Record<string, unknown> {
  const key = changeKey(e.ownerId, e.version);
  return {
    '@odata.etag': `W/"${key}"`,
    id: e.id,
    createdDateTime: e.createdDateTime,
    lastModifiedDateTime: e.lastModifiedDateTime,
    changeKey: key,
    categories: e.categories,
    transactionId: e.transactionId,
    originalStartTimeZone: e.start.timeZone,
    originalEndTimeZone: e.end.timeZone,
    iCalUId: e.iCalUId,
    reminderMinutesBeforeStart: e.reminderMinutesBeforeStart,
    isReminderOn: e.isReminderOn,
    hasAttachments: false,
    subject: e.subject,
    bodyPreview: bodyPreview(e.body),
    importance: e.importance,
    sensitivity: e.sensitivity,
    isAllDay: e.isAllDay,
    isCancelled: false,
    isOrganizer: true,
    responseRequested: e.responseRequested,
    seriesMasterId: null,
    showAs: e.showAs,
    type: 'singleInstance',
    webLink: webLink(e.id),
    onlineMeetingUrl: null,
    isOnlineMeeting: e.isOnlineMeeting,
    onlineMeetingProvider: e.onlineMeetingProvider,
    allowNewTimeProposals: e.allowNewTimeProposals,
    isDraft: false,
    hideAttendees: e.hideAttendees,
    recurrence: null,
    responseStatus: { response: 'organizer', time: '0001-01-01T00:00:00Z' },
    body: ctx.bodyText ? { contentType: 'text', content: textOf(e.body) } : { contentType: 'html', content: e.body },
    start: dateTimeTimeZone(e.start, ctx),
    end: dateTimeTimeZone(e.end, ctx),
    location: e.location,
    locations: e.locations,
    attendees: e.attendees,
    organizer: { emailAddress: e.organizer },
    onlineMeeting: e.onlineMeeting,
  };
}

const contextOf = (ctx: EventViewContext, collection: string, select: string[] | undefined) =>
  `${ctx.serviceRoot}/$metadata#users('${ctx.userSegment}')/${collection}${select?.length ? `(${select.join(',')})` : ''}`;

export const eventEntityContext = (ctx: EventViewContext, select?: string[]) => `${contextOf(ctx, 'events', select)}/$entity`;
export const eventCollectionContext = (ctx: EventViewContext, collection: 'events' | 'calendarView', select?: string[]) =>
  contextOf(ctx, collection, select);

/** $select (§4.2): the named properties, plus id and @odata.etag, which Outlook always sends. */
export function selectProperties(value: Record<string, unknown>, select: string[] | undefined, type: string): Record<string, unknown> {
  if (!select || select.length === 0 || select.includes('*')) return value;
  const keys = Object.keys(value);
  const wanted = new Set<string>(['id', '@odata.etag', '@odata.context']);
  for (const s of select) {
    const key = keys.find((k) => k.toLowerCase() === s.toLowerCase());
    if (!key || key.startsWith('@')) throw badRequest(`Could not find a property named '${s}' on type '${type}'.`);
    wanted.add(key);
  }
  return Object.fromEntries(Object.entries(value).filter(([k]) => wanted.has(k)));
}

/** The default calendar (§1.3), with the online-meeting providers schedulers check first (§3.1). */
export function calendarJson(owner: UserRow): Record<string, unknown> {
  return {
    id: defaultCalendarId(owner.id),
    name: 'Calendar',
    color: 'auto',
    hexColor: '',
    groupClassId: '0006f0b7-0000-0000-c000-000000000046',
    isDefaultCalendar: true,
    changeKey: changeKey(owner.id, 1),
    canShare: true,
    canViewPrivateItems: true,
    canEdit: true,
    allowedOnlineMeetingProviders: [...ALLOWED_PROVIDERS],
    defaultOnlineMeetingProvider: DEFAULT_PROVIDER,
    isTallyingResponses: true,
    isRemovable: false,
    owner: { name: owner.display_name, address: owner.upn },
  };
}

/** GET …/mailboxSettings (§10: schedulers read its timeZone). Every mailbox here is on UTC. */
export function mailboxSettingsJson(): Record<string, unknown> {
  return {
    archiveFolder: null,
    timeZone: 'UTC',
    delegateMeetingMessageDeliveryOptions: 'sendToDelegateOnly',
    dateFormat: 'M/d/yyyy',
    timeFormat: 'h:mm tt',
    userPurpose: 'user',
    automaticRepliesSetting: {
      status: 'disabled',
      externalAudience: 'all',
      internalReplyMessage: '',
      externalReplyMessage: '',
      scheduledStartDateTime: { dateTime: '2020-01-01T00:00:00.0000000', timeZone: 'UTC' },
      scheduledEndDateTime: { dateTime: '2020-01-02T00:00:00.0000000', timeZone: 'UTC' },
    },
    language: { locale: 'en-US', displayName: 'English (United States)' },
    workingHours: {
      daysOfWeek: ['monday', 'tuesday', 'wednesday', 'thursday', 'friday'],
      startTime: '08:00:00.0000000',
      endTime: '17:00:00.0000000',
      timeZone: { name: 'UTC' },
    },
  };
}
