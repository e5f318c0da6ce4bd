import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { Kysely } from 'kysely';
import { findUserById } from '../../storage/repositories/directory-repository.js';
import * as repo from '../../storage/repositories/sign-in-repository.js';
import type { Database, UserRow } from '../../storage/tables.js';
import { hashSecret } from '../secrets.js';

export const SESSION_COOKIE = 'gm_session';
export const CSRF_COOKIE = 'gm_csrf';
/** A browser session lasts a working day, like Entra's default sign-in session without "stay signed in". */
const SESSION_LIFETIME_MS = 24 * 3600_000;

/** Cookie attributes: bound to this origin (no Domain), never readable by script, not sent on cross-site POSTs. */
export const cookie = (name: string, value: string, maxAgeSeconds?: number) =>
  `${name}=${value}; Path=/; Secure; HttpOnly; SameSite=Lax${maxAgeSeconds !== undefined ? `; Max-Age=${maxAgeSeconds}` : ''}`;

export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) return part.slice(i + 1).trim();
  }
  return undefined;
}

export const newToken = () => randomBytes(32).toString('base64url');

/** Constant-time equality of two tokens (the CSRF double-submit check). */
export function sameToken(a: string | undefined, b: string | undefined): boolean {
  if (!a || !b) return false;
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * Browser sessions of the sign-in pages: the cookie holds a random id, the database only its hash, so
 * a copy of the database cannot be turned into a session. Sign-out ends the row: the cookie is then useless.
 */
export class BrowserSessions {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: () => number,
  ) {}

  async start(tenantId: string, userId: string): Promise<{ id: string; idHash: string }> {
    const id = newToken();
    const now = this.clock();
    const idHash = hashSecret(id);
    await repo.insertBrowserSession(this.db, {
      id_hash: idHash,
      tenant_id: tenantId,
      user_id: userId,
      created_at: new Date(now).toISOString(),
      expires_at: new Date(now + SESSION_LIFETIME_MS).toISOString(),
    });
    return { id, idHash };
  }

  /**
   * The signed-in user of this cookie for the tenant, if the session is live. Without a tenant (the
   * authorize endpoint at /common and /organizations) the session of whichever tenant the user signed in to.
   */
  async current(cookieHeader: string | undefined, tenantId: string | undefined): Promise<{ user: UserRow; idHash: string } | undefined> {
    const id = readCookie(cookieHeader, SESSION_COOKIE);
    if (!id || id.length > 100) return undefined;
    const idHash = hashSecret(id);
    const row = await repo.findBrowserSession(this.db, idHash);
    if (
      !row ||
      row.ended_at !== null ||
      Date.parse(row.expires_at) <= this.clock() ||
      (tenantId !== undefined && row.tenant_id !== tenantId)
    )
      return undefined;
    const user = await findUserById(this.db, row.user_id);
    return user ? { user, idHash } : undefined;
  }

  async end(cookieHeader: string | undefined): Promise<void> {
    const id = readCookie(cookieHeader, SESSION_COOKIE);
    if (id && id.length <= 100) await repo.endBrowserSession(this.db, hashSecret(id), new Date(this.clock()).toISOString());
  }
}
