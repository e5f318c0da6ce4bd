import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest, HTTPMethods, RouteHandlerMethod } from 'fastify';
import type { MeetingOwnerPath } from '../../domain/authorization.js';
import { ArtifactService, DEFAULT_PAGE, MAX_PAGE, transcriptFormat } from '../../domain/artifacts/artifact-service.js';
import { formatDateTime, parseDateTime } from '../../domain/datetime.js';
import { badRequest, GraphError, invalidArgument, queryOptionNotSupported } from '../../domain/errors.js';
import { queryOptions } from '../odata.js';
import { refuseOtherMethods } from '../method-not-allowed.js';
import type { Principal } from '../../identity/access-tokens.js';
import { attendanceRecordJson, attendanceReportJson, recordingJson, transcriptJson } from '../artifact-view.js';
import { GRAPH_CONTENT_TYPE } from '../errors.js';

export interface ArtifactRoutesOptions {
  artifacts: ArtifactService;
  authenticate: (authorization: string | undefined) => Promise<Principal>;
  origin: (request: FastifyRequest) => string;
}

type Params = { userId?: string; meetingId?: string; reportId?: string; artifactId?: string; fn?: string };
type Query = Record<string, string | string[] | undefined>;

/**
 * Meeting artifacts under one version prefix (graph-meeting-artifacts-spec.md §1.2, §2.4): attendance
 * reports and records, transcripts (content, metadataContent), recordings (content with ranges), and the
 * organizer-wide getAllTranscripts / getAllRecordings with delta. The rules live in ArtifactService.
 */
