/** A meeting of about 800 KB: 900 attendees with long identity fields and a long subject (issue #11 item 1). */
export function largeMeeting(n: number) {
  const long = (c: string, len: number) => `${c}${n}`.padEnd(len, c);
  return {
    subject: long('s', 4096),
    startDateTime: '2030-01-01T10:00:00Z',
    participants: {
      attendees: Array.from({ length: 900 }, (_, i) => ({
        upn: `${long('u', 300)}${i}@example.com`,
        identity: { user: { id: `${long('i', 250)}${i}`, displayName: `${long('d', 250)}${i}` } },
      })),
    },
  };
}
