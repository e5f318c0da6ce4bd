import type { FastifyInstance, FastifyReply, FastifyRequest, HTTPMethods, RouteHandlerMethod } from 'fastify';
import { parseQueryOptions, parseWindow } from '../../domain/events/event-query.js';
import type { EventService, MailboxPath } from '../../domain/events/event-service.js';
import { requireZone, type ResolvedZone } from '../../domain/events/time-zones.js';
import { badRequest, unableToDeserializePostBody } from '../../domain/errors.js';
import { queryOptions } from '../odata.js';
import { refuseOtherMethods } from '../method-not-allowed.js';
import type { Principal } from '../../identity/access-tokens.js';
import type { UserRow } from '../../storage/tables.js';
import { GRAPH_CONTENT_TYPE, sendGraphError } from '../errors.js';
import { LruCache } from '../../util/lru-cache.js';
import {
  calendarJson,
  eventCollectionContext,
  eventEntityContext,
  eventJson,
  mailboxSettingsJson,
  selectProperties,
  type EventViewContext,
} from '../event-view.js';

export interface EventRoutesOptions {
  events: EventService;
  authenticate: (authorization: string | undefined) => Promise<Principal>;
  /** The origin @odata.context and nextLink are built on: the one the request was sent to (graph.microsoft.com when impersonating). */
  origin: (request: FastifyRequest) => string;
  /** Where the links of meetings created through events point (impersonation, issue #19), as for onlineMeetings. */
  linkOrigins?: (request: FastifyRequest) => { links: string; visit: string } | undefined;
}

type Params = { userId?: string; calendarId?: string; eventId?: string };

/**
 * The Outlook calendar surface under one version prefix (graph-events-spec.md §4): events on every path
 * form (`/me` or `/users/{id|upn}`, through `/events`, `/calendar/events` or `/calendars/{id}/events`),
 * calendarView, the default calendar and mailboxSettings. Any other method on a known path answers 405.
 */