export async function artifactRoutes(app: FastifyInstance, opts: ArtifactRoutesOptions): Promise<void> {
  const { artifacts } = opts;
  const version = app.prefix.replace(/^\//, '');
  app.decorateRequest('principal', undefined as never);
  app.addHook('onRequest', async (request) => {
    request.principal = await opts.authenticate(request.headers.authorization);
  });

  const root = (request: FastifyRequest) => `${opts.origin(request)}/${version}`;
  const params = (request: FastifyRequest) => request.params as Params;
  const owner = (request: FastifyRequest): MeetingOwnerPath => {
    const { userId } = params(request);
    return userId === undefined ? { me: true } : { me: false, userId };
  };
  const send = (reply: FastifyReply, body: unknown) => reply.code(200).type(GRAPH_CONTENT_TYPE).send(body);
  const meetingContext = (request: FastifyRequest, userId: string, meetingId: string) =>
    `${root(request)}/$metadata#users('${userId}')/onlineMeetings('${meetingId}')`;

  // --- attendance (§1.2) ---------------------------------------------------------------------------
  const listReports: RouteHandlerMethod = async (request, reply) => {
    const q = queryOptions(request, ['$expand']);
    const expand = expandRecords(q.$expand);
    const found = await artifacts.reports(request.principal, owner(request), params(request).meetingId!, expand);
    return send(reply, {
      '@odata.context': `${meetingContext(request, found.owner.id, found.meeting.id)}/attendanceReports`,
      value: found.reports.map((r) => attendanceReportJson(r.report, r.records, true)),
    });
  };
  const getReport: RouteHandlerMethod = async (request, reply) => {
    const q = queryOptions(request, ['$expand']);
    const p = params(request);
    const found = await artifacts.report(request.principal, owner(request), p.meetingId!, p.reportId!, expandRecords(q.$expand));
    return send(reply, {
      // §1.2: the example's context names the report without `/$entity`.
      '@odata.context': `${meetingContext(request, found.owner.id, found.meeting.id)}/attendanceReports('${found.report.report_id}')`,
      ...attendanceReportJson(found.report, found.records, false),
    });
  };
  const listRecords: RouteHandlerMethod = async (request, reply) => {
    queryOptions(request, []);
    const p = params(request);
    const found = await artifacts.report(request.principal, owner(request), p.meetingId!, p.reportId!, true);
    return send(reply, {
      '@odata.context': `${meetingContext(request, found.owner.id, found.meeting.id)}/attendanceReports('${found.report.report_id}')/attendanceRecords`,
      value: found.records!.map(attendanceRecordJson),
    });
  };

  // --- transcripts and recordings (§2.4) ------------------------------------------------------------
  const listArtifacts =
    (kind: 'transcripts' | 'recordings'): RouteHandlerMethod =>
    async (request, reply) => {
      const q = queryOptions(request, ['$top', '$select', '$filter']);
      const top = q.$top === undefined ? undefined : topValue(q.$top, MAX_PAGE);
      const correlation = q.$filter === undefined ? undefined : correlationFilter(q.$filter);
      const found =
        kind === 'transcripts'
          ? await artifacts.transcripts(request.principal, owner(request), params(request).meetingId!, correlation)
          : await artifacts.recordings(request.principal, owner(request), params(request).meetingId!, correlation);
      const items = top === undefined ? found.items : found.items.slice(0, top);
      const json = (r: (typeof found.items)[number]) =>
        kind === 'transcripts' ? transcriptJson(r, root(request)) : recordingJson(r, root(request));
      return send(reply, {
        '@odata.context': `${meetingContext(request, found.owner.id, found.meeting.id)}/${kind}`,
        '@odata.count': items.length,
        value: items.map((r) => select(json(r), q.$select, kind)),
      });
    };
  const getArtifact =
    (kind: 'transcripts' | 'recordings'): RouteHandlerMethod =>
    async (request, reply) => {
      const q = queryOptions(request, ['$select']);
      const p = params(request);
      const found =
        kind === 'transcripts'
          ? await artifacts.transcript(request.principal, owner(request), p.meetingId!, p.artifactId!)
          : await artifacts.recording(request.principal, owner(request), p.meetingId!, p.artifactId!);
      const json = kind === 'transcripts' ? transcriptJson(found.item, root(request)) : recordingJson(found.item, root(request));
      return send(reply, {
        '@odata.context': `${meetingContext(request, found.owner.id, found.meeting.id)}/${kind}/$entity`,
        ...select(json, q.$select, kind),
      });
    };
  const transcriptContent: RouteHandlerMethod = async (request, reply) => {
    const q = queryOptions(request, ['$format']);
    const p = params(request);
    const accept = request.headers.accept;
    const format = transcriptFormat(q.$format, Array.isArray(accept) ? accept.join(',') : accept);
    const out = await artifacts.transcriptContent(request.principal, owner(request), p.meetingId!, p.artifactId!, format);
    return reply.code(200).type(out.contentType).send(out.body);
  };
  const transcriptMetadata: RouteHandlerMethod = async (request, reply) => {
    queryOptions(request, []);
    const p = params(request);
    const body = await artifacts.transcriptMetadata(request.principal, owner(request), p.meetingId!, p.artifactId!);
    return reply.code(200).type('text/vtt').send(body);
  };
  const recordingContent: RouteHandlerMethod = async (request, reply) => {
    queryOptions(request, []);
    const p = params(request);
    const row = await artifacts.recordingContent(request.principal, owner(request), p.meetingId!, p.artifactId!);
    const size = Number(row.size);
    // Range requests (RFC 9110 §14): Graph's content downloads are served from storage that honours a
    // single byte range; several ranges get the whole body (README "Deliberate choices").
    const range = parseRange(request.headers.range, size);
    reply.header('accept-ranges', 'bytes').type(row.content_type);
    if (range === 'unsatisfiable') {
      reply.header('content-range', `bytes */${size}`);
      throw new GraphError(
        416,
        'RequestedRangeNotSatisfiable',
        `The range '${String(request.headers.range)}' is outside the recording's ${size} bytes.`,
      );
    }
    const [start, end] = range ?? [0, size - 1];
    if (range) reply.code(206).header('content-range', `bytes ${start}-${end}/${size}`);
    else reply.code(200);
    reply.header('content-length', String(end - start + 1));
    return reply.send(Readable.from(artifacts.recordingChunks(row, start, end)));
  };

  // --- getAllTranscripts / getAllRecordings and delta (§2.4) -------------------------------------------
  const getAll =
    (delta: boolean): RouteHandlerMethod =>
    async (request, reply) => {
      const call = parseGetAll(params(request).fn!, request.query as Query, delta);
      const found = await artifacts.allArtifacts(request.principal, owner(request), call.kind, {
        organizerId: call.organizerId,
        start: call.start,
        end: call.end,
        afterSequence: call.after,
        limit: call.top,
      });
      const fnName = call.kind === 'transcript' ? 'getAllTranscripts' : 'getAllRecordings';
      const base = `${root(request)}/users/${found.owner.id}/onlineMeetings/${fnName}(meetingOrganizerUserId='${call.organizerId}')${call.delta ? '/delta' : ''}`;
      const token = (after: number) =>
        Buffer.from(
          JSON.stringify({ k: call.kind, o: call.organizerId, s: call.start, e: call.end, a: after, n: call.top, d: call.delta }),
        ).toString('base64url');
      const type = call.kind === 'transcript' ? 'callTranscript' : 'callRecording';
      const links: Record<string, string> = {};
      if (found.more) links['@odata.nextLink'] = `${base}?$skiptoken=${token(found.last)}`;
      else if (call.delta) links['@odata.deltaLink'] = `${base}?$deltatoken=${token(found.last)}`;
      return send(reply, {
        '@odata.context': `${root(request)}/$metadata#Collection(${type})`,
        '@odata.count': found.items.length,
        ...links,
        value: found.items.map((r) => ({
          '@odata.type': `#microsoft.graph.${type}`,
          ...(call.kind === 'transcript' ? transcriptJson(r, root(request)) : recordingJson(r, root(request))),
        })),
      });
    };

  const table: Record<string, Array<{ method: HTTPMethods; handler: RouteHandlerMethod }>> = {};
  for (const base of ['/me/onlineMeetings', '/users/:userId/onlineMeetings']) {
    const m = `${base}/:meetingId`;
    table[`${m}/attendanceReports`] = [{ method: 'GET', handler: listReports }];
    table[`${m}/attendanceReports/:reportId`] = [{ method: 'GET', handler: getReport }];
    table[`${m}/attendanceReports/:reportId/attendanceRecords`] = [{ method: 'GET', handler: listRecords }];
    table[`${m}/transcripts`] = [{ method: 'GET', handler: listArtifacts('transcripts') }];
    table[`${m}/transcripts/:artifactId`] = [{ method: 'GET', handler: getArtifact('transcripts') }];
    table[`${m}/transcripts/:artifactId/content`] = [{ method: 'GET', handler: transcriptContent }];
    table[`${m}/transcripts/:artifactId/metadataContent`] = [{ method: 'GET', handler: transcriptMetadata }];
    table[`${m}/recordings`] = [{ method: 'GET', handler: listArtifacts('recordings') }];
    table[`${m}/recordings/:artifactId`] = [{ method: 'GET', handler: getArtifact('recordings') }];
    table[`${m}/recordings/:artifactId/content`] = [{ method: 'GET', handler: recordingContent }];
    // A function segment such as getAllTranscripts(meetingOrganizerUserId='…',startDateTime=…) sits where a
    // meeting id would; the regex parameter takes precedence over the plain one (case-insensitive, as Graph's paths).
    const fn = `${base}/:fn(^[gG][eE][tT][aA][lL][lL](?:[tT][rR][aA][nN][sS][cC][rR][iI][pP][tT][sS]|[rR][eE][cC][oO][rR][dD][iI][nN][gG][sS]).*)`;
    table[fn] = [{ method: 'GET', handler: getAll(false) }];
    table[`${fn}/delta`] = [{ method: 'GET', handler: getAll(true) }];
    table[`${fn}/delta()`] = [{ method: 'GET', handler: getAll(true) }];
  }
  for (const [url, routes] of Object.entries(table)) {
    for (const r of routes) app.route({ method: r.method, url, handler: r.handler });
    refuseOtherMethods(
      app,
      url,
      routes.map((r) => r.method),
    );
  }
}

/** §2.4: the documented list filter, `contentCorrelationId eq '…'` (property name in any case). */
function correlationFilter(filter: string): string {
  const m = /^\s*contentCorrelationId\s+eq\s+'([^']{1,200})'\s*$/i.exec(filter);
  if (!m) throw invalidArgument("Only the filter contentCorrelationId eq '{id}' is supported on this list.");
  return m[1]!;
}

