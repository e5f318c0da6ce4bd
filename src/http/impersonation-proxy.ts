import http from 'node:http';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import type { FastifyBaseLogger } from 'fastify';
import { IMPERSONATED_HOSTS } from './host-names.js';

/**
 * PROXY_PORT (IMPERSONATE=on): an HTTP proxy for clients that honour HTTPS_PROXY. It accepts only
 * `CONNECT graph.microsoft.com:443` and the other impersonated hosts (src/http/host-names.ts), and it
 * never opens a connection anywhere: the tunnel's bytes are handed to this service's own HTTPS server,
 * which terminates TLS with the certificate its SNI asks for and serves the request like any other.
 * Any other CONNECT target, and any plain proxied request (GET http://…), gets 403: never an open proxy.
 */
export interface ImpersonationProxy {
  readonly server: http.Server;
  listen(port: number, host: string): Promise<void>;
  /** The bound port, once listening. */
  port(): number | undefined;
  close(): Promise<void>;
}

const ALLOWED_PORT = 443;

export function createImpersonationProxy(
  /** The service's HTTPS server. */
  target: net.Server,
  options: { log: FastifyBaseLogger; headersTimeoutMs: number; maxConnections: number },
): ImpersonationProxy {
  const tunnels = new Set<Duplex>();
  const server = http.createServer((req, res) => {
    // A plain proxied request (absolute URI) or a direct request: nothing here is served in clear text.
    refuse(res, `This proxy only tunnels HTTPS (CONNECT) to ${IMPERSONATED_HOSTS.join(', ')}.`);
    options.log.warn({ method: req.method, url: req.url }, 'impersonation proxy: refused a non-CONNECT request');
  });
  server.headersTimeout = options.headersTimeoutMs;
  server.requestTimeout = 30_000;
  server.maxConnections = options.maxConnections;

  server.on('connect', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    // Node leaves a CONNECT socket without an error listener: a client that resets must not crash the process.
    socket.on('error', () => socket.destroy());
    const wanted = parseAuthority(req.url ?? '');
    if (!wanted || wanted.port !== ALLOWED_PORT || !IMPERSONATED_HOSTS.includes(wanted.host)) {
      options.log.warn({ target: req.url }, 'impersonation proxy: refused CONNECT to a host that is not impersonated');
      const body = `CONNECT is allowed only to ${IMPERSONATED_HOSTS.map((h) => `${h}:${ALLOWED_PORT}`).join(', ')}; this proxy never connects to the internet.\n`;
      socket.end(
        `HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
      return;
    }
    tunnels.add(socket);
    socket.once('close', () => tunnels.delete(socket));
    socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    if (head.length > 0) socket.unshift(head);
    // The HTTPS server takes it from here as if the client had connected to it directly (TLS with SNI,
    // then HTTP): same routes, same hooks, same graceful close.
    target.emit('connection', socket);
  });
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    else socket.destroy();
  });

  return {
    server,
    listen: (port, host) =>
      new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          resolve();
        });
      }),
    port: () => {
      const address = server.address();
      return address && typeof address === 'object' ? address.port : undefined;
    },
    close: () =>
      new Promise((resolve) => {
        if (!server.listening) return resolve();
        server.close(() => resolve());
        // The HTTPS server's own graceful close has ended the tunnels it was serving; what remains is idle.
        server.closeAllConnections();
        for (const socket of tunnels) socket.destroy();
      }),
  };
}

function refuse(res: http.ServerResponse, message: string) {
  const body = `${message}\n`;
  res.writeHead(403, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body), connection: 'close' });
  res.end(body);
}

/** `host:port` of a CONNECT request (RFC 9110 §9.3.6: authority-form), lower-cased; undefined when malformed. */
export function parseAuthority(authority: string): { host: string; port: number } | undefined {
  const m = /^(\[[0-9a-f:.]+\]|[a-z0-9.-]+):(\d{1,5})$/i.exec(authority);
  if (!m) return undefined;
  const port = Number(m[2]);
  if (port < 1 || port > 65535) return undefined;
  const host = m[1]!.toLowerCase().replace(/\.$/, '');
  if (host.startsWith('[') && !net.isIPv6(host.slice(1, -1))) return undefined;
  return { host, port };
}
