import type { Kysely } from 'kysely';
import { findUserByUpn, unstorable } from '../../storage/repositories/directory-repository.js';
import type { Database, UserRow } from '../../storage/tables.js';
import { DUMMY_PASSWORD_HASH, verifyPassword } from '../secrets.js';

/**
 * The ONE place the interactive sign-in pages (authorize and device code) check a password. Account
 * lockout (issue 11) plugs in here with one call, so every form that takes a password is covered.
 * An unknown user, a user of another tenant and a wrong password take the same time and get the same
 * answer: no account enumeration.
 */
export async function checkSignInPassword(
  db: Kysely<Database>,
  tenantId: string,
  username: string,
  password: string,
): Promise<UserRow | undefined> {
  const user = username.length <= 256 && !unstorable(username) ? await findUserByUpn(db, username.trim()) : undefined;
  const ok = await verifyPassword(password.slice(0, 1024), user?.password_hash ?? DUMMY_PASSWORD_HASH);
  return user && ok && user.tenant_id === tenantId ? user : undefined;
}
