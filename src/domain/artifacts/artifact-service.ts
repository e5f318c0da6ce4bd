import type { Kysely } from 'kysely';
import type { Principal } from '../../identity/access-tokens.js';
import * as artifacts from '../../storage/repositories/artifact-repository.js';
import { findMeetingById } from '../../storage/repositories/meeting-repository.js';
import type { Database, RecordingRow, TranscriptRow, UserRow } from '../../storage/tables.js';
import type { MeetingOwnerPath } from '../authorization.js';
import type { DirectoryLookups } from '../directory/directory-lookups.js';
import { parseArtifactSettings, type ArtifactSettings } from '../directory/tenant-settings.js';
import {
  badRequest,
  forbidden,
  GraphError,
  meetingNotFound,
  meRequiresDelegated,
  missingPermission,
  noApplicationAccessPolicy,
  organizerMismatch,
  userNotFound,
} from '../errors.js';
import type { Meeting } from '../meetings/meeting.js';
import { decodeMeetingId, encodeMeetingId } from '../meetings/meeting-ids.js';
import { plausibleArtifactId } from './artifact-ids.js';
import { parseVtt, metadataVtt, speakerlessText } from './vtt.js';

export type ArtifactKind = 'attendance' | 'transcript' | 'recording';

/**
 * The one permission each artifact needs, delegated and application alike (graph-meeting-artifacts-spec.md
 * §1.3, §2.5). OnlineMeetings.* no longer reads artifacts (§1.3 history, §1.6: 403).
 */
export const ARTIFACT_PERMISSION: Record<ArtifactKind, string> = {
  attendance: 'OnlineMeetingArtifact.Read.All',
  transcript: 'OnlineMeetingTranscript.Read.All',
  recording: 'OnlineMeetingRecording.Read.All',
};

/** §2.4: reports are listed 50 at most, newest first. */
export const MAX_REPORTS = 50;
/** §2.4 (older Teams doc): getAll pages hold 10 by default, $top up to 100. */
export const DEFAULT_PAGE = 10;
export const MAX_PAGE = 100;
/** §2.6: evaluation mode allows 600 minutes per month, tenant, app and kind. */
export const EVALUATION_MINUTES = 600;

// --- §2.8 error catalogue ------------------------------------------------------------------------------
export const transcriptsDisabled = () =>
  new GraphError(403, 'Forbidden', 'Graph API access to transcripts is disabled for this tenant.', {
    innerError: { code: 'GraphAccessToTranscriptsDisabled' },
  });
export const speakerAttributionNotAllowed = () =>
  new GraphError(
    403,
    'Forbidden',
    "Speaker-attributed transcript content is disabled for this tenant. Retry with Accept 'application/vnd.microsoft.graph.transcript+text'.",
    { innerError: { code: 'SpeakerAttributionNotAllowed' } },
  );
/** §2.6: the status is not documented; 400, as a request the API does not support (README "Deliberate choices"). */
export const notCalendarBacked = () =>
  new GraphError(400, 'BadRequest', 'No iCalUid found for the meeting. This API is supported only for calendar backed OnlineMeeting.');
export const invalidFormat = (format: string) => new GraphError(400, 'BadRequest', `Invalid format '${format.slice(0, 200)}' specified.`);
export const evaluationCapacityExceeded = () =>
  new GraphError(
    402,
    'PaymentRequired',
    'The evaluation capacity for the month has exceeded for this application. Associate the application with an Azure subscription to continue (https://aka.ms/teams-api-payment-requirements).',
  );
export const azureSubscriptionRequired = () =>
  new GraphError(
    402,
    'PaymentRequired',
    'The application must be associated with an Azure subscription to call this metered API (https://aka.ms/teams-api-payment-requirements).',
  );
export const artifactNotFound = (what: string) => new GraphError(404, 'NotFound', `The specified ${what} was not found.`);

export type TranscriptFormat = 'vtt' | 'text';
export const SPEAKERLESS_TYPE = 'application/vnd.microsoft.graph.transcript+text';

