import { randomUUID } from 'node:crypto';
import { SignJWT, decodeJwt, decodeProtectedHeader, jwtVerify, type JWTPayload } from 'jose';
import { applicationIdUri } from '../domain/directory/app-credentials-service.js';
import type { Kysely } from 'kysely';
import { APPLICATION_PERMISSIONS, DELEGATED_SCOPES, OIDC_SCOPES, canonicalPermission } from '../domain/directory/permissions.js';
import * as directory from '../storage/repositories/directory-repository.js';
import type { ApplicationRow, Database, TenantRow } from '../storage/tables.js';
import * as creds from '../storage/repositories/app-credentials-repository.js';
import * as refreshTokens from '../storage/repositories/refresh-token-repository.js';
import { GRAPH_AUDIENCES, GRAPH_RESOURCE, type AccessTokens } from './access-tokens.js';
import { authenticateClient, type ClientAuthMethod, type ClientCredentials } from './client-authentication.js';
import { EntraError, entra } from './entra-errors.js';
import { JWT_BEARER_GRANT, onBehalfOf } from './on-behalf-of.js';
import { SignInProtection } from './sign-in-protection.js';
import type { SigningKeyStore } from './signing-keys.js';

export type TokenRequest = Record<string, string | undefined>;

/** What a grant module gets (one module per grant, as node-oidc-provider does; see identity/grants/). */
export interface GrantContext {
  /** The tenant the request named; undefined at /common and /organizations, where the code names it. */
  tenant: TenantRow | undefined;
  clientId: string;
  /** The client secret from the body or HTTP Basic, if any. */
  secret: string | undefined;
  params: TokenRequest;
  issuer: (tid: string) => string;
  /** The request's Origin header: present on browser (cross-origin) requests only. */
  origin: string | undefined;
  /** The whole request context, for the shared client authentication (secret or certificate, #13). */
  request: TokenRequestContext;
}
export type GrantHandler = (ctx: GrantContext) => Promise<TokenResponse>;

/** Options of the tokens of a signed-in user beyond the scopes. */
export interface UserTokenOptions {
  nonce?: string | null;
  /** Refresh-token lifetime: 24 h for single-page apps, as in Entra. */
  refreshLifetimeSeconds?: number;
  /** Tokens of a single-page app: its refresh token says so, and is redeemable only from a browser. */
  spa?: boolean;
  /** A fixed end for the new refresh token (a single-page app's tokens carry over the first one's end). */
  refreshExpiresAt?: number;
}

export interface TokenResponse {
  token_type: 'Bearer';
  expires_in: number;
  ext_expires_in: number;
  access_token: string;
  scope?: string;
  refresh_token?: string;
  id_token?: string;
  client_info?: string;
}

/** Entra's refresh-token lifetime (refresh-tokens doc): 90 days, renewed by each use; single-page apps 24 hours. */
export const REFRESH_TOKEN_LIFETIME_SECONDS = 90 * 24 * 3600;
const SPA_REFRESH_LIFETIME_SECONDS = 24 * 3600;
const GRAPH_PREFIXES = [`${GRAPH_RESOURCE}/`, `${GRAPH_AUDIENCES[1]}/`];

/** Entra's tenant-independent authorities (the `{tenant}` segment): the tenant comes from the user. */
export type TenantAlias = 'common' | 'organizations' | 'consumers';
const ALIASES: readonly string[] = ['common', 'organizations', 'consumers'];
export const tenantAlias = (segment: string): TenantAlias | undefined =>
  ALIASES.includes(segment.toLowerCase()) ? (segment.toLowerCase() as TenantAlias) : undefined;

/** What a grant knows about its request: where it arrived, for which tenant, and how the client presented itself. */
export interface TokenRequestContext {
  segment: string;
  /** Set for /common, /organizations, /consumers; `tenant` is then unknown until the user is. */
  alias: TenantAlias | undefined;
  tenant: TenantRow | undefined;
  clientId: string;
  credentials: ClientCredentials;
  /** The origin the request reached (scheme://host:port), which a client assertion's `aud` must name. */
  requestOrigin: string;
  issuer: (tid: string) => string;
}

