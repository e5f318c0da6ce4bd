import assert from 'node:assert/strict';
import { DEMO, graph, type TestApp } from './test-app.js';

const C = DEMO.contoso;
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- parsed JSON under test
type Json = any;

export const ADMIN_KEY = 'test-admin-key-artifacts-0123';
export const ARTIFACT_SCOPES = [
  'OnlineMeetings.ReadWrite',
  'Calendars.ReadWrite',
  'OnlineMeetingArtifact.Read.All',
  'OnlineMeetingTranscript.Read.All',
  'OnlineMeetingRecording.Read.All',
];

/** A Teams meeting made through an Outlook event (calendar-backed, artifacts spec §2.6), and its onlineMeeting. */
export async function calendarMeeting(
  t: TestApp,
  token: string,
  subject = 'Weekly sync',
  attendees: string[] = [C.bob.upn],
  userPath = '/me',
) {
  const res = await graph(t, 'POST', `/v1.0${userPath}/events`, token, {
    subject,
    start: { dateTime: '2030-01-02T10:00:00', timeZone: 'UTC' },
    end: { dateTime: '2030-01-02T11:00:00', timeZone: 'UTC' },
    attendees: attendees.map((address) => ({ emailAddress: { address }, type: 'required' })),
    isOnlineMeeting: true,
    onlineMeetingProvider: 'teamsForBusiness',
  });
  assert.equal(res.statusCode, 201, res.body);
  const event = res.json() as Json;
  const found = await graph(
    t,
    'GET',
    `/v1.0${userPath}/onlineMeetings?$filter=${encodeURIComponent(`JoinWebUrl eq '${event.onlineMeeting.joinUrl}'`)}`,
    token,
  );
  assert.equal(found.statusCode, 200, found.body);
  const meeting = (found.json() as Json).value[0];
  assert.ok(meeting, 'the event has its meeting');
  return { event, meeting, joinWebUrl: event.onlineMeeting.joinUrl as string, meetingId: meeting.id as string };
}

export const admin = (
  t: TestApp,
  method: 'GET' | 'POST' | 'PUT' | 'PATCH',
  url: string,
  body?: unknown,
  headers: Record<string, string> = {},
) =>
  t.inject({
    method,
    url,
    headers: {
      authorization: `Bearer ${ADMIN_KEY}`,
      ...(body !== undefined && !Buffer.isBuffer(body) ? { 'content-type': 'application/json' } : {}),
      ...headers,
    },
    ...(body !== undefined ? { payload: Buffer.isBuffer(body) ? body : typeof body === 'string' ? body : JSON.stringify(body) } : {}),
  });

export const SAMPLE_VTT =
  'WEBVTT\n\n5fd7f1de-6442-4b37-a79a-7f43656096ca/13-0\n00:00:01.000 --> 00:00:04.000\n<v Alice Adams>Welcome, everyone &amp; thanks.</v>\n\n' +
  '5fd7f1de-6442-4b37-a79a-7f43656096ca/14-0\n00:00:05.000 --> 00:00:07.500\n<v Guest Person (Guest)>Glad to be here.</v>\n';

/** The issue's example body for a meeting. */
export function sessionBody(joinWebUrl: string, overrides: Record<string, unknown> = {}) {
  return {
    meeting: { joinWebUrl },
    startDateTime: '2030-01-02T10:00:00Z',
    endDateTime: '2030-01-02T10:45:00Z',
    participants: [
      { user: C.alice.upn, intervals: [{ joinDateTime: '2030-01-02T10:00:00Z', leaveDateTime: '2030-01-02T10:45:00Z' }] },
      {
        displayName: 'Guest Person',
        email: 'guest@example.com',
        intervals: [{ joinDateTime: '2030-01-02T10:05:00Z', leaveDateTime: '2030-01-02T10:20:00Z' }],
      },
    ],
    transcript: { content: SAMPLE_VTT },
    recording: { contentType: 'video/mp4', contentBase64: Buffer.from('fake-mp4-bytes').toString('base64') },
    ...overrides,
  };
}

export async function recordSession(t: TestApp, body: unknown) {
  const res = await admin(t, 'POST', '/_emulator/sessions', body);
  assert.equal(res.statusCode, 201, res.body);
  return res.json() as { id: string; attendanceReportId: string; transcriptId: string | null; recordingId: string | null };
}
