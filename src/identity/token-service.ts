import { SignJWT, decodeProtectedHeader, jwtVerify, type JWTPayload } from 'jose';
import type { Kysely } from 'kysely';
import { APPLICATION_PERMISSIONS, DELEGATED_SCOPES, OIDC_SCOPES, canonicalPermission } from '../domain/directory/permissions.js';
import * as directory from '../storage/repositories/directory-repository.js';
import type { ApplicationRow, Database, TenantRow } from '../storage/tables.js';
import { GRAPH_AUDIENCES, GRAPH_RESOURCE, type AccessTokens } from './access-tokens.js';
import { EntraError, entra } from './entra-errors.js';
import { secretMatches } from './secrets.js';
import { SignInProtection } from './sign-in-protection.js';
import type { SigningKeyStore } from './signing-keys.js';

export type TokenRequest = Record<string, string | undefined>;

/** What a grant module gets (one module per grant, as node-oidc-provider does; see identity/grants/). */
export interface GrantContext {
  tenant: TenantRow;
  clientId: string;
  /** The client secret from the body or HTTP Basic, if any. */
  secret: string | undefined;
  params: TokenRequest;
  issuer: (tid: string) => string;
  /** The request's Origin header: present on browser (cross-origin) requests only. */
  origin: string | undefined;
}
export type GrantHandler = (ctx: GrantContext) => Promise<TokenResponse>;

/** Options of the tokens of a signed-in user beyond the scopes. */
export interface UserTokenOptions {
  nonce?: string | null;
  /** Refresh-token lifetime: 24 h for single-page apps, as in Entra. */
  refreshLifetimeSeconds?: number;
  /** Tokens of a single-page app: its refresh token says so, and is redeemable only from a browser. */
  spa?: boolean;
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

const REFRESH_TOKEN_LIFETIME_SECONDS = 24 * 3600;
const GRAPH_PREFIXES = [`${GRAPH_RESOURCE}/`, `${GRAPH_AUDIENCES[1]}/`];

/**
 * The grants of the emulated Entra ID token endpoint (client-compat §5, §7): client_credentials (secret
 * in the body or HTTP Basic), password (ROPC, for headless delegated tests) and refresh_token.
 */
export class TokenService {
  /** Grants added by their own modules (authorization_code, device_code), by grant_type. */
  private readonly grants = new Map<string, GrantHandler>();

  registerGrant(grantTypes: readonly string[], handler: GrantHandler): void {
    for (const g of grantTypes) this.grants.set(g, handler);
  }

  constructor(
    private readonly db: Kysely<Database>,
    private readonly tokens: AccessTokens,
    private readonly keys: SigningKeyStore,
    /** Smart lockout and bounded hashing for every password check (issue #11 item 2). */
    readonly signIn: SignInProtection = new SignInProtection(),
  ) {}

  /** `issuer` is the OIDC issuer of the origin the client used (client-compat §1.5), for the id_token. */
  async token(
    tenantSegment: string,
    params: TokenRequest,
    basic: { id: string; secret: string } | undefined,
    issuer: (tid: string) => string,
    context: { origin?: string; sourceAddress?: string } = {},
  ): Promise<TokenResponse> {
    const tenant = await directory.findTenant(this.db, tenantSegment);
    if (!tenant) throw entra.tenantNotFound(tenantSegment);
    const grant = params.grant_type;
    if (!grant) throw entra.missingParameter('grant_type');
    if (basic && params.client_id && basic.id.toLowerCase() !== params.client_id.toLowerCase()) throw entra.ambiguousClientAuth();
    const clientId = basic?.id ?? params.client_id;
    if (!clientId) throw entra.missingParameter('client_id');
    const secret = basic?.secret ?? params.client_secret;

    switch (grant) {
      case 'client_credentials':
        return this.clientCredentials(tenant, clientId, secret, params.scope, params.client_assertion);
      case 'password':
        return this.password(tenant, clientId, secret, params, issuer, context.sourceAddress ?? 'unknown');
      case 'refresh_token':
        return this.refresh(tenant, clientId, secret, params, issuer, context.origin);
      default: {
        const handler = this.grants.get(grant);
        if (!handler) throw entra.unsupportedGrant(grant);
        return handler({ tenant, clientId, secret, params, issuer, origin: context.origin });
      }
    }
  }

