import { createHash } from 'node:crypto';
import type { Kysely } from 'kysely';
import * as directory from '../../storage/repositories/directory-repository.js';
import * as repo from '../../storage/repositories/sign-in-repository.js';
import type { ApplicationRow, Database, RedirectPlatform, TenantRow, UserRow } from '../../storage/tables.js';
import { EntraError, entra } from '../entra-errors.js';
import { hashSecret } from '../secrets.js';
import { tenantAlias, type TokenService } from '../token-service.js';
import { matchRedirectUri } from './redirect-uris.js';
import { newToken } from './browser-sessions.js';
import { signInErrors } from './sign-in-errors.js';

export type AuthorizeParams = Record<string, string | undefined>;
export type ResponseMode = 'query' | 'fragment' | 'form_post';

/** Entra's authorization codes live 10 minutes (Microsoft identity platform, "auth code flow"). */
export const CODE_LIFETIME_MS = 10 * 60_000;
const PROMPTS = new Set(['login', 'none', 'select_account', 'consent']);
/** RFC 7636 §4.1: a verifier (and a plain challenge) is 43-128 unreserved characters; an S256 challenge is 43. */
const PKCE_VALUE = /^[A-Za-z0-9\-._~]{43,128}$/;

/** A validated authorize request: every value below has been checked against the app's registration. */
export interface AuthorizeRequest {
  /**
   * The tenant the request named; undefined at /common and /organizations, where any work account may
   * sign in and the tenant is the user's (see userTenant).
   */
  tenant: TenantRow | undefined;
  app: ApplicationRow;
  redirectUri: string;
  platform: RedirectPlatform;
  responseType: 'code' | 'code id_token';
  responseMode: ResponseMode;
  scope: string;
  state: string | undefined;
  nonce: string | undefined;
  codeChallenge: string | undefined;
  codeChallengeMethod: 'S256' | 'plain' | undefined;
  prompt: string | undefined;
  loginHint: string | undefined;
  /** The protocol parameters as received, carried through the sign-in form. */
  params: Record<string, string>;
}

/** Where the browser goes back to the app: a redirect (query, fragment) or an auto-submitted form. */
export interface ClientResponse {
  mode: ResponseMode;
  uri: string;
  params: Record<string, string>;
}

/** An error that can be shown only as a page: the redirect URI is not (yet) trusted. */
export class AuthorizePageError extends Error {
  constructor(readonly entraError: EntraError) {
    super(entraError.message);
  }
}

/** The parameters of the OAuth protocol that the sign-in form carries through (nothing else is echoed). */
const PROTOCOL_PARAMS = [
  'client_id',
  'redirect_uri',
  'response_type',
  'response_mode',
  'scope',
  'state',
  'nonce',
  'code_challenge',
  'code_challenge_method',
  'prompt',
  'login_hint',
  'domain_hint',
  'client_info',
  'claims',
];

/**
 * The rules of Entra's authorize endpoint (`/{tenant}/oauth2/v2.0/authorize`), apart from HTTP, so
 * that another path (the v1 endpoint of #13) can mount the same logic. Errors before the redirect URI
 * is known to be registered are pages (AADSTS50011 and friends: never an open redirect); later ones go
 * back to the app as `error` + `error_description` in the response mode it asked for, as Entra does.
 */
