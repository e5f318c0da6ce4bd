import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { badRequest, GraphError, queryOptionNotSupported } from '../../domain/errors.js';
import { refuseOtherMethods } from '../method-not-allowed.js';
import { parseUserFilter, unknownUserProperty, type UserFilter } from '../../domain/users/user-filter.js';
import { DEFAULT_USER_PROPERTIES, graphUser, SELECTABLE_USER_PROPERTIES } from '../../domain/users/user-profile.js';
import { countNotSupported, type UserPath, type UserService } from '../../domain/users/user-service.js';
import { isGuid } from '../../storage/repositories/directory-repository.js';
import type { Principal } from '../../identity/access-tokens.js';
import type { UserRow } from '../../storage/tables.js';
import { GRAPH_CONTENT_TYPE } from '../errors.js';

export interface UserRoutesOptions {
  users: UserService;
  authenticate: (authorization: string | undefined) => Promise<Principal>;
  origin: () => string;
}

const DEFAULT_PAGE_SIZE = 100;
const MAX_PAGE_SIZE = 999;
const SUPPORTED = ['$filter', '$select', '$top', '$count', '$skiptoken', '$search'];

/**
 * GET /me, /users/{id | userPrincipalName}, /users and /users/$count under one version prefix
 * (fact sheet §5.1). The query options follow Graph's directory rules: $count (as a parameter or a
 * segment) and endswith need `ConsistencyLevel: eventual`; pages hold 100 users unless $top says
 * otherwise (1-999) and continue through @odata.nextLink's $skiptoken.
 */