/** The resource a delegated token is for: Graph, or an API another app exposes (api://{clientId}). */
export type DelegatedResource = { kind: 'graph' } | { kind: 'api'; app: ApplicationRow };

export interface DelegatedScopes {
  resource: DelegatedResource;
  /** Scope names within the resource (e.g. OnlineMeetings.ReadWrite, access_as_user): the token's `scp`. */
  scopes: string[];
  oidc: string[];
}

/**
 * The grants of the emulated Entra ID token endpoint (client-compat §5, §7): client_credentials, password
 * (ROPC, for headless delegated tests), refresh_token and on-behalf-of (on-behalf-of.ts). Every grant
 * authenticates its client through client-authentication.ts (secret, Basic, or certificate assertion).
 */
export class TokenService {
  /** Grants added by their own modules (authorization_code, device_code), by grant_type. */
  private readonly grants = new Map<string, GrantHandler>();

  registerGrant(grantTypes: readonly string[], handler: GrantHandler): void {
    for (const g of grantTypes) this.grants.set(g, handler);
  }

  constructor(
    readonly db: Kysely<Database>,
    private readonly tokens: AccessTokens,
    private readonly keys: SigningKeyStore,
    /** The service's clock (src/util/clock.ts), for the id_token's iat/exp. */
    private readonly clock: () => number = Date.now,
    /** Smart lockout and bounded hashing for every password check (issue #11 item 2). */
    readonly signIn: SignInProtection = new SignInProtection(),
  ) {}

  /**
   * `issuer` is the OIDC issuer of the origin the client used (client-compat §1.5), for the id_token;
   * `context.requestOrigin` is that origin, which a client assertion's `aud` must name.
   */
  async token(
    tenantSegment: string,
    params: TokenRequest,
    basic: { id: string; secret: string } | undefined,
    issuer: (tid: string) => string,
    /** `origin`: the request's Origin header (browser requests only); `requestOrigin`: the origin it reached;
     * `sourceAddress`: the client's address, which smart lockout keys familiar locations by. */
    context: { origin?: string; requestOrigin?: string; sourceAddress?: string } = {},
  ): Promise<TokenResponse> {
    const alias = tenantAlias(tenantSegment);
    const tenant = alias ? undefined : await directory.findTenant(this.db, tenantSegment);
    if (!alias && !tenant) throw entra.tenantNotFound(tenantSegment);
    const grant = params.grant_type;
    if (!grant) throw entra.missingParameter('grant_type');
    if (basic && params.client_id && basic.id.toLowerCase() !== params.client_id.toLowerCase()) throw entra.ambiguousClientAuth();
    const clientId = basic?.id ?? params.client_id;
    if (!clientId) throw entra.missingParameter('client_id');
    const ctx: TokenRequestContext = {
      segment: tenantSegment,
      alias,
      tenant,
      clientId,
      credentials: {
        secret: basic?.secret ?? params.client_secret,
        assertionType: params.client_assertion_type,
        assertion: params.client_assertion,
      },
      requestOrigin: context.requestOrigin ?? '',
      issuer,
    };

    switch (grant) {
      case 'client_credentials':
        return this.clientCredentials(ctx, params.scope);
      case 'password':
        return this.password(ctx, params, context.sourceAddress ?? 'unknown');
      case 'refresh_token':
        return this.refresh(ctx, params, context.origin);
      case JWT_BEARER_GRANT:
        return onBehalfOf(this, this.keys, ctx, params);
      default: {
        const handler = this.grants.get(grant);
        if (!handler) throw entra.unsupportedGrant(grant);
        // The grants of the sign-in (#12) redeem codes; at /common and /organizations the tenant is the one
        // the code (or device code) was issued in, i.e. the signed-in user's (the grant module checks it).
        return handler({ tenant, clientId, secret: ctx.credentials.secret, params, issuer, origin: context.origin, request: ctx });
      }
    }
  }

