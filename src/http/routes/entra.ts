import { GraphError } from '../../domain/errors.js';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { stsIssuer } from '../../identity/access-tokens.js';
import { EntraError, entra } from '../../identity/entra-errors.js';
import { tenantAlias, type TokenService } from '../../identity/token-service.js';
import { entraV1Routes } from './entra-v1.js';
import type { SigningKeyStore } from '../../identity/signing-keys.js';
import { findTenant } from '../../storage/repositories/directory-repository.js';
import type { Kysely } from 'kysely';
import type { Database } from '../../storage/tables.js';
import { entraCors } from '../cors.js';

export interface EntraRoutesOptions {
  db: Kysely<Database>;
  tokens: TokenService;
  keys: SigningKeyStore;
  /** The origin a request reached us on (client-compat §1.5: the issuer must match it). */
  requestOrigin: (request: FastifyRequest) => string;
}

/**
 * The emulated Microsoft Entra ID endpoints (client-compat §7): OIDC discovery, token, JWKS. `{tenant}`
 * is a tenant id or one of its domains. Errors use Entra's shape, not Graph's.
 */
export async function entraRoutes(app: FastifyInstance, opts: EntraRoutesOptions): Promise<void> {
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
    const params = new URLSearchParams(body as string);
    const seen = new Set<string>();
    for (const key of params.keys()) {
      if (seen.has(key)) return done(new EntraError(400, 'invalid_request', 90015, `Parameter '${key}' is duplicated.`), undefined);
      seen.add(key);
    }
    done(null, Object.fromEntries(params));
  });

  // Browser apps (msal-browser) read discovery, keys and the token endpoint cross-origin.
  entraCors(app, ['/:tenant/oauth2/v2.0/token', '/:tenant/v2.0/.well-known/openid-configuration', '/:tenant/discovery/v2.0/keys']);

  app.setErrorHandler((err, request, reply) => {
    const e = err instanceof EntraError ? err : toEntraError(err);
    if (e.status >= 500) request.log.error({ err }, 'token endpoint failed');
    if (e.status === 429) reply.header('retry-after', '1');
    // A refused sign-in, with Entra's AADSTS code and reason (never the secret, password or token sent).
    else
      request.log.info(
        { aadsts: e.aadsts, error: e.error, reason: e.description },
        `refused the sign-in: AADSTS${e.aadsts} ${e.description}`,
      );
    return reply
      .code(e.status)
      .header('cache-control', 'no-store')
      .send(e.body(String(request.headers['client-request-id'] ?? request.id)));
  });

  // /common, /organizations and /consumers have discovery documents too, with Entra's `{tenantid}` placeholder issuer.
  const tenantOf = async (segment: string) => {
    if (tenantAlias(segment)) return { id: '{tenantid}' };
    const tenant = await findTenant(opts.db, segment);
    if (!tenant) throw entra.tenantNotFound(segment);
    return tenant;
  };

  app.get<{ Params: { tenant: string } }>('/:tenant/v2.0/.well-known/openid-configuration', async (request) => {
    const tenant = await tenantOf(request.params.tenant);
    const origin = opts.requestOrigin(request);
    const t = encodeURIComponent(request.params.tenant);
    return {
      token_endpoint: `${origin}/${t}/oauth2/v2.0/token`,
      token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
      jwks_uri: `${origin}/${t}/discovery/v2.0/keys`,
      response_modes_supported: ['query', 'fragment', 'form_post'],
      subject_types_supported: ['pairwise'],
      id_token_signing_alg_values_supported: ['RS256'],
      response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
      scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
      issuer: `${origin}/${tenant.id}/v2.0`,
      request_uri_parameter_supported: false,
      userinfo_endpoint: `${origin}/${t}/openid/userinfo`,
      authorization_endpoint: `${origin}/${t}/oauth2/v2.0/authorize`,
      device_authorization_endpoint: `${origin}/${t}/oauth2/v2.0/devicecode`,
      http_logout_supported: true,
      frontchannel_logout_supported: true,
      end_session_endpoint: `${origin}/${t}/oauth2/v2.0/logout`,
      claims_supported: ['sub', 'iss', 'aud', 'exp', 'iat', 'nonce', 'preferred_username', 'name', 'tid', 'ver', 'oid'],
      tenant_region_scope: null,
      cloud_instance_name: 'microsoftonline.com',
      cloud_graph_host_name: 'graph.windows.net',
      msgraph_host: 'graph.microsoft.com',
    };
  });

  // The v1 discovery document (what v1-era libraries and middleware read). Its issuer is Entra's v1 issuer,
  // https://sts.windows.net/{tid}/ on every host, the `iss` of the access tokens issued here; the endpoints
  // are on the host the client used. The keys are the same as v2.0's.
  app.get<{ Params: { tenant: string } }>('/:tenant/.well-known/openid-configuration', async (request) => {
    const tenant = await tenantOf(request.params.tenant);
    const origin = opts.requestOrigin(request);
    const t = encodeURIComponent(request.params.tenant);
    return {
      token_endpoint: `${origin}/${t}/oauth2/token`,
      token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
      jwks_uri: `${origin}/${t}/discovery/v2.0/keys`,
      response_modes_supported: ['query', 'fragment', 'form_post'],
      subject_types_supported: ['pairwise'],
      id_token_signing_alg_values_supported: ['RS256'],
      response_types_supported: ['code', 'id_token', 'code id_token', 'token id_token', 'token'],
      scopes_supported: ['openid'],
      issuer: stsIssuer(tenant.id),
      microsoft_multi_refresh_token: true,
      authorization_endpoint: `${origin}/${t}/oauth2/authorize`,
      device_authorization_endpoint: `${origin}/${t}/oauth2/devicecode`,
      http_logout_supported: true,
      frontchannel_logout_supported: true,
      end_session_endpoint: `${origin}/${t}/oauth2/logout`,
      claims_supported: [
        'sub',
        'iss',
        'aud',
        'exp',
        'iat',
        'auth_time',
        'acr',
        'amr',
        'nonce',
        'email',
        'given_name',
        'family_name',
        'nickname',
      ],
      userinfo_endpoint: `${origin}/${t}/openid/userinfo`,
      tenant_region_scope: null,
      cloud_instance_name: 'microsoftonline.com',
      cloud_graph_host_name: 'graph.windows.net',
      msgraph_host: 'graph.microsoft.com',
    };
  });

  app.get<{ Params: { tenant: string } }>('/:tenant/discovery/v2.0/keys', async (request) => {
    const tenant = await tenantOf(request.params.tenant);
    return opts.keys.jwks(`${opts.requestOrigin(request)}/${tenant.id}/v2.0`);
  });

  // The client sends ?client-request-id=…: route on the path, ignore the query (client-compat §1.9).
  app.post<{ Params: { tenant: string } }>(
    '/:tenant/oauth2/v2.0/token',
    async (request: FastifyRequest<{ Params: { tenant: string } }>, reply: FastifyReply) => {
      requireFormBody(request);
      const params = (request.body ?? {}) as Record<string, string>;
      const result = await opts.tokens.token(
        request.params.tenant,
        params,
        basicAuth(request.headers.authorization),
        (tid) => `${opts.requestOrigin(request)}/${tid}/v2.0`,
        {
          sourceAddress: request.ip,
          origin: typeof request.headers.origin === 'string' ? request.headers.origin : undefined,
          requestOrigin: opts.requestOrigin(request),
        },
      );
      // Tokens must not be cached by anything in between (RFC 6749 §5.1).
      return reply.header('cache-control', 'no-store').header('pragma', 'no-cache').send(result);
    },
  );

  await entraV1Routes(app, opts);
}

