/**
 * Permission names this service knows. Names are exact (fact sheet §3.0); anything else is refused
 * when granted, so that a typo shows up at grant time rather than as a 403 later.
 */
export const APPLICATION_PERMISSIONS = [
  'OnlineMeetings.Read.All',
  'OnlineMeetings.ReadWrite.All',
  'OnlineMeetingArtifact.Read.All',
  'OnlineMeetingRecording.Read.All',
  'OnlineMeetingTranscript.Read.All',
  'User.Read.All',
  // Outlook calendar (graph-events-spec.md §5): any mailbox of the tenant, no Teams access policy.
  'Calendars.Read',
  'Calendars.ReadWrite',
  'MailboxSettings.Read',
  'MailboxSettings.ReadWrite',
  // Issue #14: users (fact sheet §5.1) and getVirtualAppointmentJoinWebUrl's application permissions.
  'User.ReadBasic.All',
  'User.ReadWrite.All',
  'Directory.Read.All',
  'Directory.ReadWrite.All',
  'VirtualAppointment.Read.All',
  'VirtualAppointment.ReadWrite.All',
  // Issue #11 item 9: revokeSignInSessions.
  'User.RevokeSessions.All',
] as const;

export const DELEGATED_SCOPES = [
  'OnlineMeetings.Read',
  'OnlineMeetings.ReadWrite',
  'OnlineMeetingArtifact.Read.All',
  // Issue #17: transcripts and recordings, delegated for the organizer (artifacts spec §2.5).
  'OnlineMeetingTranscript.Read.All',
  'OnlineMeetingRecording.Read.All',
  'VirtualAppointment.Read',
  'VirtualAppointment.ReadWrite',
  'User.Read',
  // Outlook calendar (graph-events-spec.md §5): the signed-in user's own calendar.
  'Calendars.Read',
  'Calendars.ReadWrite',
  'MailboxSettings.Read',
  'MailboxSettings.ReadWrite',
  // Issue #14: users (fact sheet §5.1).
  'User.ReadWrite',
  'User.ReadBasic.All',
  'User.Read.All',
  'Directory.Read.All',
  // Issue #11 item 9: revokeSignInSessions.
  'User.RevokeSessions.All',
] as const;

/** OpenID Connect scopes: always allowed, never part of `scp`. */
export const OIDC_SCOPES = ['openid', 'profile', 'email', 'offline_access'] as const;

export const canonicalPermission = (list: readonly string[], name: string) => list.find((p) => p.toLowerCase() === name.toLowerCase());
