import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { badRequest, queryOptionNotSupported } from '../../domain/errors.js';
import type { SubscriptionService } from '../../domain/notifications/subscription-service.js';
import type { Principal } from '../../identity/access-tokens.js';
import { GRAPH_CONTENT_TYPE } from '../errors.js';
import { subscriptionJson } from '../subscription-view.js';

export interface SubscriptionRoutesOptions {
  subscriptions: SubscriptionService;
  authenticate: (authorization: string | undefined) => Promise<Principal>;
  origin: (request: FastifyRequest) => string;
  /** A subscription was created or changed: the deliverer may have lifecycle work. */
  changed?: () => void;
}

const PAGE_SIZE = 100;

/**
 * /subscriptions under one version prefix (graph-meeting-artifacts-spec.md §3.2): create (validated
 * synchronously, 201), list (paged, clientState hidden), get, PATCH renew, POST …/reauthorize (204) and
 * DELETE (204). The collection supports no query options but the $skiptoken of its own nextLink (§3.1).
 */
export async function subscriptionRoutes(app: FastifyInstance, opts: SubscriptionRoutesOptions): Promise<void> {
  const { subscriptions } = opts;
  const version = app.prefix.replace(/^\//, '');
  const context = (request: FastifyRequest) => `${opts.origin(request)}/${version}/$metadata#subscriptions`;

  app.decorateRequest('principal', undefined as never);
  app.addHook('onRequest', async (request) => {
    request.principal = await opts.authenticate(request.headers.authorization);
  });
  const send = (reply: FastifyReply, status: number, body: unknown) =>
    reply.code(status).type(GRAPH_CONTENT_TYPE).send(JSON.stringify(body));
  const noQuery = (request: FastifyRequest) => {
    for (const k of Object.keys(request.query as object)) if (k.startsWith('$')) throw queryOptionNotSupported(k);
  };
  const id = (request: FastifyRequest) => (request.params as { id: string }).id.replace(/^\('(.*)'\)$/s, '$1');

  app.post('/subscriptions', async (request, reply) => {
    noQuery(request);
    const row = await subscriptions.create(request.principal, request.body);
    opts.changed?.();
    return send(reply, 201, { '@odata.context': `${context(request)}/$entity`, ...subscriptionJson(row) });
  });

  app.get('/subscriptions', async (request, reply) => {
    const query = request.query as Record<string, string | string[]>;
    let afterId: string | undefined;
    for (const [k, v] of Object.entries(query)) {
      if (!k.startsWith('$')) continue;
      if (k.toLowerCase() !== '$skiptoken') throw queryOptionNotSupported(k);
      if (typeof v !== 'string' || !/^[0-9a-f-]{36}$/i.test(v)) throw badRequest('The $skiptoken is not valid.');
      afterId = v;
    }
    const page = await subscriptions.list(request.principal, afterId, PAGE_SIZE);
    const body: Record<string, unknown> = { '@odata.context': context(request) };
    if (page.more && page.rows.length > 0) {
      body['@odata.nextLink'] = `${opts.origin(request)}/${version}/subscriptions?$skiptoken=${page.rows.at(-1)!.id}`;
    }
    body.value = page.rows.map((r) => subscriptionJson(r, { hideClientState: true }));
    return send(reply, 200, body);
  });

  app.get('/subscriptions/:id', async (request, reply) => {
    noQuery(request);
    const row = await subscriptions.get(request.principal, id(request));
    return send(reply, 200, { '@odata.context': `${context(request)}/$entity`, ...subscriptionJson(row) });
  });

  app.patch('/subscriptions/:id', async (request, reply) => {
    noQuery(request);
    const row = await subscriptions.update(request.principal, id(request), request.body);
    opts.changed?.();
    return send(reply, 200, { '@odata.context': `${context(request)}/$entity`, ...subscriptionJson(row) });
  });

  app.post('/subscriptions/:id/reauthorize', async (request, reply) => {
    await subscriptions.reauthorize(request.principal, id(request));
    return reply.code(204).send();
  });

  app.delete('/subscriptions/:id', async (request, reply) => {
    await subscriptions.delete(request.principal, id(request));
    return reply.code(204).send();
  });
}
