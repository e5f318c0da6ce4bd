import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { GraphError, methodNotAllowed } from '../../domain/errors.js';
import type { Principal } from '../../identity/access-tokens.js';
import { GRAPH_CONTENT_TYPE } from '../errors.js';

export interface BatchRoutesOptions {
  authenticate: (authorization: string | undefined) => Promise<Principal>;
  /** The root instance's inject: inner requests go through the very same routes, hooks and rules. */
  inject: (opts: InjectOptions) => Promise<LightMyRequestResponse>;
}

/** Fact sheet §4.1. */
export const MAX_BATCH_REQUESTS = 20;
const METHODS = new Set(['GET', 'POST', 'PATCH', 'PUT', 'DELETE']);
const WRITES = new Set(['POST', 'PATCH', 'PUT']);
const MAX_ID_LENGTH = 256;
const MAX_URL_LENGTH = 8192;
/** Inner headers that belong to the outer request or the transport, never to an inner request. */
const DROPPED_HEADERS = new Set(['authorization', 'host', 'content-length', 'transfer-encoding', 'connection', 'expect', 'upgrade']);
/** Inner response headers worth handing back (Graph returns the server's own, e.g. Location, Retry-After). */
const RESPONSE_HEADERS: Record<string, string> = {
  'content-type': 'Content-Type',
  location: 'Location',
  'retry-after': 'Retry-After',
  'cache-control': 'Cache-Control',
  'odata-version': 'OData-Version',
  'x-ms-resource-unit': 'x-ms-resource-unit',
  etag: 'ETag',
};

const invalidBatch = (message = 'Invalid batch payload format.') => new GraphError(400, 'BadRequest', message);

interface Step {
  id: string;
  method: string;
  url: string;
  headers: Record<string, string>;
  body: unknown;
  dependsOn: string[];
}

interface BatchResponse {
  id: string;
  status: number;
  headers: Record<string, string>;
  body?: unknown;
}

/**
 * POST /$batch (fact sheet §4): batching is routing, not a second implementation. Each inner request is
 * replayed through app.inject under the same version prefix with the outer request's token, so it meets
 * exactly the authentication, authorization, validation, throttling and serialization of a direct call.
 */
export async function batchRoutes(app: FastifyInstance, opts: BatchRoutesOptions): Promise<void> {
  const version = app.prefix;

  app.post('/$batch', async (request, reply) => {
    // The outer token must be valid before anything runs; each inner request is authorized on its own.
    await opts.authenticate(request.headers.authorization);
    const ct = request.headers['content-type'];
    if (!ct || !/^application\/json\b/i.test(ct)) throw invalidBatch('A batch request must be application/json.');
    const steps = parseBatch(request.body, version);

    const done = new Map<string, Promise<BatchResponse>>();
    const run = async (step: Step): Promise<BatchResponse> => {
      const deps = await Promise.all(step.dependsOn.map((d) => done.get(d.toLowerCase())!));
      // §4.1: a request whose dependency failed is not run.
      if (deps.some((d) => d.status < 200 || d.status > 299)) return failedDependency(step.id);
      return execute(step);
    };
    const execute = async (step: Step): Promise<BatchResponse> => {
      const headers: Record<string, string> = { ...step.headers };
      if (request.headers.authorization) headers.authorization = request.headers.authorization;
      const res = await opts.inject({
        method: step.method as InjectOptions['method'],
        url: `${version}${step.url}`,
        headers,
        ...(step.body !== undefined ? { payload: encodeBody(step.body, headers['content-type'] ?? '') } : {}),
      });
      return innerResponse(step.id, res);
    };
    for (const step of steps) done.set(step.id.toLowerCase(), run(step));
    const responses = await Promise.all(steps.map((s) => done.get(s.id.toLowerCase())!));
    return reply.code(200).type(GRAPH_CONTENT_TYPE).send(JSON.stringify({ responses }));
  });
  app.route({
    method: ['GET', 'PATCH', 'PUT', 'DELETE'],
    url: '/$batch',
    handler: async (request) => {
      throw methodNotAllowed(request.method);
    },
  });
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Batch-level rules (§4.1): any violation refuses the whole batch with 400 and runs nothing. */
export function parseBatch(body: unknown, version = '/v1.0'): Step[] {
  if (!isObject(body) || !Array.isArray(body.requests)) throw invalidBatch();
  const requests = body.requests as unknown[];
  if (requests.length === 0) throw invalidBatch('A batch needs at least one request.');
  if (requests.length > MAX_BATCH_REQUESTS) throw invalidBatch('Number of requests inside batch exceeds the limit.');
  const seen = new Set<string>();
  const steps: Step[] = [];
  for (const r of requests) {
    if (!isObject(r)) throw invalidBatch();
    const id = typeof r.id === 'number' ? String(r.id) : r.id;
    if (typeof id !== 'string' || id.trim() === '' || id.length > MAX_ID_LENGTH) throw invalidBatch('Each request of a batch needs an id.');
    // Ids are unique regardless of case (§4.1).
    if (seen.has(id.toLowerCase())) throw invalidBatch(`Batch request id '${id}' is not unique.`);
    const method = typeof r.method === 'string' ? r.method.toUpperCase() : '';
    if (!METHODS.has(method)) throw invalidBatch(`Request id : ${id} has an invalid method.`);
    if (typeof r.url !== 'string' || r.url.length === 0 || r.url.length > MAX_URL_LENGTH)
      throw invalidBatch(`Request id : ${id} has an invalid url.`);
    const url = relativeUrl(r.url, id, version);
    let headers: Record<string, string> = {};
    if (r.headers !== undefined && r.headers !== null) {
      if (!isObject(r.headers)) throw invalidBatch(`Request id : ${id} has invalid headers.`);
      headers = {};
      for (const [k, v] of Object.entries(r.headers)) {
        if (typeof v !== 'string' || !/^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,128}$/.test(k) || /[\r\n\0]/.test(v)) {
          throw invalidBatch(`Request id : ${id} has invalid headers.`);
        }
        if (!DROPPED_HEADERS.has(k.toLowerCase())) headers[k.toLowerCase()] = v;
      }
    }
    const body = r.body === null ? undefined : r.body;
    // Graph's own refusal (§4.1): a write needs both a body and its Content-Type.
    if (WRITES.has(method) && (body === undefined || headers['content-type'] === undefined)) {
      throw invalidBatch(`Write request id : ${id} does not contain Content-Type header or body.`);
    }
    let dependsOn: string[] = [];
    if (r.dependsOn !== undefined && r.dependsOn !== null) {
      if (!Array.isArray(r.dependsOn) || !r.dependsOn.every((d) => typeof d === 'string' || typeof d === 'number')) {
        throw invalidBatch(`Invalid dependency for request Id ${id}.`);
      }
      dependsOn = r.dependsOn.map(String);
      // A dependency must come earlier in the batch (which also rules out cycles).
      for (const d of dependsOn) if (!seen.has(d.toLowerCase())) throw invalidBatch(`Invalid dependency for request Id ${id}.`);
    }
    seen.add(id.toLowerCase());
    steps.push({ id, method, url, headers, body, dependsOn });
  }
  return steps;
}

