import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DEFAULT_MEETING_POLICY, defaultTenantSettings } from '../../src/domain/directory/tenant-settings.js';
import type { Meeting } from '../../src/domain/meetings/meeting.js';
import { dialinUrl, encodeMeetingId, joinWebUrl, meetingOptionsWebUrl, newThreadId } from '../../src/domain/meetings/meeting-ids.js';
import type { StoreKind } from '../../src/storage/database.js';
import { freshStore, type TestStore } from '../helpers/stores.js';

/** Storage-suite fixtures: realistic Meeting objects with numbers unique per call, and throwaway stores. */

export const ORIGIN = 'https://127.0.0.1:8443';
export const TENANT_ID = '5f0b7c1e-2a4d-4e8b-9c61-0d3e2f1a4b5c';
export const ORGANIZER_ID = '8e1d2c3b-4a5f-4061-9728-3b4c5d6e7f80';

let serial = 0;
const digits = (n: number, width: number) => String(n).padStart(width, '0');

/** A canonical Graph time (UTC, 7 fractional digits) `minutes` after 2030-01-01T00:00Z. */
export function graphTime(minutes = 0): string {
  return new Date(Date.UTC(2030, 0, 1) + minutes * 60_000).toISOString().replace(/\.(\d{3})Z$/, '.$10000Z');
}

export function tenantRow(id = TENANT_ID) {
  return { id, display_name: 'Contoso', settings: JSON.stringify(defaultTenantSettings()), created_at: graphTime() };
}

/** A meeting as the service would build it, with a fresh thread, id and numbers; `overrides` replaces top-level properties. */
export function makeMeeting(overrides: Partial<Meeting> = {}): Meeting {
  const n = ++serial;
  const tenantId = overrides.tenantId ?? TENANT_ID;
  const organizerId = overrides.organizerId ?? ORGANIZER_ID;
  const threadId = overrides.threadId ?? newThreadId();
  const conferenceId = digits(100_000_000 + n, 9);
  return {
    id: encodeMeetingId(organizerId, threadId),
    tenantId,
    organizerId,
    externalId: null,
    threadId,
    creationDateTime: graphTime(n),
    startDateTime: graphTime(n + 60),
    endDateTime: graphTime(n + 120),
    expiryDateTime: graphTime(n + 60 * 24 * 60),
    subject: `Meeting ${n}`,
    options: structuredClone(DEFAULT_MEETING_POLICY),
    extra: { anonymizeIdentityForRoles: null, meetingSpokenLanguageTag: null, sensitivityLabelAssignment: null },
    meetingTemplateId: null,
    lockedOptions: [],
    participants: {
      organizer: {
        identity: { user: { id: organizerId, displayName: 'Adele Vance', tenantId, identityProvider: 'AAD' } },
        role: 'presenter',
        upn: 'adele@contoso.example',
      },
      attendees: [{ identity: { user: { id: randomUUID(), displayName: 'Bob', tenantId } }, role: 'attendee', upn: 'bob@contoso.example' }],
    },
    joinMeetingIdSettings: { isPasscodeRequired: true, joinMeetingId: digits(200_000_000_000 + n, 12), passcode: 'Z3GYtQ' },
    audioConferencing: {
      conferenceId,
      tollNumbers: ['+14255550100'],
      tollFreeNumbers: ['+18005550100'],
      dialinUrl: dialinUrl(ORIGIN, tenantId, conferenceId),
    },
    videoTeleconferenceId: digits(3_000_000_000 + n, 10),
    joinWebUrl: joinWebUrl(ORIGIN, threadId, tenantId, organizerId),
    meetingOptionsWebUrl: meetingOptionsWebUrl(ORIGIN, threadId, tenantId, organizerId),
    version: 1,
    ...overrides,
  };
}

/** A fresh unmigrated store plus a temporary directory for its SQLite file; `cleanup` removes both. */
export async function tempStore(kind: StoreKind): Promise<TestStore & { dir: string; sqliteFile: string }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gm-storage-'));
  const ts = await freshStore(kind, dir);
  return {
    ...ts,
    dir,
    // For SQLite the store's location is its file, for suites that open more connections on it.
    sqliteFile: ts.store.location,
    cleanup: async () => {
      try {
        await ts.cleanup();
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
