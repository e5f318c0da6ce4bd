import { X509Certificate } from 'node:crypto';
import { compactVerify, decodeProtectedHeader, errors as joseErrors } from 'jose';
import type { Kysely } from 'kysely';
import * as creds from '../storage/repositories/app-credentials-repository.js';
import * as directory from '../storage/repositories/directory-repository.js';
import type { ApplicationRow, Database } from '../storage/tables.js';
import { entra } from './entra-errors.js';
import { secretMatches } from './secrets.js';

export const JWT_BEARER_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/**
 * Clock skew Entra allows on a client assertion's `nbf` and `exp` (its token validation default, 5 minutes).
 * MSAL signs one assertion with a 10-minute lifetime and reuses it until it expires, so a reused
 * assertion is accepted while valid: Entra does not treat `jti` as a one-time nonce here.
 */
export const ASSERTION_SKEW_SECONDS = 300;
/** Client assertions are small (MSAL's with an x5c chain are ~3 KB); anything far larger is refused unparsed. */
const MAX_ASSERTION_LENGTH = 16 * 1024;
const ASSERTION_ALGORITHMS = ['RS256', 'PS256'];

/** How the client presented itself: a secret (body or HTTP Basic) or a signed assertion. */
export interface ClientCredentials {
  secret?: string;
  assertionType?: string;
  assertion?: string;
}

/** The endpoint the request reached, which a client assertion's `aud` must name (client-compat §1.5). */
export interface TokenEndpoint {
  origin: string;
  /** The `{tenant}` path segment as the client sent it (a tenant id, a domain, or common/organizations). */
  segment: string;
  /** The tenant the request is for, when known (any of its domains may then appear in `aud`). */
  tenantId?: string;
}

/** Entra's appidacr: 0 = public client, 1 = client secret, 2 = certificate (client assertion). */
export type ClientAuthMethod = '0' | '1' | '2';

/**
 * Authenticates the client of a token request, the one step every grant calls: a client secret
 * (form body or HTTP Basic; compared against stored SHA-256 hashes in constant time), a client assertion
 * signed by a certificate registered on the app (Entra's certificate credentials), or nothing for a public
 * client where the grant allows it.
 */
export async function authenticateClient(
  db: Kysely<Database>,
  app: ApplicationRow,
  credentials: ClientCredentials,
  options: { publicAllowed: boolean; endpoint: TokenEndpoint; clock?: () => number },
): Promise<ClientAuthMethod> {
  const { secret, assertion, assertionType } = credentials;
  const hasSecret = secret !== undefined && secret !== '';
  if (assertion !== undefined || assertionType !== undefined) {
    if (hasSecret) throw entra.ambiguousClientAuth();
    if (!assertion) throw entra.missingParameter('client_assertion');
    if (assertionType === undefined) throw entra.missingParameter('client_assertion_type');
    if (assertionType !== JWT_BEARER_ASSERTION_TYPE) throw entra.unsupportedAssertionType(assertionType);
    await verifyClientAssertion(db, app, assertion, options.endpoint, options.clock ?? Date.now);
    return '2';
  }
  if (!hasSecret) {
    if (options.publicAllowed && app.allow_public_client) return '0';
    throw entra.clientSecretRequired();
  }
  if (!secretMatches(secret, await directory.secretHashes(db, app.id))) throw entra.invalidClientSecret(app.client_id);
  return '1';
}

const hexOf = (b64url: unknown): string | undefined => {
  if (typeof b64url !== 'string' || !/^[A-Za-z0-9_-]+={0,2}$/.test(b64url)) return undefined;
  return Buffer.from(b64url, 'base64url').toString('hex').toUpperCase();
};

/**
 * Entra's client assertion rules (certificate credentials): a JWS signed RS256 or PS256 by a certificate
 * registered on the app, named in the header by `x5t` (SHA-1 thumbprint) or `x5t#S256`; `iss` = `sub` =
 * the client id; `aud` the token endpoint; `exp` (and `nbf` when present) within the skew. The header's
 * `x5c`, if any, is never trusted: only registered certificates verify.
 */
