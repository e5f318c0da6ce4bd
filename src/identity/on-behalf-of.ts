import { decodeProtectedHeader, errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import { applicationIdUri } from '../domain/directory/app-credentials-service.js';
import { stsIssuer } from './access-tokens.js';
import { entra } from './entra-errors.js';
import type { SigningKeyStore } from './signing-keys.js';
import type { TokenRequestContext, TokenRequest, TokenResponse, TokenService } from './token-service.js';
import * as directory from '../storage/repositories/directory-repository.js';

export const JWT_BEARER_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
/** Skew on the incoming user token's lifetime, as for client assertions. */
const ASSERTION_SKEW_SECONDS = 300;
const MAX_ASSERTION_LENGTH = 16 * 1024;

/**
 * The on-behalf-of grant (Entra's OBO flow): a middle-tier API, authenticating as itself (secret or
 * certificate), exchanges the user token its caller sent it (aud = the API: api://{clientId} or its
 * client id) for a token to Graph for the same user, carrying the scopes consented to the middle tier.
 */
export async function onBehalfOf(
  service: TokenService,
  keys: SigningKeyStore,
  ctx: TokenRequestContext,
  params: TokenRequest,
  clock: () => number = Date.now,
): Promise<TokenResponse> {
  const app = await service.application(ctx);
  // OBO is for confidential clients only: a public client has nothing to prove it is the API.
  const clientAuth = await service.authenticate(ctx, app, false);
  if (params.requested_token_use === undefined) throw entra.missingParameter('requested_token_use');
  if (params.requested_token_use !== 'on_behalf_of') throw entra.invalidRequestedTokenUse(params.requested_token_use);
  const assertion = params.assertion;
  if (!assertion) throw entra.missingParameter('assertion');
  if (assertion.length > MAX_ASSERTION_LENGTH) throw entra.oboMalformed();

  let header: ReturnType<typeof decodeProtectedHeader>;
  try {
    header = decodeProtectedHeader(assertion);
  } catch {
    throw entra.oboMalformed();
  }
  if (header.alg !== 'RS256' || typeof header.kid !== 'string') throw entra.oboMalformed();
  const key = await keys.publicKey(header.kid);
  if (!key) throw entra.oboKeyNotFound();
  let claims: JWTPayload;
  try {
    ({ payload: claims } = await jwtVerify(assertion, key, {
      algorithms: ['RS256'],
      clockTolerance: ASSERTION_SKEW_SECONDS,
      requiredClaims: ['exp', 'tid', 'oid', 'aud', 'iss'],
      currentDate: new Date(clock()),
    }));
  } catch (err) {
    if (err instanceof joseErrors.JWSSignatureVerificationFailed) throw entra.oboBadSignature();
    if (err instanceof joseErrors.JWTExpired || (err instanceof joseErrors.JWTClaimValidationFailed && err.claim === 'nbf')) {
      const exp = JSON.parse(Buffer.from(assertion.split('.')[1]!, 'base64url').toString('utf8')).exp as number;
      throw entra.oboExpired(clock(), exp);
    }
    throw entra.oboMalformed();
  }
  const { tid, oid, aud, idtyp } = claims as Record<string, unknown>;
  if (typeof tid !== 'string' || typeof oid !== 'string' || claims.iss !== stsIssuer(tid) || idtyp !== 'user') throw entra.oboMalformed();
  // The assertion must be a token for this very app (its client id or its Application ID URI).
  const audience = typeof aud === 'string' ? aud : '';
  if (audience.toLowerCase() !== app.client_id && audience.toLowerCase() !== applicationIdUri(app.client_id)) {
    throw entra.oboAudience(audience, app.client_id, app.display_name);
  }
  const tenant = await service.userTenant(ctx, app, tid);
  const user = await directory.findUserById(service.db, oid);
  if (!tenant || !user || user.tenant_id !== tenant.id) throw entra.oboMalformed();
  const scopes = await service.delegatedScopes(app, params.scope);
  return service.userTokens(tenant, app, user, scopes, clientAuth, params.claims, ctx.issuer);
}
