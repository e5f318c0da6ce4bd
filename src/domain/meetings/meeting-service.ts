import type { Kysely } from 'kysely';
import type { Principal } from '../../identity/access-tokens.js';
import { exclusiveWriter, type ExclusiveWriter, type Reader, type Writer } from '../../storage/database.js';
import { meetingConstraint, uniqueViolation } from '../../storage/errors.js';
import * as directory from '../../storage/repositories/directory-repository.js';
import * as meetings from '../../storage/repositories/meeting-repository.js';
import type { Database, UserRow } from '../../storage/tables.js';
import { cryptoRandomness, type Randomness } from '../../util/randomness.js';
import { authorizeCommunicationsLookup, authorizeMeetingOwner, type MeetingOwnerPath } from '../authorization.js';
import {
  addMilliseconds,
  clampToLatest,
  compareDateTime,
  formatDateTime,
  isRepresentable,
  now,
  parseDateTime,
  requireDateTime,
  type GraphDateTime,
} from '../datetime.js';
import type { DirectoryLookups } from '../directory/directory-lookups.js';
import { parseTenantSettings, type MeetingOptions, type MeetingTemplateDefinition } from '../directory/tenant-settings.js';
import {
  badRequest,
  conflict,
  forbidden,
  GraphError,
  invalidProperty,
  meetingNotFound,
  organizerMismatch,
  serviceUnavailable,
} from '../errors.js';
import { meetingQuotaReached, utcMonth } from './meeting-quota.js';
import {
  IDENTITY_KINDS,
  type AttendeeInput,
  type Identity,
  type IdentitySet,
  type Meeting,
  type MeetingInput,
  type ParticipantInfo,
} from './meeting.js';
import {
  decodeMeetingId,
  dialinUrl,
  threadFromJoinUrl,
  encodeMeetingId,
  joinWebUrl,
  linkBases,
  meetingOptionsWebUrl,
  newPasscode,
  virtualAppointmentUrl,
  type LinkStyle,
  newThreadId,
  meetingNumbers,
  randomMeetingNumbers,
  type MeetingNumberSource,
} from './meeting-ids.js';
import { cloneData } from '../../util/clone.js';

const HOUR_MS = 3_600_000;
/** §0 Expiry: a meeting expires 60 days after its end; updates push it out again. */
export const EXPIRY_MS = 60 * 24 * HOUR_MS;
/** §4.3: a chat that would pass 1,000 members cannot be created. */
export const MAX_CHAT_MEMBERS = 1000;
const ALLOCATION_ATTEMPTS = 10;
/** Optimistic PATCH retries before answering 409; with jittered back-off this absorbs dozens of concurrent writers. */
const UPDATE_ATTEMPTS = 20;

const OPTION_KEYS: Array<keyof MeetingOptions> = [
  'allowAttendeeToEnableCamera',
  'allowAttendeeToEnableMic',
  'allowBreakoutRooms',
  'allowCopyingAndSharingMeetingContent',
  'allowedLobbyAdmitters',
  'allowedPresenters',
  'allowLiveShare',
  'allowMeetingChat',
  'allowParticipantsToChangeName',
  'allowPowerPointSharing',
  'allowRecording',
  'allowTeamworkReactions',
  'allowTranscription',
  'allowWhiteboard',
  'chatRestrictions',
  'isEndToEndEncryptionEnabled',
  'isEntryExitAnnounced',
  'lobbyBypassSettings',
  'recordAutomatically',
  'shareMeetingChatHistoryDefault',
  'watermarkProtection',
];
const LANGUAGE_TAG = /^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8}){0,3}$/;

export interface MeetingServiceDeps {
  db: Kysely<Database>;
  /** The store's writer (group commit on SQLite); direct statements when absent. */
  write?: Writer;
  /** The store's reader for the precompiled lookups; Kysely's executor when absent. */
  read?: Reader;
  /** The store's exclusive writer (Store.writeExclusive), for the quota'd insert; built from `db` and `write` when absent. */
  writeExclusive?: ExclusiveWriter;
  /**
   * MEETING_QUOTA_PER_USER_MONTH with THROTTLE=on (fact sheet §6.5): meetings an organizer may create through
   * onlineMeetings per calendar month (UTC); 0 or absent for none.
   */
  quota?: number;
  directory: DirectoryLookups;
  /** The public origin join links are built on (PUBLIC_URL). */
  origin: () => string;
  /** LINK_STYLE (issue #14): this service's pages, or Teams' hosts. */
  linkStyle?: LinkStyle;
  clock?: () => number;
  numbers?: MeetingNumberSource;
  /** Thread ids and passcodes (and the numbers, unless `numbers` is given); reproducible under ID_SEED. */
  random?: Randomness;
}