/** The token endpoints (v2 and v1) take only form-encoded bodies, as Entra does (AADSTS900144). */
export function requireFormBody(request: FastifyRequest): void {
  const ct = String(request.headers['content-type'] ?? '');
  if (!ct.toLowerCase().startsWith('application/x-www-form-urlencoded')) throw entra.notFormEncoded();
}

export function basicAuth(header: string | undefined): { id: string; secret: string } | undefined {
  const m = header && /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
  if (!m) return undefined;
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const i = decoded.indexOf(':');
  if (i < 0) return undefined;
  try {
    // RFC 6749 §2.3.1: both parts are form-urlencoded before base64.
    return {
      id: decodeURIComponent(decoded.slice(0, i).replace(/\+/g, ' ')),
      secret: decodeURIComponent(decoded.slice(i + 1).replace(/\+/g, ' ')),
    };
  } catch {
    return undefined;
  }
}

function toEntraError(err: unknown): EntraError {
  const e = err as { code?: string; statusCode?: number };
  if (e.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return entra.notFormEncoded();
  // Fastify's refusals carry statusCode; the shared body parser's (invalid UTF-8, lone surrogates) are GraphErrors.
  if ((typeof e.statusCode === 'number' && e.statusCode < 500) || (err instanceof GraphError && err.status < 500))
    return new EntraError(400, 'invalid_request', 90014, 'The request is malformed.');
  return entra.serverError();
}
