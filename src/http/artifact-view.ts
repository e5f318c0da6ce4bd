import type { AttendanceRecordRow, MeetingSessionRow, TranscriptRow } from '../storage/tables.js';

/**
 * JSON of the meeting artifacts (graph-meeting-artifacts-spec.md §1.1, §2.1, §2.2). `serviceRoot` is the
 * origin and version the request came to, so that the content URLs lead back here.
 */
export function attendanceReportJson(report: MeetingSessionRow, records: AttendanceRecordRow[] | undefined, listed: boolean) {
  return {
    id: report.report_id,
    totalParticipantCount: Number(report.participant_count),
    meetingStartDateTime: report.start_date_time,
    meetingEndDateTime: report.end_date_time,
    externalEventInformation: [],
    // §1.2: a list shows `attendanceRecords: []`; records come inline only with $expand.
    ...(records ? { attendanceRecords: records.map(attendanceRecordJson) } : listed ? { attendanceRecords: [] } : {}),
  };
}

export function attendanceRecordJson(r: AttendanceRecordRow) {
  return {
    id: r.id,
    emailAddress: r.email_address,
    totalAttendanceInSeconds: Number(r.total_seconds),
    // §1.1: a String, PascalCase (Organizer, Presenter, Attendee).
    role: r.role,
    // Directory users carry their object id and tenant; a guest has neither.
    identity: { id: r.user_id, displayName: r.display_name, tenantId: r.user_tenant_id },
    attendanceIntervals: JSON.parse(r.intervals) as unknown[],
    registrationId: null,
    externalRegistrationInformation: null,
  };
}

/** The columns every artifact view needs (getAll reads no content). */
export type ArtifactMeta = Pick<
  TranscriptRow,
  'id' | 'meeting_id' | 'organizer_id' | 'tenant_id' | 'call_id' | 'content_correlation_id' | 'created_date_time' | 'end_date_time'
>;

function artifactCommon(row: ArtifactMeta) {
  return {
    id: row.id,
    meetingId: row.meeting_id,
    callId: row.call_id,
    contentCorrelationId: row.content_correlation_id,
    createdDateTime: row.created_date_time,
    endDateTime: row.end_date_time,
    // §2.1: the organizer as a teamworkUserIdentity, displayName null as in the examples.
    meetingOrganizer: {
      application: null,
      device: null,
      user: {
        '@odata.type': '#microsoft.graph.teamworkUserIdentity',
        id: row.organizer_id,
        displayName: null,
        userIdentityType: 'aadUser',
        tenantId: row.tenant_id,
      },
    },
  };
}

const contentUrl = (serviceRoot: string, row: ArtifactMeta, kind: 'transcripts' | 'recordings') =>
  `${serviceRoot}/users/${row.organizer_id}/onlineMeetings/${row.meeting_id}/${kind}/${row.id}/content`;

export function transcriptJson(row: ArtifactMeta, serviceRoot: string) {
  return { ...artifactCommon(row), transcriptContentUrl: contentUrl(serviceRoot, row, 'transcripts') };
}

export function recordingJson(row: ArtifactMeta, serviceRoot: string) {
  return { ...artifactCommon(row), recordingContentUrl: contentUrl(serviceRoot, row, 'recordings') };
}
