import type { Kysely, Transaction } from 'kysely';
import * as artifacts from '../../storage/repositories/artifact-repository.js';
import * as directory from '../../storage/repositories/directory-repository.js';
import { rowToMeeting } from '../../storage/repositories/meeting-repository.js';
import { uniqueViolation } from '../../storage/errors.js';
import type { Database, UserRow } from '../../storage/tables.js';
import { cryptoRandomness, type Randomness } from '../../util/randomness.js';
import { compareDateTime, formatDateTime, now, parseDateTime, type GraphDateTime } from '../datetime.js';
import { badRequest, GraphError, payloadTooLarge } from '../errors.js';
import type { Meeting } from '../meetings/meeting.js';
import { decodeMeetingId, encodeMeetingId, threadFromJoinUrl } from '../meetings/meeting-ids.js';
import { artifactId } from './artifact-ids.js';
import { parseTimestamp, parseVtt, renderTeamsVtt } from './vtt.js';

/** Recording bytes are stored in rows of this size (the last one shorter). */
export const CHUNK_BYTES = 256 * 1024;
const MAX_PARTICIPANTS = 1000;
const MAX_INTERVALS = 100;
/** Teams meetings end after 30 hours at most; a longer session is a mistake in the body. */
const MAX_SESSION_MS = 30 * 3_600_000;
const MAX_TRANSCRIPT_CHARS = 16 * 1024 * 1024;
const SEQUENCE_ATTEMPTS = 8;

/** What a session write created, and whose it is (the change-notification outbox of issue #18 hangs here). */
export interface RecordedSession {
  id: string;
  attendanceReportId: string;
  transcriptId: string | null;
  recordingId: string | null;
  meetingId: string;
  tenantId: string;
  organizerId: string;
}

export type AttendanceRole = 'Organizer' | 'Presenter' | 'Attendee' | 'None';

export interface SessionServiceDeps {
  db: Kysely<Database>;
  clock: () => number;
  random?: Randomness;
  /**
   * Runs inside the transaction that stores what a session created (recordSession), or that completes a
   * streamed recording (attachRecording), so that a write it makes (a change-notification outbox row,
   * issue #18) commits or rolls back with the artifacts. It throws to refuse the whole write.
   */
  inTransaction?: (tx: Transaction<Database>, recorded: RecordedSession) => Promise<void>;
}

const transcriptionNotAllowed = () =>
  badRequest("'transcript': the meeting does not allow transcription (its allowTranscription option is false).");
const recordingNotAllowed = () => badRequest("'recording': the meeting does not allow recording (its allowRecording option is false).");

export const sessionNotFound = (id: string) =>
  new GraphError(404, 'SessionNotFound', `No meeting session has the id '${id.slice(0, 100)}'.`);

/**
 * Meetings that happen (issue #17): POST /_emulator/sessions records a session that took place, with its
 * attendance, transcript and recording, validated like any input (style anchors: the control API is a
 * client of the domain). Everything a session creates is written in one transaction by recordSession.
 */
export class SessionService {
  private readonly db: Kysely<Database>;
  private readonly random: Randomness;

  constructor(private readonly deps: SessionServiceDeps) {
    this.db = deps.db;
    this.random = deps.random ?? cryptoRandomness;
  }