/** Whether the user is one of the meeting's attendees, by object id or UPN. */
function isInvited(meeting: Meeting, user: UserRow): boolean {
  return meeting.participants.attendees.some(
    (a) => a.identity?.user?.id?.toLowerCase() === user.id || (typeof a.upn === 'string' && a.upn.toLowerCase() === user.upn),
  );
}

/** What an Outlook event passes on to its Teams meeting (graph-events-spec.md §3.5). */
export interface CalendarMeetingInput {
  subject: string | null;
  /** UTC, Graph's 7-digit form. */
  startDateTime: string;
  endDateTime: string;
  attendees: Array<{ address: string; name: string | null; userId: string | null }>;
}

function calendarMeetingInput(input: CalendarMeetingInput): MeetingInput {
  return {
    subject: input.subject,
    startDateTime: input.startDateTime,
    endDateTime: input.endDateTime,
    participants: {
      attendees: input.attendees.map((a) => ({
        upn: a.address,
        role: 'attendee' as const,
        identity: { user: { id: a.userId, displayName: a.name } },
      })),
    },
  };
}

/** Raised inside createMeeting when the createOrGet key already exists (§3.2). */
class ExternalKeyTaken extends Error {}

/**
 * The rules of onlineMeeting (fact sheet §3 and §4): who may act (authorization.ts), what a create
 * produces, and the lookups. Routes stay thin; the repository only stores.
 */
export class MeetingService {
  private readonly db: Kysely<Database>;
  private readonly directory: DirectoryLookups;
  private readonly clock: () => number;
  private readonly numbers: MeetingNumberSource;
  private readonly random: Randomness;
  /** The time of a change; its sub-millisecond ticks follow the seeded sequence when one is given (ID_SEED). */
  private readonly now: () => GraphDateTime;
  private readonly reads: meetings.MeetingReads;
  private readonly quota: number;
  private readonly writeExclusive: ExclusiveWriter | undefined;

  constructor(private readonly deps: MeetingServiceDeps) {
    this.db = deps.db;
    this.directory = deps.directory;
    this.clock = deps.clock ?? Date.now;
    this.random = deps.random ?? cryptoRandomness;
    const seeded = deps.random;
    this.now = () => now(this.clock, seeded ? () => seeded.int(0, 10_000) : undefined);
    this.numbers = deps.numbers ?? (deps.random ? meetingNumbers(deps.random) : randomMeetingNumbers);
    this.reads = new meetings.MeetingReads(deps.db, deps.read);
    this.quota = deps.quota ?? 0;
    this.writeExclusive =
      this.quota > 0 ? (deps.writeExclusive ?? exclusiveWriter(deps.db, deps.write ?? ((q) => deps.db.executeQuery(q)))) : undefined;
  }

  /**
   * POST /me/onlineMeetings and /users/{id}/onlineMeetings (§3.1). `linkOrigin` is where the meeting's
   * links point (joinWebUrl, meetingOptionsWebUrl, dialinUrl): the public origin unless the request came
   * as graph.microsoft.com, when they are on teams.microsoft.com as Graph's are (src/http/host-names.ts).
   */
  async create(principal: Principal, path: MeetingOwnerPath, input: MeetingInput, linkOrigin?: string): Promise<Meeting> {
    const organizer = await authorizeMeetingOwner(this.directory, principal, path, 'write');
    if (input.externalId !== undefined && input.externalId !== null) {
      throw badRequest("The property 'externalId' is only supported by the createOrGet action (POST …/onlineMeetings/createOrGet).");
    }
    const meeting = await this.buildMeeting(organizer, input, null, linkOrigin);
    try {
      return await this.insertAllocating(meeting, true);
    } catch (err) {
      if (err instanceof ExternalKeyTaken) throw serviceUnavailable();
      throw err;
    }
  }