export class AuthorizeService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly tokens: TokenService,
    private readonly clock: () => number,
  ) {}

  async validate(tenantSegment: string, raw: AuthorizeParams): Promise<AuthorizeRequest> {
    const alias = tenantAlias(tenantSegment);
    const tenant = alias ? undefined : await directory.findTenant(this.db, tenantSegment);
    if (!alias && !tenant) throw new AuthorizePageError(entra.tenantNotFound(tenantSegment));
    const clientId = raw.client_id;
    if (!clientId) throw new AuthorizePageError(entra.missingParameter('client_id'));
    let app: ApplicationRow | undefined;
    if (alias) {
      // /common and /organizations serve multi-tenant apps only (AADSTS50194); /consumers no work-account app.
      try {
        app = await this.tokens.aliasApplication(alias, tenantSegment, clientId);
      } catch (err) {
        if (err instanceof EntraError) throw new AuthorizePageError(err);
        throw err;
      }
    } else {
      app = await directory.findApplicationByClientId(this.db, clientId);
      if (!app || app.tenant_id !== tenant!.id) throw new AuthorizePageError(entra.applicationNotFound(clientId, tenant!.id));
    }
    const registered = await repo.redirectUris(this.db, app.id);
    let redirectUri = raw.redirect_uri;
    // Without redirect_uri Entra uses the app's registered one, when that choice is unambiguous.
    if (redirectUri === undefined && registered.length === 1) redirectUri = registered[0]!.uri;
    if (!redirectUri) throw new AuthorizePageError(entra.missingParameter('redirect_uri'));
    const match = matchRedirectUri(registered, redirectUri);
    if (!match) throw new AuthorizePageError(signInErrors.redirectNotRegistered(redirectUri, app.client_id));

    const params: Record<string, string> = {};
    for (const name of PROTOCOL_PARAMS) if (typeof raw[name] === 'string') params[name] = raw[name];
    params.redirect_uri = redirectUri;

    const responseType = (raw.response_type ?? '').split(' ').filter(Boolean).sort().join(' ');
    // From here on, errors go back to the (registered) redirect URI.
    const partial = { redirectUri, state: raw.state };
    const modeDefault: ResponseMode = responseType === 'code id_token' ? 'fragment' : 'query';
    const responseMode = (raw.response_mode ?? modeDefault) as ResponseMode;
    if (!['query', 'fragment', 'form_post'].includes(responseMode)) {
      throw new AuthorizeRedirectError({ ...partial, mode: modeDefault }, signInErrors.invalidResponseMode(responseMode));
    }
    const fail = (e: EntraError) => new AuthorizeRedirectError({ ...partial, mode: responseMode }, e);
    if (!raw.response_type) throw fail(entra.missingParameter('response_type'));
    if (responseType !== 'code' && responseType !== 'code id_token') throw fail(signInErrors.unsupportedResponseType(raw.response_type));
    // A response carrying an id_token must not travel in the query string (OIDC Core §3.3.2.5).
    if (responseType === 'code id_token' && responseMode === 'query') throw fail(signInErrors.invalidResponseMode('query'));
    if (raw.prompt !== undefined && !PROMPTS.has(raw.prompt)) throw fail(signInErrors.invalidPrompt(raw.prompt));

    const challenge = raw.code_challenge;
    const method = challenge === undefined ? undefined : (raw.code_challenge_method ?? 'plain');
    if (method !== undefined && method !== 'S256' && method !== 'plain') throw fail(signInErrors.invalidCodeChallengeMethod(method));
    if (challenge !== undefined && !(method === 'S256' ? /^[A-Za-z0-9_-]{43}$/ : PKCE_VALUE).test(challenge)) {
      throw fail(signInErrors.invalidCodeChallenge());
    }
    // Single-page apps must use PKCE with S256 (their codes are redeemed without a secret, from a browser).
    if (match.platform === 'spa' && method !== 'S256') throw fail(signInErrors.pkceRequiredForSpa());

    try {
      await this.tokens.delegatedScopes(app, raw.scope);
    } catch (err) {
      throw fail(
        err instanceof EntraError
          ? err.aadsts === 65001
            ? new EntraError(400, 'consent_required', 65001, err.description)
            : err
          : entra.serverError(),
      );
    }
    return {
      tenant,
      app,
      redirectUri,
      platform: match.platform,
      responseType: responseType as AuthorizeRequest['responseType'],
      responseMode,
      scope: raw.scope!,
      state: raw.state,
      nonce: raw.nonce,
      codeChallenge: challenge,
      codeChallengeMethod: method as AuthorizeRequest['codeChallengeMethod'],
      prompt: raw.prompt,
      loginHint: raw.login_hint,
      params,
    };
  }

  /**
   * The tenant of the code for a signed-in user: the one the request named or, at /common and
   * /organizations, the user's. An app has a service principal in its own tenant only here, so a user of
   * another tenant gets Entra's AADSTS700016 back at the redirect URI.
   */
  async userTenant(req: AuthorizeRequest, user: UserRow): Promise<TenantRow> {
    if (req.tenant) return req.tenant;
    const tenant = await directory.findTenant(this.db, user.tenant_id);
    if (!tenant || req.app.tenant_id !== tenant.id) {
      throw new AuthorizeRedirectError(
        { redirectUri: req.redirectUri, state: req.state, mode: req.responseMode },
        entra.applicationNotFound(req.app.client_id, user.tenant_id),
      );
    }
    return tenant;
  }

  /** Issues a single-use code for the signed-in user (of `tenant`, see userTenant) and builds the response to the app. */
  async issueCode(
    req: AuthorizeRequest,
    tenant: TenantRow,
    user: UserRow,
    sessionIdHash: string | null,
    issuer: (tid: string) => string,
  ): Promise<ClientResponse> {
    const code = `1.${newToken()}${newToken()}`;
    const now = this.clock();
    await repo.insertAuthorizationCode(this.db, {
      code_hash: hashSecret(code),
      tenant_id: tenant.id,
      client_id: req.app.client_id,
      user_id: user.id,
      redirect_uri: req.redirectUri,
      platform: req.platform,
      scope: req.scope,
      nonce: req.nonce ?? null,
      code_challenge: req.codeChallenge ?? null,
      code_challenge_method: req.codeChallengeMethod ?? null,
      session_id_hash: sessionIdHash,
      created_at: new Date(now).toISOString(),
      expires_at: new Date(now + CODE_LIFETIME_MS).toISOString(),
      redeemed_at: null,
    });
    const params: Record<string, string> = { code };
    if (req.params.client_info === '1') {
      params.client_info = Buffer.from(JSON.stringify({ uid: user.id, utid: tenant.id })).toString('base64url');
    }
    if (req.state !== undefined) params.state = req.state;
    if (req.responseType === 'code id_token') {
      const scopes = await this.tokens.delegatedScopes(req.app, req.scope);
      const tokens = await this.tokens.userTokens(tenant, req.app, user, scopes, '0', undefined, issuer, { nonce: req.nonce });
      params.id_token = tokens.id_token!;
    }
    params.session_state = createHash('sha256')
      .update(sessionIdHash ?? code)
      .digest('base64url')
      .slice(0, 36);
    return { mode: req.responseMode, uri: req.redirectUri, params };
  }
}

/** An error to send back to a registered redirect URI. */
export class AuthorizeRedirectError extends Error {
  constructor(
    readonly target: { redirectUri: string; state: string | undefined; mode: ResponseMode },
    readonly entraError: EntraError,
  ) {
    super(entraError.message);
  }

  response(correlationId: string): ClientResponse {
    const body = this.entraError.body(correlationId);
    const params: Record<string, string> = { error: body.error, error_description: body.error_description };
    if (this.target.state !== undefined) params.state = this.target.state;
    return { mode: this.target.mode, uri: this.target.redirectUri, params };
  }
}

/** The URL of a query or fragment response (form_post is a page, see web/sign-in-pages.ts). */
export function redirectLocation(r: ClientResponse): string {
  const encoded = new URLSearchParams(r.params).toString();
  if (r.mode === 'fragment') return `${r.uri.split('#')[0]}#${encoded}`;
  return `${r.uri}${r.uri.includes('?') ? '&' : '?'}${encoded}`;
}
