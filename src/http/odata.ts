import type { FastifyRequest } from 'fastify';
import { badRequest, invalidArgument, queryOptionNotSupported } from '../domain/errors.js';

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

/**
 * A route's OData query options by their canonical spelling (Graph accepts any case). Options the route does not
 * support get an explicit error rather than being ignored, and an option given twice is refused.
 */
export function queryOptions(request: FastifyRequest, supported: string[]): Record<string, string | undefined> {
  const query = request.query as Record<string, string | string[]>;
  const out: Record<string, string | undefined> = {};
  for (const [key, value] of Object.entries(query)) {
    if (!key.startsWith('$')) continue;
    const canonical = supported.find((s) => s.toLowerCase() === key.toLowerCase());
    if (!canonical) throw queryOptionNotSupported(key);
    if (Array.isArray(value)) throw badRequest(`The query option '${key}' was given more than once.`);
    out[canonical] = value;
  }
  return out;
}
