import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { DEFAULT_MEETING_POLICY } from '../src/domain/directory/tenant-settings.js';
import { dialinUrl, encodeMeetingId, joinWebUrl, meetingOptionsWebUrl } from '../src/domain/meetings/meeting-ids.js';
import type { Meeting } from '../src/domain/meetings/meeting.js';
import { meetingToRow } from '../src/storage/repositories/meeting-repository.js';
import type { Database } from '../src/storage/tables.js';

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
