import type { OnlineMeeting } from '@microsoft/microsoft-graph-types';
import { ENUMS, evolvableMembers, type Meeting, type OnlineMeetingRole, type ParticipantInfo } from '../domain/meetings/meeting.js';
import { renderJoinInformation, type SupportedLanguage } from '../domain/meetings/join-information.js';
import type { LruCache } from '../util/lru-cache.js';

export interface ViewContext {
  /** Service root, e.g. https://127.0.0.1:8443/v1.0 */
  serviceRoot: string;
  language: SupportedLanguage;
  /** `Prefer: include-unknown-enum-members` (fact sheet §2.8). */
  includeUnknownEnumMembers: boolean;
  /** Rendered invitations by meeting, version and language; rendering costs more than the rest of a read. */
  joinInformation?: LruCache<string, { content: string; contentType: 'html' }>;
}

/**
 * The wire shape: Graph's published v1.0 type (@microsoft/microsoft-graph-types 2.43) plus the properties
 * the fact sheet marks NEW or observed (§1, §1.1). Declaring it here makes the type checker prove that
 * every property and enum member we send is one Graph's own types allow.
 */
export type GraphOnlineMeeting = OnlineMeeting & {
  '@odata.context'?: string;
  id: string;
  joinUrl: string;
  expiryDateTime: string;
  meetingOptionsWebUrl: string;
  meetingType: 'adhoc' | 'scheduled' | 'recurring' | 'broadcast' | 'meetnow' | 'unknownFutureValue';
  anonymizeIdentityForRoles: OnlineMeetingRole[] | null;
  meetingSpokenLanguageTag: string | null;
  sensitivityLabelAssignment: { sensitivityLabelId: string | null } | null;
};

const EVOLVABLE_ROLES = new Set<string>(evolvableMembers(ENUMS.onlineMeetingRole));
const EVOLVABLE_SCOPES = new Set<string>(evolvableMembers(ENUMS.lobbyBypassScope));

/** Without the Prefer header, evolvable members are sent as unknownFutureValue (§2.8). */
function evolvable<T extends string>(value: T, members: Set<string>, include: boolean): T | 'unknownFutureValue';
function evolvable<T extends string>(value: T | null, members: Set<string>, include: boolean): T | 'unknownFutureValue' | null;
function evolvable<T extends string>(value: T | null, members: Set<string>, include: boolean) {
  return value !== null && members.has(value) && !include ? 'unknownFutureValue' : value;
}

function participant(p: ParticipantInfo, include: boolean) {
  return { upn: p.upn, role: evolvable(p.role, EVOLVABLE_ROLES, include), identity: p.identity };
}

export const entityContext = (ctx: ViewContext, organizerId: string) =>
  `${ctx.serviceRoot}/$metadata#users('${organizerId}')/onlineMeetings/$entity`;
export const collectionContext = (ctx: ViewContext, organizerId: string) =>
  `${ctx.serviceRoot}/$metadata#users('${organizerId}')/onlineMeetings`;

