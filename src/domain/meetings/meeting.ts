import type { MeetingOptions } from '../directory/tenant-settings.js';

/** Enums of fact sheet §2.8. Members after unknownFutureValue are evolvable (returned only on request). */
export const ENUMS = {
  onlineMeetingPresenters: ['everyone', 'organization', 'roleIsPresenter', 'organizer', 'unknownFutureValue'],
  meetingChatMode: ['enabled', 'disabled', 'limited', 'unknownFutureValue'],
  meetingChatHistoryDefaultMode: ['none', 'all', 'unknownFutureValue'],
  meetingLiveShareOptions: ['enabled', 'disabled', 'unknownFutureValue'],
  allowedLobbyAdmitterRoles: ['organizerAndCoOrganizersAndPresenters', 'organizerAndCoOrganizers', 'unknownFutureValue'],
  onlineMeetingRole: ['attendee', 'presenter', 'unknownFutureValue', 'producer', 'coorganizer'],
  lobbyBypassScope: [
    'organizer',
    'organization',
    'organizationAndFederated',
    'everyone',
    'unknownFutureValue',
    'invited',
    'organizationExcludingGuests',
  ],
  broadcastMeetingAudience: ['roleIsAttendee', 'organization', 'everyone', 'unknownFutureValue'],
} as const;

export type EnumMember<K extends keyof typeof ENUMS> = (typeof ENUMS)[K][number];
export type OnlineMeetingRole = EnumMember<'onlineMeetingRole'>;

/** The members that sit after unknownFutureValue (§2.8). */
export function evolvableMembers(values: readonly string[]): string[] {
  return values.slice(values.indexOf('unknownFutureValue') + 1);
}

export interface Identity {
  id?: string | null;
  displayName?: string | null;
  tenantId?: string | null;
  identityProvider?: string | null;
}

/** The identity kinds of a communicationsIdentitySet (§2.5) that graph-meetings keeps. */
export const IDENTITY_KINDS = [
  'user',
  'application',
  'device',
  'applicationInstance',
  'assertedIdentity',
  'azureCommunicationServicesUser',
  'encrypted',
  'guest',
  'onPremises',
  'phone',
] as const;
export type IdentitySet = Partial<Record<(typeof IDENTITY_KINDS)[number], Identity | null>>;

export interface ParticipantInfo {
  identity: IdentitySet;
  role: OnlineMeetingRole | null;
  upn: string | null;
}

/** Options that also exist outside tenant policy and default to null. */
export interface ExtraProperties {
  anonymizeIdentityForRoles: OnlineMeetingRole[] | null;
  meetingSpokenLanguageTag: string | null;
  sensitivityLabelAssignment: { sensitivityLabelId: string | null } | null;
}

/** A meeting as graph-meetings keeps it. Times are canonical Graph strings (UTC, 7 digits). */
export interface Meeting {
  id: string;
  tenantId: string;
  organizerId: string;
  externalId: string | null;
  threadId: string;
  creationDateTime: string;
  startDateTime: string;
  endDateTime: string;
  expiryDateTime: string;
  subject: string | null;
  options: MeetingOptions;
  extra: ExtraProperties;
  meetingTemplateId: string | null;
  /** Options the template locked: a request cannot set them (§1 meetingTemplateId). */
  lockedOptions: Array<keyof MeetingOptions>;
  participants: { organizer: ParticipantInfo; attendees: ParticipantInfo[] };
  joinMeetingIdSettings: { isPasscodeRequired: boolean; joinMeetingId: string; passcode: string | null };
  audioConferencing: {
    conferenceId: string;
    tollNumbers: string[];
    tollFreeNumbers: string[];
    dialinUrl: string;
  };
  videoTeleconferenceId: string;
  joinWebUrl: string;
  meetingOptionsWebUrl: string;
  /** Bumped by each update. */
  version: number;
  /**
   * Set when an Outlook event created the meeting (graph-events-spec.md §3): a calendar-backed meeting,
   * the only kind transcripts and recordings serve (graph-meeting-artifacts-spec.md §2.6, §5.2).
   * Absent or null for meetings made by POST /onlineMeetings.
   */
  calendarEvent?: CalendarEventLink | null;
}

export interface CalendarEventLink {
  iCalUId: string;
  eventId: string;
  /** When the event was cancelled or deleted; the meeting itself stays (fact sheet §3.6). */
  cancelledDateTime: string | null;
}

/** The onlineMeeting properties a create may set (fact sheet §1, Create column), as validated by the HTTP schema. */
export interface MeetingInput {
  subject?: string | null;
  startDateTime?: string | null;
  endDateTime?: string | null;
  externalId?: string | null;
  isBroadcast?: boolean | null;
  meetingTemplateId?: string | null;
  joinMeetingIdSettings?: { isPasscodeRequired?: boolean | null; passcode?: string | null } | null;
  participants?: { organizer?: unknown; attendees?: AttendeeInput[] | null } | null;
  anonymizeIdentityForRoles?: OnlineMeetingRole[] | null;
  meetingSpokenLanguageTag?: string | null;
  sensitivityLabelAssignment?: { sensitivityLabelId?: string | null } | null;
  [option: string]: unknown;
}

export interface AttendeeInput {
  identity?: Record<string, Record<string, unknown> | null> | null;
  upn?: string | null;
  role?: OnlineMeetingRole | null;
}
