import { createHash, timingSafeEqual } from 'node:crypto';
import type { Kysely } from 'kysely';
import { findUserById } from '../../storage/repositories/directory-repository.js';
import * as repo from '../../storage/repositories/sign-in-repository.js';
import type { Database } from '../../storage/tables.js';
import { entra } from '../entra-errors.js';
import { hashSecret } from '../secrets.js';
import { signInErrors } from '../sign-in/sign-in-errors.js';
import type { GrantContext, TokenResponse, TokenService } from '../token-service.js';

/** Refresh tokens of single-page apps live 24 hours in Entra ("Refresh token lifetime"). */
export const SPA_REFRESH_LIFETIME_SECONDS = 24 * 3600;

const equal = (a: string, b: string) => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

/**
 * `grant_type=authorization_code`: redeems a code from the authorize endpoint. The code is single use
 * (AADSTS54005), expires (AADSTS70008), and is bound to the client, the redirect URI (AADSTS500112) and
 * the PKCE verifier (AADSTS501481). Codes of `spa` redirect URIs are redeemed only cross-origin, i.e.
 * from a browser (AADSTS9002327); codes of other platforms never are (AADSTS9002326).
 */
export function authorizationCodeGrant(db: Kysely<Database>, tokens: TokenService, clock: () => number) {
  return async (ctx: GrantContext): Promise<TokenResponse> => {
    const { params } = ctx;
    // At /common and /organizations (multi-tenant apps only) the tenant is the code's: the signed-in user's.
    const app = ctx.tenant ? await tokens.tenantApplication(ctx.tenant, ctx.clientId) : await tokens.application(ctx.request);
    if (!params.code) throw entra.missingParameter('code');
    if (params.redirect_uri === undefined) throw entra.missingParameter('redirect_uri');
    const codeHash = hashSecret(params.code);
    const row = params.code.length <= 200 ? await repo.findAuthorizationCode(db, codeHash) : undefined;
    if (!row || (ctx.tenant && row.tenant_id !== ctx.tenant.id)) throw signInErrors.invalidCode();
    if (row.client_id !== app.client_id) throw signInErrors.codeOtherClient();
    const tenant = ctx.tenant ?? (await tokens.userTenant(ctx.request, app, row.tenant_id));
    if (!tenant) throw signInErrors.invalidCode();

    // Who may redeem: a browser for spa codes (no secret: PKCE is the proof), anyone else with the client's credentials.
    if (row.platform === 'spa') {
      if (!ctx.origin) throw signInErrors.spaWithoutOrigin();
    } else if (ctx.origin) {
      throw signInErrors.crossOriginNotSpa();
    }
    const clientAuth = row.platform === 'spa' ? '0' : await tokens.authenticateClient(app, ctx, row.platform === 'public');

    if (row.redeemed_at !== null) throw signInErrors.codeRedeemed();
    if (Date.parse(row.expires_at) <= clock()) throw signInErrors.codeExpired();
    // The very URI of the authorize request, port included (the loopback port wildcard is for registration only).
    if (params.redirect_uri !== row.redirect_uri) throw signInErrors.redirectMismatch();
    if (row.code_challenge !== null) {
      const verifier = params.code_verifier;
      if (!verifier) throw signInErrors.verifierMissing();
      const derived = row.code_challenge_method === 'S256' ? createHash('sha256').update(verifier, 'ascii').digest('base64url') : verifier;
      if (!equal(derived, row.code_challenge)) throw signInErrors.verifierMismatch();
    }
    // Single use, atomically: of two concurrent redemptions only one wins.
    if (!(await repo.redeemAuthorizationCode(db, codeHash, new Date(clock()).toISOString()))) throw signInErrors.codeRedeemed();

    const user = await findUserById(db, row.user_id);
    if (!user || user.tenant_id !== tenant.id) throw signInErrors.invalidCode();
    const scopes = await tokens.delegatedScopes(app, row.scope);
    return tokens.userTokens(tenant, app, user, scopes, clientAuth, params.claims, ctx.issuer, {
      nonce: row.nonce,
      ...(row.platform === 'spa' ? { refreshLifetimeSeconds: SPA_REFRESH_LIFETIME_SECONDS, spa: true } : {}),
    });
  };
}