  async application(tenant: TenantRow, clientId: string): Promise<ApplicationRow> {
    const app = await directory.findApplicationByClientId(this.db, clientId);
    // Apps are single-tenant here: an app of another tenant is "not found in the directory", as in Entra.
    if (!app || app.tenant_id !== tenant.id) throw entra.applicationNotFound(clientId, tenant.id);
    return app;
  }

  /**
   * Checks the client secret, or that the app may act as a public client; returns Entra's appidacr.
   * The one client-authentication step of every grant: replace or extend it here (certificates, #13).
   */
  async authenticateClient(app: ApplicationRow, secret: string | undefined, publicAllowed: boolean): Promise<'0' | '1'> {
    if (secret === undefined || secret === '') {
      if (publicAllowed && app.allow_public_client) return '0';
      throw entra.clientSecretRequired();
    }
    if (!secretMatches(secret, await directory.secretHashes(this.db, app.id))) throw entra.invalidClientSecret(app.client_id);
    return '1';
  }

  private async clientCredentials(
    tenant: TenantRow,
    clientId: string,
    secret: string | undefined,
    scope: string | undefined,
    assertion: string | undefined,
  ): Promise<TokenResponse> {
    const app = await this.application(tenant, clientId);
    if (assertion !== undefined) throw entra.badClientAuth(); // certificate credentials are not supported yet
    if (!secret) throw entra.badClientAuth();
    await this.authenticateClient(app, secret, false);
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
      clientAuth: '1',
    });
    return { token_type: 'Bearer', expires_in: this.tokens.lifetime, ext_expires_in: this.tokens.lifetime, access_token };
  }

  /** Requested delegated scopes → Graph scope names; every one must be consented (AADSTS65001 otherwise). */
  async delegatedScopes(app: ApplicationRow, scope: string | undefined): Promise<{ graph: string[]; oidc: string[] }> {
    if (!scope) throw entra.missingParameter('scope');
    const consented = await directory.delegatedConsents(this.db, app.id);
    const graph = new Set<string>();
    const oidc: string[] = [];
    for (const raw of scope.split(' ').filter(Boolean)) {
      if ((OIDC_SCOPES as readonly string[]).includes(raw)) {
        oidc.push(raw);
        continue;
      }
      const prefix = GRAPH_PREFIXES.find((p) => raw.toLowerCase().startsWith(p.toLowerCase()));
      const name = prefix ? raw.slice(prefix.length) : raw;
      if (!prefix && raw.includes('/')) throw entra.invalidScope(raw); // another resource
      if (name === '.default') {
        consented.forEach((s) => graph.add(s));
        continue;
      }
      const known = canonicalPermission(DELEGATED_SCOPES, name);
      if (!known) throw entra.invalidScope(raw);
      if (!consented.includes(known)) throw entra.notConsented(app.client_id, app.display_name);
      graph.add(known);
    }
    // A sign-in-only request (`openid profile`, what MSAL sends for a login without resource scopes) gets,
    // as in Entra, a Graph token carrying the scopes the app was consented to.
    if (graph.size === 0 && oidc.includes('openid')) consented.forEach((s) => graph.add(s));
    if (graph.size === 0) throw entra.invalidScope(scope);
    return { graph: [...graph], oidc };
  }

  private async password(
    tenant: TenantRow,
    clientId: string,
    secret: string | undefined,
    params: TokenRequest,
    issuer: (tid: string) => string,
    sourceAddress: string,
  ): Promise<TokenResponse> {
    const app = await this.application(tenant, clientId);
    const clientAuth = await this.authenticateClient(app, secret, true);
    if (!params.username) throw entra.missingParameter('username');
    if (params.password === undefined) throw entra.missingParameter('password');
    const found = await directory.findUserByUpn(this.db, params.username);
    const user = found?.tenant_id === tenant.id ? found : undefined;
    // An unknown user costs the same time, is locked out the same way and gets the same answer as a wrong
    // password: no account enumeration.
    const ok = await this.signIn.checkPassword({
      tenantId: tenant.id,
      username: params.username,
      password: params.password,
      sourceAddress,
      passwordHash: user?.password_hash,
    });
    if (!user || !ok) throw entra.invalidCredentials();
    const scopes = await this.delegatedScopes(app, params.scope);
    return this.userTokens(tenant, app, user, scopes, clientAuth, params.claims, issuer);
  }

  private async refresh(
    tenant: TenantRow,
    clientId: string,
    secret: string | undefined,
    params: TokenRequest,
    issuer: (tid: string) => string,
    origin: string | undefined,
  ): Promise<TokenResponse> {
    const app = await this.application(tenant, clientId);
    if (!params.refresh_token) throw entra.missingParameter('refresh_token');
    let claims: JWTPayload;
    try {
      const { kid } = decodeProtectedHeader(params.refresh_token);
      const key = typeof kid === 'string' ? await this.keys.publicKey(kid) : undefined;
      if (!key) throw entra.invalidRefreshToken();
      ({ payload: claims } = await jwtVerify(params.refresh_token, key, {
        algorithms: ['RS256'],
        audience: app.client_id,
        issuer: `refresh:${tenant.id}`,
        typ: 'rt+jwt',
      }));
    } catch {
      throw entra.invalidRefreshToken();
    }
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
    const clientAuth = spa ? '0' : await this.authenticateClient(app, secret, true);
    const user = typeof claims.oid === 'string' ? await directory.findUserById(this.db, claims.oid) : undefined;
    if (!user || user.tenant_id !== tenant.id) throw entra.invalidRefreshToken();
    const scopes = await this.delegatedScopes(app, params.scope ?? `${GRAPH_RESOURCE}/.default offline_access`);
    return this.userTokens(
      tenant,
      app,
      user,
      scopes,
      clientAuth,
      params.claims,
      issuer,
      spa ? { refreshLifetimeSeconds: REFRESH_TOKEN_LIFETIME_SECONDS, spa } : {},
    );
  }

  async userTokens(
    tenant: TenantRow,
    app: ApplicationRow,
    user: { id: string; upn: string; display_name: string },
    scopes: { graph: string[]; oidc: string[] },
    clientAuth: '0' | '1',
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
      scopes: scopes.graph,
      clientAuth,
      cae: (claimsParam ?? '').includes('cp1'),
    });
    const now = Math.floor(Date.now() / 1000);
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
      scope: scopes.graph.map((s) => `${GRAPH_RESOURCE}/${s}`).join(' '),
      expires_in: this.tokens.lifetime,
      ext_expires_in: this.tokens.lifetime,
      access_token,
      id_token,
      client_info: Buffer.from(JSON.stringify({ uid: user.id, utid: tenant.id })).toString('base64url'),
    };
    if (scopes.oidc.includes('offline_access')) {
      response.refresh_token = await new SignJWT({ oid: user.id, tid: tenant.id, ...(options.spa ? { spa: true } : {}) })
        .setProtectedHeader({ typ: 'rt+jwt', alg: 'RS256', kid: key.kid })
        .setIssuer(`refresh:${tenant.id}`)
        .setAudience(app.client_id)
        .setIssuedAt(now)
        .setExpirationTime(now + (options.refreshLifetimeSeconds ?? REFRESH_TOKEN_LIFETIME_SECONDS))
        .sign(key.privateKey);
    }
    return response;
  }
}