export async function userRoutes(app: FastifyInstance, opts: UserRoutesOptions): Promise<void> {
  const { users } = opts;
  const version = app.prefix.replace(/^\//, '');
  const serviceRoot = () => `${opts.origin()}/${version}`;

  app.decorateRequest('principal', undefined as never);
  app.addHook('onRequest', async (request) => {
    request.principal = await opts.authenticate(request.headers.authorization);
  });

  const send = (reply: FastifyReply, body: unknown) =>
    reply.code(200).type(GRAPH_CONTENT_TYPE).header('x-ms-resource-unit', '1').send(JSON.stringify(body));

  const one = async (request: FastifyRequest, reply: FastifyReply, path: UserPath) => {
    const q = queryOptions(request);
    for (const k of ['$filter', '$top', '$count', '$skiptoken', '$search'] as const)
      if (q[k] !== undefined) throw queryOptionNotSupported(k);
    const select = selectList(q.$select);
    const user = await users.get(request.principal, path);
    return send(reply, { '@odata.context': `${serviceRoot()}/$metadata#${usersContext(select)}/$entity`, ...userJson(user, select) });
  };

  app.get('/me', (request, reply) => one(request, reply, { me: true }));
  app.get('/users/:userId', (request, reply) => {
    const raw = (request.params as { userId: string }).userId;
    // Graph's key syntax, needed for UPNs that start with $: /users('$x@contoso.com').
    const key = /^\('(.*)'\)$/s.exec(raw)?.[1]?.replace(/''/g, "'") ?? raw;
    return one(request, reply, { me: false, userId: key });
  });

  app.get('/users', async (request, reply) => {
    const q = queryOptions(request);
    const eventual = consistencyEventual(request);
    const count = parseCount(q.$count);
    if (q.$search !== undefined) {
      if (!eventual)
        throw new GraphError(
          400,
          'Request_UnsupportedQuery',
          "Request with $search query parameter only works through MSGraph with a special request header: 'ConsistencyLevel: eventual'",
        );
      throw queryOptionNotSupported('$search');
    }
    if (count && !eventual) throw countNotSupported();
    const filter = q.$filter === undefined ? undefined : parseUserFilter(q.$filter, eventual && count);
    const select = selectList(q.$select);
    const top = parseTop(q.$top);
    const afterId = q.$skiptoken === undefined ? undefined : parseSkipToken(q.$skiptoken);
    const page = await users.list(request.principal, { filter, afterId, top, count });
    const body: Record<string, unknown> = { '@odata.context': `${serviceRoot()}/$metadata#${usersContext(select)}` };
    if (page.count !== undefined) body['@odata.count'] = page.count;
    if (page.nextAfter !== undefined) body['@odata.nextLink'] = nextLink(serviceRoot(), request.url, page.nextAfter);
    body.value = page.users.map((u) => userJson(u, select));
    return send(reply, body);
  });

  app.get('/users/$count', async (request, reply) => {
    const q = queryOptions(request);
    for (const k of ['$select', '$top', '$count', '$skiptoken', '$search'] as const)
      if (q[k] !== undefined) throw queryOptionNotSupported(k);
    if (!consistencyEventual(request)) throw countNotSupported();
    const filter: UserFilter | undefined = q.$filter === undefined ? undefined : parseUserFilter(q.$filter, true);
    const n = await users.count(request.principal, filter);
    return reply.code(200).type('text/plain;charset=utf-8').send(String(n));
  });

  // user: revokeSignInSessions (issue #11 item 9): Graph answers 200 with an Edm.Boolean, not 204.
  const revoke = async (reply: FastifyReply, path: UserPath) => {
    await users.revokeSignInSessions(reply.request.principal, path);
    return send(reply, { '@odata.context': `${serviceRoot()}/$metadata#Edm.Boolean`, value: true });
  };
  app.post('/me/revokeSignInSessions', (_request, reply) => revoke(reply, { me: true }));
  app.post('/users/:userId/revokeSignInSessions', (request, reply) => {
    const raw = (request.params as { userId: string }).userId;
    const key = /^\('(.*)'\)$/s.exec(raw)?.[1]?.replace(/''/g, "'") ?? raw;
    return revoke(reply, { me: false, userId: key });
  });

  for (const url of ['/me', '/users', '/users/:userId', '/users/$count']) refuseOtherMethods(app, url, ['GET']);
}

function queryOptions(request: FastifyRequest): Record<string, string | undefined> {
  const query = request.query as Record<string, string | string[]>;
  const out: Record<string, string | undefined> = {};
  for (const [key, value] of Object.entries(query)) {
    if (!key.startsWith('$')) continue;
    const canonical = SUPPORTED.find((s) => s === key.toLowerCase());
    if (!canonical) throw queryOptionNotSupported(key);
    if (Array.isArray(value)) throw badRequest(`The query option '${key}' was given more than once.`);
    out[canonical] = value;
  }
  return out;
}

const consistencyEventual = (request: FastifyRequest) => {
  const h = request.headers.consistencylevel;
  return typeof h === 'string' && h.trim().toLowerCase() === 'eventual';
};

function parseCount(raw: string | undefined): boolean {
  if (raw === undefined) return false;
  const v = raw.trim().toLowerCase();
  if (v === 'true') return true;
  if (v === 'false') return false;
  throw badRequest(`'${raw.slice(0, 64)}' is not a valid count option.`);
}

function parseTop(raw: string | undefined): number {
  if (raw === undefined) return DEFAULT_PAGE_SIZE;
  const n = /^\s*\d{1,9}\s*$/.test(raw) ? Number(raw) : NaN;
  if (!(n >= 1 && n <= MAX_PAGE_SIZE))
    throw new GraphError(
      400,
      'Request_BadRequest',
      `Invalid page size specified: '${raw.slice(0, 64)}'. Must be between 1 and ${MAX_PAGE_SIZE} inclusive.`,
    );
  return n;
}

/** The page cursor: the last id of the previous page, so pages stay stable while users are added. */
const skipToken = (afterId: string) => Buffer.from(`users:${afterId}`).toString('base64url');

function parseSkipToken(raw: string): string {
  const decoded = raw.length <= 200 ? Buffer.from(raw, 'base64url').toString('utf8') : '';
  const id = decoded.startsWith('users:') ? decoded.slice(6) : '';
  if (!isGuid(id)) throw new GraphError(400, 'Request_BadRequest', 'The specified page token value is invalid.');
  return id;
}

/** The request's own query with the next $skiptoken, as Graph's @odata.nextLink. */
function nextLink(root: string, url: string, afterId: string): string {
  const [path, query = ''] = url.split('?', 2) as [string, string?];
  const kept = query.split('&').filter((p) => p !== '' && !/^(\$|%24)skiptoken=/i.test(p));
  kept.push(`$skiptoken=${skipToken(afterId)}`);
  return `${root}${path.replace(/^\/(v1\.0|beta)/i, '')}?${kept.join('&')}`;
}

function selectList(raw: string | undefined): string[] | undefined {
  if (raw === undefined) return undefined;
  const names = raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (names.length === 0 || names.includes('*')) return undefined;
  return names.map((n) => {
    const canonical = SELECTABLE_USER_PROPERTIES.get(n.toLowerCase());
    if (!canonical) throw unknownUserProperty(n.slice(0, 128));
    return canonical;
  });
}

const usersContext = (select: string[] | undefined) => (select ? `users(${select.join(',')})` : 'users');

function userJson(row: UserRow, select: string[] | undefined): Record<string, unknown> {
  const all = graphUser(row);
  const names: readonly string[] = select ?? DEFAULT_USER_PROPERTIES;
  const wanted = new Set(names);
  return Object.fromEntries(Object.entries(all).filter(([k]) => wanted.has(k)));
}
