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
/**
 * Instance discovery as login.microsoftonline.com answers it (IMPERSONATE=on): the public cloud's entry,
 * with the aliases MSAL also carries in its built-in metadata (preferred_cache login.windows.net), all of
 * them impersonated here. Undefined for any other host (the service's own origin names only itself).
 */
export function entraCloudMetadata(host: string): { preferred_network: string; preferred_cache: string; aliases: string[] }[] | undefined {
  const hostname = host.toLowerCase();
  if (!ENTRA_HOSTS.includes(hostname)) return undefined;
  return [{ preferred_network: 'login.microsoftonline.com', preferred_cache: 'login.windows.net', aliases: [...ENTRA_HOSTS] }];
}

/**
 * Teams' web host: Graph's join links (joinWebUrl, meetingOptionsWebUrl) are on it (fact sheet §0.2), so
 * meetings created through graph.microsoft.com get links there, and it serves the pages behind them.
 */
export const TEAMS_HOSTS: readonly string[] = ['teams.microsoft.com'];
export const IMPERSONATED_HOSTS: readonly string[] = [...GRAPH_HOSTS, ...ENTRA_HOSTS, ...TEAMS_HOSTS];

export interface ImpersonatedHost {
  kind: 'graph' | 'entra' | 'teams';
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
  const kind = GRAPH_HOSTS.includes(hostname)
    ? 'graph'
    : ENTRA_HOSTS.includes(hostname)
      ? 'entra'
      : TEAMS_HOSTS.includes(hostname)
        ? 'teams'
        : undefined;
  if (!kind) return undefined;
  const explicitPort = port !== undefined && Number(port) !== 443 ? `:${Number(port)}` : '';
  return { kind, hostname, origin: `https://${hostname}${explicitPort}` };
}

/** The origin a request addressed to an impersonated host was sent to, or undefined when impersonation is off or the Host is another name. */
export function impersonatedOrigin(enabled: boolean, request: FastifyRequest): string | undefined {
  return enabled ? impersonatedHost(request.headers.host)?.origin : undefined;
}

/**
 * Where a meeting created through graph.microsoft.com points its links: teams.microsoft.com for the join
 * and options links, visit.teams.microsoft.com for the virtual-appointment URL, as Graph's do (§0.2,
 * §3.7); the port stays when the client used one. Undefined for requests to the service's own origin.
 */
export function impersonatedLinkOrigins(enabled: boolean, request: FastifyRequest): { links: string; visit: string } | undefined {
  const host = enabled ? impersonatedHost(request.headers.host) : undefined;
  if (host?.kind !== 'graph') return undefined;
  const port = new URL(host.origin).port;
  const at = (hostname: string) => `https://${hostname}${port ? `:${port}` : ''}`;
  return { links: at(TEAMS_HOSTS[0]!), visit: at(`visit.${TEAMS_HOSTS[0]!}`) };
}

const GRAPH_PATH = /^\/(v1\.0|beta)(\/|\?|$)/i;
const TEAMS_PATH = /^\/(l\/meetup-join|meetingoptions|dialin)(\/|\?|$)/i;

/** Whether an impersonated host serves a path: Graph only /v1.0 and /beta, Teams only the meeting pages, Entra the rest. */
function servedBy(kind: ImpersonatedHost['kind'], url: string): boolean {
  if (kind === 'graph') return GRAPH_PATH.test(url);
  if (kind === 'teams') return TEAMS_PATH.test(url);
  return !GRAPH_PATH.test(url) && !TEAMS_PATH.test(url);
}

/**
 * An onRequest hook keeping each impersonated host to its own service, as the real hosts are.
 * Requests to the service's own origin are untouched.
 */
export function hostRouting(enabled: boolean) {
  return (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) => {
    const host = enabled ? impersonatedHost(request.headers.host) : undefined;
    if (host && !servedBy(host.kind, request.url)) {
      sendGraphError(apiNotSupported(), request, reply);
      return;
    }
    done();
  };
}
