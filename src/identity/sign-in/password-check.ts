import type { Kysely } from 'kysely';
import { findUserByUpn, unstorable } from '../../storage/repositories/directory-repository.js';
import type { Database, UserRow } from '../../storage/tables.js';
import { EntraError } from '../entra-errors.js';
import type { SignInProtection } from '../sign-in-protection.js';

/** What a sign-in form learns: the user, a wrong user name or password, or a refusal to show (lockout, busy). */
export type SignInCheck = { user: UserRow } | { wrong: true } | { refused: string };

/**
 * The ONE place the interactive sign-in pages (authorize and device code) check a password. It goes
 * through the same smart lockout and bounded hashing as the password grant (sign-in-protection.ts,
 * issue #11 item 2), so every form that takes a password is covered. An unknown user, a user of another
 * tenant and a wrong password take the same time, count towards lockout the same way and get the same
 * answer: no account enumeration.
 */
export async function checkSignInPassword(
  db: Kysely<Database>,
  signIn: SignInProtection,
  /** tenantId undefined: the sign-in page of /common or /organizations, where a user of any tenant may sign in. */
  attempt: { tenantId: string | undefined; username: string; password: string; sourceAddress: string },
): Promise<SignInCheck> {
  const username = attempt.username.trim();
  const found = username.length <= 256 && !unstorable(username) ? await findUserByUpn(db, username) : undefined;
  const user = found && (attempt.tenantId === undefined || found.tenant_id === attempt.tenantId) ? found : undefined;
  try {
    const ok = await signIn.checkPassword({
      // Lockout counts per tenant; at /common an unknown name counts under 'common' (same cost, same answer).
      tenantId: attempt.tenantId ?? user?.tenant_id ?? 'common',
      username: username.slice(0, 256),
      password: attempt.password.slice(0, 1024),
      sourceAddress: attempt.sourceAddress,
      passwordHash: user?.password_hash,
    });
    return user && ok ? { user } : { wrong: true };
  } catch (err) {
    // AADSTS50053 (locked) or the hashing throttle: the page shows Entra's code and text, as Entra's page
    // does ("AADSTS50053: The account is locked, …"), so a tester sees which refusal it was.
    if (err instanceof EntraError) return { refused: `AADSTS${err.aadsts}: ${err.description.split('\n')[0]}` };
    throw err;
  }
}
