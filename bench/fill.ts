import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { DEFAULT_MEETING_POLICY } from '../src/domain/directory/tenant-settings.js';
import { dialinUrl, encodeMeetingId, joinWebUrl, meetingOptionsWebUrl } from '../src/domain/meetings/meeting-ids.js';
import type { Meeting } from '../src/domain/meetings/meeting.js';
import { meetingToRow } from '../src/storage/repositories/meeting-repository.js';
import { newEventId, newICalUId } from '../src/domain/events/event-ids.js';
import type { Database, EventRow, NewEventRow } from '../src/storage/tables.js';

/**
 * Fills a store with `count` meetings organized by the given user, straight through the repository's
 * row mapping (the same rows the service writes), in batched transactions. Numbers are derived from
 * the index, one digit longer than any the service draws (13-digit meeting ids, 10-digit conference ids,
 * 11-digit VTC ids), so they never collide with meetings the service creates.
 */
export async function fillMeetings(
  db: Kysely<Database>,
  opts: { count: number; tenantId: string; organizerId: string; origin: string; batch?: number; onProgress?: (n: number) => void },
) {
  const batch = opts.batch ?? 500;
  const created = new Date()
    .toISOString()
    .replace('Z', '0000Z')
    .replace(/\.(\d{3})0000Z$/, '.$10000Z');
  for (let start = 0; start < opts.count; start += batch) {
    const rows: ReturnType<typeof meetingToRow>[] = [];
    for (let i = start; i < Math.min(opts.count, start + batch); i++) {
      const threadId = `19:meeting_${Buffer.from(randomUUID()).toString('base64')}@thread.v2`;
      const conferenceId = String(9_000_000_000 + i);
      const m: Meeting = {
        id: encodeMeetingId(opts.organizerId, threadId),
        tenantId: opts.tenantId,
        organizerId: opts.organizerId,
        externalId: null,
        threadId,
        creationDateTime: created,
        startDateTime: '2030-01-01T10:00:00.0000000Z',
        endDateTime: '2030-01-01T11:00:00.0000000Z',
        expiryDateTime: '2030-03-02T11:00:00.0000000Z',
        subject: `Filled meeting ${i}`,
        options: structuredClone(DEFAULT_MEETING_POLICY),
        extra: { anonymizeIdentityForRoles: null, meetingSpokenLanguageTag: null, sensitivityLabelAssignment: null },
        meetingTemplateId: null,
        lockedOptions: [],
        participants: {
          organizer: {
            identity: { user: { id: opts.organizerId, displayName: 'Filled', tenantId: opts.tenantId, identityProvider: 'AAD' } },
            role: 'presenter',
            upn: 'filled@contoso.test',
          },
          attendees: [],
        },
        joinMeetingIdSettings: { isPasscodeRequired: false, joinMeetingId: String(9_900_000_000_000 + i), passcode: null },
        audioConferencing: {
          conferenceId,
          tollNumbers: ['+14255550100'],
          tollFreeNumbers: ['+18005550100'],
          dialinUrl: dialinUrl(opts.origin, opts.tenantId, conferenceId),
        },
        videoTeleconferenceId: String(99_000_000_000 + i),
        joinWebUrl: joinWebUrl(opts.origin, threadId, opts.tenantId, opts.organizerId),
        meetingOptionsWebUrl: meetingOptionsWebUrl(opts.origin, threadId, opts.tenantId, opts.organizerId),
        version: 1,
      };
      rows.push(meetingToRow(m));
    }
    await db.transaction().execute(async (tx) => {
      await tx.insertInto('meetings').values(rows).execute();
    });
    opts.onProgress?.(Math.min(opts.count, start + batch));
  }
}

/**
 * Fills a store with `count` events in the calendar of the template event's owner, cloned from a row the
 * service wrote (so the document is the service's own), each with its own id, iCalUId and hour, spread over
 * the years after 2031 (the benchmark's own events are in 2030). They are plain events, not online meetings:
 * the million meetings above are filled separately.
 */
export async function fillEvents(
  db: Kysely<Database>,
  opts: { count: number; template: EventRow; batch?: number; onProgress?: (n: number) => void },
) {
  const batch = opts.batch ?? 500;
  const base = Date.UTC(2031, 0, 1);
  const utc = (ms: number) => new Date(ms).toISOString().replace('Z', '0000Z');
  const { version: _version, ...template } = opts.template;
  const doc = JSON.parse(template.resource) as { start: { utc: string }; end: { utc: string }; subject?: string };
  for (let start = 0; start < opts.count; start += batch) {
    const rows: NewEventRow[] = [];
    for (let i = start; i < Math.min(opts.count, start + batch); i++) {
      const at = base + i * 3_600_000;
      doc.start.utc = utc(at);
      doc.end.utc = utc(at + 1_800_000);
      doc.subject = `Filled event ${i}`;
      rows.push({
        ...template,
        id: newEventId(template.owner_id),
        ical_uid: newICalUId(at),
        transaction_id: null,
        start_utc: doc.start.utc,
        end_utc: doc.end.utc,
        is_online_meeting: 0,
        meeting_id: null,
        resource: JSON.stringify(doc),
      });
    }
    await db.insertInto('events').values(rows).execute();
    opts.onProgress?.(Math.min(opts.count, start + batch));
  }
}