/**
 * §2.7: `$format=text/vtt` wins over Accept and is the only $format; no Accept or `Accept: text/vtt` gives
 * the attributed VTT, the `+text` media type (by Accept only) the speaker-less text, and anything else (the
 * SDKs' defaults `*\/*` or `application/octet-stream, application/json`) Graph's 400.
 */
export function transcriptFormat(format: string | undefined, accept: string | undefined): TranscriptFormat {
  if (format !== undefined) {
    if (format.trim().toLowerCase() !== 'text/vtt') throw invalidFormat(format);
    return 'vtt';
  }
  if (accept === undefined || accept.trim() === '') return 'vtt';
  const types = accept.split(',').map((t) => t.split(';')[0]!.trim().toLowerCase());
  if (types.length === 1 && types[0] === 'text/vtt') return 'vtt';
  if (types.length === 1 && types[0] === SPEAKERLESS_TYPE) return 'text';
  throw invalidFormat(accept);
}

export interface ArtifactServiceDeps {
  db: Kysely<Database>;
  directory: DirectoryLookups;
  clock: () => number;
}

export interface MeetingArtifacts {
  owner: UserRow;
  meeting: Meeting;
}

/**
 * Graph's reads of what a session left (§1, §2): who may read (§1.3, §2.5), the tenant switches (§2.6),
 * the calendar-backed rule, metering, and the content formats.
 */
export class ArtifactService {
  private readonly db: Kysely<Database>;

  constructor(private readonly deps: ArtifactServiceDeps) {
    this.db = deps.db;
  }

  /** The artifact settings of a tenant (its defaults when not set). */
  async settings(tenantId: string): Promise<ArtifactSettings> {
    const tenant = await this.deps.directory.tenant(tenantId);
    return parseArtifactSettings(tenant?.settings ?? '{}');
  }

  /**
   * Who may read a meeting's artifacts: the organizer with a delegated token, or an app for the path user
   * with an application access policy (§1.3, §2.5); only the organizer's meetings (§1.2 "only the
   * organizer or co-organizer"; the id names its organizer, as for the meeting itself).
   */
  async authorize(principal: Principal, path: MeetingOwnerPath, kind: ArtifactKind, meetingId: string): Promise<MeetingArtifacts> {
    const owner = await this.authorizeUser(principal, path, kind);
    if (kind === 'transcript' && !(await this.settings(owner.tenant_id)).graphTranscriptAccess) throw transcriptsDisabled();
    const { organizerId, threadId } = decodeMeetingId(meetingId);
    if (organizerId !== owner.id) throw organizerMismatch(owner.id);
    const meeting = await findMeetingById(this.db, encodeMeetingId(organizerId, threadId));
    if (!meeting || meeting.tenantId !== owner.tenant_id) throw meetingNotFound();
    if (kind !== 'attendance' && !meeting.calendarEvent && (await this.settings(owner.tenant_id)).requireCalendarBackedMeeting) {
      throw notCalendarBacked();
    }
    return { owner, meeting };
  }

  private async authorizeUser(principal: Principal, path: MeetingOwnerPath, kind: ArtifactKind): Promise<UserRow> {
    if (principal.kind === 'app' && path.me) throw meRequiresDelegated();
    const permission = ARTIFACT_PERMISSION[kind];
    const granted = principal.kind === 'user' ? principal.scopes : principal.roles;
    if (!granted.has(permission)) throw missingPermission([permission]);
    const key = path.me ? (principal as { userId: string }).userId : path.userId;
    const user = await this.deps.directory.userInTenant(principal.tenantId, key);
    if (!user) throw userNotFound(key);
    if (principal.kind === 'user') {
      if (user.id !== principal.userId) throw forbidden('The signed-in user can only access their own online meetings.');
      return user;
    }
    if (!(await this.deps.directory.accessPolicyAllows(principal.tenantId, user.id, principal.clientId))) throw noApplicationAccessPolicy();
    return user;
  }