  /**
   * GET …/onlineMeetings/{id} (§3.3). Graph's get page: "an attendee can read a meeting they were invited
   * to" with a delegated token, so a signed-in user listed in participants.attendees reads the meeting
   * (issue #14); update and delete stay the organizer's.
   */
  async get(principal: Principal, path: MeetingOwnerPath, meetingId: string): Promise<Meeting> {
    const owner = await authorizeMeetingOwner(this.directory, principal, path, 'read');
    if (principal.kind === 'user') {
      const { organizerId, threadId } = decodeMeetingId(meetingId);
      if (organizerId !== owner.id) {
        const meeting = await this.reads.byId(encodeMeetingId(organizerId, threadId));
        // Only within the meeting's tenant: a guest's token is issued by their own tenant and reaches nothing here.
        if (meeting && meeting.tenantId === owner.tenant_id && isInvited(meeting, owner)) return meeting;
      }
    }
    return this.ownedMeeting(owner, meetingId);
  }

  /**
   * POST …/onlineMeetings/createOrGet (§3.2): keyed on tenant, organizer and externalId. Only the action's
   * parameters are taken; an existing meeting comes back unchanged. Racing requests meet at the unique
   * index: the losers read the winner's meeting, so exactly one exists.
   */
  async createOrGet(
    principal: Principal,
    path: MeetingOwnerPath,
    input: MeetingInput,
    linkOrigin?: string,
  ): Promise<{ meeting: Meeting; created: boolean }> {
    const organizer = await authorizeMeetingOwner(this.directory, principal, path, 'write');
    const externalId = input.externalId;
    if (typeof externalId !== 'string' || externalId.trim() === '') {
      throw invalidProperty('externalId', 'the createOrGet action requires a non-empty externalId.');
    }
    if (externalId.includes('\0')) throw invalidProperty('externalId', 'an externalId cannot contain a NUL character.');
    const existing = await this.reads.byExternalKey(organizer.tenant_id, organizer.id, externalId);
    if (existing) return { meeting: existing, created: false };
    const params: MeetingInput = {
      subject: input.subject,
      startDateTime: input.startDateTime,
      endDateTime: input.endDateTime,
      participants: input.participants,
    };
    const meeting = await this.buildMeeting(organizer, params, externalId, linkOrigin);
    try {
      return { meeting: await this.insertAllocating(meeting, true), created: true };
    } catch (err) {
      if (err instanceof GraphError && err.status === 429) {
        // Over quota, but a racing request may have created this very key meanwhile: then nothing is created
        // and the meeting comes back (an existing meeting is never refused, §6.5).
        const winner = await this.reads.byExternalKey(organizer.tenant_id, organizer.id, externalId);
        if (winner) return { meeting: winner, created: false };
        throw err;
      }
      if (!(err instanceof ExternalKeyTaken)) throw err;
      const winner = await this.reads.byExternalKey(organizer.tenant_id, organizer.id, externalId);
      if (!winner) throw serviceUnavailable(); // deleted between the race and the read: let the client retry
      return { meeting: winner, created: false };
    }
  }

  /**
   * The §3.4 lookups by joinWebUrl or joinMeetingId. Only the organizer finds a meeting (§9 quirk 4):
   * another user of the tenant gets Graph's opaque 403; a meeting of another tenant is simply not there.
   */
  async findByFilter(
    principal: Principal,
    path: MeetingOwnerPath,
    filter: { property: 'joinWebUrl' | 'joinMeetingId'; value: string },
  ): Promise<{ owner: UserRow; found: Meeting[] }> {
    const owner = await authorizeMeetingOwner(this.directory, principal, path, 'read');
    let meeting: Meeting | undefined;
    if (filter.property === 'joinWebUrl') {
      const thread = threadFromJoinUrl(filter.value);
      meeting = thread ? await this.reads.byThread(thread) : undefined;
    } else {
      meeting = /^\d{1,20}$/.test(filter.value) ? await this.reads.byJoinMeetingId(filter.value) : undefined;
    }
    if (!meeting || meeting.tenantId !== owner.tenant_id) return { owner, found: [] };
    if (meeting.organizerId !== owner.id) throw forbidden('An error has occurred.');
    return { owner, found: [meeting] };
  }

  /** GET /communications/onlineMeetings/?$filter=VideoTeleconferenceId eq '…' (§3.4): app-only, tenant-scoped, no policy. */
  async findByVideoTeleconferenceId(principal: Principal, vtcId: string): Promise<Meeting[]> {
    authorizeCommunicationsLookup(principal);
    const meeting = /^\d{1,20}$/.test(vtcId) ? await this.reads.byVtcId(vtcId) : undefined;
    return meeting && meeting.tenantId === principal.tenantId ? [meeting] : [];
  }