  /** Validates a session body (400s naming each problem) and writes everything it describes at once. */
  async recordSession(body: unknown): Promise<RecordedSession> {
    const input = await this.validate(body);
    const sessionId = this.random.uuid();
    const reportId = this.random.uuid();
    const callId = this.random.uuid();
    const correlation = `${this.random.uuid()}-0`;
    const cueGuid = this.random.uuid();
    const { meeting } = input;
    const ids = { organizerId: meeting.organizerId, tenantId: meeting.tenantId, iCalUId: meeting.calendarEvent?.iCalUId ?? null };
    const transcriptId = input.transcript ? artifactId(this.random.uuid(), ids) : null;
    const recordingId = input.recording ? artifactId(this.random.uuid(), ids) : null;
    const transcriptText =
      input.transcript?.kind === 'cues' ? renderTeamsVtt(cueGuid, input.transcript.cues) : (input.transcript?.content ?? null);
    const start = formatDateTime(input.start);
    const end = formatDateTime(input.end);
    const common = {
      session_id: sessionId,
      tenant_id: meeting.tenantId,
      meeting_id: meeting.id,
      organizer_id: meeting.organizerId,
      call_id: callId,
      content_correlation_id: correlation,
      created_date_time: start,
      end_date_time: end,
    };
    const recorded: RecordedSession = {
      id: sessionId,
      attendanceReportId: reportId,
      transcriptId,
      recordingId,
      meetingId: meeting.id,
      tenantId: meeting.tenantId,
      organizerId: meeting.organizerId,
    };
    for (let attempt = 1; ; attempt++) {
      try {
        await this.db.transaction().execute(async (tx) => {
          await artifacts.insertSession(tx, {
            id: sessionId,
            tenant_id: meeting.tenantId,
            meeting_id: meeting.id,
            organizer_id: meeting.organizerId,
            call_id: callId,
            report_id: reportId,
            start_date_time: start,
            end_date_time: end,
            participant_count: input.participants.length,
            created_at: formatDateTime(now(this.deps.clock, () => 0)),
          });
          await artifacts.insertAttendanceRecords(
            tx,
            input.participants.map((p, position) => ({
              id: this.random.uuid(),
              session_id: sessionId,
              position,
              user_id: p.userId,
              user_tenant_id: p.userTenantId,
              display_name: p.displayName,
              email_address: p.email,
              role: p.role,
              total_seconds: p.intervals.reduce((sum, i) => sum + i.durationInSeconds, 0),
              intervals: JSON.stringify(p.intervals),
            })),
          );
          let sequence = await artifacts.nextSequence(tx);
          if (transcriptId !== null && transcriptText !== null) {
            await artifacts.insertTranscript(tx, { ...common, id: transcriptId, sequence: sequence++, content: transcriptText });
          }
          if (recordingId !== null && input.recording) {
            const bytes = input.recording.bytes;
            await artifacts.insertRecording(tx, {
              ...common,
              id: recordingId,
              sequence: sequence++,
              content_type: input.recording.contentType,
              size: bytes.length,
              chunk_size: CHUNK_BYTES,
              complete: 1,
            });
            await writeChunks(tx, recordingId, bytes);
          }
          await this.deps.inTransaction?.(tx, recorded);
        });
        break;
      } catch (err) {
        if (attempt < SEQUENCE_ATTEMPTS && isSequenceRace(err)) {
          await new Promise((r) => setTimeout(r, Math.random() * 20 * attempt));
          continue;
        }
        throw err;
      }
    }
    return recorded;
  }

