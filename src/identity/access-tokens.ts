import { createHash, randomBytes } from 'node:crypto';
import { SignJWT, decodeProtectedHeader, errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import { accessTokenEmpty, invalidAuthenticationToken, tokenExpired } from '../domain/errors.js';
import { LruCache } from '../util/lru-cache.js';
import type { SigningKeyStore } from './signing-keys.js';

/** Graph's two audience spellings; real tokens carry either (client-compat §6). */
export const GRAPH_AUDIENCES = ['https://graph.microsoft.com', '00000003-0000-0000-c000-000000000000'] as const;
export const GRAPH_RESOURCE = 'https://graph.microsoft.com';
export const stsIssuer = (tenantId: string) => `https://sts.windows.net/${tenantId}/`;

/** Tokens longer than this are refused before any parsing (real Graph tokens are 1.5 to 3 KB). */
export const MAX_TOKEN_LENGTH = 16 * 1024;
/** Clock skew allowed on exp and nbf. */
export const CLOCK_TOLERANCE_SECONDS = 60;
/** The longest lifetime TOKEN_LIFETIME_SECONDS allows; a token claiming more was not issued here. */
export const MAX_LIFETIME_SECONDS = 86_400;
const CANONICAL_GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export type Principal =
  | { kind: 'app'; tenantId: string; servicePrincipalId: string; clientId: string; roles: ReadonlySet<string> }
  | { kind: 'user'; tenantId: string; userId: string; clientId: string; scopes: ReadonlySet<string> };

export interface AppTokenInput {
  tenantId: string;
  servicePrincipalId: string;
  clientId: string;
  appDisplayName: string;
  roles: string[];
  /** 1 = client secret, 2 = certificate/assertion (Entra's appidacr). */
  clientAuth: '1' | '2';
}

export interface UserTokenInput {
  tenantId: string;
  userId: string;
  upn: string;
  displayName: string;
  clientId: string;
  appDisplayName: string;
  scopes: string[];
  /** Entra's appidacr: 0 = public client, 1 = client secret, 2 = certificate. */
  clientAuth: '0' | '1' | '2';
  cae: boolean;
  /** The resource: Graph unless the token is for an API an app exposes (api://{clientId}, issue #13). */
  audience?: string;
}

/** Verified tokens kept in memory, so a client's next request skips the RSA signature check. */
const VERIFIED_CACHE_SIZE = 10_000;

export class AccessTokens {
  readonly #verified = new LruCache<string, { principal: Principal; exp: number; nbf: number }>(VERIFIED_CACHE_SIZE);

  constructor(
    private readonly keys: SigningKeyStore,
    private readonly lifetimeSeconds: number,
    private readonly clock: () => number = Date.now,
  ) {}

  get lifetime(): number {
    return this.lifetimeSeconds;
  }

  /** An app-only token shaped like Graph's (client-compat §6: v1 format, `roles`, idtyp=app). */
  async mintAppToken(input: AppTokenInput): Promise<string> {
    const iss = stsIssuer(input.tenantId);
    return this.sign({
      aud: GRAPH_RESOURCE,
      iss,
      idp: iss,
      app_displayname: input.appDisplayName,
      appid: input.clientId,
      appidacr: input.clientAuth,
      idtyp: 'app',
      oid: input.servicePrincipalId,
      sub: input.servicePrincipalId,
      roles: input.roles,
      tid: input.tenantId,
      ver: '1.0',
    });
  }

  /** A delegated token (client-compat §6: `scp` space-separated, upn, name). */
  async mintUserToken(input: UserTokenInput): Promise<string> {
    const iss = stsIssuer(input.tenantId);
    return this.sign({
      aud: input.audience ?? GRAPH_AUDIENCES[1],
      iss,
      idp: iss,
      acr: '1',
      amr: ['pwd'],
      app_displayname: input.appDisplayName,
      appid: input.clientId,
      appidacr: input.clientAuth,
      idtyp: 'user',
      name: input.displayName,
      oid: input.userId,
      // Entra's `sub` is pairwise: stable per user and app, unlinkable across apps.
      sub: createHash('sha256').update(`${input.userId}|${input.clientId}`).digest('base64url').slice(0, 43),
      scp: input.scopes.join(' '),
      tid: input.tenantId,
      unique_name: input.upn,
      upn: input.upn,
      ver: '1.0',
      ...(input.cae ? { xms_cc: ['cp1'] } : {}),
    });
  }

  private async sign(claims: JWTPayload): Promise<string> {
    const key = this.keys.active;
    const now = Math.floor(this.clock() / 1000);
    return new SignJWT({ ...claims, uti: randomBytes(16).toString('base64url') })
      .setProtectedHeader({ typ: 'JWT', alg: 'RS256', kid: key.kid, x5t: key.kid })
      .setIssuedAt(now)
      .setNotBefore(now)
      .setExpirationTime(now + this.lifetimeSeconds)
      .sign(key.privateKey);
  }

  /**
   * Verifies a bearer token completely: size, header (RS256 only, no key-carrying or critical headers),
   * signature against our keys, audience, issuer bound to `tid`, expiry and not-before with a small skew,
   * and the claims the authorization layer relies on. Whether the tenant and principal still exist is
   * checked by the caller (http/authentication.ts), which has the directory.
   */
  async verify(authorization: string | undefined): Promise<Principal> {
    if (!authorization) throw accessTokenEmpty();
    // A token that verified before is the same bytes under the same signature: only its lifetime can
    // have changed since, so that is all a cache hit re-checks. The cache is keyed by the header as sent, so
    // a hit neither parses it nor copies the token out of it (issue #20: 3% of a GET).
    const seen = this.#verified.get(authorization);
    if (seen) {
      const now = this.clock() / 1000;
      if (now > seen.exp + CLOCK_TOLERANCE_SECONDS) {
        this.#verified.delete(authorization);
        throw tokenExpired('cached token expired');
      }
      if (now < seen.nbf - CLOCK_TOLERANCE_SECONDS)
        throw invalidAuthenticationToken('nbf', 'Lifetime validation failed, the token is not yet valid.');
      return seen.principal;
    }
    const m = /^Bearer[ ]+(\S+)\s*$/i.exec(authorization);
    if (!m) throw accessTokenEmpty();
    const token = m[1]!;
    if (token.length > MAX_TOKEN_LENGTH) throw invalidAuthenticationToken('token too long', 'Access token validation failure.');
    const principal = await this.verifyUncached(token);
    const claims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as { exp: number; nbf: number };
    this.#verified.set(authorization, { principal, exp: claims.exp, nbf: claims.nbf });
    return principal;
  }

  private async verifyUncached(token: string): Promise<Principal> {
    let header: ReturnType<typeof decodeProtectedHeader>;
    try {
      header = decodeProtectedHeader(token);
    } catch {
      // The real Graph's words for a string that is not a JWT.
      throw invalidAuthenticationToken('not a JWS', 'IDX14100: JWT is not well formed, there are no dots (.).');
    }
    if (header.alg !== 'RS256') throw invalidAuthenticationToken(`alg ${String(header.alg)} refused`, 'Access token validation failure.');
    for (const h of ['jku', 'x5u', 'jwk', 'x5c', 'crit'] as const) {
      if (h in header) throw invalidAuthenticationToken(`header ${h} refused`, 'Access token validation failure.');
    }
    if (typeof header.kid !== 'string') throw invalidAuthenticationToken('no kid', 'Access token validation failure.');
    const key = await this.keys.publicKey(header.kid);
    if (!key) throw invalidAuthenticationToken(`unknown kid ${header.kid}`, 'Access token validation failure. Invalid signature.');

    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, key, {
        algorithms: ['RS256'],
        audience: [...GRAPH_AUDIENCES],
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
        requiredClaims: ['iss', 'exp', 'nbf', 'iat', 'tid', 'oid', 'appid'],
        currentDate: new Date(this.clock()),
      }));
    } catch (err) {
      if (err instanceof joseErrors.JWTExpired) throw tokenExpired(err.message);
      if (err instanceof joseErrors.JWTClaimValidationFailed && err.claim === 'aud') {
        throw invalidAuthenticationToken(err.message, 'Access token validation failure. Invalid audience.');
      }
      if (err instanceof joseErrors.JWTClaimValidationFailed && err.claim === 'nbf') {
        throw invalidAuthenticationToken(err.message, 'Lifetime validation failed, the token is not yet valid.');
      }
      if (err instanceof joseErrors.JWSSignatureVerificationFailed) {
        throw invalidAuthenticationToken(err.message, 'Access token validation failure. Invalid signature.');
      }
      throw invalidAuthenticationToken(err instanceof Error ? err.message : String(err), 'Access token validation failure.');
    }
    const { tid, oid, appid, idtyp, aud, exp, iat } = payload as Record<string, unknown>;
    // Stricter than the JWT rules, as a Graph token always is: one audience (not a list in which one
    // happens to match), ids in canonical lower-case GUID form (so a lookup can never resolve a domain
    // or another spelling), and a lifetime no longer than this service ever issues.
    if (typeof aud !== 'string')
      throw invalidAuthenticationToken('aud is not a single string', 'Access token validation failure. Invalid audience.');
    if (
      typeof tid !== 'string' ||
      typeof oid !== 'string' ||
      typeof appid !== 'string' ||
      ![tid, oid, appid].every((v) => CANONICAL_GUID.test(v))
    ) {
      throw invalidAuthenticationToken('tid/oid/appid not canonical GUIDs', 'Access token validation failure.');
    }
    if (
      typeof exp !== 'number' ||
      typeof iat !== 'number' ||
      !Number.isFinite(exp) ||
      exp - iat > MAX_LIFETIME_SECONDS ||
      iat > this.clock() / 1000 + CLOCK_TOLERANCE_SECONDS
    ) {
      throw invalidAuthenticationToken('lifetime out of range', 'Lifetime validation failed, the token is not valid.');
    }
    if (payload.iss !== stsIssuer(tid)) {
      throw invalidAuthenticationToken(
        `issuer ${String(payload.iss)} does not match tid`,
        'Access token validation failure. Invalid issuer.',
      );
    }
    if (idtyp === 'app') {
      const roles = (payload as { roles?: unknown }).roles ?? [];
      if (!Array.isArray(roles) || !roles.every((r) => typeof r === 'string')) throw invalidAuthenticationToken('roles malformed');
      return { kind: 'app', tenantId: tid, servicePrincipalId: oid, clientId: appid, roles: new Set(roles as string[]) };
    }
    if (idtyp === 'user') {
      const scp = (payload as { scp?: unknown }).scp ?? '';
      if (typeof scp !== 'string') throw invalidAuthenticationToken('scp malformed');
      return { kind: 'user', tenantId: tid, userId: oid, clientId: appid, scopes: new Set(scp.split(' ').filter(Boolean)) };
    }
    throw invalidAuthenticationToken(`idtyp ${String(idtyp)}`, 'Access token validation failure.');
  }
}