function expandRecords(expand: string | undefined): boolean {
  if (expand === undefined) return false;
  const items = expand.split(',').map((s) => s.trim());
  for (const item of items) {
    if (item.toLowerCase() !== 'attendancerecords') {
      throw invalidArgument(`Could not find a property named '${item.slice(0, 100)}' on type 'microsoft.graph.meetingAttendanceReport'.`);
    }
  }
  return true;
}

function topValue(value: string, max: number): number {
  if (!/^\d{1,4}$/.test(value) || Number(value) < 1)
    throw badRequest(`Invalid value '${value.slice(0, 20)}' for $top: a whole number from 1 to ${max}.`);
  return Math.min(Number(value), max);
}

function select(entity: Record<string, unknown>, $select: string | undefined, kind: string): Record<string, unknown> {
  if ($select === undefined) return entity;
  const wanted = $select
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (wanted.length === 0 || wanted.includes('*')) return entity;
  const type = kind === 'transcripts' ? 'callTranscript' : 'callRecording';
  const keys = Object.keys(entity);
  for (const w of wanted) {
    if (!keys.some((k) => k.toLowerCase() === w.toLowerCase())) {
      throw invalidArgument(`Could not find a property named '${w.slice(0, 100)}' on type 'microsoft.graph.${type}'.`);
    }
  }
  const set = new Set(wanted.map((w) => w.toLowerCase()));
  // The id always comes back, as Graph's $select does.
  return Object.fromEntries(Object.entries(entity).filter(([k]) => k === 'id' || set.has(k.toLowerCase())));
}