async function verifyClientAssertion(
  db: Kysely<Database>,
  app: ApplicationRow,
  assertion: string,
  endpoint: TokenEndpoint,
  clock: () => number,
): Promise<void> {
  if (assertion.length > MAX_ASSERTION_LENGTH) throw entra.malformedAssertion();
  let header: ReturnType<typeof decodeProtectedHeader>;
  let claims: Record<string, unknown>;
  try {
    header = decodeProtectedHeader(assertion);
    const payload = assertion.split('.')[1];
    claims = JSON.parse(Buffer.from(payload ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
    if (claims === null || typeof claims !== 'object' || Array.isArray(claims)) throw new Error('payload');
  } catch {
    throw entra.malformedAssertion();
  }
  if (typeof header.alg !== 'string' || !ASSERTION_ALGORITHMS.includes(header.alg))
    throw entra.unsupportedAssertionAlgorithm(String(header.alg));
  const id = app.client_id.toLowerCase();
  if (
    typeof claims.iss !== 'string' ||
    typeof claims.sub !== 'string' ||
    claims.iss.toLowerCase() !== id ||
    claims.sub.toLowerCase() !== id
  ) {
    throw entra.assertionClientMismatch();
  }

  const sha1 = hexOf(header.x5t);
  const sha256 = hexOf(header['x5t#S256']);
  if (!sha1 && !sha256) throw entra.assertionKeyNotFound(app.client_id, undefined);
  const cert = await creds.findCertificate(db, app.id, sha256 ? { sha256 } : { sha1 });
  if (!cert) throw entra.assertionKeyNotFound(app.client_id, sha1 ?? sha256);
  const now = clock();
  if (Date.parse(cert.not_after) < now || Date.parse(cert.not_before) > now)
    throw entra.assertionKeyExpired(app.client_id, cert.thumbprint);

  try {
    await compactVerify(assertion, new X509Certificate(cert.certificate).publicKey, { algorithms: ASSERTION_ALGORITHMS });
  } catch (err) {
    if (err instanceof joseErrors.JWSSignatureVerificationFailed) throw entra.assertionBadSignature(app.client_id);
    throw entra.malformedAssertion();
  }

  if (!(await audienceMatches(db, claims.aud, endpoint))) throw entra.assertionAudience();

  const seconds = now / 1000;
  const { exp, nbf } = claims;
  if (typeof exp !== 'number' || !Number.isFinite(exp) || (nbf !== undefined && (typeof nbf !== 'number' || !Number.isFinite(nbf)))) {
    throw entra.malformedAssertion();
  }
  if (seconds > exp + ASSERTION_SKEW_SECONDS || (typeof nbf === 'number' && seconds < nbf - ASSERTION_SKEW_SECONDS)) {
    throw entra.assertionTimeRange(now, typeof nbf === 'number' ? nbf : 0, exp);
  }
}

const TOKEN_PATH = /^\/([^/]+)\/oauth2\/(?:v2\.0\/)?token\/?$/i;

/**
 * `aud` must be this service's token endpoint (v2 or v1) for the tenant of the request, on the origin
 * the client used: the tenant named as in the request, by its id, or by one of its domains.
 */
async function audienceMatches(db: Kysely<Database>, aud: unknown, endpoint: TokenEndpoint): Promise<boolean> {
  const values = typeof aud === 'string' ? [aud] : Array.isArray(aud) ? aud : [];
  for (const value of values) {
    if (typeof value !== 'string') continue;
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      continue;
    }
    if (url.origin !== endpoint.origin || url.search || url.hash) continue;
    const m = TOKEN_PATH.exec(url.pathname);
    if (!m) continue;
    let segment: string;
    try {
      segment = decodeURIComponent(m[1]!).toLowerCase();
    } catch {
      continue;
    }
    if (segment === endpoint.segment.toLowerCase()) return true;
    if (endpoint.tenantId) {
      const t = await directory.findTenant(db, segment);
      if (t && t.id === endpoint.tenantId) return true;
    }
  }
  return false;
}