  /** PATCH …/onlineMeetings/{id} (§3.5). Read-modify-write with optimistic concurrency. */
  async update(principal: Principal, path: MeetingOwnerPath, meetingId: string, patch: MeetingInput): Promise<Meeting> {
    const owner = await authorizeMeetingOwner(this.directory, principal, path, 'write');
    for (let attempt = 0; attempt < UPDATE_ATTEMPTS; attempt++) {
      const current = await this.ownedMeeting(owner, meetingId);
      const next = await this.applyPatch(owner, current, patch);
      if (await meetings.updateMeeting(this.db, next, this.deps.write)) return { ...next, version: current.version + 1 };
      // Someone else's update won; back off a random while so that racing writers spread out.
      await new Promise((r) => setTimeout(r, Math.random() * 5 * (attempt + 1)));
    }
    throw conflict('The meeting was changed by another request at the same time; retry the update.');
  }

  /** DELETE …/onlineMeetings/{id} (§3.6). */
  async delete(principal: Principal, path: MeetingOwnerPath, meetingId: string): Promise<void> {
    const owner = await authorizeMeetingOwner(this.directory, principal, path, 'write');
    const meeting = await this.ownedMeeting(owner, meetingId);
    if (!(await meetings.deleteMeeting(this.db, meeting.id, formatDateTime(this.now()), this.deps.write))) throw meetingNotFound();
  }

  /**
   * GET …/{id}/getVirtualAppointmentJoinWebUrl (§3.7). The link leads to this service's virtual
   * appointment page (or visit.teams.microsoft.com with LINK_STYLE=teams); `visitOrigin` replaces it when
   * the request came through an impersonated graph.microsoft.com.
   */
  async virtualAppointmentJoinWebUrl(
    principal: Principal,
    path: MeetingOwnerPath,
    meetingId: string,
    visitOrigin?: string,
  ): Promise<string> {
    const owner = await authorizeMeetingOwner(this.directory, principal, path, 'virtualAppointment');
    const meeting = await this.ownedMeeting(owner, meetingId);
    return virtualAppointmentUrl(visitOrigin ?? linkBases(this.deps.origin(), this.deps.linkStyle), meeting.tenantId, meeting.threadId);
  }

  // --- calendar-backed meetings (graph-events-spec.md §3) --------------------------------------------
  // The event service (domain/events) calls these after its own authorization: an event needs only
  // Calendars.ReadWrite, never a Teams application access policy (fact sheet §5), so these take the
  // already-resolved organizer instead of a principal.

  /**
   * The Teams meeting of an online event (§3.1): organized by the calendar's owner, linked to the event.
   * `linkOrigin` as for create: where its links point when the event was created through graph.microsoft.com.
   */
  async createCalendarBacked(
    organizer: UserRow,
    input: CalendarMeetingInput,
    link: { iCalUId: string; eventId: string },
    linkOrigin?: string,
  ): Promise<Meeting> {
    const meeting = await this.buildMeeting(organizer, calendarMeetingInput(input), null, linkOrigin);
    meeting.calendarEvent = { iCalUId: link.iCalUId, eventId: link.eventId, cancelledDateTime: null };
    return this.insertAllocating(meeting);
  }

  /** The event's time, subject or attendees changed (§3.5): the meeting follows; its join link stays. */
  async updateCalendarBacked(organizer: UserRow, meetingId: string, input: CalendarMeetingInput): Promise<Meeting | undefined> {
    return this.rewriteCalendarBacked(meetingId, (current) => this.applyPatch(organizer, current, calendarMeetingInput(input)));
  }

  /**
   * The event was cancelled or deleted (§3.6). Graph does not document deleting the Teams meeting, and
   * its join link keeps working: the meeting stays, findable by JoinWebUrl, marked as cancelled.
   */
  async cancelCalendarBacked(meetingId: string): Promise<void> {
    const at = formatDateTime(now(this.clock));
    await this.rewriteCalendarBacked(meetingId, async (current) => {
      const next = structuredClone(current);
      if (next.calendarEvent) next.calendarEvent.cancelledDateTime = at;
      return next;
    });
  }

  /** The meeting of an event, read without authorization (the event service authorized the event). */
  async calendarBackedMeeting(meetingId: string): Promise<Meeting | undefined> {
    return this.reads.byId(meetingId);
  }

  /** Removes a calendar-backed meeting whose event was never stored (a lost transactionId race). */
  async discardCalendarBacked(meetingId: string): Promise<void> {
    await meetings.deleteMeeting(this.db, meetingId, formatDateTime(now(this.clock)), this.deps.write);
  }