  /**
   * PUT /_emulator/sessions/{id}/recording: a recording too large for JSON, streamed from the request body
   * into chunk rows as it arrives (never held whole). Graph does not see it until the last chunk is stored
   * (complete = 1, set in one short transaction with its creation sequence); a failed or aborted upload is
   * removed. No transaction stays open while the network is awaited.
   */
  async attachRecording(
    sessionId: string,
    contentType: string,
    body: AsyncIterable<Buffer | Uint8Array | string>,
    limitBytes: number,
  ): Promise<RecordedSession & { size: number }> {
    const session = await artifacts.findSession(this.db, sessionId);
    if (!session) throw sessionNotFound(sessionId);
    checkContentType(contentType, 'Content-Type');
    if (await artifacts.sessionHasRecording(this.db, sessionId)) {
      throw new GraphError(409, 'Conflict', `The session '${sessionId}' already has a recording.`);
    }
    // A new upload replaces one that never finished (the last one wins, as a retry after a dropped connection expects).
    await artifacts.deleteIncompleteRecordings(this.db, sessionId);
    const meetingRow = await artifacts.findMeetingRowById(this.db, session.meeting_id);
    if (!meetingRow || meetingRow.deleted_at !== null) throw badRequest(`The meeting of session '${sessionId}' was deleted.`);
    const meeting = rowToMeeting(meetingRow);
    if (!meeting.options.allowRecording) throw recordingNotAllowed();
    const recordingId = artifactId(this.random.uuid(), {
      organizerId: meeting.organizerId,
      tenantId: meeting.tenantId,
      iCalUId: meeting.calendarEvent?.iCalUId ?? null,
    });
    const transcript = await this.db
      .selectFrom('transcripts')
      .select('content_correlation_id')
      .where('session_id', '=', sessionId)
      .executeTakeFirst();
    await artifacts.insertRecording(this.db, {
      id: recordingId,
      session_id: sessionId,
      tenant_id: session.tenant_id,
      meeting_id: session.meeting_id,
      organizer_id: session.organizer_id,
      call_id: session.call_id,
      content_correlation_id: transcript?.content_correlation_id ?? `${this.random.uuid()}-0`,
      created_date_time: session.start_date_time,
      end_date_time: session.end_date_time,
      sequence: null,
      content_type: contentType.toLowerCase(),
      size: 0,
      chunk_size: CHUNK_BYTES,
      complete: 0,
    });
    const recorded: RecordedSession = {
      id: sessionId,
      attendanceReportId: session.report_id,
      transcriptId: null,
      recordingId,
      meetingId: session.meeting_id,
      tenantId: session.tenant_id,
      organizerId: session.organizer_id,
    };
    let size = 0;
    try {
      let position = 0;
      let pending: Buffer[] = [];
      let pendingBytes = 0;
      const flush = async (all: boolean) => {
        while (pendingBytes >= CHUNK_BYTES || (all && pendingBytes > 0)) {
          const joined = Buffer.concat(pending, pendingBytes);
          const take = Math.min(CHUNK_BYTES, joined.length);
          await artifacts.insertChunk(this.db, recordingId, position++, joined.subarray(0, take));
          const rest = joined.subarray(take);
          pending = rest.length > 0 ? [Buffer.from(rest)] : [];
          pendingBytes = rest.length;
        }
      };
      for await (const part of body) {
        const buf = typeof part === 'string' ? Buffer.from(part) : Buffer.from(part.buffer, part.byteOffset, part.byteLength);
        size += buf.length;
        if (size > limitBytes) throw payloadTooLarge(limitBytes);
        pending.push(buf);
        pendingBytes += buf.length;
        if (pendingBytes >= CHUNK_BYTES) await flush(false);
      }
      await flush(true);
      if (size === 0) throw badRequest('The recording body is empty; send the bytes of the recording.');
      for (let attempt = 1; ; attempt++) {
        try {
          await this.db.transaction().execute(async (tx) => {
            await artifacts.completeRecording(tx, recordingId, size, await artifacts.nextSequence(tx));
            await this.deps.inTransaction?.(tx, recorded);
          });
          break;
        } catch (err) {
          if (attempt < SEQUENCE_ATTEMPTS && isSequenceRace(err)) continue;
          throw err;
        }
      }
    } catch (err) {
      await artifacts.deleteRecording(this.db, recordingId).catch(() => {});
      throw err;
    }
    return { ...recorded, size };
  }

