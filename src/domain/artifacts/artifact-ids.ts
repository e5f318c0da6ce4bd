/**
 * Transcript and recording ids in the forms Graph's examples decode to (graph-meeting-artifacts-spec.md
 * §2.3, an inference from doc examples): calendar-backed meetings get the newer
 * base64("V2##1{organizerOid}{tenantId}{iCalUId}##{guid}"), which embeds the event's iCalUId; a meeting
 * without an event (served only when the tenant relaxes the calendar-backed rule) gets the older
 * base64("1##0##{guid}"). The plain text is hex digits, dashes, '#' and 'V', so the base64 never holds
 * '/' or '+' and an id is always one safe path segment.
 */
export function artifactId(guid: string, meeting: { organizerId: string; tenantId: string; iCalUId: string | null }): string {
  const text = meeting.iCalUId ? `V2##1${meeting.organizerId}${meeting.tenantId}${meeting.iCalUId}##${guid}` : `1##0##${guid}`;
  return Buffer.from(text, 'utf8').toString('base64');
}

/** Whether a path segment can be an artifact id at all (cheap check before a lookup). */
export const plausibleArtifactId = (id: string) => id.length <= 600 && /^[A-Za-z0-9+/]+={0,2}$/.test(id);
