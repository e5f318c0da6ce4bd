import type { FastifyInstance, FastifyReply, FastifyRequest, HTTPMethods, RouteHandlerMethod } from 'fastify';
import type { TSchema } from '@sinclair/typebox';
import type { MeetingOwnerPath } from '../../domain/authorization.js';
import { badRequest, invalidArgument, queryOptionNotSupported, unsupportedMediaType } from '../../domain/errors.js';
import { refuseOtherMethods } from '../method-not-allowed.js';
import type { Meeting, MeetingInput } from '../../domain/meetings/meeting.js';
import type { MeetingService } from '../../domain/meetings/meeting-service.js';
import { negotiateLanguage } from '../../domain/meetings/join-information.js';
import type { Principal } from '../../identity/access-tokens.js';
import { LruCache } from '../../util/lru-cache.js';
import { ENTRY_OVERHEAD_BYTES, stringBytes } from '../../util/memory-budget.js';
import { GRAPH_CONTENT_TYPE } from '../errors.js';
import { FILTER_EXPECTED, parseMeetingFilter } from '../odata.js';
import { collectionContext, onlineMeetingEntity, onlineMeetingJson, type ViewContext } from '../online-meeting-view.js';
import { createMeetingBody, createOrGetBody } from '../schemas/online-meeting.js';
import { edmStringResponse, onlineMeetingCollectionResponse, onlineMeetingResponse } from '../schemas/online-meeting-response.js';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal;
  }
}

export interface GraphRoutesOptions {
  meetings: MeetingService;
  authenticate: (authorization: string | undefined) => Promise<Principal>;
  /** The origin to build @odata.context from: the one the request was sent to (the public origin, or graph.microsoft.com when impersonating). */
  origin: (request: FastifyRequest) => string;
  /** Where a new meeting's links point and where the virtual-appointment URL points; undefined = the public origin. */
  linkOrigins?: (request: FastifyRequest) => { links: string; visit: string } | undefined;
}

type Params = { userId?: string; meetingId?: string };
type Route = { method: HTTPMethods; handler: RouteHandlerMethod; body?: TSchema; response?: Record<number, TSchema> };

/**
 * The Graph surface under one version prefix (/v1.0 or /beta). Each path lists its methods; any other
 * method on a known path answers 405 rather than 404, through the same error writer.
 */
