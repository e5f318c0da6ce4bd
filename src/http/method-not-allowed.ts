import type { FastifyInstance, HTTPMethods } from 'fastify';
import { methodNotAllowed } from '../domain/errors.js';

/** The methods Graph's resources are called with. */
const GRAPH_METHODS: readonly HTTPMethods[] = ['GET', 'POST', 'PATCH', 'PUT', 'DELETE'];

/**
 * Answers 405 (Graph's error body, through the one error writer) for the methods a known path does not serve, as
 * Graph does, instead of the router's 404 (405 is one of Graph's statuses: onlinemeeting spec §6.1).
 */
export function refuseOtherMethods(app: FastifyInstance, url: string, served: readonly HTTPMethods[]): void {
  const others = GRAPH_METHODS.filter((m) => !served.includes(m));
  if (others.length === 0) return;
  app.route({
    method: others,
    url,
    handler: async (request) => {
      throw methodNotAllowed(request.method);
    },
  });
}
