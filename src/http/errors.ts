import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import {
  GraphError,
  internalError,
  invalidRequestBody,
  payloadTooLarge,
  serviceUnavailable,
  unsupportedMediaType,
} from '../domain/errors.js';

/**
 * The one place that writes Graph error bodies: the OData envelope of fact sheet §6.1,
 * {"error":{"code","message","innerError":{"date","request-id","client-request-id"}}}, with the
 * request-id headers set by request-context.ts. 5xx bodies never carry internal details.
 */
export const GRAPH_CONTENT_TYPE = 'application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8';

/** Graph's innerError.date: UTC, whole seconds, no zone designator. */
export const innerErrorDate = (d = new Date()) => d.toISOString().slice(0, 19);

export function graphErrorBody(err: GraphError, request: FastifyRequest) {
  return {
    error: {
      code: err.code,
      message: err.message,
      innerError: {
        ...err.innerError,
        date: innerErrorDate(),
        'request-id': request.id,
        'client-request-id': clientRequestId(request),
      },
    },
  };
}

export function clientRequestId(request: FastifyRequest): string {
  const given = request.headers['client-request-id'];
  return typeof given === 'string' && /^[\w.:-]{1,128}$/.test(given) ? given : request.id;
}

/** Maps anything thrown while serving a Graph request onto the catalog. */
export function toGraphError(err: unknown): GraphError {
  if (err instanceof GraphError) return err;
  const e = err as Partial<FastifyError> & {
    validation?: Array<{ instancePath: string; message?: string; params?: Record<string, unknown>; keyword: string }>;
  };
  if (e.validation && e.validation.length > 0) return validationError(e.validation[0]!, e.validationContext);
  switch (e.code) {
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return unsupportedMediaType(undefined);
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return payloadTooLarge(Number(/(\d+)/.exec(e.message ?? '')?.[1] ?? 0));
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return invalidRequestBody('The request body is empty; send a JSON object.');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return invalidRequestBody('The Content-Length header does not match the body.');
    case 'FST_ERR_BAD_URL':
      return new GraphError(400, 'BadRequest', 'The request URL is malformed.');
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return new GraphError(414, 'RequestUriTooLong', 'A segment of the request path is longer than the server accepts.');
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return invalidRequestBody('The request body is not valid JSON.');
  }
  if (isTransientStoreError(err)) return serviceUnavailable('The service is busy; retry after the time in Retry-After.');
  if (err instanceof SyntaxError || (e.statusCode === 400 && /JSON/i.test(e.message ?? ''))) {
    return invalidRequestBody('The request body is not valid JSON.');
  }
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    return new GraphError(e.statusCode, 'BadRequest', 'The request is invalid.', { detail: e.message });
  }
  return internalError(err);
}

/**
 * Database conditions that pass: SQLite's lock wait ran out (several writer processes), PostgreSQL
 * connection loss, shutdown or resource limits (SQLSTATE classes 08, 53, 57P). Clients get 503 with
 * Retry-After, which both Graph SDKs retry (client-compat §2.5), instead of a 500.
 */
export function isTransientStoreError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return false;
  return (
    code === 'SQLITE_BUSY' ||
    code.startsWith('SQLITE_BUSY_') ||
    code === 'SQLITE_LOCKED' ||
    /^(08|53)[0-9A-Z]{3}$/.test(code) ||
    /^57P0[1-3]$/.test(code) ||
    ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE'].includes(code)
  );
}

function validationError(v: { instancePath: string; message?: string; params?: Record<string, unknown>; keyword: string }, where?: string) {
  const prop = v.instancePath
    .replace(/^\//, '')
    .replace(/\/(\d+)(?=\/|$)/g, '[$1]')
    .replace(/\//g, '.');
  let problem = v.message ?? 'is invalid';
  if (v.keyword === 'enum' && Array.isArray(v.params?.allowedValues)) {
    problem = `must be one of ${(v.params.allowedValues as unknown[]).filter((x) => x !== null).join(', ')}`;
  } else if (v.keyword === 'type') {
    problem = `must be of type ${String(v.params?.type).replace(',null', '')}`;
  } else if (v.keyword === 'maxLength') {
    problem = `must be at most ${String(v.params?.limit)} characters long`;
  } else if (v.keyword === 'maxItems') {
    problem = `must have at most ${String(v.params?.limit)} items`;
  }
  if (!prop)
    return invalidRequestBody(
      where === 'body' ? 'The request body must be a JSON object.' : `Invalid request ${where ?? 'input'}: ${problem}.`,
    );
  return new GraphError(400, 'BadRequest', `Invalid value for property '${prop}': ${problem}.`);
}

export function sendGraphError(err: unknown, request: FastifyRequest, reply: FastifyReply) {
  let graphError = toGraphError(err);
  if (graphError.status === 413) graphError = payloadTooLarge(request.routeOptions?.bodyLimit ?? 0);
  if (graphError.status >= 500) {
    request.log.error({ err: graphError.cause ?? err }, 'request failed');
  } else if (graphError.status === 401) {
    // A refused token, with the reason a client's author needs (which check or claim failed); never the token.
    const reason = graphError.detail ?? graphError.message;
    request.log.info({ code: graphError.code, reason, url: request.url.split('?')[0] }, `refused the access token: ${reason}`);
  } else {
    request.log.info({ code: graphError.code, detail: graphError.detail }, graphError.message);
  }
  // Set here too: errors the router raises before any hook runs still carry the request ids.
  reply.header('request-id', request.id);
  reply.header('client-request-id', clientRequestId(request));
  for (const [k, v] of Object.entries(graphError.headers)) reply.header(k, v);
  return reply.code(graphError.status).type(GRAPH_CONTENT_TYPE).send(graphErrorBody(graphError, request));
}

/**
 * Errors Node's HTTP parser raises before a request exists (headers or URL too large, a malformed
 * request line, headers that never finish arriving) are answered here, in the same envelope, on the
 * raw socket, and the connection is closed.
 */
export function answerClientError(err: Error & { code?: string }, socket: Duplex): void {
  if (err.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const [status, code, message] =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'RequestHeaderFieldsTooLarge', 'The request line or headers are larger than the server accepts.']
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'RequestTimeout', 'The request did not arrive in time.']
        : [400, 'BadRequest', 'The request is not valid HTTP.'];
  const id = randomUUID();
  const body = JSON.stringify({
    error: { code, message, innerError: { date: innerErrorDate(), 'request-id': id, 'client-request-id': id } },
  });
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: ${GRAPH_CONTENT_TYPE}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
      `request-id: ${id}\r\nclient-request-id: ${id}\r\nConnection: close\r\n\r\n${body}`,
  );
}