  private async rewriteCalendarBacked(meetingId: string, change: (m: Meeting) => Promise<Meeting>): Promise<Meeting | undefined> {
    for (let attempt = 0; attempt < UPDATE_ATTEMPTS; attempt++) {
      const current = await this.reads.byId(meetingId);
      if (!current) return undefined; // deleted through the onlineMeetings API: the event keeps its link text
      const next = await change(current);
      if (await meetings.updateMeeting(this.db, next, this.deps.write)) return { ...next, version: current.version + 1 };
      await new Promise((r) => setTimeout(r, Math.random() * 5 * (attempt + 1)));
    }
    throw conflict('The meeting was changed by another request at the same time; retry the update.');
  }

  /** Frees the numbers of meetings deleted more than EXPIRY_MS ago (see README: reuse of deleted meetings' numbers). */
  async purgeTombstones(): Promise<number> {
    return meetings.purgeTombstones(this.db, formatDateTime({ ms: this.clock() - EXPIRY_MS, ticks: 0 }));
  }

  /** The rules of §3.5 applied to a stored meeting; throws the catalog error for each refused change. */
  private async applyPatch(owner: UserRow, current: Meeting, patch: MeetingInput): Promise<Meeting> {
    const given = (key: string) => patch[key] !== undefined;
    if (given('meetingType')) throw badRequest('Updating meeting type is not supported.'); // §9 quirk 13, even with the same value
    if (given('externalId') && patch.externalId !== current.externalId)
      throw invalidProperty('externalId', 'the externalId of a meeting cannot be changed.');
    if (patch.isBroadcast === true) throw invalidProperty('isBroadcast', 'a meeting cannot be turned into a Teams live event.');
    if (given('meetingTemplateId') && patch.meetingTemplateId !== current.meetingTemplateId) {
      throw invalidProperty('meetingTemplateId', 'the meeting template of a meeting cannot be changed.');
    }
    const join = patch.joinMeetingIdSettings as Record<string, unknown> | null | undefined;
    if (join) {
      const cur = current.joinMeetingIdSettings as unknown as Record<string, unknown>;
      for (const key of ['isPasscodeRequired', 'joinMeetingId', 'passcode']) {
        if (join[key] !== undefined && join[key] !== cur[key]) {
          throw invalidProperty(
            'joinMeetingIdSettings',
            'joinMeetingIdSettings cannot be changed; cancel the meeting and create a new one.',
          );
        }
      }
    }
    const organizer = patch.participants?.organizer as { identity?: { user?: { id?: unknown } } } | null | undefined;
    if (
      organizer &&
      organizer.identity?.user?.id !== undefined &&
      String(organizer.identity.user.id).toLowerCase() !== current.organizerId
    ) {
      throw invalidProperty('participants.organizer', 'the organizer of a meeting cannot be changed.');
    }

    const next = structuredClone(current);
    const options = applyOptions(current.options, patch, new Set());
    for (const key of current.lockedOptions) {
      if (JSON.stringify(options[key]) !== JSON.stringify(current.options[key])) {
        throw invalidProperty(key, `this option is locked by the meeting template ${current.meetingTemplateId}.`);
      }
    }
    next.options = options;

    if (given('startDateTime') !== given('endDateTime') || (patch.startDateTime === null) !== (patch.endDateTime === null)) {
      throw invalidProperty(
        given('startDateTime') ? 'endDateTime' : 'startDateTime',
        'startDateTime and endDateTime must be updated together.',
      );
    }
    if (given('startDateTime') && patch.startDateTime !== null) {
      const { start, end } = resolveTimes(patch, this.now());
      next.startDateTime = formatDateTime(start);
      next.endDateTime = formatDateTime(end);
    }
    if (given('subject')) next.subject = patch.subject ?? null;

    const extra = extraProperties({ ...current.extra, ...patch } as MeetingInput);
    if (current.extra.anonymizeIdentityForRoles?.includes('attendee') && !extra.anonymizeIdentityForRoles?.includes('attendee')) {
      throw invalidProperty('anonymizeIdentityForRoles', "'attendee' cannot be removed once it is set.");
    }
    next.extra = extra;

    if (patch.participants && patch.participants.attendees !== undefined) {
      // §3.5: attendees are replaced by the full list sent.
      next.participants.attendees = (patch.participants.attendees ?? []).map(normalizeAttendee);
      await this.checkAttendees(owner, next.participants.attendees);
    }
    // §0 Expiry: any update pushes the expiry out to 60 days after the later of now and the end.
    const end = parseDateTime(next.endDateTime)!;
    const updated = this.now();
    next.expiryDateTime = formatDateTime(clampToLatest(addMilliseconds(compareDateTime(end, updated) > 0 ? end : updated, EXPIRY_MS)));
    return next;
  }