  /**
   * The client app of a request. At a tenant, apps are single-tenant here: an app of another tenant is
   * "not found in the directory", as in Entra. At /common and /organizations the app must be multi-tenant
   * (AADSTS50194), and /consumers serves no app of this work-account directory (AADSTS9002331).
   */
  async application(ctx: TokenRequestContext): Promise<ApplicationRow> {
    if (!ctx.alias) return this.tenantApplication(ctx.tenant!, ctx.clientId);
    return this.aliasApplication(ctx.alias, ctx.segment, ctx.clientId);
  }

  /** The client app at /common, /organizations or /consumers (also for the authorize and devicecode endpoints). */
  async aliasApplication(alias: TenantAlias, segment: string, clientId: string): Promise<ApplicationRow> {
    const app = await directory.findApplicationByClientId(this.db, clientId);
    if (!app) throw entra.applicationNotFound(clientId, segment);
    if (alias === 'consumers') throw entra.consumersRefused(app.client_id, app.display_name);
    if (app.sign_in_audience !== 'AzureADMultipleOrgs') throw entra.notMultiTenant(app.client_id, app.display_name);
    return app;
  }

  /** The tenant of a signed-in user, which at /common is only known now; the app must be usable there. */
  async userTenant(ctx: TokenRequestContext, app: ApplicationRow, tenantId: string): Promise<TenantRow | undefined> {
    if (ctx.tenant) return ctx.tenant.id === tenantId ? ctx.tenant : undefined;
    const tenant = await directory.findTenant(this.db, tenantId);
    // A multi-tenant app still needs a service principal in the user's tenant; here an app exists in its own tenant only.
    if (tenant && app.tenant_id !== tenant.id) throw entra.applicationNotFound(app.client_id, tenant.id);
    return tenant;
  }

  /** The client app at a named tenant (single-tenant rule), for the grant modules of the sign-in (#12). */
  async tenantApplication(tenant: TenantRow, clientId: string): Promise<ApplicationRow> {
    const app = await directory.findApplicationByClientId(this.db, clientId);
    if (!app || app.tenant_id !== tenant.id) throw entra.applicationNotFound(clientId, tenant.id);
    return app;
  }

  /** The shared client-authentication step for the grant modules of the sign-in (#12): secret or certificate. */
  authenticateClient(app: ApplicationRow, ctx: GrantContext, publicAllowed: boolean): Promise<ClientAuthMethod> {
    return this.authenticate(ctx.request, app, publicAllowed);
  }

  /** The shared client-authentication step (client-authentication.ts); returns Entra's appidacr. */
  authenticate(ctx: TokenRequestContext, app: ApplicationRow, publicAllowed: boolean): Promise<ClientAuthMethod> {
    return authenticateClient(this.db, app, ctx.credentials, {
      publicAllowed,
      endpoint: { origin: ctx.requestOrigin, segment: ctx.segment, tenantId: ctx.tenant?.id ?? app.tenant_id },
    });
  }

  private async clientCredentials(ctx: TokenRequestContext, scope: string | undefined): Promise<TokenResponse> {
    // An app token is for one tenant, which /common cannot name (there is no user to take it from).
    if (ctx.alias) throw entra.noTenantInformation();
    const tenant = ctx.tenant!;
    const app = await this.application(ctx);
    const { secret, assertion, assertionType } = ctx.credentials;
    if (!secret && assertion === undefined && assertionType === undefined) throw entra.badClientAuth();
    const clientAuth = await this.authenticate(ctx, app, false);
    if (!scope) throw entra.missingParameter('scope');
    const scopes = scope.split(' ').filter(Boolean);
    if (scopes.length !== 1 || !GRAPH_PREFIXES.some((p) => scopes[0] === `${p}.default`)) throw entra.defaultScopeRequired(scope);
    const roles = await directory.applicationPermissions(this.db, app.id);
    const access_token = await this.tokens.mintAppToken({
      tenantId: tenant.id,
      servicePrincipalId: app.id,
      clientId: app.client_id,
      appDisplayName: app.display_name,
      roles: roles.filter((r) => canonicalPermission(APPLICATION_PERMISSIONS, r)),
      clientAuth: clientAuth === '2' ? '2' : '1',
    });
    return { token_type: 'Bearer', expires_in: this.tokens.lifetime, ext_expires_in: this.tokens.lifetime, access_token };
  }