export async function eventRoutes(app: FastifyInstance, opts: EventRoutesOptions): Promise<void> {
  const { events } = opts;
  const version = app.prefix.replace(/^\//, '');

  app.decorateRequest('principal', undefined as never);
  app.addHook('onRequest', async (request) => {
    request.principal = await opts.authenticate(request.headers.authorization);
  });
  // §6: Outlook answers a body it cannot read, a missing Content-Type included, with UnableToDeserializePostBody.
  app.setErrorHandler((err, request, reply) => {
    const code = (err as { code?: string }).code;
    if (code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' || code === 'FST_ERR_CTP_INVALID_JSON_BODY' || err instanceof SyntaxError) {
      return sendGraphError(unableToDeserializePostBody(String((err as Error).message)), request, reply);
    }
    return sendGraphError(err, request, reply);
  });

  const mailbox = (request: FastifyRequest): MailboxPath => {
    const { userId, calendarId } = request.params as Params;
    const cal = calendarId === undefined ? {} : { calendarId };
    return userId === undefined ? { me: true, ...cal } : { me: false, userId, ...cal };
  };
  const eventId = (request: FastifyRequest) => (request.params as Params).eventId!;
  const send = (reply: FastifyReply, status: number, body: unknown) => reply.code(status).type(GRAPH_CONTENT_TYPE).send(body);
  /** Serialized GET …/events/{id} answers (each charged to the process's cache budget, memory-budget.ts). */
  const bodies = new LruCache<string, string>(2000);

  /** The view of this request: Prefer (§2.2) is honoured on every method, with Preference-Applied. */
  const view = (request: FastifyRequest, reply: FastifyReply, owner: UserRow): EventViewContext => {
    const prefer = parsePrefer(request.headers.prefer);
    const applied: string[] = [];
    let zone: ResolvedZone | undefined;
    if (prefer.timezone !== undefined) {
      zone = requireZone(prefer.timezone);
      applied.push(`outlook.timezone="${prefer.timezone}"`);
    }
    const bodyText = prefer.bodyContentType?.toLowerCase() === 'text';
    if (prefer.bodyContentType !== undefined && /^(text|html)$/i.test(prefer.bodyContentType)) {
      applied.push(`outlook.body-content-type="${prefer.bodyContentType.toLowerCase()}"`);
    }
    if (applied.length) reply.header('preference-applied', applied.join(','));
    const { userId } = request.params as Params;
    return {
      serviceRoot: `${opts.origin(request)}/${version}`,
      userSegment: userId === undefined ? owner.id : encodeURIComponent(userId),
      zone,
      bodyText,
    };
  };
  // A bad Prefer zone is refused before anything is written (§2.2: 400 TimeZoneNotSupportedException).
  const checkPrefer = (request: FastifyRequest) => {
    const zone = parsePrefer(request.headers.prefer).timezone;
    if (zone !== undefined) requireZone(zone);
  };

  const create: RouteHandlerMethod = async (request, reply) => {
    queryOptions(request, []);
    checkPrefer(request);
    const { owner, event } = await events.create(request.principal, mailbox(request), request.body, opts.linkOrigins?.(request)?.links);
    const ctx = view(request, reply, owner);
    return send(reply, 201, { '@odata.context': eventEntityContext(ctx), ...eventJson(event, ctx) });
  };
  const getOne: RouteHandlerMethod = async (request, reply) => {
    const q = queryOptions(request, ['$select']);
    checkPrefer(request);
    const { owner, event } = await events.get(request.principal, mailbox(request), eventId(request));
    const ctx = view(request, reply, owner);
    if (q.$select === undefined) {
      // The same bytes until the event changes (every write bumps its version): kept under every input of the
      // view, as onlineMeetings' reads are (issue #20: rendering and serializing were a fifth of this request).
      const key = `${event.id}@${event.version}|${ctx.serviceRoot}|${ctx.userSegment}|${ctx.zone?.name ?? ''}|${ctx.zone?.iana ?? ''}|${ctx.bodyText ? 1 : 0}`;
      let body = bodies.get(key);
      if (body === undefined) {
        body = JSON.stringify({ '@odata.context': eventEntityContext(ctx), ...eventJson(event, ctx) });
        bodies.set(key, body);
      }
      return send(reply, 200, body);
    }
    const select = selectList(q.$select);
    return send(reply, 200, {
      '@odata.context': eventEntityContext(ctx, select),
      ...selectProperties(eventJson(event, ctx), select, 'microsoft.graph.event'),
    });
  };
  const update: RouteHandlerMethod = async (request, reply) => {
    queryOptions(request, []);
    checkPrefer(request);
    const { owner, event } = await events.update(
      request.principal,
      mailbox(request),
      eventId(request),
      request.body,
      opts.linkOrigins?.(request)?.links,
    );
    const ctx = view(request, reply, owner);
    return send(reply, 200, { '@odata.context': eventEntityContext(ctx), ...eventJson(event, ctx) });
  };
  const remove: RouteHandlerMethod = async (request, reply) => {
    queryOptions(request, []);
    await events.delete(request.principal, mailbox(request), eventId(request));
    return reply.code(204).send();
  };
  const cancel: RouteHandlerMethod = async (request, reply) => {
    queryOptions(request, []);
    await events.cancel(request.principal, mailbox(request), eventId(request), request.body);
    return reply.code(202).send();
  };
  const list =
    (collection: 'events' | 'calendarView'): RouteHandlerMethod =>
    async (request, reply) => {
      const q = queryOptions(request, ['$select', '$filter', '$orderby', '$top', '$skip', '$count']);
      checkPrefer(request);
      const options = parseQueryOptions(q);
      const window = collection === 'calendarView' ? parseWindow(request.query as Record<string, unknown>) : undefined;
      if (q.$count !== undefined && !/^(true|false)$/i.test(q.$count))
        throw badRequest(`Invalid value '${q.$count.slice(0, 40)}' for query option '$count'.`);
      const withCount = q.$count?.toLowerCase() === 'true';
      // One more than the page tells whether another page exists (§4.3: skip-based @odata.nextLink).
      const {
        owner,
        events: found,
        count,
      } = await events.list(
        request.principal,
        mailbox(request),
        { ...options, top: options.top + 1, ...(window ? { window } : {}) },
        withCount,
      );
      const ctx = view(request, reply, owner);
      const select = selectList(q.$select);
      const page = found.slice(0, options.top);
      const body: Record<string, unknown> = { '@odata.context': eventCollectionContext(ctx, collection, select) };
      if (count !== undefined) body['@odata.count'] = count;
      body.value = page.map((e) => selectProperties(eventJson(e, ctx), select, 'microsoft.graph.event'));
      if (found.length > options.top) body['@odata.nextLink'] = nextLink(opts.origin(request), request.url, options.skip + options.top);
      return send(reply, 200, body);
    };
  const calendar: RouteHandlerMethod = async (request, reply) => {
    const q = queryOptions(request, ['$select']);
    const owner = await events.calendar(request.principal, mailbox(request));
    const { userId } = request.params as Params;
    const segment = userId === undefined ? owner.id : encodeURIComponent(userId);
    const select = selectList(q.$select);
    const path = (request.params as Params).calendarId === undefined ? 'calendar' : 'calendars';
    return send(reply, 200, {
      '@odata.context': `${opts.origin(request)}/${version}/$metadata#users('${segment}')/${path}${select?.length ? `(${select.join(',')})` : ''}/$entity`,
      ...selectProperties(calendarJson(owner), select, 'microsoft.graph.calendar'),
    });
  };
  const calendars: RouteHandlerMethod = async (request, reply) => {
    const q = queryOptions(request, ['$select', '$top', '$skip', '$filter', '$orderby']);
    const owner = await events.calendar(request.principal, mailbox(request));
    const { userId } = request.params as Params;
    const segment = userId === undefined ? owner.id : encodeURIComponent(userId);
    const select = selectList(q.$select);
    const { top, skip } = parseQueryOptions({ $top: q.$top, $skip: q.$skip });
    const value = skip > 0 || top === 0 ? [] : [selectProperties(calendarJson(owner), select, 'microsoft.graph.calendar')];
    return send(reply, 200, {
      '@odata.context': `${opts.origin(request)}/${version}/$metadata#users('${segment}')/calendars${select?.length ? `(${select.join(',')})` : ''}`,
      value,
    });
  };
  const mailboxSettings =
    (property?: 'timeZone'): RouteHandlerMethod =>
    async (request, reply) => {
      const q = queryOptions(request, property ? [] : ['$select']);
      const owner = await events.mailboxOwner(request.principal, mailbox(request));
      const { userId } = request.params as Params;
      const segment = userId === undefined ? owner.id : encodeURIComponent(userId);
      const context = `${opts.origin(request)}/${version}/$metadata#users('${segment}')/mailboxSettings`;
      const settings = mailboxSettingsJson();
      if (property) return send(reply, 200, { '@odata.context': `${context}/${property}`, value: settings[property] });
      return send(reply, 200, {
        '@odata.context': context,
        ...selectProperties(settings, selectList(q.$select), 'microsoft.graph.mailboxSettings'),
      });
    };

  type Route = { method: HTTPMethods; handler: RouteHandlerMethod; json?: boolean };
  const table: Record<string, Route[]> = {};
  for (const user of ['/me', '/users/:userId']) {
    for (const events of [`${user}/events`, `${user}/calendar/events`, `${user}/calendars/:calendarId/events`]) {
      table[events] = [
        { method: 'GET', handler: list('events') },
        { method: 'POST', handler: create, json: true },
      ];
      table[`${events}/:eventId`] = [
        { method: 'GET', handler: getOne },
        { method: 'PATCH', handler: update, json: true },
        { method: 'DELETE', handler: remove },
      ];
      table[`${events}/:eventId/cancel`] = [{ method: 'POST', handler: cancel, json: true }];
    }
    for (const view of [`${user}/calendarView`, `${user}/calendar/calendarView`, `${user}/calendars/:calendarId/calendarView`]) {
      table[view] = [{ method: 'GET', handler: list('calendarView') }];
    }
    table[`${user}/calendar`] = [{ method: 'GET', handler: calendar }];
    table[`${user}/calendars`] = [{ method: 'GET', handler: calendars }];
    table[`${user}/calendars/:calendarId`] = [{ method: 'GET', handler: calendar }];
    table[`${user}/mailboxSettings`] = [{ method: 'GET', handler: mailboxSettings() }];
    table[`${user}/mailboxSettings/timeZone`] = [{ method: 'GET', handler: mailboxSettings('timeZone') }];
  }

  for (const [url, routes] of Object.entries(table)) {
    for (const r of routes) {
      app.route({ method: r.method, url, handler: r.handler, ...(r.json ? { preValidation: requireJsonBody } : {}) });
    }
    refuseOtherMethods(
      app,
      url,
      routes.map((r) => r.method),
    );
  }
}

/** §4.1, §6: a body needs Content-Type: application/json, or Outlook cannot deserialize it. */
async function requireJsonBody(request: FastifyRequest) {
  const ct = request.headers['content-type'];
  if (!ct || !/^application\/json\b/i.test(ct)) {
    // cancel's body is optional: no body and no Content-Type is a cancel without comment.
    if (!ct && request.body === undefined && /\/cancel$/i.test(request.routeOptions.url ?? '')) return;
    throw unableToDeserializePostBody(`Content-Type '${ct ?? ''}' is not application/json`);
  }
}

const selectList = (select: string | undefined) =>
  select
    ?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);

