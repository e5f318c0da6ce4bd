import type { Generated, Insertable, Selectable } from 'kysely';

/**
 * Row types of every table. Columns are portable across SQLite and PostgreSQL: text for ids, times
 * (UTC, 7 fractional digits, so text order is time order) and JSON documents; integers for flags.
 */
export interface Database {
  tenants: TenantsTable;
  tenant_domains: TenantDomainsTable;
  users: UsersTable;
  applications: ApplicationsTable;
  application_secrets: ApplicationSecretsTable;
  application_permissions: ApplicationPermissionsTable;
  delegated_consents: DelegatedConsentsTable;
  application_certificates: ApplicationCertificatesTable;
  exposed_scopes: ExposedScopesTable;
  api_consents: ApiConsentsTable;
  access_policies: AccessPoliciesTable;
  access_policy_apps: AccessPolicyAppsTable;
  access_policy_assignments: AccessPolicyAssignmentsTable;
  meeting_templates: MeetingTemplatesTable;
  signing_keys: SigningKeysTable;
  meetings: MeetingsTable;
  events: EventsTable;
  application_redirect_uris: ApplicationRedirectUrisTable;
  authorization_codes: AuthorizationCodesTable;
  device_codes: DeviceCodesTable;
  browser_sessions: BrowserSessionsTable;
  refresh_tokens: RefreshTokensTable;
  subscriptions: SubscriptionsTable;
  notification_outbox: NotificationOutboxTable;
  meeting_sessions: MeetingSessionsTable;
  attendance_records: AttendanceRecordsTable;
  transcripts: TranscriptsTable;
  recordings: RecordingsTable;
  recording_chunks: RecordingChunksTable;
  artifact_usage: ArtifactUsageTable;
}

export interface TenantsTable {
  id: string;
  display_name: string;
  /** JSON TenantSettings: dial-in numbers, meeting-policy defaults. */
  settings: string;
  created_at: string;
}
export interface TenantDomainsTable {
  /** Lower-case domain name, unique across the service. */
  domain: string;
  tenant_id: string;
  is_default: number;
}
export interface UsersTable {
  id: string;
  tenant_id: string;
  /** Lower-case user principal name, unique across the service. */
  upn: string;
  display_name: string;
  /** scrypt hash (see identity/secrets.ts); never the password. */
  password_hash: string;
  created_at: string;
  // Graph's default user properties (migration 006, fact sheet §5.1); null when not set.
  given_name: string | null;
  surname: string | null;
  job_title: string | null;
  /** Defaults to the UPN. */
  mail: string | null;
  mobile_phone: string | null;
  office_location: string | null;
  preferred_language: string | null;
  /** JSON array of strings. */
  business_phones: Generated<string>;
}
export interface ApplicationsTable {
  /** Object id of the app's service principal: the `oid` of its app-only tokens. */
  id: string;
  client_id: string;
  tenant_id: string;
  display_name: string;
  /** Entra's "Allow public client flows": ROPC without a client secret. */
  allow_public_client: number;
  created_at: string;
  /** Entra's signInAudience: 'AzureADMyOrg' (single tenant) or 'AzureADMultipleOrgs' (usable at /common). */
  sign_in_audience: Generated<string>;
}
export interface ApplicationSecretsTable {
  id: string;
  application_id: string;
  /** SHA-256 of the secret (secrets are high-entropy, so a fast hash suffices); never the secret. */
  secret_hash: string;
  /** First three characters, shown in listings as Entra does. */
  hint: string;
  created_at: string;
}
export interface ApplicationPermissionsTable {
  application_id: string;
  permission: string;
}
export interface DelegatedConsentsTable {
  application_id: string;
  scope: string;
}
/** A certificate credential: the public certificate only (Entra's keyCredentials); never a private key. */
export interface ApplicationCertificatesTable {
  id: string;
  application_id: string;
  /** SHA-1 of the DER, upper-case hex: the thumbprint Entra shows and `x5t` names. */
  thumbprint: string;
  /** SHA-256 of the DER, upper-case hex: what `x5t#S256` names. */
  thumbprint_sha256: string;
  /** PEM of the public certificate. */
  certificate: string;
  subject: string;
  not_before: string;
  not_after: string;
  created_at: string;
}
/** A delegated scope an app exposes as an API ("Expose an API"): api://{clientId}/{scope}. */
export interface ExposedScopesTable {
  application_id: string;
  scope: string;
  created_at: string;
}
/** Tenant-wide admin consent of one app (application_id) to a scope another app exposes. */
export interface ApiConsentsTable {
  application_id: string;
  api_application_id: string;
  scope: string;
}
export interface AccessPoliciesTable {
  id: string;
  tenant_id: string;
  name: string;
  /** Lower-case name: policy names are unique per tenant regardless of case, as in Teams. */
  name_key: string;
  description: string;
  created_at: string;
}
export interface AccessPolicyAppsTable {
  policy_id: string;
  client_id: string;
}
export interface AccessPolicyAssignmentsTable {
  tenant_id: string;
  /** A user id, or '*' for the tenant-wide (-Global) grant. */
  user_id: string;
  policy_id: string;
}
export interface MeetingTemplatesTable {
  id: string;
  tenant_id: string;
  display_name: string;
  /** JSON { values: {...meeting options}, locked: [option names] }. */
  definition: string;
}
export interface SigningKeysTable {
  kid: string;
  /** JWK of the RSA private key. */
  private_jwk: string;
  public_jwk: string;
  created_at: string;
}
export interface MeetingsTable {
  id: string;
  tenant_id: string;
  organizer_id: string;
  /** createOrGet key part; null for meetings made by plain create. */
  external_id: string | null;
  thread_id: string;
  join_meeting_id: string;
  conference_id: string;
  video_teleconference_id: string;
  creation_date_time: string;
  start_date_time: string;
  end_date_time: string;
  expiry_date_time: string;
  /** JSON StoredMeeting: every property that is not a column above. */
  resource: string;
  /** Bumped by every update, for optimistic concurrency. */
  version: Generated<number>;
  /** When the meeting was deleted; the row stays as a tombstone until purged (migration 002). */
  deleted_at: string | null;
  /** The iCalUId of the Outlook event that backs the meeting; null for meetings made by POST /onlineMeetings (migration 008). */
  ical_uid: string | null;
}