  private async validate(body: unknown): Promise<ValidSession> {
    const b = object(body, 'The body');
    allowOnly(b, ['meeting', 'startDateTime', 'endDateTime', 'participants', 'transcript', 'recording'], 'the body');
    const meeting = await this.resolveMeeting(b.meeting);
    const start = dateTime(b.startDateTime, 'startDateTime');
    const end = dateTime(b.endDateTime, 'endDateTime');
    if (compareDateTime(end, start) <= 0) throw badRequest("'endDateTime' must be after 'startDateTime'.");
    if (end.ms - start.ms > MAX_SESSION_MS) throw badRequest('The session is longer than 30 hours (Teams ends meetings after 30 hours).');
    if (!Array.isArray(b.participants)) throw badRequest("'participants' must be an array of participants.");
    if (b.participants.length === 0) throw badRequest("'participants' must name at least one participant.");
    if (b.participants.length > MAX_PARTICIPANTS) throw badRequest(`'participants' may hold at most ${MAX_PARTICIPANTS} participants.`);
    const participants: ValidParticipant[] = [];
    const seen = new Map<string, number>();
    const tenant = await directory.findTenant(this.db, meeting.tenantId);
    const policy = meeting.options.allowedPresenters;
    for (const [i, raw] of b.participants.entries()) {
      const at = `participants[${i}]`;
      const p = object(raw, `'${at}'`);
      allowOnly(p, ['user', 'displayName', 'email', 'intervals'], at);
      let user: UserRow | undefined;
      let displayName: string;
      let email: string;
      if (p.user !== undefined) {
        if (typeof p.user !== 'string' || p.user.length === 0 || p.user.length > 256)
          throw badRequest(`'${at}.user' must be a directory user's id or userPrincipalName.`);
        user = (await directory.findUserById(this.db, p.user.toLowerCase())) ?? (await directory.findUserByUpn(this.db, p.user));
        if (!user) throw badRequest(`'${at}.user': unknown user '${p.user}' (not a user id or userPrincipalName of the directory).`);
        displayName = optionalText(p.displayName, `${at}.displayName`) ?? user.display_name;
        email = optionalText(p.email, `${at}.email`) ?? user.mail ?? user.upn;
      } else {
        const name = optionalText(p.displayName, `${at}.displayName`);
        if (name === undefined) throw badRequest(`'${at}' needs 'user' (a directory user) or 'displayName' (a guest).`);
        displayName = name;
        email = optionalText(p.email, `${at}.email`) ?? '';
      }
      const key = user ? `u:${user.id}` : `g:${displayName.toLowerCase()}|${email.toLowerCase()}`;
      if (seen.has(key)) throw badRequest(`'${at}' repeats participants[${seen.get(key)}]; give one participant with several intervals.`);
      seen.set(key, i);
      participants.push({
        userId: user?.id ?? null,
        userTenantId: user?.tenant_id ?? null,
        displayName,
        email,
        role: attendanceRole(meeting, user, tenant?.id, policy),
        intervals: intervals(p.intervals, at, start, end),
      });
    }
    const transcript = b.transcript === undefined || b.transcript === null ? undefined : await this.transcript(b.transcript);
    const recording = b.recording === undefined || b.recording === null ? undefined : recordingInput(b.recording);
    // Teams makes no transcript or recording of a meeting whose options forbid them (fact sheet §2.8 of the
    // onlineMeeting sheet: allowTranscription, allowRecording); such a body contradicts its meeting.
    if (transcript && !meeting.options.allowTranscription) throw transcriptionNotAllowed();
    if (recording && !meeting.options.allowRecording) throw recordingNotAllowed();
    return { meeting, start, end, participants, transcript, recording };
  }

  private async resolveMeeting(value: unknown): Promise<Meeting> {
    const m = object(value, "'meeting'");
    allowOnly(m, ['joinWebUrl', 'id'], 'meeting');
    if ((m.joinWebUrl === undefined) === (m.id === undefined)) throw badRequest("'meeting' needs exactly one of 'joinWebUrl' and 'id'.");
    let row;
    if (m.id !== undefined) {
      if (typeof m.id !== 'string') throw badRequest("'meeting.id' must be an onlineMeeting id.");
      let decoded;
      try {
        decoded = decodeMeetingId(m.id);
      } catch {
        throw badRequest(`'meeting.id': '${m.id.slice(0, 100)}' is not an onlineMeeting id.`);
      }
      row = await artifacts.findMeetingRowById(this.db, encodeMeetingId(decoded.organizerId, decoded.threadId));
      if (!row) throw badRequest(`'meeting.id': unknown meeting '${m.id.slice(0, 100)}'.`);
    } else {
      if (typeof m.joinWebUrl !== 'string') throw badRequest("'meeting.joinWebUrl' must be the meeting's joinWebUrl.");
      const thread = threadFromJoinUrl(m.joinWebUrl);
      row = thread ? await artifacts.findMeetingRowByThread(this.db, thread) : undefined;
      if (!row) throw badRequest(`'meeting.joinWebUrl': no meeting has the join link '${m.joinWebUrl.slice(0, 200)}'.`);
    }
    if (row.deleted_at !== null) throw badRequest('The meeting was deleted: a deleted meeting has no sessions.');
    return rowToMeeting(row);
  }

