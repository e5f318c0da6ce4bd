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

/** Teams' out-of-the-box Global meeting policy, matching the values the fact sheet's examples show (§4.4). */
export const DEFAULT_MEETING_POLICY: MeetingOptions = {
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
};

export function defaultTenantSettings(): TenantSettings {
  return {
    // Numbers in the +1 555 01xx range reserved for fiction: they dial no one.
    dialIn: { tollNumbers: ['+14255550100'], tollFreeNumbers: ['+18005550100'] },
    meetingPolicy: structuredClone(DEFAULT_MEETING_POLICY),
  };
}

export function parseTenantSettings(json: string): TenantSettings {
  const parsed = JSON.parse(json) as Partial<TenantSettings>;
  const defaults = defaultTenantSettings();
  return {
    dialIn: { ...defaults.dialIn, ...parsed.dialIn },
    meetingPolicy: { ...defaults.meetingPolicy, ...parsed.meetingPolicy },
  };
}

/** A meeting template (Teams Premium custom template): the options it sets, and which of them are locked. */
export interface MeetingTemplateDefinition {
  values: Partial<MeetingOptions>;
  locked: Array<keyof MeetingOptions>;
}
