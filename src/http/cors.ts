import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/**
 * CORS as Graph and Entra answer it, so browser apps (msal-browser, a SPA's fetch) can call both.
 * Bearer tokens travel in the Authorization header, never in cookies, so the answer is `*` without
 * credentials: a page of another origin can read a response only with a token it already holds.
 */
const GRAPH_EXPOSED = [
  'ETag',
  'Location',
  'Preference-Applied',
  'Content-Range',
  'request-id',
  'client-request-id',
  'ReadWriteConsistencyToken',
  'SdkVersion',
  'WWW-Authenticate',
  'x-ms-client-gcc-tenant',
  'Retry-After',
].join(', ');
const GRAPH_METHODS = 'GET, POST, PUT, PATCH, DELETE';
const ENTRA_METHODS = 'GET, POST';
/** Preflights are cached for an hour. */
const MAX_AGE = '3600';

/** Headers a browser may send: the ones it asks for, when they are plain header names. */
const allowedHeaders = (request: FastifyRequest) => {
  const asked = request.headers['access-control-request-headers'];
  return typeof asked === 'string' && /^[\w-]+(\s*,\s*[\w-]+)*$/.test(asked.trim()) ? asked : 'Authorization, Content-Type';
};

export function setCorsHeaders(reply: FastifyReply, exposed: string = GRAPH_EXPOSED): void {
  reply.header('access-control-allow-origin', '*').header('access-control-expose-headers', exposed);
}

function preflight(methods: string) {
  return async (request: FastifyRequest, reply: FastifyReply) =>
    reply
      .code(200)
      .header('access-control-allow-origin', '*')
      .header('access-control-allow-methods', methods)
      .header('access-control-allow-headers', allowedHeaders(request))
      .header('access-control-max-age', MAX_AGE)
      .send();
}

/**
 * The Graph prefixes answer preflights with 200 (before authentication: a preflight carries no token)
 * and every cross-origin request gets Access-Control-Allow-Origin and the exposed headers, errors included.
 */
export function graphCors(app: FastifyInstance, prefixes: readonly string[]): void {
  const lower = prefixes.map((p) => `${p.toLowerCase()}/`);
  app.addHook('onRequest', (request, reply, done) => {
    if (request.headers.origin !== undefined && lower.some((p) => request.url.toLowerCase().startsWith(p))) setCorsHeaders(reply);
    done();
  });
  for (const prefix of prefixes) app.options(`${prefix}/*`, preflight(GRAPH_METHODS));
}

/** The Entra endpoints a browser calls (discovery, keys, token): same answer, Entra's methods. */
export function entraCors(app: FastifyInstance, paths: readonly string[]): void {
  app.addHook('onRequest', (request, reply, done) => {
    if (request.headers.origin !== undefined) setCorsHeaders(reply, 'request-id, client-request-id, x-ms-request-id');
    done();
  });
  for (const path of paths) app.options(path, preflight(ENTRA_METHODS));
}