  private async transcript(value: unknown): Promise<ValidSession['transcript']> {
    const t = object(value, "'transcript'");
    allowOnly(t, ['content', 'cues'], 'transcript');
    if ((t.content === undefined) === (t.cues === undefined)) throw badRequest("'transcript' needs exactly one of 'content' and 'cues'.");
    if (t.content !== undefined) {
      if (typeof t.content !== 'string' || t.content.length === 0) throw badRequest("'transcript.content' must be WebVTT text.");
      if (t.content.length > MAX_TRANSCRIPT_CHARS) throw badRequest("'transcript.content' is longer than 16 MiB.");
      parseVtt(t.content);
      return { kind: 'content', content: t.content.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n') };
    }
    if (!Array.isArray(t.cues) || t.cues.length === 0) throw badRequest("'transcript.cues' must be a non-empty array of cues.");
    if (t.cues.length > 100_000) throw badRequest("'transcript.cues' may hold at most 100000 cues.");
    const cues = [];
    const names = new Map<string, string>();
    for (const [i, raw] of t.cues.entries()) {
      const at = `transcript.cues[${i}]`;
      const c = object(raw, `'${at}'`);
      allowOnly(c, ['speaker', 'start', 'end', 'text'], at);
      if (typeof c.speaker !== 'string' || c.speaker.trim() === '' || c.speaker.length > 256)
        throw badRequest(`'${at}.speaker' must be a user id, userPrincipalName or display name.`);
      if (typeof c.text !== 'string' || c.text.length > 100_000) throw badRequest(`'${at}.text' must be text.`);
      const startMs = typeof c.start === 'string' ? parseTimestamp(c.start) : undefined;
      const endMs = typeof c.end === 'string' ? parseTimestamp(c.end) : undefined;
      if (startMs === undefined) throw badRequest(`'${at}.start' must be a cue time such as 00:00:01.000.`);
      if (endMs === undefined) throw badRequest(`'${at}.end' must be a cue time such as 00:00:04.000.`);
      if (endMs < startMs) throw badRequest(`'${at}' ends before it starts.`);
      let speaker = names.get(c.speaker);
      if (speaker === undefined) {
        const user =
          (await directory.findUserById(this.db, c.speaker.toLowerCase())) ?? (await directory.findUserByUpn(this.db, c.speaker));
        speaker = user ? user.display_name : c.speaker.trim();
        names.set(c.speaker, speaker);
      }
      cues.push({ speaker, startMs, endMs, text: c.text });
    }
    return { kind: 'cues', cues };
  }
}

interface ValidParticipant {
  userId: string | null;
  userTenantId: string | null;
  displayName: string;
  email: string;
  role: AttendanceRole;
  intervals: Array<{ joinDateTime: string; leaveDateTime: string; durationInSeconds: number }>;
}

interface ValidSession {
  meeting: Meeting;
  start: GraphDateTime;
  end: GraphDateTime;
  participants: ValidParticipant[];
  transcript?:
    | { kind: 'content'; content: string }
    | { kind: 'cues'; cues: Array<{ speaker: string; startMs: number; endMs: number; text: string }> }
    | undefined;
  recording?: { contentType: string; bytes: Buffer } | undefined;
}

/**
 * A participant's role as the attendance report spells it (§1.1: Organizer, Presenter, Attendee), from the
 * meeting: the organizer is Organizer; who else presents follows the meeting's allowedPresenters, as in
 * Teams: everyone; the organization's users (guests attend); only those invited as presenters (or
 * co-organizers); or only the organizer (co-organizers still present).
 */
function attendanceRole(meeting: Meeting, user: UserRow | undefined, tenantId: string | undefined, policy: string): AttendanceRole {
  if (user && user.id === meeting.organizerId) return 'Organizer';
  const invited = user
    ? meeting.participants.attendees.find(
        (a) => a.identity?.user?.id?.toLowerCase() === user.id || (typeof a.upn === 'string' && a.upn.toLowerCase() === user.upn),
      )
    : undefined;
  const invitedRole = invited?.role ?? null;
  if (invitedRole === 'coorganizer') return 'Presenter';
  switch (policy) {
    case 'everyone':
      return 'Presenter';
    case 'organization':
      return user && user.tenant_id === tenantId ? 'Presenter' : 'Attendee';
    case 'roleIsPresenter':
      return invitedRole === 'presenter' || invitedRole === 'producer' ? 'Presenter' : 'Attendee';
    default:
      return 'Attendee';
  }
}

function intervals(value: unknown, at: string, start: GraphDateTime, end: GraphDateTime): ValidParticipant['intervals'] {
  if (!Array.isArray(value) || value.length === 0)
    throw badRequest(`'${at}.intervals' must be a non-empty array of {joinDateTime, leaveDateTime}.`);
  if (value.length > MAX_INTERVALS) throw badRequest(`'${at}.intervals' may hold at most ${MAX_INTERVALS} intervals.`);
  const out: Array<{ join: GraphDateTime; leave: GraphDateTime; i: number }> = [];
  for (const [i, raw] of value.entries()) {
    const here = `${at}.intervals[${i}]`;
    const v = object(raw, `'${here}'`);
    allowOnly(v, ['joinDateTime', 'leaveDateTime'], here);
    const join = dateTime(v.joinDateTime, `${here}.joinDateTime`);
    const leave = dateTime(v.leaveDateTime, `${here}.leaveDateTime`);
    if (compareDateTime(leave, join) < 0) throw badRequest(`'${here}' ends before it starts (leaveDateTime is before joinDateTime).`);
    if (compareDateTime(join, start) < 0 || compareDateTime(leave, end) > 0) {
      throw badRequest(`'${here}' lies outside the session (${formatDateTime(start)} to ${formatDateTime(end)}).`);
    }
    out.push({ join, leave, i });
  }
  const sorted = [...out].sort((a, b) => compareDateTime(a.join, b.join));
  for (let k = 1; k < sorted.length; k++) {
    if (compareDateTime(sorted[k]!.join, sorted[k - 1]!.leave) < 0) {
      throw badRequest(`'${at}.intervals[${sorted[k]!.i}]' overlaps '${at}.intervals[${sorted[k - 1]!.i}]'.`);
    }
  }
  // §1.1: durationInSeconds = leave − join (whole seconds); intervals in the order given.
  return out.map(({ join, leave }) => ({
    joinDateTime: formatDateTime(join),
    leaveDateTime: formatDateTime(leave),
    durationInSeconds: Math.floor((leave.ms - join.ms) / 1000),
  }));
}

function recordingInput(value: unknown): { contentType: string; bytes: Buffer } {
  const r = object(value, "'recording'");
  allowOnly(r, ['contentType', 'contentBase64'], 'recording');
  const contentType = r.contentType === undefined ? 'video/mp4' : r.contentType;
  checkContentType(contentType, 'recording.contentType');
  if (typeof r.contentBase64 !== 'string' || r.contentBase64.length === 0) {
    throw badRequest(
      "'recording.contentBase64' must hold the recording's bytes in base64 (or upload them with PUT /_emulator/sessions/{id}/recording).",
    );
  }
  const text = r.contentBase64.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 === 1) throw badRequest("'recording.contentBase64' is not base64.");
  return { contentType: (contentType as string).toLowerCase(), bytes: Buffer.from(text, 'base64') };
}