/** Outlook calendar events (migration 008). Times are UTC with 7 fractional digits, so text order is time order. */
export interface EventsTable {
  /** The REST item id (graph-events-spec.md §0.1), which names the owner's mailbox. */
  id: string;
  tenant_id: string;
  /** The mailbox (user) whose calendar holds the event; always the organizer here. */
  owner_id: string;
  ical_uid: string;
  transaction_id: string | null;
  start_utc: string;
  end_utc: string;
  is_online_meeting: number;
  /** The calendar-backed onlineMeeting, once the event is online. */
  meeting_id: string | null;
  created_date_time: string;
  last_modified_date_time: string;
  /** JSON StoredEventDocument: every property that is not a column above. */
  resource: string;
  /** Bumped by every update (the changeKey counter), for optimistic concurrency. */
  version: Generated<number>;
}

export type TenantRow = Selectable<TenantsTable>;
export type UserRow = Selectable<UsersTable>;
export type ApplicationRow = Selectable<ApplicationsTable>;
export type MeetingRow = Selectable<MeetingsTable>;
export type NewMeetingRow = Insertable<MeetingsTable>;
export type EventRow = Selectable<EventsTable>;
export type NewEventRow = Insertable<EventsTable>;

/** Migration 004: interactive sign-in. Codes and session ids are stored as SHA-256 hashes only. */
export type RedirectPlatform = 'web' | 'spa' | 'public';
export interface ApplicationRedirectUrisTable {
  application_id: string;
  uri: string;
  platform: RedirectPlatform;
  created_at: string;
}
export interface AuthorizationCodesTable {
  code_hash: string;
  tenant_id: string;
  client_id: string;
  user_id: string;
  redirect_uri: string;
  platform: RedirectPlatform;
  /** The requested scopes, space-separated, as the authorize request named them. */
  scope: string;
  nonce: string | null;
  code_challenge: string | null;
  code_challenge_method: string | null;
  session_id_hash: string | null;
  created_at: string;
  expires_at: string;
  redeemed_at: string | null;
}
export interface DeviceCodesTable {
  device_code_hash: string;
  user_code: string;
  tenant_id: string;
  client_id: string;
  scope: string;
  status: 'pending' | 'approved' | 'declined' | 'redeemed';
  user_id: string | null;
  interval_seconds: number;
  last_poll_at: string | null;
  created_at: string;
  expires_at: string;
}
export interface BrowserSessionsTable {
  id_hash: string;
  tenant_id: string;
  user_id: string;
  created_at: string;
  expires_at: string;
  ended_at: string | null;
}
/** One row per refresh token handed out, keyed by its jti (migration 009, issue #11 item 9). */
export interface RefreshTokensTable {
  jti: string;
  tenant_id: string;
  user_id: string;
  client_id: string;
  spa: number;
  created_at: string;
  expires_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
}
export type RefreshTokenRow = Selectable<RefreshTokensTable>;
export type AuthorizationCodeRow = Selectable<AuthorizationCodesTable>;
export type DeviceCodeRow = Selectable<DeviceCodesTable>;

