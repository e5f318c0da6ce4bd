import type { FastifyInstance, FastifyReply, FastifyRequest, HTTPMethods, RouteHandlerMethod } from 'fastify';
import type { TSchema } from '@sinclair/typebox';
import type { MeetingOwnerPath } from '../../domain/authorization.js';
import { invalidArgument, methodNotAllowed, queryOptionNotSupported, unsupportedMediaType } from '../../domain/errors.js';
import type { MeetingInput } from '../../domain/meetings/meeting.js';
import type { MeetingService } from '../../domain/meetings/meeting-service.js';
import { negotiateLanguage } from '../../domain/meetings/join-information.js';
import type { Principal } from '../../identity/access-tokens.js';
import { GRAPH_CONTENT_TYPE } from '../errors.js';
import { onlineMeetingEntity, type ViewContext } from '../online-meeting-view.js';
import { createMeetingBody } from '../schemas/online-meeting.js';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal;
  }
}

export interface GraphRoutesOptions {
  meetings: MeetingService;
  authenticate: (authorization: string | undefined) => Promise<Principal>;
  /** The origin to build @odata.context from. */
  origin: () => string;
}

type Params = { userId?: string; meetingId?: string };
type Route = { method: HTTPMethods; handler: RouteHandlerMethod; body?: TSchema };

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

  const view = (request: FastifyRequest): ViewContext => ({
    serviceRoot: `${opts.origin()}/${version}`,
    language: negotiateLanguage(request.headers['accept-language']),
    includeUnknownEnumMembers: preferIncludesUnknownEnumMembers(request.headers.prefer),
  });
  const owner = (request: FastifyRequest): MeetingOwnerPath => {
    const { userId } = request.params as Params;
    return userId === undefined ? { me: true } : { me: false, userId };
  };
  const send = (reply: FastifyReply, status: number, body: unknown) => reply.code(status).type(GRAPH_CONTENT_TYPE).send(body);

  const create: RouteHandlerMethod = async (request, reply) => {
    rejectQueryOptions(request, []);
    const meeting = await meetings.create(request.principal, owner(request), request.body as MeetingInput);
    return send(reply, 201, onlineMeetingEntity(meeting, view(request)));
  };
  const getById: RouteHandlerMethod = async (request, reply) => {
    const select = rejectQueryOptions(request, ['$select']);
    const meeting = await meetings.get(request.principal, owner(request), (request.params as Params).meetingId!);
    return send(reply, 200, applySelect(onlineMeetingEntity(meeting, view(request)), select));
  };
  const list: RouteHandlerMethod = async () => {
    // There is no list API (fact sheet §3.4, §9 quirk 6): Graph's own answer for a bare or unsupported query.
    throw invalidArgument("Filter expression expected - /onlineMeetings?$filter={ParameterName} eq '{id}'.");
  };

  const table: Record<string, Route[]> = {
    '/me/onlineMeetings': [
      { method: 'POST', handler: create, body: createMeetingBody },
      { method: 'GET', handler: list },
    ],
    '/users/:userId/onlineMeetings': [
      { method: 'POST', handler: create, body: createMeetingBody },
      { method: 'GET', handler: list },
    ],
    '/me/onlineMeetings/:meetingId': [{ method: 'GET', handler: getById }],
    '/users/:userId/onlineMeetings/:meetingId': [{ method: 'GET', handler: getById }],
  };

  const ALL: HTTPMethods[] = ['GET', 'POST', 'PATCH', 'PUT', 'DELETE'];
  for (const [url, routes] of Object.entries(table)) {
    for (const r of routes) {
      app.route({
        method: r.method,
        url,
        handler: r.handler,
        ...(r.body ? { schema: { body: r.body }, preValidation: requireJson } : {}),
      });
    }
    const others = ALL.filter((m) => !routes.some((r) => r.method === m));
    if (others.length) {
      app.route({
        method: others,
        url,
        handler: async (request) => {
          throw methodNotAllowed(request.method);
        },
      });
    }
  }
}

/** Graph bodies must be declared JSON (issue #2: a missing Content-Type gets 415). */
async function requireJson(request: FastifyRequest) {
  const ct = request.headers['content-type'];
  if (!ct || !/^application\/json\b/i.test(ct)) throw unsupportedMediaType(ct);
}

/** Query options this route does not support get an explicit error rather than being ignored. */
function rejectQueryOptions(request: FastifyRequest, supported: string[]): string[] | undefined {
  const query = request.query as Record<string, string | string[]>;
  let select: string[] | undefined;
  for (const [key, value] of Object.entries(query)) {
    if (!key.startsWith('$')) continue;
    if (!supported.includes(key)) throw queryOptionNotSupported(key);
    if (key === '$select') {
      select = (Array.isArray(value) ? value.join(',') : value)
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
    }
  }
  return select;
}

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
