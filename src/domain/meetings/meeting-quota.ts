import { formatDateTime } from '../datetime.js';
import { tooManyRequests, type GraphError } from '../errors.js';

/** The calendar month (UTC) around `nowMs`, as stored creationDateTime bounds, and the seconds left in it. */
export function utcMonth(nowMs: number): { start: string; end: string; secondsLeft: number } {
  const now = new Date(nowMs);
  const startMs = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1);
  const endMs = Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1);
  return {
    start: formatDateTime({ ms: startMs, ticks: 0 }),
    end: formatDateTime({ ms: endMs, ticks: 0 }),
    secondsLeft: Math.max(1, Math.ceil((endMs - nowMs) / 1000)),
  };
}

/**
 * MEETING_QUOTA_PER_USER_MONTH reached (fact sheet §6.5): Graph's 429. Retry-After is the true number of
 * seconds until the next month starts. Both SDKs cap their wait at 180 s (client-compat §2.5, §3.6) and retry
 * three times, so an app should treat a quota 429 from a create as final rather than rely on its SDK's retries.
 */
export function meetingQuotaReached(organizerId: string, quota: number, secondsLeft: number): GraphError {
  return tooManyRequests(
    secondsLeft,
    `meeting quota: ${organizerId} has created ${quota} of ${quota} meetings this month (MEETING_QUOTA_PER_USER_MONTH)`,
  );
}