/** RFC 7240 preferences Outlook reads: outlook.timezone and outlook.body-content-type, quoted or not. */
export function parsePrefer(header: string | string[] | undefined): { timezone?: string; bodyContentType?: string } {
  const out: { timezone?: string; bodyContentType?: string } = {};
  const values = Array.isArray(header) ? header.join(',') : (header ?? '');
  for (const part of values.split(',')) {
    const m = /^\s*([\w.-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^;\s]*))/.exec(part);
    if (!m) continue;
    const value = m[2] ?? m[3] ?? m[4] ?? '';
    const name = m[1]!.toLowerCase();
    if (name === 'outlook.timezone') out.timezone = value;
    else if (name === 'outlook.body-content-type') out.bodyContentType = value;
  }
  return out;
}

/** §4.3: the request's own URL with `$skip` moved on, query options kept as the client wrote them. */
function nextLink(origin: string, url: string, skip: number): string {
  const [path, query = ''] = url.split('?', 2) as [string, string?];
  const name = (p: string) => {
    try {
      return decodeURIComponent(p.split('=')[0]!.replace(/\+/g, ' ')).toLowerCase();
    } catch {
      return p;
    }
  };
  const kept = query.split('&').filter((p) => p !== '' && name(p) !== '$skip');
  kept.push(`$skip=${skip}`);
  return `${origin}${path}?${kept.join('&')}`;
}