  /** The meeting behind an id, if `owner` organizes it (§3.3, §9 quirk 5). */
  private async ownedMeeting(owner: UserRow, meetingId: string): Promise<Meeting> {
    const { organizerId, threadId } = decodeMeetingId(meetingId);
    if (organizerId !== owner.id) throw organizerMismatch(owner.id);
    const meeting = await this.reads.byId(encodeMeetingId(organizerId, threadId));
    if (!meeting || meeting.tenantId !== owner.tenant_id) throw meetingNotFound();
    return meeting;
  }

  /** Builds a new meeting from a create body, applying tenant policy, template and the rules of §4. */
  private async buildMeeting(organizer: UserRow, input: MeetingInput, externalId: string | null, linkOrigin?: string): Promise<Meeting> {
    const tenant = await this.directory.tenant(organizer.tenant_id);
    if (!tenant) throw meetingNotFound();
    const settings = parseTenantSettings(tenant.settings);
    if (input.isBroadcast === true) throw badRequest('Teams live events cannot be created with this API (isBroadcast must be false).');

    const created = this.now();
    const { start, end } = resolveTimes(input, created);

    let template: MeetingTemplateDefinition | undefined;
    let meetingTemplateId: string | null = null;
    if (input.meetingTemplateId !== undefined && input.meetingTemplateId !== null) {
      const row = await this.directory.meetingTemplate(tenant.id, input.meetingTemplateId);
      if (!row)
        throw invalidProperty('meetingTemplateId', `the meeting template '${input.meetingTemplateId}' does not exist in this tenant.`);
      template = JSON.parse(row.definition) as MeetingTemplateDefinition;
      meetingTemplateId = row.id;
    }
    const locked = new Set(template?.locked ?? []);
    const options = applyOptions(applyOptions(settings.meetingPolicy, template?.values ?? {}, new Set()), input, locked);

    const joinSettings = input.joinMeetingIdSettings ?? {};
    if (joinSettings.passcode !== undefined && joinSettings.passcode !== null) {
      throw invalidProperty(
        'joinMeetingIdSettings.passcode',
        'custom passcodes are not supported; set isPasscodeRequired to true and one is generated.',
      );
    }
    const isPasscodeRequired = joinSettings.isPasscodeRequired === true;

    const attendees = (input.participants?.attendees ?? []).map(normalizeAttendee);
    await this.checkAttendees(organizer, attendees);

    // A request through an impersonated graph.microsoft.com gets links on its Teams origin; otherwise LINK_STYLE decides.
    const origin = linkOrigin ? linkBases(linkOrigin) : linkBases(this.deps.origin(), this.deps.linkStyle);
    const threadId = newThreadId(this.random);
    const conferenceId = this.numbers.conferenceId();
    return {
      id: encodeMeetingId(organizer.id, threadId),
      tenantId: tenant.id,
      organizerId: organizer.id,
      externalId,
      threadId,
      creationDateTime: formatDateTime(created),
      startDateTime: formatDateTime(start),
      endDateTime: formatDateTime(end),
      expiryDateTime: formatDateTime(clampToLatest(addMilliseconds(end, EXPIRY_MS))),
      subject: input.subject ?? null,
      options,
      extra: extraProperties(input),
      meetingTemplateId,
      lockedOptions: [...locked],
      participants: {
        // §4.3 / §9 quirk 9: a supplied organizer is ignored; the caller or path user organizes.
        organizer: {
          identity: { user: { id: organizer.id, displayName: organizer.display_name, tenantId: tenant.id, identityProvider: 'AAD' } },
          role: 'presenter',
          upn: organizer.upn,
        },
        attendees,
      },
      joinMeetingIdSettings: {
        isPasscodeRequired,
        joinMeetingId: this.numbers.joinMeetingId(),
        passcode: isPasscodeRequired ? newPasscode(this.random) : null,
      },
      audioConferencing: {
        conferenceId,
        tollNumbers: [...settings.dialIn.tollNumbers],
        tollFreeNumbers: [...settings.dialIn.tollFreeNumbers],
        dialinUrl: dialinUrl(origin, tenant.id, conferenceId),
      },
      videoTeleconferenceId: this.numbers.videoTeleconferenceId(),
      joinWebUrl: joinWebUrl(origin, threadId, tenant.id, organizer.id),
      meetingOptionsWebUrl: meetingOptionsWebUrl(origin, threadId, tenant.id, organizer.id),
      version: 1,
    };
  }