  // --- attendance (§1) ------------------------------------------------------------------------------
  async reports(principal: Principal, path: MeetingOwnerPath, meetingId: string, withRecords: boolean) {
    const { owner, meeting } = await this.authorize(principal, path, 'attendance', meetingId);
    const reports = [];
    for (const report of await artifacts.listReports(this.db, meeting.id, MAX_REPORTS)) {
      reports.push({ report, records: withRecords ? await artifacts.attendanceRecords(this.db, report.id) : undefined });
    }
    return { owner, meeting, reports };
  }

  async report(principal: Principal, path: MeetingOwnerPath, meetingId: string, reportId: string, withRecords: boolean) {
    const { owner, meeting } = await this.authorize(principal, path, 'attendance', meetingId);
    const report = await artifacts.findReport(this.db, meeting.id, reportId.toLowerCase());
    if (!report) throw artifactNotFound('attendance report');
    const records = withRecords ? await artifacts.attendanceRecords(this.db, report.id) : undefined;
    return { owner, meeting, report, records };
  }

  // --- transcripts and recordings (§2) --------------------------------------------------------------
  /** `contentCorrelationId`: the list's one documented $filter (§2.4). */
  async transcripts(principal: Principal, path: MeetingOwnerPath, meetingId: string, contentCorrelationId?: string) {
    const { owner, meeting } = await this.authorize(principal, path, 'transcript', meetingId);
    return { owner, meeting, items: await artifacts.listTranscripts(this.db, meeting.id, contentCorrelationId) };
  }

  async transcript(principal: Principal, path: MeetingOwnerPath, meetingId: string, id: string) {
    const { owner, meeting } = await this.authorize(principal, path, 'transcript', meetingId);
    const row = plausibleArtifactId(id) ? await artifacts.findTranscript(this.db, meeting.id, id) : undefined;
    if (!row) throw artifactNotFound('transcript');
    return { owner, meeting, item: row };
  }

  /** GET …/transcripts/{id}/content in the negotiated format (§2.7), metered for app tokens (§2.6). */
  async transcriptContent(principal: Principal, path: MeetingOwnerPath, meetingId: string, id: string, format: TranscriptFormat) {
    const { owner, item } = await this.transcript(principal, path, meetingId, id);
    if (format === 'vtt' && !(await this.settings(owner.tenant_id)).attributedTranscripts) throw speakerAttributionNotAllowed();
    await this.meter(principal, owner.tenant_id, 'transcript', item);
    if (format === 'vtt') return { contentType: 'text/vtt', body: item.content };
    return { contentType: SPEAKERLESS_TYPE, body: speakerlessText(parseVtt(item.content)) };
  }

  /** GET …/transcripts/{id}/metadataContent (§2.4); not affected by the attribution switch (§2.6). */
  async transcriptMetadata(principal: Principal, path: MeetingOwnerPath, meetingId: string, id: string) {
    const { owner, item } = await this.transcript(principal, path, meetingId, id);
    await this.meter(principal, owner.tenant_id, 'transcript', item);
    return metadataVtt(parseVtt(item.content), Date.parse(item.created_date_time), 'en-us');
  }

  async recordings(principal: Principal, path: MeetingOwnerPath, meetingId: string, contentCorrelationId?: string) {
    const { owner, meeting } = await this.authorize(principal, path, 'recording', meetingId);
    return { owner, meeting, items: await artifacts.listRecordings(this.db, meeting.id, contentCorrelationId) };
  }

  async recording(principal: Principal, path: MeetingOwnerPath, meetingId: string, id: string) {
    const { owner, meeting } = await this.authorize(principal, path, 'recording', meetingId);
    const row = plausibleArtifactId(id) ? await artifacts.findRecording(this.db, meeting.id, id) : undefined;
    if (!row) throw artifactNotFound('recording');
    return { owner, meeting, item: row };
  }