/** Migration 011: Graph subscriptions and the notification outbox (issue #18). */
export interface SubscriptionsTable {
  id: string;
  tenant_id: string;
  application_id: string;
  creator_id: string;
  resource: string;
  resource_kind: string;
  resource_key: string;
  change_type: string;
  notification_url: string;
  lifecycle_notification_url: string | null;
  client_state: string | null;
  include_resource_data: number;
  encryption_certificate: string | null;
  encryption_certificate_id: string | null;
  latest_supported_tls_version: string | null;
  notification_url_app_id: string | null;
  notification_query_options: string | null;
  expiration_date_time: string;
  created_at: string;
  reauthorization_sent_at: string | null;
}
export interface NotificationOutboxTable {
  id: string;
  subscription_id: string;
  tenant_id: string;
  kind: 'change' | 'lifecycle';
  url: string;
  payload: string;
  resource_json: string | null;
  created_at: string;
  give_up_at: string;
  next_attempt_at: string;
  attempts: Generated<number>;
  status: 'pending' | 'delivered' | 'dropped';
  lease_owner: string | null;
  lease_until: number | string | null;
  last_status: number | null;
  last_error: string | null;
  last_duration_ms: number | null;
  last_attempt_at: string | null;
  delivered_at: string | null;
}
export type SubscriptionRow = Selectable<SubscriptionsTable>;
export type OutboxRow = Selectable<NotificationOutboxTable>;
/** Migration 010 (issue #17): a meeting session that took place, recorded through POST /_emulator/sessions. */
export interface MeetingSessionsTable {
  id: string;
  tenant_id: string;
  meeting_id: string;
  organizer_id: string;
  call_id: string;
  /** The meetingAttendanceReport's id. */
  report_id: string;
  start_date_time: string;
  end_date_time: string;
  participant_count: number;
  created_at: string;
}
export interface AttendanceRecordsTable {
  id: string;
  session_id: string;
  /** Order of the participants in the session body. */
  position: number;
  /** A directory user's id; null for a guest. */
  user_id: string | null;
  user_tenant_id: string | null;
  display_name: string;
  email_address: string;
  /** Graph's spelling: Organizer, Presenter, Attendee, None. */
  role: string;
  total_seconds: number;
  /** JSON array of {joinDateTime, leaveDateTime, durationInSeconds}. */
  intervals: string;
}
interface ArtifactColumns {
  id: string;
  session_id: string;
  tenant_id: string;
  meeting_id: string;
  organizer_id: string;
  call_id: string;
  content_correlation_id: string;
  created_date_time: string;
  end_date_time: string;
  /** Creation order across the service (delta cursor); bigint comes back as a string from PostgreSQL. */
  sequence: number | string | null;
}
export interface TranscriptsTable extends ArtifactColumns {
  /** The WebVTT text with <v Speaker> tags, as Teams writes it. */
  content: string;
}
export interface RecordingsTable extends ArtifactColumns {
  content_type: string;
  size: number | string;
  chunk_size: number;
  /** 0 while a streamed upload is under way. */
  complete: number;
}
export interface RecordingChunksTable {
  recording_id: string;
  position: number;
  data: Uint8Array;
}
export interface ArtifactUsageTable {
  tenant_id: string;
  client_id: string;
  kind: 'transcript' | 'recording';
  month: string;
  minutes: number;
}
export type MeetingSessionRow = Selectable<MeetingSessionsTable>;
export type AttendanceRecordRow = Selectable<AttendanceRecordsTable>;
export type TranscriptRow = Selectable<TranscriptsTable>;
export type RecordingRow = Selectable<RecordingsTable>;