export async function graphRoutes(app: FastifyInstance, opts: GraphRoutesOptions): Promise<void> {
  const { meetings } = opts;
  const version = app.prefix.replace(/^\//, '');

  app.decorateRequest('principal', undefined as never);
  app.addHook('onRequest', async (request) => {
    request.principal = await opts.authenticate(request.headers.authorization);
  });

  const joinInformation = new LruCache<string, { content: string; contentType: 'html' }>(4000, Infinity, Date.now, {
    sizeOf: (key, v) => ENTRY_OVERHEAD_BYTES + stringBytes(key) + stringBytes(v.content),
  });
  const view = (request: FastifyRequest): ViewContext => ({
    serviceRoot: `${opts.origin(request)}/${version}`,
    language: negotiateLanguage(request.headers['accept-language']),
    includeUnknownEnumMembers: preferIncludesUnknownEnumMembers(request.headers.prefer),
    joinInformation,
  });
  const owner = (request: FastifyRequest): MeetingOwnerPath => {
    const { userId } = request.params as Params;
    return userId === undefined ? { me: true } : { me: false, userId };
  };
  const send = (reply: FastifyReply, status: number, body: unknown) => reply.code(status).type(GRAPH_CONTENT_TYPE).send(body);

  // Reads without $select answer the same bytes until the meeting changes: the body serialized by the
  // route's own serializer is kept under every input of the view (meeting id and version, service root,
  // language §6.4, Prefer §2.8). The row is still read on every request, so a change made by another
  // process is seen at once; only the 7 KB of serialization (half of it the escaped invitation) is saved.
  // Every body is charged to the process's cache budget (memory-budget.ts): a 1 MiB meeting read under
  // every language × Prefer × version key can no longer fill the heap (issue #11 item 1).
  const bodies = new LruCache<string, string>(2000);
  const sendCached = (reply: FastifyReply, shape: string, ctx: ViewContext, found: Meeting[], build: () => unknown) => {
    const key = `${shape}|${ctx.serviceRoot}|${ctx.language}|${ctx.includeUnknownEnumMembers ? 1 : 0}|${found.map((m) => `${m.id}@${m.version}`).join()}`;
    reply.code(200).type(GRAPH_CONTENT_TYPE);
    let body = bodies.get(key);
    if (body === undefined) {
      body = reply.serialize(build()) as string;
      bodies.set(key, body);
    }
    return reply.send(body);
  };

  const meetingId = (request: FastifyRequest) => (request.params as Params).meetingId!;

  const create: RouteHandlerMethod = async (request, reply) => {
    queryOptions(request, []);
    const meeting = await meetings.create(
      request.principal,
      owner(request),
      request.body as MeetingInput,
      opts.linkOrigins?.(request)?.links,
    );
    return send(reply, 201, onlineMeetingEntity(meeting, view(request)));
  };
  const createOrGet: RouteHandlerMethod = async (request, reply) => {
    queryOptions(request, []);
    const { meeting, created } = await meetings.createOrGet(
      request.principal,
      owner(request),
      request.body as MeetingInput,
      opts.linkOrigins?.(request)?.links,
    );
    if (created) return send(reply, 201, onlineMeetingEntity(meeting, view(request)));
    // The existing meeting (the idempotent retry CI suites make): the same bytes until it changes, as for GET.
    const ctx = view(request);
    return sendCached(reply, 'createOrGet', ctx, [meeting], () => onlineMeetingEntity(meeting, ctx));
  };
  const getById: RouteHandlerMethod = async (request, reply) => {
    const q = queryOptions(request, ['$select']);
    const meeting = await meetings.get(request.principal, owner(request), meetingId(request));
    const ctx = view(request);
    if (q.$select === undefined) return sendCached(reply, 'entity', ctx, [meeting], () => onlineMeetingEntity(meeting, ctx));
    return send(reply, 200, applySelect(onlineMeetingEntity(meeting, ctx), selectList(q.$select)));
  };
  const update: RouteHandlerMethod = async (request, reply) => {
    queryOptions(request, []);
    const meeting = await meetings.update(request.principal, owner(request), meetingId(request), request.body as MeetingInput);
    return send(reply, 200, onlineMeetingEntity(meeting, view(request)));
  };
  const remove: RouteHandlerMethod = async (request, reply) => {
    queryOptions(request, []);
    await meetings.delete(request.principal, owner(request), meetingId(request));
    return reply.code(204).send();
  };
  // There is no list API (§3.4, §9 quirk 6): only the joinWebUrl and joinMeetingId filters find meetings.
  const lookup: RouteHandlerMethod = async (request, reply) => {
    const q = queryOptions(request, ['$filter', '$select']);
    const filter = parseMeetingFilter(q.$filter, ['joinWebUrl', 'joinMeetingId']);
    const { owner: user, found } = await meetings.findByFilter(
      request.principal,
      owner(request),
      filter as { property: 'joinWebUrl' | 'joinMeetingId'; value: string },
    );
    const ctx = view(request);
    const select = selectList(q.$select);
    const build = () => ({
      '@odata.context': collectionContext(ctx, user.id),
      value: found.map((m) => applySelect(onlineMeetingJson(m, ctx), select)),
    });
    // The collection's context names the user of the path, so the user is part of the key.
    if (q.$select === undefined) return sendCached(reply, `collection ${user.id}`, ctx, found, build);
    return send(reply, 200, build());
  };
  const vtcLookup: RouteHandlerMethod = async (request, reply) => {
    const q = queryOptions(request, ['$filter', '$select']);
    const filter = parseMeetingFilter(q.$filter, ['videoTeleconferenceId']);
    const found = await meetings.findByVideoTeleconferenceId(request.principal, filter.value);
    const ctx = view(request);
    const select = selectList(q.$select);
    return send(reply, 200, {
      '@odata.context': `${ctx.serviceRoot}/$metadata#communications/onlineMeetings`,
      value: found.map((m) => applySelect(onlineMeetingJson(m, ctx), select)),
    });
  };
  const communicationsCreate: RouteHandlerMethod = async () => {
    // §3.1: creating through /communications is not supported in v1.0; Graph answers this opaque 400.
    throw badRequest('An error has occurred.');
  };
  const virtualAppointment: RouteHandlerMethod = async (request, reply) => {
    queryOptions(request, []);
    const value = await meetings.virtualAppointmentJoinWebUrl(
      request.principal,
      owner(request),
      meetingId(request),
      opts.linkOrigins?.(request)?.visit,
    );
    return send(reply, 200, { '@odata.context': `${view(request).serviceRoot}/$metadata#Edm.String`, value });
  };

  const table: Record<string, Route[]> = {};
  for (const base of ['/me/onlineMeetings', '/users/:userId/onlineMeetings']) {
    table[base] = [
      { method: 'POST', handler: create, body: createMeetingBody, response: { 201: onlineMeetingResponse } },
      { method: 'GET', handler: lookup, response: { 200: onlineMeetingCollectionResponse } },
    ];
    table[`${base}/createOrGet`] = [
      { method: 'POST', handler: createOrGet, body: createOrGetBody, response: { 200: onlineMeetingResponse, 201: onlineMeetingResponse } },
    ];
    table[`${base}/:meetingId`] = [
      { method: 'GET', handler: getById, response: { 200: onlineMeetingResponse } },
      { method: 'PATCH', handler: update, body: createMeetingBody, response: { 200: onlineMeetingResponse } },
      { method: 'DELETE', handler: remove },
    ];
    table[`${base}/:meetingId/getVirtualAppointmentJoinWebUrl`] = [
      { method: 'GET', handler: virtualAppointment, response: { 200: edmStringResponse } },
    ];
    table[`${base}/:meetingId/getVirtualAppointmentJoinWebUrl()`] = [
      { method: 'GET', handler: virtualAppointment, response: { 200: edmStringResponse } },
    ];
  }
  table['/communications/onlineMeetings'] = [
    { method: 'GET', handler: vtcLookup, response: { 200: onlineMeetingCollectionResponse } },
    { method: 'POST', handler: communicationsCreate },
  ];

  for (const [url, routes] of Object.entries(table)) {
    for (const r of routes) {
      app.route({
        method: r.method,
        url,
        handler: r.handler,
        schema: { ...(r.body ? { body: r.body } : {}), ...(r.response ? { response: r.response } : {}) },
        ...(r.body ? { preValidation: requireJson } : {}),
      });
    }
    refuseOtherMethods(
      app,
      url,
      routes.map((r) => r.method),
    );
  }
}

/** Graph bodies must be declared JSON (issue #2: a missing Content-Type gets 415). */
async function requireJson(request: FastifyRequest) {
  const ct = request.headers['content-type'];
  if (!ct || !/^application\/json\b/i.test(ct)) throw unsupportedMediaType(ct);
}

/** Query options this route does not support get an explicit error rather than being ignored. */
function queryOptions(request: FastifyRequest, supported: string[]): Record<string, string | undefined> {
  const query = request.query as Record<string, string | string[]>;
  const out: Record<string, string | undefined> = {};
  for (const [key, value] of Object.entries(query)) {
    if (!key.startsWith('$')) continue;
    const name = key.toLowerCase();
    const canonical = supported.find((s) => s.toLowerCase() === name);
    if (!canonical) {
      if (name === '$filter') throw invalidArgument(FILTER_EXPECTED);
      throw queryOptionNotSupported(key);
    }
    if (Array.isArray(value)) throw badRequest(`The query option '${key}' was given more than once.`);
    out[canonical] = value;
  }
  return out;
}

const selectList = (select: string | undefined) =>
  select
    ?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);

/** $select keeps the named top-level properties (and the OData annotations). */
export function applySelect(value: object, select: string[] | undefined): Record<string, unknown> {
  const entity = value as Record<string, unknown>;
  if (!select || select.length === 0 || select.includes('*')) return entity;
  const wanted = new Map(select.map((s) => [s.toLowerCase(), s]));
  const unknown = select.find((s) => !Object.keys(entity).some((k) => k.toLowerCase() === s.toLowerCase()));
  if (unknown) throw invalidArgument(`Could not find a property named '${unknown}' on type 'microsoft.graph.onlineMeeting'.`);
  return Object.fromEntries(Object.entries(entity).filter(([k]) => k.startsWith('@odata.') || wanted.has(k.toLowerCase())));
}

/** RFC 7240 Prefer: a comma-separated list; the preference name is case-insensitive. */
export function preferIncludesUnknownEnumMembers(prefer: string | string[] | undefined): boolean {
  const values = Array.isArray(prefer) ? prefer.join(',') : (prefer ?? '');
  return values.split(',').some((p) => p.split(';')[0]!.trim().toLowerCase() === 'include-unknown-enum-members');
}
