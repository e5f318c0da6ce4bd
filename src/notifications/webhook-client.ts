import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';

/**
 * The only HTTP client of the service: validation requests and notification deliveries to receivers
 * (graph-meeting-artifacts-spec.md §3.4, §3.8). It guards against server-side request forgery: only the
 * hosts NOTIFICATION_HOSTS lists are reached (loopback names by default), plain http only on loopback
 * (Graph requires https), redirects are never followed, each request has a deadline and the answer is
 * read up to a size limit.
 */
export interface WebhookPolicy {
  /** NOTIFICATION_HOSTS: exact host names or IP literals, `*.example.com` suffixes, or `*` for any host. */
  hosts: readonly string[];
  /** Trusted root certificates for https receivers: Node's bundled roots plus NOTIFICATION_CA_FILES. */
  ca: readonly string[];
}

export const DEFAULT_NOTIFICATION_HOSTS = ['localhost', '127.0.0.1', '::1'] as const;
/** Answers longer than this are cut off: a receiver's body is at most a validation token (§3.4). */
export const MAX_RESPONSE_BYTES = 64 * 1024;

export function webhookPolicy(hosts: readonly string[], caFiles: readonly string[]): WebhookPolicy {
  return { hosts, ca: [...tls.rootCertificates, ...caFiles.map((f) => fs.readFileSync(f, 'utf8'))] };
}

export function isLoopbackName(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || (net.isIPv4(h) && h.startsWith('127.'));
}

/** Why a URL may not receive notifications, or undefined when it may. */
export function refusalReason(raw: string, policy: WebhookPolicy): string | undefined {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'it is not an absolute URL.';
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return 'it must use https.';
  if (url.username || url.password) return 'it must not carry credentials.';
  const host = url.hostname.toLowerCase().replace(/^\[|\]$/g, '');
  if (url.protocol === 'http:' && !isLoopbackName(host)) return 'it must use https (http is accepted for loopback receivers only).';
  const allowed = policy.hosts.some((pattern) => {
    const p = pattern.toLowerCase();
    if (p === '*') return true;
    if (p.startsWith('*.')) return host.endsWith(p.slice(1)) && host.length > p.length - 1;
    return host === p.replace(/^\[|\]$/g, '');
  });
  if (!allowed) return `the host '${host}' is not one notifications may reach (NOTIFICATION_HOSTS).`;
  return undefined;
}

export type PostOutcome =
  | { ok: true; status: number; contentType: string; body: string; durationMs: number }
  | { ok: false; error: 'timeout' | 'network' | 'too-large' | 'refused'; detail: string; durationMs: number };

/** POSTs `body` and reads the answer; never follows redirects (a 3xx is an answer like any other). */
export function post(
  raw: string,
  body: string,
  options: { policy: WebhookPolicy; contentType: string; timeoutMs: number; maxResponseBytes?: number },
): Promise<PostOutcome> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const refused = refusalReason(raw, options.policy);
  if (refused) return Promise.resolve({ ok: false, error: 'refused', detail: refused, durationMs: 0 });
  const url = new URL(raw);
  const limit = options.maxResponseBytes ?? MAX_RESPONSE_BYTES;
  return new Promise((resolve) => {
    let settled = false;
    const finish = (outcome: PostOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(outcome);
    };
    const payload = Buffer.from(body, 'utf8');
    const requestOptions: https.RequestOptions = {
      method: 'POST',
      headers: { 'content-type': options.contentType, 'content-length': payload.length, 'user-agent': 'graph-meetings-notifications' },
      agent: false,
      ...(url.protocol === 'https:' ? { ca: [...options.policy.ca], minVersion: 'TLSv1.2' as const } : {}),
    };
    const req = (url.protocol === 'https:' ? https : http).request(url, requestOptions, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > limit) {
          req.destroy();
          finish({ ok: false, error: 'too-large', detail: `the answer is longer than ${limit} bytes`, durationMs: elapsed() });
          return;
        }
        chunks.push(chunk);
      });
      res.on('end', () =>
        finish({
          ok: true,
          status: res.statusCode ?? 0,
          contentType: String(res.headers['content-type'] ?? ''),
          body: Buffer.concat(chunks).toString('utf8'),
          durationMs: elapsed(),
        }),
      );
      res.on('error', (err) => finish({ ok: false, error: 'network', detail: err.message, durationMs: elapsed() }));
    });
    const timer = setTimeout(() => {
      finish({ ok: false, error: 'timeout', detail: `no answer within ${options.timeoutMs} ms`, durationMs: elapsed() });
      req.destroy();
    }, options.timeoutMs);
    req.on('error', (err) => finish({ ok: false, error: 'network', detail: err.message, durationMs: elapsed() }));
    req.end(payload);
  });
}