/** A single `bytes=` range in [0, size); undefined = the whole body; several ranges are served whole. */
export function parseRange(header: string | undefined, size: number): [number, number] | 'unsatisfiable' | undefined {
  if (header === undefined) return undefined;
  const m = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  if (!m) return undefined;
  const [, from, to] = m;
  if (from === '' && to === '') return undefined;
  if (from === '') {
    const n = Number(to);
    if (n === 0) return 'unsatisfiable';
    return [Math.max(0, size - n), size - 1];
  }
  const start = Number(from);
  if (start >= size) return 'unsatisfiable';
  const end = to === '' ? size - 1 : Math.min(Number(to), size - 1);
  if (end < start) return undefined;
  return [start, end];
}

interface GetAllCall {
  kind: 'transcript' | 'recording';
  organizerId: string;
  start?: string;
  end?: string;
  after: number;
  top: number;
  delta: boolean;
}

const GETALL_PARAMS = ['meetingOrganizerUserId', 'startDateTime', 'endDateTime'];

/**
 * The function segment and its query (§2.4): parameters inline (`meetingOrganizerUserId='…'`, dates
 * unquoted), as aliases (`='@meetingOrganizerUserId'` or `=@startDateTime` with the value in the query, as
 * the Kiota builders send it, with or without `@`), or the organizer as `$filter=MeetingOrganizer/User/Id
 * eq '…'`. A `$skiptoken` / `$deltatoken` from a previous page carries every parameter.
 */
