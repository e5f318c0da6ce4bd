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

export interface TenantSettings {
  dialIn: { tollNumbers: string[]; tollFreeNumbers: string[] };
  meetingPolicy: MeetingOptions;
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
