import type { FastifyRequest } from 'fastify';

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

/**
 * The origin a request reached us on, for the OIDC issuer and endpoints (client-compat §1.5: the issuer
 * must be on the very origin the client used). The Host header is honoured only for loopback names with
 * a valid port (1–65535: a port mapping in front of the service is legitimate, `:0` or `:99999…` is
 * not) and for PUBLIC_URL's host, which always gets PUBLIC_URL's own scheme: behind a TLS-terminating
 * proxy (`TLS=off PUBLIC_URL=https://…`) the request arrives as plain HTTP but clients used https.
 * With TLS off and PUBLIC_URL set, the service is behind a proxy by declaration, so a loopback Host is
 * the proxy's rewrite, not the client's origin: PUBLIC_URL is answered then too (issue #11 items 3, 8).
 */
export function requestOriginResolver(opts: { tls: boolean; publicUrl: string | undefined; origin: () => string }) {
  return (request: Pick<FastifyRequest, 'headers'>): string => {
    const origin = opts.origin();
    if (!opts.tls && opts.publicUrl) return origin;
    const host = (request.headers.host ?? '').toLowerCase();
    if (host === new URL(origin).host.toLowerCase()) return origin;
    const m = /^(\[::1\]|127\.0\.0\.1|localhost)(?::(\d{1,5}))?$/.exec(host);
    if (m && LOOPBACK_HOSTS.has(m[1]!)) {
      const port = m[2] === undefined ? undefined : Number(m[2]);
      if (port === undefined || (port >= 1 && port <= 65535 && String(port) === m[2])) return `${opts.tls ? 'https' : 'http'}://${host}`;
    }
    return origin;
  };
}