export function parseGetAll(segment: string, query: Query, delta: boolean): GetAllCall {
  const m = /^(getAllTranscripts|getAllRecordings)(?:\((.*)\))?$/is.exec(segment);
  if (!m) throw badRequest(`Resource not found for the segment '${segment.slice(0, 100)}'.`);
  const kind = m[1]!.toLowerCase() === 'getalltranscripts' ? 'transcript' : 'recording';
  const one = (name: string) => {
    const key = Object.keys(query).find((k) => k.toLowerCase() === name.toLowerCase());
    const v = key === undefined ? undefined : query[key];
    if (Array.isArray(v)) throw badRequest(`The query option '${name}' was given more than once.`);
    return v;
  };
  for (const key of Object.keys(query)) {
    const k = key.toLowerCase().replace(/^@/, '');
    if (key.startsWith('$')) {
      if (!['$top', '$skiptoken', '$deltatoken', '$filter', '$count'].includes(key.toLowerCase())) throw queryOptionNotSupported(key);
    } else if (!['skiptoken', 'deltatoken', ...GETALL_PARAMS.map((p) => p.toLowerCase())].includes(k)) {
      throw badRequest(`Unknown query parameter '${key.slice(0, 100)}'.`);
    }
  }
  const tokenText = one('$skiptoken') ?? one('skiptoken') ?? one('$deltatoken') ?? one('deltatoken');
  if (tokenText !== undefined) {
    let t: { k?: unknown; o?: unknown; s?: unknown; e?: unknown; a?: unknown; n?: unknown; d?: unknown };
    try {
      t = JSON.parse(Buffer.from(tokenText, 'base64url').toString('utf8')) as typeof t;
    } catch {
      throw badRequest('The skip token or delta token is not valid.');
    }
    if (
      t.k !== kind ||
      typeof t.o !== 'string' ||
      typeof t.a !== 'number' ||
      typeof t.n !== 'number' ||
      (t.s !== undefined && typeof t.s !== 'string') ||
      (t.e !== undefined && typeof t.e !== 'string')
    ) {
      throw badRequest('The skip token or delta token is not valid.');
    }
    return {
      kind,
      organizerId: t.o,
      start: t.s as string | undefined,
      end: t.e as string | undefined,
      after: t.a,
      top: t.n,
      delta: t.d === true || delta,
    };
  }
  const args: Record<string, string | undefined> = {};
  for (const part of splitArguments(m[2] ?? '')) {
    const eq = part.indexOf('=');
    if (eq < 0) throw badRequest(`Invalid function parameter '${part.slice(0, 100)}' (expected name=value).`);
    const name = GETALL_PARAMS.find((p) => p.toLowerCase() === part.slice(0, eq).trim().toLowerCase());
    if (!name) throw badRequest(`'${part.slice(0, eq).trim().slice(0, 100)}' is not a parameter of ${m[1]} (${GETALL_PARAMS.join(', ')}).`);
    let value = unquote(part.slice(eq + 1).trim());
    if (value.startsWith('@')) {
      const alias = value.slice(1);
      const given = one(`@${alias}`) ?? one(alias);
      value = given === undefined || given === '' ? '' : unquote(given);
    }
    args[name] = value === '' || value.toLowerCase() === 'null' ? undefined : value;
  }
  for (const p of GETALL_PARAMS) {
    // Kiota's query-string values without an alias in the path.
    if (args[p] === undefined && !(p in args)) {
      const given = one(p);
      if (given !== undefined && given !== '') args[p] = unquote(given);
    }
  }
  let organizerId = args.meetingOrganizerUserId;
  const filter = one('$filter');
  if (filter !== undefined) {
    const f = /^\s*MeetingOrganizer\/User\/Id\s+eq\s+'([^']{1,100})'\s*$/i.exec(filter);
    if (!f) throw invalidArgument("Only the filter MeetingOrganizer/User/Id eq '{userId}' is supported here.");
    organizerId ??= f[1];
  }
  if (organizerId === undefined) {
    throw badRequest(`${m[1]} requires the meetingOrganizerUserId parameter or $filter=MeetingOrganizer/User/Id eq '{userId}'.`);
  }
  const date = (name: 'startDateTime' | 'endDateTime') => {
    const v = args[name];
    if (v === undefined) return undefined;
    const t = parseDateTime(v);
    if (!t) throw badRequest(`'${v.slice(0, 60)}' is not a valid value for ${name} (an ISO 8601 date-time such as 2024-01-15T00:00:00Z).`);
    return formatDateTime(t);
  };
  const start = date('startDateTime');
  const end = date('endDateTime');
  if (start !== undefined && end !== undefined && end <= start) throw badRequest('endDateTime must be after startDateTime.');
  const topText = one('$top');
  const top = topText === undefined ? DEFAULT_PAGE : topValue(topText, MAX_PAGE);
  return { kind, organizerId, start, end, after: 0, top, delta };
}

function splitArguments(text: string): string[] {
  const out: string[] = [];
  let current = '';
  let quoted = false;
  for (const ch of text) {
    if (ch === "'") quoted = !quoted;
    if (ch === ',' && !quoted) {
      out.push(current);
      current = '';
    } else current += ch;
  }
  if (current.trim() !== '') out.push(current);
  return out.map((s) => s.trim()).filter(Boolean);
}

const unquote = (v: string) => (v.length >= 2 && v.startsWith("'") && v.endsWith("'") ? v.slice(1, -1).replace(/''/g, "'") : v);