  /** §4.3: chat size, and presenter/co-organizer roles only for users of the tenant's directory. */
  private async checkAttendees(organizer: UserRow, attendees: ParticipantInfo[]): Promise<void> {
    if (attendees.length + 1 > MAX_CHAT_MEMBERS) {
      throw invalidProperty(
        'participants.attendees',
        `a meeting chat can have at most ${MAX_CHAT_MEMBERS} members including the organizer; this request has ${attendees.length + 1}.`,
      );
    }
    attendees.forEach((a, i) => {
      if (!a.upn && !IDENTITY_KINDS.some((k) => a.identity[k]?.id)) {
        throw invalidProperty(`participants.attendees[${i}]`, 'an attendee needs an identity with an id, or a upn.');
      }
    });
    const privileged = attendees.map((a, i) => ({ a, i })).filter(({ a }) => a.role === 'presenter' || a.role === 'coorganizer');
    if (privileged.length === 0) return;
    const ids = privileged.map(({ a }) => a.identity.user?.id?.toLowerCase()).filter((x): x is string => !!x && directory.isGuid(x));
    const upns = privileged.map(({ a }) => a.upn?.toLowerCase()).filter((x): x is string => !!x);
    const [byId, byUpn] = await Promise.all([
      directory.usersByIds(this.db, organizer.tenant_id, ids),
      directory.usersByUpns(this.db, organizer.tenant_id, upns),
    ]);
    for (const { a, i } of privileged) {
      const id = a.identity.user?.id?.toLowerCase();
      const upn = a.upn?.toLowerCase();
      const known = (id && byId.some((u) => u.id === id)) || (upn && byUpn.some((u) => u.upn === upn));
      if (!known) {
        throw invalidProperty(
          `participants.attendees[${i}].role`,
          `the '${a.role}' role can only be given to users registered in the organizer's directory (${upn ?? id ?? 'no id'} is not).`,
        );
      }
    }
  }

  /** Inserts, drawing new numbers whenever one collides (never surfaced to the client, issue #3). */
  /**
   * Inserts the meeting, drawing new numbers when one collides. `quotaed`: a creation through onlineMeetings,
   * which MEETING_QUOTA_PER_USER_MONTH limits (issue #11 item 10). The organizer's count for the month of the
   * meeting's creationDateTime is taken inside the insert statement, run exclusively for the organizer
   * (meeting-repository.ts insertMeetingWithinQuota, database.ts exclusiveWriter): however many requests,
   * processes and instances race, exactly the quota is created. Deleted meetings count too (they were created;
   * their tombstones outlive the month). Without a quota the plain insert runs, with no extra query.
   */
  private async insertAllocating(meeting: Meeting, quotaed = false): Promise<Meeting> {
    const quota = quotaed && this.writeExclusive ? this.quota : 0;
    const created = quota > 0 ? parseDateTime(meeting.creationDateTime) : undefined;
    const month = created ? utcMonth(created.ms) : undefined;
    let candidate = meeting;
    for (let attempt = 0; attempt < ALLOCATION_ATTEMPTS; attempt++) {
      try {
        if (month) {
          const inserted = await meetings.insertMeetingWithinQuota(
            this.db,
            candidate,
            { limit: quota, start: month.start, end: month.end },
            (q) => this.writeExclusive!(`quota|${candidate.tenantId}|${candidate.organizerId}`, q),
          );
          if (!inserted) throw meetingQuotaReached(candidate.organizerId, quota, month.secondsLeft);
        } else {
          await meetings.insertMeeting(this.db, candidate, this.deps.write);
        }
        return candidate;
      } catch (err) {
        const which = uniqueViolation(err);
        if (which === undefined) throw err;
        const constraint = meetingConstraint(which);
        if (constraint === 'externalKey') throw new ExternalKeyTaken();
        candidate = this.redraw(candidate, constraint);
      }
    }
    throw serviceUnavailable('Could not allocate unique meeting numbers; please retry.');
  }