/** An onlineMeeting as Graph's JSON (fact sheet §1, §1.1, §6.3), without @odata.context. */
export function onlineMeetingJson(m: Meeting, ctx: ViewContext): GraphOnlineMeeting {
  const o = m.options;
  const include = ctx.includeUnknownEnumMembers;
  const audio = m.audioConferencing;
  return {
    id: m.id,
    creationDateTime: m.creationDateTime,
    startDateTime: m.startDateTime,
    endDateTime: m.endDateTime,
    expiryDateTime: m.expiryDateTime,
    joinUrl: m.joinWebUrl, // undocumented but present in real v1.0 responses (§1.1, §9 quirk 2)
    joinWebUrl: m.joinWebUrl,
    meetingOptionsWebUrl: m.meetingOptionsWebUrl,
    subject: m.subject,
    isBroadcast: false,
    externalId: m.externalId,
    meetingType: 'scheduled',
    meetingTemplateId: m.meetingTemplateId,
    videoTeleconferenceId: m.videoTeleconferenceId,
    isEndToEndEncryptionEnabled: o.isEndToEndEncryptionEnabled,
    isEntryExitAnnounced: o.isEntryExitAnnounced,
    allowedPresenters: o.allowedPresenters,
    allowedLobbyAdmitters: o.allowedLobbyAdmitters,
    allowAttendeeToEnableCamera: o.allowAttendeeToEnableCamera,
    allowAttendeeToEnableMic: o.allowAttendeeToEnableMic,
    allowBreakoutRooms: o.allowBreakoutRooms,
    allowCopyingAndSharingMeetingContent: o.allowCopyingAndSharingMeetingContent,
    allowLiveShare: o.allowLiveShare,
    allowMeetingChat: o.allowMeetingChat,
    allowParticipantsToChangeName: o.allowParticipantsToChangeName,
    allowPowerPointSharing: o.allowPowerPointSharing,
    allowRecording: o.allowRecording,
    allowTeamworkReactions: o.allowTeamworkReactions,
    allowTranscription: o.allowTranscription,
    allowWhiteboard: o.allowWhiteboard,
    recordAutomatically: o.recordAutomatically,
    shareMeetingChatHistoryDefault: o.shareMeetingChatHistoryDefault,
    anonymizeIdentityForRoles: m.extra.anonymizeIdentityForRoles,
    meetingSpokenLanguageTag: m.extra.meetingSpokenLanguageTag,
    sensitivityLabelAssignment: m.extra.sensitivityLabelAssignment,
    chatRestrictions: o.chatRestrictions,
    watermarkProtection: o.watermarkProtection,
    broadcastSettings: null,
    participants: {
      organizer: participant(m.participants.organizer, include),
      attendees: m.participants.attendees.map((a) => participant(a, include)),
    },
    lobbyBypassSettings: {
      scope: evolvable(o.lobbyBypassSettings.scope, EVOLVABLE_SCOPES, include),
      isDialInBypassEnabled: o.lobbyBypassSettings.isDialInBypassEnabled,
    },
    joinMeetingIdSettings: m.joinMeetingIdSettings,
    audioConferencing: {
      // camelCase, as the service sends it (§9 quirk 1), plus the deprecated single numbers (§2.2)
      conferenceId: audio.conferenceId,
      tollNumber: audio.tollNumbers[0] ?? null,
      tollFreeNumber: audio.tollFreeNumbers[0] ?? null,
      tollNumbers: audio.tollNumbers,
      tollFreeNumbers: audio.tollFreeNumbers,
      dialinUrl: audio.dialinUrl,
    },
    chatInfo: { threadId: m.threadId, messageId: '0', replyChainMessageId: null },
    joinInformation: joinInformation(m, ctx),
  };
}

function joinInformation(m: Meeting, ctx: ViewContext) {
  const key = `${m.id}|${m.version}|${ctx.language}`;
  const hit = ctx.joinInformation?.get(key);
  if (hit) return hit;
  const audio = m.audioConferencing;
  const rendered = renderJoinInformation(
    {
      joinWebUrl: m.joinWebUrl,
      meetingOptionsWebUrl: `${m.meetingOptionsWebUrl}&language=${encodeURIComponent(ctx.language)}`,
      dialinUrl: audio.dialinUrl,
      conferenceId: audio.conferenceId,
      tollNumbers: audio.tollNumbers,
      tollFreeNumbers: audio.tollFreeNumbers,
      joinMeetingId: m.joinMeetingIdSettings.joinMeetingId,
      passcode: m.joinMeetingIdSettings.passcode,
    },
    ctx.language,
  );
  ctx.joinInformation?.set(key, rendered);
  return rendered;
}

export function onlineMeetingEntity(m: Meeting, ctx: ViewContext): GraphOnlineMeeting {
  return { '@odata.context': entityContext(ctx, m.organizerId), ...onlineMeetingJson(m, ctx) };
}
