import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import { apiNotSupported } from '../domain/errors.js';
import { sendGraphError } from './errors.js';

/**
 * Answering as Microsoft's own host names (IMPERSONATE=on, README "Answering as graph.microsoft.com"):
 * unchanged apps that hard-code https://graph.microsoft.com and https://login.microsoftonline.com reach
 * this service through a proxy (src/http/impersonation-proxy.ts) or a hosts entry, and everything they
 * are told (issuers, discovery documents, @odata.context) names the real hosts, as Microsoft's do.
 */

/** Graph's host. */
export const GRAPH_HOSTS: readonly string[] = ['graph.microsoft.com'];
/**
 * Entra's hosts: login.microsoftonline.com (MSAL's default authority and instance discovery) and its
 * aliases in MSAL's own cloud metadata (login.windows.net, login.microsoft.com, sts.windows.net), which
 * older libraries and the v1 issuer use.
 */
export const ENTRA_HOSTS: readonly string[] = ['login.microsoftonline.com', 'login.windows.net', 'login.microsoft.com', 'sts.windows.net'];
export const IMPERSONATED_HOSTS: readonly string[] = [...GRAPH_HOSTS, ...ENTRA_HOSTS];

export interface ImpersonatedHost {
  kind: 'graph' | 'entra';
  hostname: string;
  /** https://{hostname}, with the port only when the client used one other than 443 (hosts mode on another port). */
  origin: string;
}

const HOST_HEADER = /^([a-z0-9.-]+?)\.?(?::(\d{1,5}))?$/;

/** The impersonated host a Host header names, or undefined (another name, or a malformed header or port). */
export function impersonatedHost(hostHeader: string | undefined): ImpersonatedHost | undefined {
  const m = HOST_HEADER.exec((hostHeader ?? '').toLowerCase());
  if (!m) return undefined;
  const hostname = m[1]!;
  const port = m[2];
  if (port !== undefined && (Number(port) < 1 || Number(port) > 65535)) return undefined;
  const kind = GRAPH_HOSTS.includes(hostname) ? 'graph' : ENTRA_HOSTS.includes(hostname) ? 'entra' : undefined;
  if (!kind) return undefined;
  const explicitPort = port !== undefined && Number(port) !== 443 ? `:${Number(port)}` : '';
  return { kind, hostname, origin: `https://${hostname}${explicitPort}` };
}

/** The origin a request addressed to an impersonated host was sent to, or undefined when impersonation is off or the Host is another name. */
export function impersonatedOrigin(enabled: boolean, request: FastifyRequest): string | undefined {
  return enabled ? impersonatedHost(request.headers.host)?.origin : undefined;
}

const GRAPH_PATH = /^\/(v1\.0|beta)(\/|\?|$)/i;

/**
 * An onRequest hook keeping each impersonated host to its own service, as the real hosts are:
 * graph.microsoft.com answers only /v1.0 and /beta; the Entra hosts answer everything but those.
 * Requests to the service's own origin are untouched.
 */
export function hostRouting(enabled: boolean) {
  return (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) => {
    const host = enabled ? impersonatedHost(request.headers.host) : undefined;
    if (host && GRAPH_PATH.test(request.url) !== (host.kind === 'graph')) {
      sendGraphError(apiNotSupported(), request, reply);
      return;
    }
    done();
  };
}