  private redraw(m: Meeting, constraint: ReturnType<typeof meetingConstraint>): Meeting {
    // New numbers keep the links on the origin the meeting was built for (its own, an impersonated one, or Teams').
    const origin = this.deps.linkStyle === 'teams' ? linkBases(this.deps.origin(), 'teams') : linkBases(new URL(m.joinWebUrl).origin);
    const next = structuredClone(m);
    if (constraint === 'joinMeetingId') next.joinMeetingIdSettings.joinMeetingId = this.numbers.joinMeetingId();
    else if (constraint === 'conferenceId') {
      next.audioConferencing.conferenceId = this.numbers.conferenceId();
      next.audioConferencing.dialinUrl = dialinUrl(origin, m.tenantId, next.audioConferencing.conferenceId);
    } else if (constraint === 'vtcId') next.videoTeleconferenceId = this.numbers.videoTeleconferenceId();
    else {
      next.threadId = newThreadId(this.random);
      next.id = encodeMeetingId(m.organizerId, next.threadId);
      next.joinWebUrl = joinWebUrl(origin, next.threadId, m.tenantId, m.organizerId);
      next.meetingOptionsWebUrl = meetingOptionsWebUrl(origin, next.threadId, m.tenantId, m.organizerId);
    }
    return next;
  }
}

/** §4.1: start defaults to now and end to start + 1 h; an end alone, or an end before the start, is refused. */
export function resolveTimes(input: { startDateTime?: string | null; endDateTime?: string | null }, created: GraphDateTime) {
  const hasStart = input.startDateTime !== undefined && input.startDateTime !== null;
  const hasEnd = input.endDateTime !== undefined && input.endDateTime !== null;
  if (hasEnd && !hasStart) throw invalidProperty('startDateTime', 'startDateTime is required when endDateTime is given.');
  const start = hasStart ? requireDateTime(input.startDateTime, 'startDateTime') : { ms: created.ms, ticks: created.ticks };
  const end = hasEnd ? requireDateTime(input.endDateTime, 'endDateTime') : addMilliseconds(start, HOUR_MS);
  if (compareDateTime(end, start) < 0) throw invalidProperty('endDateTime', 'endDateTime must not be earlier than startDateTime.');
  if (!isRepresentable(end)) throw invalidProperty('startDateTime', 'the meeting would end after 9999-12-31T23:59:59Z.');
  return { start, end };
}

/** Applies the option values of `input` over `base`; nested objects merge; null means "not given"; locked options keep their value. */
export function applyOptions(base: MeetingOptions, input: Record<string, unknown>, locked: ReadonlySet<string>): MeetingOptions {
  const out = cloneData(base) as unknown as Record<string, unknown>;
  for (const key of OPTION_KEYS) {
    const value = input[key];
    if (value === undefined || value === null || locked.has(key)) continue;
    if (typeof value === 'object') {
      const merged = { ...(out[key] as Record<string, unknown>) };
      for (const [k, v] of Object.entries(value as Record<string, unknown>))
        if (v !== undefined && v !== null && k in merged) merged[k] = v;
      out[key] = merged;
    } else {
      out[key] = value;
    }
  }
  return out as unknown as MeetingOptions;
}

function extraProperties(input: MeetingInput): Meeting['extra'] {
  const roles = input.anonymizeIdentityForRoles ?? null;
  if (roles && roles.some((r) => r !== 'attendee')) {
    throw invalidProperty('anonymizeIdentityForRoles', "the only supported value is 'attendee'.");
  }
  const tag = input.meetingSpokenLanguageTag ?? null;
  if (tag !== null && !LANGUAGE_TAG.test(tag))
    throw invalidProperty('meetingSpokenLanguageTag', `'${tag}' is not a BCP 47 language tag such as en-US.`);
  const label = input.sensitivityLabelAssignment;
  return {
    anonymizeIdentityForRoles: roles ? [...new Set(roles)] : null,
    meetingSpokenLanguageTag: tag,
    sensitivityLabelAssignment: label ? { sensitivityLabelId: label.sensitivityLabelId ?? null } : null,
  };
}

function normalizeAttendee(a: AttendeeInput): ParticipantInfo {
  const identity: IdentitySet = {};
  for (const kind of IDENTITY_KINDS) {
    const given = a.identity?.[kind];
    if (!given) continue;
    const id: Identity = {};
    for (const f of ['id', 'displayName', 'tenantId', 'identityProvider'] as const) {
      const v = given[f];
      if (typeof v === 'string' || v === null) id[f] = v;
    }
    identity[kind] = id;
  }
  return { identity, upn: a.upn ?? null, role: a.role ?? null };
}
