import { LruCache } from '../../util/lru-cache.js';
import type { EnumMember } from '../meetings/meeting.js';

/**
 * Per-tenant settings stored with the tenant: the dial-in numbers that fill audioConferencing, and the
 * meeting-policy defaults that fill a new meeting's options (fact sheet §4.4 says these come from tenant
 * meeting policy, so they are data, not code).
 */
export interface MeetingOptions {
  allowAttendeeToEnableCamera: boolean;
  allowAttendeeToEnableMic: boolean;
  allowBreakoutRooms: boolean;
  allowCopyingAndSharingMeetingContent: boolean;
  allowedLobbyAdmitters: EnumMember<'allowedLobbyAdmitterRoles'>;
  allowedPresenters: EnumMember<'onlineMeetingPresenters'>;
  allowLiveShare: EnumMember<'meetingLiveShareOptions'>;
  allowMeetingChat: EnumMember<'meetingChatMode'>;
  allowParticipantsToChangeName: boolean;
  allowPowerPointSharing: boolean;
  allowRecording: boolean;
  allowTeamworkReactions: boolean;
  allowTranscription: boolean;
  allowWhiteboard: boolean;
  chatRestrictions: { allowTextOnly: boolean };
  isEndToEndEncryptionEnabled: boolean;
  isEntryExitAnnounced: boolean;
  lobbyBypassSettings: { scope: EnumMember<'lobbyBypassScope'>; isDialInBypassEnabled: boolean };
  recordAutomatically: boolean;
  shareMeetingChatHistoryDefault: EnumMember<'meetingChatHistoryDefaultMode'>;
  watermarkProtection: { isEnabledForContentSharing: boolean; isEnabledForVideo: boolean };
}

/**
 * The tenant's switches for meeting artifacts (issue #17, graph-meeting-artifacts-spec.md §2.6, §2.8):
 * Teams' `-EnableGraphTranscriptAccess` and `-EnableAttributedTranscripts` (off by default in Teams since
 * 2026, on by default here for local convenience as §8 suggests; the demo's Fabrikam has them off), the
 * calendar-backed rule (Graph refuses transcripts and recordings of meetings without an event; `false`
 * relaxes it), and metering of content downloads by app tokens (§2.6: 'off', 'evaluation' = 600 minutes
 * per month, app and kind then 402, 'paymentRequired' = every metered call 402).
 */
export interface ArtifactSettings {
  graphTranscriptAccess: boolean;
  attributedTranscripts: boolean;
  requireCalendarBackedMeeting: boolean;
  metering: 'off' | 'evaluation' | 'paymentRequired';
}

export const DEFAULT_ARTIFACT_SETTINGS: ArtifactSettings = Object.freeze({
  graphTranscriptAccess: true,
  attributedTranscripts: true,
  requireCalendarBackedMeeting: true,
  metering: 'off' as const,
});

export interface TenantSettings {
  dialIn: { tollNumbers: string[]; tollFreeNumbers: string[] };
  meetingPolicy: MeetingOptions;
  /** Absent in settings stored before issue #17: the defaults apply. */
  artifacts?: ArtifactSettings;
}

/** Teams' out-of-the-box Global meeting policy, matching the values the fact sheet's examples show (§4.4). Frozen: copy to change. */
export const DEFAULT_MEETING_POLICY: MeetingOptions = deepFreeze({
  allowAttendeeToEnableCamera: true,
  allowAttendeeToEnableMic: true,
  allowBreakoutRooms: true,
  allowCopyingAndSharingMeetingContent: true,
  allowedLobbyAdmitters: 'organizerAndCoOrganizersAndPresenters',
  allowedPresenters: 'everyone',
  allowLiveShare: 'enabled',
  allowMeetingChat: 'enabled',
  allowParticipantsToChangeName: false,
  allowPowerPointSharing: true,
  allowRecording: true,
  allowTeamworkReactions: true,
  allowTranscription: true,
  allowWhiteboard: true,
  chatRestrictions: { allowTextOnly: false },
  isEndToEndEncryptionEnabled: false,
  isEntryExitAnnounced: true,
  lobbyBypassSettings: { scope: 'organization', isDialInBypassEnabled: false },
  recordAutomatically: false,
  shareMeetingChatHistoryDefault: 'all',
  watermarkProtection: { isEnabledForContentSharing: false, isEnabledForVideo: false },
});

/** A fresh, mutable copy of the defaults (for a new tenant's settings). */
export function defaultTenantSettings(): TenantSettings {
  return {
    // Numbers in the +1 555 01xx range reserved for fiction: they dial no one.
    dialIn: { tollNumbers: ['+14255550100'], tollFreeNumbers: ['+18005550100'] },
    meetingPolicy: structuredClone(DEFAULT_MEETING_POLICY),
  };
}

/** A tenant's artifact switches over their defaults (issue #17); kept apart from parseTenantSettings's cached merge. */
export function parseArtifactSettings(json: string): ArtifactSettings {
  const parsed = JSON.parse(json) as Partial<TenantSettings> | null;
  const stored = parsed && typeof parsed === 'object' && typeof parsed.artifacts === 'object' ? parsed.artifacts : {};
  return { ...DEFAULT_ARTIFACT_SETTINGS, ...stored };
}

/** Built once and frozen, as the base of every parse (issue #6). */
const DEFAULTS: TenantSettings = deepFreeze(defaultTenantSettings());

// Every create parses its tenant's settings (issue #6). The key is the JSON text itself, so a changed
// setting is a new key and is parsed afresh; the bounds keep the cache small whatever tenants exist.
const PARSED = new LruCache<string, TenantSettings>(256);
const MAX_CACHED_JSON_CHARS = 16_384;

/**
 * The tenant's settings over the defaults. Deeply frozen and shared between calls with the same JSON:
 * read it, or copy before changing anything (callers copy the policy and the number lists).
 */
export function parseTenantSettings(json: string): TenantSettings {
  const hit = PARSED.get(json);
  if (hit !== undefined) return hit;
  const parsed = JSON.parse(json) as Partial<TenantSettings>;
  const settings = deepFreeze({
    dialIn: { ...DEFAULTS.dialIn, ...parsed.dialIn },
    meetingPolicy: { ...DEFAULTS.meetingPolicy, ...parsed.meetingPolicy },
  });
  if (typeof json === 'string' && json.length <= MAX_CACHED_JSON_CHARS) PARSED.set(json, settings);
  return settings;
}

/** Freezes a value and everything reachable from it (iteratively: parsed JSON may nest deeply). */
function deepFreeze<T>(value: T): T {
  const pending: unknown[] = [value];
  while (pending.length > 0) {
    const next = pending.pop();
    if (typeof next !== 'object' || next === null || Object.isFrozen(next)) continue;
    Object.freeze(next);
    for (const child of Object.values(next)) pending.push(child);
  }
  return value;
}

/** A meeting template (Teams Premium custom template): the options it sets, and which of them are locked. */
export interface MeetingTemplateDefinition {
  values: Partial<MeetingOptions>;
  locked: Array<keyof MeetingOptions>;
}
