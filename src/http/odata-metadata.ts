import type { FastifyInstance, FastifyRequest } from 'fastify';

/**
 * OData's `odata.metadata` format parameter of Accept (OData JSON Format §3.1), which Graph honours:
 * `none` leaves the control information out (`@odata.context`, `@odata.type`, `@odata.id`, …) except
 * `@odata.nextLink` and `@odata.count`, which a client needs to page; `minimal` is what Graph sends anyway;
 * `full` is served as minimal, as Graph does for the resources here. The response's Content-Type names the
 * level served. Only JSON bodies of Graph routes are touched, and only when `none` is asked for.
 */
export function registerODataMetadata(app: FastifyInstance): void {
  app.addHook('onSend', (request, reply, payload, done) => {
    if (typeof payload !== 'string' || !wantsNoMetadata(request)) return done(null, payload);
    const type = String(reply.getHeader('content-type') ?? '');
    if (!/^application\/json\b/i.test(type) || reply.statusCode >= 400) return done(null, payload);
    let body: unknown;
    try {
      body = JSON.parse(payload);
    } catch {
      return done(null, payload);
    }
    reply.header('content-type', type.replace(/odata\.metadata=\w+/i, 'odata.metadata=none'));
    done(null, JSON.stringify(stripAnnotations(body)));
  });
}

const KEPT = new Set(['@odata.nextLink', '@odata.count', '@odata.deltaLink']);

function wantsNoMetadata(request: FastifyRequest): boolean {
  const accept = request.headers.accept;
  return typeof accept === 'string' && /odata\.metadata\s*=\s*none/i.test(accept) && /^\/(v1\.0|beta)\//i.test(request.url);
}

function stripAnnotations(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(stripAnnotations);
  if (typeof value !== 'object' || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (k.startsWith('@odata.') && !KEPT.has(k)) continue;
    if (/^[^@]+@odata\./.test(k)) continue; // property annotations such as name@odata.type
    out[k] = stripAnnotations(v);
  }
  return out;
}