// eslint-disable-next-line no-control-regex -- controls, spaces, fragments and backslashes have no place in a batch url
const UNSAFE_URL_CHARACTERS = /[\u0000-\u0020\u007f#\\]/;

/**
 * A relative URL under the batch's own version: `/me`, `me?$select=…`. graph-client v3 strips only the
 * scheme and host of a full URL, so its steps arrive as `/v1.0/me`: the batch's own version segment is
 * taken off (another version's stays, and finds nothing).
 */
function relativeUrl(raw: string, id: string, version: string): string {
  let url = raw.startsWith('/') ? raw : `/${raw}`;
  if (url.toLowerCase().startsWith(`${version.toLowerCase()}/`)) url = url.slice(version.length);
  const path = url.split('?', 1)[0]!;
  let decoded: string;
  try {
    decoded = decodeURIComponent(path);
  } catch {
    throw invalidBatch(`Request id : ${id} has an invalid url.`);
  }
  // Absolute URLs, dot segments (which could climb out of the version prefix), control characters and
  // nested batches are refused.
  if (
    url.startsWith('//') ||
    /^\/?[a-z][a-z0-9+.-]*:/i.test(raw) ||
    /(^|\/)\.\.?(\/|$)/.test(decoded) ||
    UNSAFE_URL_CHARACTERS.test(url) ||
    /^\/\$batch\/?$/i.test(decoded)
  ) {
    throw invalidBatch(`Request id : ${id} has an invalid url.`);
  }
  return url;
}

/** Inner bodies as Graph takes them: JSON as JSON, text as the string, anything else base64. */
function encodeBody(body: unknown, contentType: string): string | Buffer {
  if (/^application\/(?:[\w.+-]*\+)?json\b/i.test(contentType)) return typeof body === 'string' ? body : JSON.stringify(body);
  if (typeof body !== 'string') return JSON.stringify(body);
  if (/^text\//i.test(contentType)) return body;
  return Buffer.from(body, 'base64');
}

function innerResponse(id: string, res: LightMyRequestResponse): BatchResponse {
  const headers: Record<string, string> = {};
  for (const [k, name] of Object.entries(RESPONSE_HEADERS)) {
    const v = res.headers[k];
    if (v !== undefined) headers[name] = Array.isArray(v) ? v.join(', ') : String(v);
  }
  const out: BatchResponse = { id, status: res.statusCode, headers };
  const contentType = headers['Content-Type'] ?? '';
  if (res.rawPayload.length > 0) {
    if (/^application\/(?:[\w.+-]*\+)?json\b/i.test(contentType)) {
      try {
        out.body = JSON.parse(res.body);
      } catch {
        out.body = res.rawPayload.toString('base64');
      }
    } else if (/^text\//i.test(contentType)) {
      out.body = res.body;
    } else {
      out.body = res.rawPayload.toString('base64');
    }
  }
  return out;
}

function failedDependency(id: string): BatchResponse {
  return {
    id,
    status: 424,
    headers: { 'Content-Type': GRAPH_CONTENT_TYPE },
    body: {
      error: {
        code: 'FailedDependency',
        message: 'The request could not be executed because one of its dependencies failed.',
        innerError: { date: new Date().toISOString().slice(0, 19) },
      },
    },
  };
}
