import type { Socket } from 'node:net';
import tls from 'node:tls';
import type { FastifyInstance } from 'fastify';
import { serviceUnavailable } from '../domain/errors.js';

/**
 * Graceful close without cutting answered work. Node's closeIdleConnections() (what Fastify calls on
 * close) counts a connection as idle as soon as a request has been fully received, so a request still
 * being handled can lose its connection after its work was committed, and the client never hears of it.
 * Here every connection counts the requests it has in flight (from onRequest to onResponse); on close,
 * only connections with none are closed at once, and every later response says Connection: close, so
 * each busy connection ends with its last response. Requests that arrive after close began get 503
 * without doing any work.
 */
export function gracefulClose(app: FastifyInstance): void {
  const inFlight = new Map<Socket, number>();
  let closing = false;

  const track = (socket: Socket) => {
    inFlight.set(socket, 0);
    socket.once('close', () => inFlight.delete(socket));
  };
  // Requests see the TLS socket on HTTPS (its raw TCP socket underneath never carries a request).
  app.server.on(app.server instanceof tls.Server ? 'secureConnection' : 'connection', track);

  // Only connections the server accepted are counted (app.inject() requests have no real socket).
  // Callback-style hooks: these run on every request, and an async hook costs a promise each.
  app.addHook('onRequest', (request, _reply, done) => {
    const socket = request.raw.socket;
    const n = inFlight.get(socket);
    if (n !== undefined) inFlight.set(socket, n + 1);
    // A request that arrives once closing has begun may be on a connection already being ended: it is
    // refused before doing any work, so nothing is committed that could not be answered.
    if (closing) return done(serviceUnavailable('The service is shutting down; retry on a new connection.'));
    done();
  });
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (closing) reply.header('connection', 'close');
    done(null, payload);
  });
  app.addHook('onResponse', (request, _reply, done) => {
    const socket = request.raw.socket;
    const n = inFlight.get(socket);
    if (n !== undefined) {
      inFlight.set(socket, n - 1);
      if (closing && n - 1 === 0) socket.end();
    }
    done();
  });
  const closeIdle = () => {
    for (const [socket, n] of inFlight) if (n === 0) socket.end();
  };
  // http.Server.close() calls closeIdleConnections() itself (Node >= 19), with the flawed notion of idle
  // above; this server's own method uses the in-flight counts instead.
  app.server.closeIdleConnections = closeIdle;
  app.addHook('preClose', async () => {
    closing = true;
    closeIdle();
  });
}
