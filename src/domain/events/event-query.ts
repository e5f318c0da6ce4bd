import { formatDateTime } from '../datetime.js';
import {
  badRequest,
  calendarViewWindowRequired,
  filterNotSupported,
  invalidFilterClause,
  invalidParameter,
  orderByNotPrimitive,
} from '../errors.js';
import type { Comparison, EventColumn, EventQuery } from '../../storage/repositories/event-repository.js';

/**
 * The OData query options of event collections (graph-events-spec.md §2.3, §4.3, §4.4), parsed into
 * column conditions: `$filter` on start/dateTime and end/dateTime (compared on the stored UTC value, as
 * Outlook does), isOnlineMeeting, isOrganizer and type; `$orderby` on the same; `$top` (default 10,
 * capped at 1000) and `$skip`.
 */
export const DEFAULT_PAGE_SIZE = 10;
export const MAX_PAGE_SIZE = 1000;
const MAX_FILTER_LENGTH = 2000;

const COLUMNS: Record<string, EventColumn> = {
  'start/datetime': 'start_utc',
  'end/datetime': 'end_utc',
  createddatetime: 'created_date_time',
  lastmodifieddatetime: 'last_modified_date_time',
};
const OPERATORS: Record<string, Comparison> = { eq: '=', ne: '<>', lt: '<', le: '<=', gt: '>', ge: '>=' };

export type EventQueryOptions = Omit<EventQuery, 'ownerId' | 'window'>;

const LENIENT_DATE =
  /^(\d{4})-(\d{1,2})-(\d{1,2})(?:[Tt](\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,7})\d*)?)?)?(?:([Zz])|([+-])(\d{2}):?(\d{2}))?$/;

/** An ISO 8601 date-time as an instant; no offset means UTC (§2.2 calendarView window, §2.3 filters). */
export function parseInstant(text: string): string | undefined {
  const m = LENIENT_DATE.exec(text.trim());
  if (!m) return undefined;
  const [, y, mo, d, h = '0', mi = '0', s = '0', frac = '', , sign, oh, om] = m;
  const date = new Date(Date.UTC(2000, Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s)));
  date.setUTCFullYear(Number(y));
  if (
    date.getUTCMonth() !== Number(mo) - 1 ||
    date.getUTCDate() !== Number(d) ||
    Number(h) > 23 ||
    Number(mi) > 59 ||
    Number(s) > 59 ||
    Number(y) < 1
  ) {
    return undefined;
  }
  const digits = (frac + '0000000').slice(0, 7);
  const offset = sign ? (sign === '-' ? -1 : 1) * (Number(oh) * 60 + Number(om)) * 60_000 : 0;
  const ms = date.getTime() + Number(digits.slice(0, 3)) - offset;
  if (Number.isNaN(ms) || ms < Date.parse('0001-01-01T00:00:00Z') || ms > Date.parse('9999-12-31T23:59:59.999Z')) return undefined;
  return formatDateTime({ ms, ticks: Number(digits.slice(3)) });
}

/** §4.4: both window parameters, each a date-time; any other form gets ErrorInvalidParameter. */
export function parseWindow(query: Record<string, unknown>): { start: string; end: string } {
  const find = (name: string) => {
    const entry = Object.entries(query).find(([k]) => k.toLowerCase() === name);
    return entry?.[1];
  };
  const rawStart = find('startdatetime');
  const rawEnd = find('enddatetime');
  if (rawStart === undefined || rawEnd === undefined || rawStart === '' || rawEnd === '') throw calendarViewWindowRequired();
  if (typeof rawStart !== 'string' || typeof rawEnd !== 'string')
    throw invalidParameter('StartDateTime and EndDateTime can be given only once.');
  const start = parseInstant(rawStart);
  if (!start) throw invalidParameter(`The value '${rawStart.slice(0, 60)}' of parameter 'StartDateTime' is invalid.`);
  const end = parseInstant(rawEnd);
  if (!end) throw invalidParameter(`The value '${rawEnd.slice(0, 60)}' of parameter 'EndDateTime' is invalid.`);
  return { start, end };
}

function parseCount(raw: string | undefined, name: string, fallback: number): number {
  if (raw === undefined) return fallback;
  if (!/^\d{1,9}$/.test(raw.trim())) throw badRequest(`Invalid value '${raw.slice(0, 40)}' for query option '${name}'.`);
  return Number(raw.trim());
}

export function parseQueryOptions(options: { $filter?: string; $orderby?: string; $top?: string; $skip?: string }): EventQueryOptions {
  const out: EventQueryOptions = {
    conditions: [],
    orderBy: [],
    top: Math.min(parseCount(options.$top, '$top', DEFAULT_PAGE_SIZE), MAX_PAGE_SIZE),
    skip: parseCount(options.$skip, '$skip', 0),
  };
  if (options.$filter !== undefined) parseFilter(options.$filter, out);
  if (options.$orderby !== undefined) out.orderBy = parseOrderBy(options.$orderby);
  return out;
}

/**
 * `$orderby=start/dateTime desc,end/dateTime`. `start` alone is a complex value and gets Graph's
 * "must evaluate to a single value of primitive type" (§2.3).
 */
