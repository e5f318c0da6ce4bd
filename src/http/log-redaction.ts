import type { FastifyRequest } from 'fastify';

/**
 * What a request line may show in the log (issue #11 item 6). Credentials travel in headers and bodies,
 * which are redacted or not logged, but clients also put them in query strings
 * (`/oauth2/v2.0/token?client_secret=…&password=…`), and a join link opens a meeting's page to whoever
 * holds it. So Entra endpoints are logged by path alone, a join link's path is masked in page visits,
 * and quoted values in a `$filter` naming joinWebUrl are masked.
 */
const ENTRA_PATH = /^\/[^/?]+\/(oauth2|v2\.0|discovery|openid)\//i;
const JOIN_PAGE = /^\/l\/meetup-join\//i;
export const MASK = '[masked]';

export function loggableUrl(url: string): string {
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  const query = q < 0 ? '' : url.slice(q + 1);
  if (ENTRA_PATH.test(path)) return path;
  if (JOIN_PAGE.test(path)) return `/l/meetup-join/${MASK}`;
  if (!query) return path;
  let decoded: string;
  try {
    decoded = decodeURIComponent(query.replace(/\+/g, ' '));
  } catch {
    decoded = query;
  }
  if (/joinweburl/i.test(decoded) || /joinweburl/i.test(query)) {
    // Keep which options were asked for, not the link itself.
    const params = new URLSearchParams(query);
    const kept = [...params.entries()].map(([k, v]) => `${k}=${/joinweburl/i.test(v) ? v.replace(/'(?:[^']|'')*'/g, `'${MASK}'`) : v}`);
    return `${path}?${kept.join('&')}`;
  }
  return url;
}

/** pino's request serializer with the URL made loggable (Fastify's default fields otherwise). */
export function serializeRequest(request: FastifyRequest) {
  return {
    method: request.method,
    url: loggableUrl(request.url),
    host: request.host,
    remoteAddress: request.ip,
    remotePort: request.socket?.remotePort,
  };
}