  /** GET …/recordings/{id}/content: the row to stream (recordingChunks reads its bytes), metered for apps. */
  async recordingContent(principal: Principal, path: MeetingOwnerPath, meetingId: string, id: string): Promise<RecordingRow> {
    const { owner, item } = await this.recording(principal, path, meetingId, id);
    await this.meter(principal, owner.tenant_id, 'recording', item);
    return item;
  }

  /** The bytes of a recording in [start, end] (inclusive), read one chunk row at a time. */
  async *recordingChunks(row: RecordingRow, start: number, end: number): AsyncGenerator<Buffer> {
    const chunk = row.chunk_size;
    for (let position = Math.floor(start / chunk); position * chunk <= end; position++) {
      const data = await artifacts.readChunk(this.db, row.id, position);
      if (!data) return;
      const base = position * chunk;
      const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
      yield buf.subarray(Math.max(0, start - base), Math.min(buf.length, end - base + 1));
    }
  }

  /**
   * §2.6 metering of content downloads: app tokens only (delegated calls are not metered), per tenant, app,
   * kind and UTC month; the session's length rounded down to whole minutes is what a download costs.
   */
  private async meter(principal: Principal, tenantId: string, kind: 'transcript' | 'recording', item: TranscriptRow | RecordingRow) {
    if (principal.kind !== 'app') return;
    const { metering } = await this.settings(tenantId);
    if (metering === 'off') return;
    if (metering === 'paymentRequired') throw azureSubscriptionRequired();
    const key = { tenantId, clientId: principal.clientId, kind, month: new Date(this.deps.clock()).toISOString().slice(0, 7) };
    if ((await artifacts.usedMinutes(this.db, key)) >= EVALUATION_MINUTES) throw evaluationCapacityExceeded();
    const minutes = Math.floor((Date.parse(item.end_date_time) - Date.parse(item.created_date_time)) / 60_000);
    await artifacts.addUsedMinutes(this.db, key, Math.max(0, minutes));
  }

  // --- getAllTranscripts / getAllRecordings and delta (§2.4) -----------------------------------------
  /**
   * App-only with the artifact's .Read.All permission (§2.5 page text; §7 inference) and an access policy
   * for the path user; the organizer must be the path user (README "Deliberate choices").
   */
  async allArtifacts(
    principal: Principal,
    path: MeetingOwnerPath,
    kind: 'transcript' | 'recording',
    query: { organizerId: string; start?: string; end?: string; afterSequence: number; limit: number },
  ) {
    if (principal.kind === 'user') {
      if (!principal.scopes.has(ARTIFACT_PERMISSION[kind])) throw missingPermission([ARTIFACT_PERMISSION[kind]]);
      throw forbidden('This API supports application permissions only.');
    }
    const owner = await this.authorizeUser(principal, path, kind);
    if (query.organizerId.toLowerCase() !== owner.id) {
      throw badRequest(`meetingOrganizerUserId '${query.organizerId.slice(0, 100)}' must be the user of the path (${owner.id}).`);
    }
    const settings = await this.settings(owner.tenant_id);
    if (kind === 'transcript' && !settings.graphTranscriptAccess) throw transcriptsDisabled();
    const rows = await artifacts.organizerArtifacts(this.db, kind === 'transcript' ? 'transcripts' : 'recordings', {
      tenantId: owner.tenant_id,
      organizerId: owner.id,
      start: query.start,
      end: query.end,
      afterSequence: query.afterSequence,
      limit: query.limit + 1,
    });
    const more = rows.length > query.limit;
    const page = rows.slice(0, query.limit);
    const last = page.length > 0 ? Number(page.at(-1)!.sequence) : query.afterSequence;
    // Artifacts of meetings without an event are not served while the calendar-backed rule holds (§2.6);
    // the old id form `1##0##…` marks them.
    const visible = settings.requireCalendarBackedMeeting ? page.filter((r) => !r.id.startsWith('MSMjMCMj')) : page;
    return { owner, items: visible, more, last };
  }
}