function parseOrderBy(raw: string): EventQueryOptions['orderBy'] {
  if (raw.length > 500) throw badRequest('The $orderby expression is too long.');
  return raw.split(',').map((part) => {
    const m = /^\s*([A-Za-z/]+)(?:\s+(asc|desc))?\s*$/i.exec(part);
    if (!m) throw badRequest(`Syntax error in the $orderby expression '${raw.slice(0, 100)}'.`);
    const name = m[1]!.toLowerCase();
    if (name === 'start' || name === 'end') throw orderByNotPrimitive();
    const column = COLUMNS[name];
    if (!column) throw badRequest(`Could not find a property named '${m[1]}' on type 'microsoft.graph.event'.`);
    return { column, desc: m[2]?.toLowerCase() === 'desc' };
  });
}

type Token = { kind: 'name' | 'string' | 'literal' | 'lparen' | 'rparen' | 'comma'; text: string };

function tokenize(raw: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < raw.length) {
    const c = raw[i]!;
    if (/\s/.test(c)) {
      i++;
    } else if (c === "'") {
      let value = '';
      i++;
      for (;;) {
        if (i >= raw.length) throw invalidFilterClause('an unterminated string literal.');
        if (raw[i] === "'") {
          if (raw[i + 1] === "'") {
            value += "'";
            i += 2;
            continue;
          }
          i++;
          break;
        }
        value += raw[i++];
      }
      tokens.push({ kind: 'string', text: value });
    } else if (c === '(' || c === ')' || c === ',') {
      tokens.push({ kind: c === '(' ? 'lparen' : c === ')' ? 'rparen' : 'comma', text: c });
      i++;
    } else {
      const m = /^[A-Za-z0-9_/.:+-]+/.exec(raw.slice(i));
      if (!m) throw invalidFilterClause(`unexpected character '${c}' at position ${i}.`);
      tokens.push({ kind: /^[A-Za-z]/.test(m[0]) ? 'name' : 'literal', text: m[0] });
      i += m[0].length;
    }
  }
  return tokens;
}

/**
 * `$filter`: comparisons joined by `and` (§2.3, §4.3: what pnp CLI, n8n and Graph's own examples send).
 * A syntax error is "Invalid filter clause"; a well-formed filter on anything else, or `or`/`not`, is
 * Graph's "This filter query is not supported."
 */
function parseFilter(raw: string, out: EventQueryOptions): void {
  if (raw.length > MAX_FILTER_LENGTH) throw invalidFilterClause('the expression is too long.');
  const tokens = tokenize(raw);
  if (tokens.length === 0) throw invalidFilterClause('the expression is empty.');
  let i = 0;
  for (;;) {
    const [prop, op, value] = [tokens[i], tokens[i + 1], tokens[i + 2]];
    if (!prop || prop.kind !== 'name') throw invalidFilterClause(`a property name was expected at token ${i + 1}.`);
    if (['or', 'not', 'and'].includes(prop.text.toLowerCase()) || tokens[i + 1]?.kind === 'lparen') {
      throw filterNotSupported(`functions and '${prop.text}' are not supported`);
    }
    if (!op || op.kind !== 'name' || !OPERATORS[op.text.toLowerCase()])
      throw invalidFilterClause(`an operator was expected after '${prop.text}'.`);
    if (!value || (value.kind !== 'string' && value.kind !== 'name' && value.kind !== 'literal')) {
      throw invalidFilterClause(`a value was expected after '${prop.text} ${op.text}'.`);
    }
    applyCondition(prop.text, OPERATORS[op.text.toLowerCase()]!, value, out);
    i += 3;
    if (i >= tokens.length) return;
    const joiner = tokens[i]!;
    if (joiner.kind !== 'name') throw invalidFilterClause(`'and' was expected at token ${i + 1}.`);
    if (joiner.text.toLowerCase() !== 'and') throw filterNotSupported(`'${joiner.text}' is not supported`);
    i++;
  }
}

function applyCondition(property: string, op: Comparison, value: Token, out: EventQueryOptions): void {
  const name = property.toLowerCase();
  const column = COLUMNS[name];
  if (column) {
    // §2.3: the value is a string literal (pnp CLI: start/dateTime ge '2024-…'); a bare DateTimeOffset is taken too.
    const instant = parseInstant(value.text);
    if (!instant) throw invalidFilterClause(`'${value.text.slice(0, 60)}' is not a date-time.`);
    out.conditions.push({ column, op, value: instant });
    return;
  }
  const bool = value.kind === 'name' && /^(true|false)$/i.test(value.text) ? value.text.toLowerCase() === 'true' : undefined;
  if (name === 'isonlinemeeting' && bool !== undefined && (op === '=' || op === '<>')) {
    out.isOnlineMeeting = op === '=' ? bool : !bool;
    return;
  }
  // Every event here is its owner's own single instance (no recurrence, no attendee copies).
  if (name === 'isorganizer' && bool !== undefined && (op === '=' || op === '<>')) {
    if ((op === '=') !== bool) out.matchNothing = true;
    return;
  }
  if (name === 'type' && value.kind === 'string' && (op === '=' || op === '<>')) {
    if ((op === '=') !== (value.text === 'singleInstance')) out.matchNothing = true;
    return;
  }
  throw filterNotSupported(`filter on '${property}'`);
}