  /**
   * Requested delegated scopes → the resource and the token's scopes. Every requested scope must be
   * consented (AADSTS65001 otherwise), and, as in Entra, the token then carries every scope consented
   * for that resource, not only those requested; `.default` asks for exactly that. One resource per
   * request (AADSTS28000): Graph, or an API an app exposes (api://{clientId}/{scope}).
   */
  async delegatedScopes(app: ApplicationRow, scope: string | undefined): Promise<DelegatedScopes> {
    if (!scope) throw entra.missingParameter('scope');
    const oidc: string[] = [];
    const requested: Array<{ raw: string; resource: string; name: string }> = [];
    for (const raw of scope.split(' ').filter(Boolean)) {
      if ((OIDC_SCOPES as readonly string[]).includes(raw)) {
        oidc.push(raw);
        continue;
      }
      const prefix = GRAPH_PREFIXES.find((p) => raw.toLowerCase().startsWith(p.toLowerCase()));
      if (prefix) requested.push({ raw, resource: 'graph', name: raw.slice(prefix.length) });
      else if (raw.includes('/')) {
        const cut = raw.lastIndexOf('/');
        requested.push({
          raw,
          resource: raw
            .slice(0, cut)
            .toLowerCase()
            .replace(/^api:\/\//, ''),
          name: raw.slice(cut + 1),
        });
      } else requested.push({ raw, resource: 'graph', name: raw }); // a bare name is a Graph scope
    }
    // A sign-in-only request (`openid profile`, what MSAL sends for a login without resource scopes) gets,
    // as in Entra, a Graph token carrying the scopes the app was consented to.
    if (requested.length === 0 && oidc.includes('openid')) requested.push({ raw: '.default', resource: 'graph', name: '.default' });
    if (requested.length === 0) throw entra.invalidScope(scope);
    if (new Set(requested.map((r) => r.resource)).size > 1) throw entra.moreThanOneResource(scope);

    if (requested[0]!.resource === 'graph') {
      const consented = await directory.delegatedConsents(this.db, app.id);
      for (const r of requested) {
        if (r.name === '.default') continue;
        const known = canonicalPermission(DELEGATED_SCOPES, r.name);
        if (!known) throw entra.invalidScope(r.raw);
        if (!consented.includes(known)) throw entra.notConsented(app.client_id, app.display_name);
      }
      if (consented.length === 0) throw entra.notConsented(app.client_id, app.display_name);
      return { resource: { kind: 'graph' }, scopes: consented, oidc };
    }

    const api = await creds.findApiApplication(this.db, requested[0]!.resource);
    if (!api || api.tenant_id !== app.tenant_id) throw entra.invalidScope(requested[0]!.raw);
    const exposed = await creds.exposedScopes(this.db, api.id);
    const consented = await creds.apiConsents(this.db, app.id, api.id);
    for (const r of requested) {
      if (r.name === '.default') continue;
      const known = exposed.find((e) => e.toLowerCase() === r.name.toLowerCase());
      if (!known) throw entra.invalidScope(r.raw);
      if (!consented.includes(known)) throw entra.notConsented(app.client_id, app.display_name);
    }
    if (consented.length === 0) throw entra.notConsented(app.client_id, app.display_name);
    return { resource: { kind: 'api', app: api }, scopes: consented, oidc };
  }

  private async password(ctx: TokenRequestContext, params: TokenRequest, sourceAddress: string): Promise<TokenResponse> {
    const app = await this.application(ctx);
    const clientAuth = await this.authenticate(ctx, app, true);
    if (!params.username) throw entra.missingParameter('username');
    if (params.password === undefined) throw entra.missingParameter('password');
    const found = await directory.findUserByUpn(this.db, params.username);
    // A user of another tenant is no user here (at /common and /organizations the user decides the tenant).
    const user = found && (!ctx.tenant || found.tenant_id === ctx.tenant.id) ? found : undefined;
    // An unknown user costs the same time, is locked out the same way and gets the same answer as a wrong
    // password: no account enumeration (issue #11 item 2, sign-in-protection.ts).
    const ok = await this.signIn.checkPassword({
      tenantId: user?.tenant_id ?? ctx.tenant?.id ?? ctx.segment.toLowerCase(),
      username: params.username,
      password: params.password,
      sourceAddress,
      passwordHash: user?.password_hash,
    });
    if (!user || !ok) throw entra.invalidCredentials();
    const tenant = await this.userTenant(ctx, app, user.tenant_id);
    if (!tenant) throw entra.invalidCredentials();
    const scopes = await this.delegatedScopes(app, params.scope);
    return this.userTokens(tenant, app, user, scopes, clientAuth, params.claims, ctx.issuer);
  }

  private async refresh(ctx: TokenRequestContext, params: TokenRequest, origin: string | undefined): Promise<TokenResponse> {
    const app = await this.application(ctx);
    if (!params.refresh_token) throw entra.missingParameter('refresh_token');
    // At /common the tenant is the one the refresh token was issued in; the signature check below,
    // with an issuer bound to that tenant, is what makes the unverified read safe.
    let tenantId = ctx.tenant?.id;
    if (!tenantId) {
      try {
        const tid = decodeJwt(params.refresh_token).tid;
        if (typeof tid === 'string') tenantId = tid;
      } catch {
        throw entra.invalidRefreshToken();
      }
    }
    if (!tenantId) throw entra.invalidRefreshToken();
    let claims: JWTPayload;
    try {
      const { kid } = decodeProtectedHeader(params.refresh_token);
      const key = typeof kid === 'string' ? await this.keys.publicKey(kid) : undefined;
      if (!key) throw entra.invalidRefreshToken();
      ({ payload: claims } = await jwtVerify(params.refresh_token, key, {
        algorithms: ['RS256'],
        audience: app.client_id,
        issuer: `refresh:${tenantId}`,
        typ: 'rt+jwt',
        currentDate: new Date(this.clock()),
      }));
    } catch {
      throw entra.invalidRefreshToken();
    }
    // Every refresh token has its row (issue #11 item 9): a token without one (minted before rows existed,
    // or purged after expiry) is unknown; a revoked one gets Entra's AADSTS50173. As in Entra, a redeemed
    // token is replaced by a new one but is not itself invalidated: it stays usable until it expires or the
    // user's sessions are revoked ("The Microsoft identity platform doesn't revoke old refresh tokens when
    // used to fetch new access tokens").
    const row =
      typeof claims.jti === 'string' && claims.jti.length <= 64 ? await refreshTokens.findRefreshToken(this.db, claims.jti) : undefined;
    if (!row || row.client_id !== app.client_id || row.tenant_id !== tenantId || row.user_id !== claims.oid)
      throw entra.invalidRefreshToken();
    if (row.revoked_at !== null) throw entra.grantRevoked(row.created_at, row.revoked_at);
    if (Date.parse(row.expires_at) <= this.clock()) throw entra.invalidRefreshToken();
    const tenant = await this.userTenant(ctx, app, tenantId);
    // A single-page app's refresh token is redeemed by the browser without a secret, as its code was;
    // it stays a single-page app's token (24 hours) and only a browser may redeem it (AADSTS9002327).
    const spa = claims.spa === true;
    if (spa && !origin)
      throw new EntraError(
        400,
        'invalid_request',
        9002327,
        "Tokens issued for the 'Single-Page Application' client-type may only be redeemed via cross-origin requests.",
      );
    const clientAuth = spa ? '0' : await this.authenticate(ctx, app, true);
    const user = typeof claims.oid === 'string' ? await directory.findUserById(this.db, claims.oid) : undefined;
    if (!tenant || !user || user.tenant_id !== tenant.id) throw entra.invalidRefreshToken();
    const scopes = await this.delegatedScopes(app, params.scope ?? `${GRAPH_RESOURCE}/.default offline_access`);
    await refreshTokens.touchRefreshToken(this.db, row.jti, new Date(this.clock()).toISOString());
    // Entra: "Additional refresh tokens acquired using the initial refresh token carry over that expiration
    // time" for single-page apps; other refresh tokens get a new 90 days.
    return this.userTokens(
      tenant,
      app,
      user,
      scopes,
      clientAuth,
      params.claims,
      ctx.issuer,
      spa ? { spa, refreshExpiresAt: Date.parse(row.expires_at) } : {},
    );
  }

  async userTokens(
    tenant: TenantRow,
    app: ApplicationRow,
    user: { id: string; upn: string; display_name: string },
    scopes: DelegatedScopes,
    clientAuth: ClientAuthMethod,
    claimsParam: string | undefined,
    issuer: (tid: string) => string,
    options: UserTokenOptions = {},
  ): Promise<TokenResponse> {
    const access_token = await this.tokens.mintUserToken({
      tenantId: tenant.id,
      userId: user.id,
      upn: user.upn,
      displayName: user.display_name,
      clientId: app.client_id,
      appDisplayName: app.display_name,
      scopes: scopes.scopes,
      clientAuth,
      audience: scopes.resource.kind === 'api' ? applicationIdUri(scopes.resource.app.client_id) : undefined,
      cae: (claimsParam ?? '').includes('cp1'),
    });
    const resourceUri = scopes.resource.kind === 'api' ? applicationIdUri(scopes.resource.app.client_id) : GRAPH_RESOURCE;
    const now = Math.floor(this.clock() / 1000);
    const key = this.keys.active;
    const id_token = await new SignJWT({
      oid: user.id,
      tid: tenant.id,
      sub: user.id,
      name: user.display_name,
      preferred_username: user.upn,
      ver: '2.0',
      ...(options.nonce ? { nonce: options.nonce } : {}),
      ...(scopes.oidc.includes('email') ? { email: user.upn } : {}),
    })
      .setProtectedHeader({ typ: 'JWT', alg: 'RS256', kid: key.kid })
      .setIssuer(issuer(tenant.id))
      .setAudience(app.client_id)
      .setIssuedAt(now)
      .setNotBefore(now)
      .setExpirationTime(now + 3600)
      .sign(key.privateKey);
    const response: TokenResponse = {
      token_type: 'Bearer',
      scope: scopes.scopes.map((s) => `${resourceUri}/${s}`).join(' '),
      expires_in: this.tokens.lifetime,
      ext_expires_in: this.tokens.lifetime,
      access_token,
      id_token,
      client_info: Buffer.from(JSON.stringify({ uid: user.id, utid: tenant.id })).toString('base64url'),
    };
    if (scopes.oidc.includes('offline_access')) {
      const lifetime = options.refreshLifetimeSeconds ?? (options.spa ? SPA_REFRESH_LIFETIME_SECONDS : REFRESH_TOKEN_LIFETIME_SECONDS);
      const expiresMs = options.refreshExpiresAt ?? this.clock() + lifetime * 1000;
      const jti = randomUUID();
      // The row first: a token is never handed out that revocation could not reach.
      await refreshTokens.insertRefreshToken(this.db, {
        jti,
        tenant_id: tenant.id,
        user_id: user.id,
        client_id: app.client_id,
        spa: options.spa ? 1 : 0,
        created_at: new Date(this.clock()).toISOString(),
        expires_at: new Date(expiresMs).toISOString(),
      });
      // `resource`: what the token was for, the default of a v1 refresh that names none (as Entra's v1 endpoint).
      response.refresh_token = await new SignJWT({
        oid: user.id,
        tid: tenant.id,
        resource: resourceUri,
        ...(options.spa ? { spa: true } : {}),
      })
        .setProtectedHeader({ typ: 'rt+jwt', alg: 'RS256', kid: key.kid })
        .setIssuer(`refresh:${tenant.id}`)
        .setAudience(app.client_id)
        .setJti(jti)
        .setIssuedAt(now)
        .setExpirationTime(Math.floor(expiresMs / 1000))
        .sign(key.privateKey);
    }
    return response;
  }
}
