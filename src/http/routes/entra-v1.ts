import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { decodeJwt } from 'jose';
import { GRAPH_AUDIENCES, GRAPH_RESOURCE } from '../../identity/access-tokens.js';
import { entra } from '../../identity/entra-errors.js';
import { tenantAlias, type TokenResponse } from '../../identity/token-service.js';
import { findTenant } from '../../storage/repositories/directory-repository.js';
import { findApiApplication } from '../../storage/repositories/app-credentials-repository.js';
import type { EntraRoutesOptions } from './entra.js';
import { basicAuth, requireFormBody } from './entra.js';

/** Grants the v1 endpoint serves here; on-behalf-of is v2-only in this emulator. */
const V1_GRANTS = ['client_credentials', 'password', 'refresh_token', 'authorization_code'];
const DELEGATED_GRANTS = ['password', 'refresh_token', 'authorization_code'];

/** The v1 answer: every number as a string, `expires_on`/`not_before` as epoch seconds, and the `resource`. */
export interface V1TokenResponse {
  token_type: 'Bearer';
  scope?: string;
  expires_in: string;
  ext_expires_in: string;
  expires_on: string;
  not_before: string;
  resource: string;
  access_token: string;
  refresh_token?: string;
  id_token?: string;
}

/**
 * The Azure AD v1 token endpoint, `POST /{tenant}/oauth2/token`, which older integrations still default to:
 * the resource is named by `resource=` (an App ID URI such as https://graph.microsoft.com) instead of
 * scopes. Each request is translated to the v2 grant it stands for (`{resource}/.default`, so the token
 * carries every consented scope, and refresh tokens for delegated grants, which v1 always issues) and
 * answered in v1's shape. Registered inside entraRoutes, so it shares the form parser and Entra's errors.
 */
export async function entraV1Routes(app: FastifyInstance, opts: EntraRoutesOptions): Promise<void> {
  /** The scope base of a v1 `resource`: Graph, or an exposed API's api://{clientId}; undefined when unknown. */
  const resourceBase = async (resourceParam: string): Promise<string | undefined> => {
    const r = resourceParam.replace(/\/+$/, '');
    if (r.toLowerCase() === GRAPH_RESOURCE || r.toLowerCase() === GRAPH_AUDIENCES[1]) return GRAPH_RESOURCE;
    const api = await findApiApplication(opts.db, r);
    return api ? `api://${api.client_id}` : undefined;
  };

  // v1's authorize: the same sign-in as v2's (issue #12), the resource becoming `{resource}/.default`. The
  // browser is sent on to /oauth2/v2.0/authorize with every other parameter as given; the code it brings
  // back is redeemed at the v1 token endpoint below with `resource=`.
  app.get<{ Params: { tenant: string }; Querystring: Record<string, string> }>('/:tenant/oauth2/authorize', async (request, reply) => {
    if (!tenantAlias(request.params.tenant) && !(await findTenant(opts.db, request.params.tenant))) {
      throw entra.tenantNotFound(request.params.tenant);
    }
    const query = new URLSearchParams(request.query as Record<string, string>);
    const resourceParam = query.get('resource');
    let scope = 'openid profile offline_access';
    if (resourceParam !== null) {
      const base = await resourceBase(resourceParam);
      if (!base) throw entra.resourceNotFound(resourceParam, request.params.tenant);
      scope = `${base}/.default ${scope}`;
    }
    query.delete('resource');
    query.set('scope', scope);
    return reply.redirect(`/${encodeURIComponent(request.params.tenant)}/oauth2/v2.0/authorize?${query.toString()}`, 302);
  });

  app.post<{ Params: { tenant: string } }>(
    '/:tenant/oauth2/token',
    async (request: FastifyRequest<{ Params: { tenant: string } }>, reply: FastifyReply) => {
      requireFormBody(request);
      const params = { ...((request.body ?? {}) as Record<string, string>) };
      const grant = params.grant_type;
      if (grant && !V1_GRANTS.includes(grant)) throw entra.unsupportedGrant(grant);
      const delegated = grant !== undefined && DELEGATED_GRANTS.includes(grant);
      // v1 refresh may omit the resource: it stays the one the original token was for (the refresh token
      // records it; the grant verifies the token, this unverified read only picks the default).
      const resourceParam = params.resource ?? (grant === 'refresh_token' ? refreshResource(params.refresh_token) : undefined);
      if (grant && resourceParam === undefined) throw entra.missingParameter('resource');
      let resource = GRAPH_RESOURCE;
      let base = GRAPH_RESOURCE;
      if (resourceParam !== undefined) {
        const found = await resourceBase(resourceParam);
        if (!found) throw entra.resourceNotFound(resourceParam, request.params.tenant);
        resource = resourceParam;
        base = found;
      }
      const openid = (params.scope ?? '').split(' ').includes('openid');
      params.scope = delegated ? `${base}/.default offline_access${openid ? ' openid' : ''}` : `${base}/.default`;
      delete params.resource;

      const origin = opts.requestOrigin(request);
      const v2 = await opts.tokens.token(
        request.params.tenant,
        params,
        basicAuth(request.headers.authorization),
        (tid) => `${origin}/${tid}/v2.0`,
        { requestOrigin: origin },
      );
      return reply
        .header('cache-control', 'no-store')
        .header('pragma', 'no-cache')
        .send(toV1(v2, resource, openid));
    },
  );
}

/** The resource a refresh token was issued for (Graph for tokens that predate the claim, or unreadable ones). */
function refreshResource(refreshToken: string | undefined): string {
  try {
    const resource = refreshToken ? decodeJwt(refreshToken).resource : undefined;
    return typeof resource === 'string' ? resource : GRAPH_RESOURCE;
  } catch {
    return GRAPH_RESOURCE; // the grant answers AADSTS9002313 for it
  }
}

function toV1(v2: TokenResponse, resource: string, openid: boolean): V1TokenResponse {
  // The access token's own nbf and exp, which the service clock set (deterministic mode, CLOCK): never the host's time.
  const { nbf, exp } = decodeJwt(v2.access_token);
  const out: V1TokenResponse = {
    token_type: 'Bearer',
    ...(v2.scope !== undefined
      ? {
          scope: v2.scope
            .split(' ')
            .map((s) => s.slice(s.lastIndexOf('/') + 1))
            .join(' '),
        }
      : {}),
    expires_in: String(v2.expires_in),
    ext_expires_in: String(v2.ext_expires_in),
    expires_on: String(exp),
    not_before: String(nbf),
    resource,
    access_token: v2.access_token,
  };
  if (v2.refresh_token) out.refresh_token = v2.refresh_token;
  if (openid && v2.id_token) out.id_token = v2.id_token;
  return out;
}
