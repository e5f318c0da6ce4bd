/**
 * Recognizes a unique-constraint violation from either driver and says which column(s) it was on, so
 * that repositories can retry a generated number or answer createOrGet's "already exists".
 * SQLite: code SQLITE_CONSTRAINT_UNIQUE / _PRIMARYKEY, message "UNIQUE constraint failed: t.a, t.b".
 * PostgreSQL: SQLSTATE 23505 with the index name in `constraint`.
 */
export function uniqueViolation(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const e = err as { code?: unknown; message?: unknown; constraint?: unknown };
  if (e.code === 'SQLITE_CONSTRAINT_UNIQUE' || e.code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
    const m = /constraint failed: (.+)$/.exec(String(e.message));
    return m
      ? m[1]!
          .split(',')
          .map((c) => c.trim().split('.').pop())
          .join(',')
      : 'unknown';
  }
  if (e.code === '23505') return typeof e.constraint === 'string' ? e.constraint : 'unknown';
  return undefined;
}

/** Maps an index name (PostgreSQL) or column list (SQLite) to the meeting property it guards. */
export function meetingConstraint(which: string): 'id' | 'thread' | 'joinMeetingId' | 'conferenceId' | 'vtcId' | 'externalKey' | 'other' {
  if (which === 'id' || which === 'meetings_pkey') return 'id';
  if (which.includes('thread')) return 'thread';
  if (which.includes('join_meeting_id')) return 'joinMeetingId';
  // Before conference_id: "video_teleconference_id" contains it.
  if (which.includes('video_teleconference_id') || which.includes('vtc')) return 'vtcId';
  if (which.includes('conference_id')) return 'conferenceId';
  if (which.includes('external')) return 'externalKey';
  return 'other';
}