function checkContentType(value: unknown, property: string): asserts value is string {
  if (typeof value !== 'string' || !/^[a-z0-9][a-z0-9!#$&^_.+-]{0,63}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,63}$/i.test(value)) {
    throw badRequest(`'${property}' must be a media type such as video/mp4.`);
  }
}

async function writeChunks(tx: Transaction<Database>, recordingId: string, bytes: Buffer) {
  for (let position = 0, offset = 0; offset < bytes.length; position++, offset += CHUNK_BYTES) {
    await artifacts.insertChunk(tx, recordingId, position, bytes.subarray(offset, offset + CHUNK_BYTES));
  }
}

function isSequenceRace(err: unknown): boolean {
  const c = uniqueViolation(err);
  return c !== undefined && /sequence/i.test(c);
}

function object(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw badRequest(`${what} must be a JSON object.`);
  return value as Record<string, unknown>;
}

function allowOnly(o: Record<string, unknown>, allowed: string[], at: string) {
  for (const k of Object.keys(o)) {
    if (!allowed.includes(k)) throw badRequest(`Unknown property '${k}' in ${at} (expected ${allowed.join(', ')}).`);
  }
}

function dateTime(value: unknown, property: string): GraphDateTime {
  const t = typeof value === 'string' ? parseDateTime(value) : undefined;
  if (!t) throw badRequest(`'${property}' must be an ISO 8601 date-time such as 2030-01-02T10:00:00Z.`);
  return t;
}

function optionalText(value: unknown, property: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' || value.trim() === '' || value.length > 256)
    throw badRequest(`'${property}' must be 1 to 256 characters.`);
  return value;
}
