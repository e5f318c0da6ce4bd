import { invalidArgument } from '../domain/errors.js';

/**
 * The $filter expressions Graph's onlineMeetings collections understand (fact sheet §3.4) and nothing
 * else: `<property> eq '<value>'`. Property names match in any case (the docs write `JoinWebUrl`, clients
 * write `joinWebUrl`); values are single-quoted with '' for a quote (OData), double quotes tolerated.
 * Anything else is Graph's InvalidArgument (§8).
 */
export type MeetingFilter = { property: 'joinWebUrl' | 'joinMeetingId' | 'videoTeleconferenceId'; value: string };

const PROPERTIES: Record<string, MeetingFilter['property']> = {
  joinweburl: 'joinWebUrl',
  'joinmeetingidsettings/joinmeetingid': 'joinMeetingId',
  videoteleconferenceid: 'videoTeleconferenceId',
};

export const FILTER_EXPECTED = "Filter expression expected - /onlineMeetings?$filter={ParameterName} eq '{id}'.";

export function parseMeetingFilter(raw: string | undefined, allowed: ReadonlyArray<MeetingFilter['property']>): MeetingFilter {
  if (raw === undefined || raw.length > 8192) throw invalidArgument(FILTER_EXPECTED);
  const m = /^\s*([A-Za-z/]+)\s+eq\s+(?:'((?:[^']|'')*)'|"([^"]*)")\s*$/i.exec(raw);
  const property = m ? PROPERTIES[m[1]!.toLowerCase()] : undefined;
  if (!m || !property || !allowed.includes(property)) throw invalidArgument(FILTER_EXPECTED);
  const value = m[2] !== undefined ? m[2].replace(/''/g, "'") : m[3]!;
  return { property, value };
}
