import type { Kysely } from 'kysely';
import type { Principal } from '../../identity/access-tokens.js';
import { countUsers, listUsersPage } from '../../storage/repositories/user-repository.js';
import { revokeUserSessions } from '../../storage/repositories/refresh-token-repository.js';
import type { Database, UserRow } from '../../storage/tables.js';
import type { DirectoryLookups } from '../directory/directory-lookups.js';
import { GraphError, meRequiresDelegated, missingPermission, userNotFound } from '../errors.js';
import type { UserFilter } from './user-filter.js';

/**
 * Graph's user reads (fact sheet §5.1). Permissions as Graph documents them: the signed-in user's own
 * profile needs User.Read (or anything broader); other users need User.ReadBasic.All, User.Read.All or a
 * Directory permission, delegated or application. No application access policy is involved for users,
 * and every read stays inside the caller's tenant.
 */
const READ_OTHERS = ['User.ReadBasic.All', 'User.Read.All', 'User.ReadWrite.All', 'Directory.Read.All', 'Directory.ReadWrite.All'];
const READ_SELF = ['User.Read', 'User.ReadWrite', ...READ_OTHERS];

/**
 * revokeSignInSessions (Graph's user: revokeSignInSessions): User.RevokeSessions.All is the least privileged
 * permission, delegated and application, Directory.ReadWrite.All the higher one. The same holds for /me: a
 * user's own sessions need the permission too (User.ReadWrite does not cover it).
 */
const REVOKE_SESSIONS = ['User.RevokeSessions.All', 'Directory.ReadWrite.All'];

export type UserPath = { me: true } | { me: false; userId: string };

export interface UsersPage {
  users: UserRow[];
  /** The id to continue after, when there is a next page. */
  nextAfter?: string;
  count?: number;
}

const granted = (principal: Principal) => (principal.kind === 'user' ? principal.scopes : principal.roles);
const holdsAny = (principal: Principal, names: string[]) => names.some((n) => granted(principal).has(n));

export class UserService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly directory: DirectoryLookups,
    private readonly clock: () => number = Date.now,
  ) {}

  /**
   * Ends every sign-in session of a user (issue #11 item 9): their refresh tokens answer AADSTS50173 from
   * now on and their browser sessions on the sign-in pages are over. Access tokens already issued stay
   * valid until they expire, as in Entra.
   */
  async revokeSignInSessions(principal: Principal, path: UserPath): Promise<void> {
    if (path.me && principal.kind !== 'user') throw meRequiresDelegated();
    const key = path.me ? (principal as { userId: string }).userId : path.userId;
    if (!holdsAny(principal, REVOKE_SESSIONS)) throw missingPermission(REVOKE_SESSIONS);
    const user = await this.directory.userInTenant(principal.tenantId, key);
    if (!user) throw userNotFound(key);
    await revokeUserSessions(this.db, user.id, new Date(this.clock()).toISOString());
  }

  async get(principal: Principal, path: UserPath): Promise<UserRow> {
    if (path.me && principal.kind !== 'user') throw meRequiresDelegated();
    const key = path.me ? (principal as { userId: string }).userId : path.userId;
    // Checked before the lookup, so a caller without any user permission learns nothing about who exists.
    if (!holdsAny(principal, READ_SELF)) throw missingPermission(READ_SELF);
    const user = await this.directory.userInTenant(principal.tenantId, key);
    if (!user) throw userNotFound(key);
    // User.Read reaches only the signed-in user (by /me, id or UPN).
    const self = principal.kind === 'user' && user.id === principal.userId;
    if (!self && !holdsAny(principal, READ_OTHERS)) throw missingPermission(READ_OTHERS);
    return user;
  }

  async list(principal: Principal, query: { filter?: UserFilter; afterId?: string; top: number; count: boolean }): Promise<UsersPage> {
    if (!holdsAny(principal, READ_OTHERS)) throw missingPermission(READ_OTHERS);
    const rows = await listUsersPage(this.db, principal.tenantId, { filter: query.filter, afterId: query.afterId, limit: query.top + 1 });
    const page: UsersPage = { users: rows.slice(0, query.top) };
    if (rows.length > query.top) page.nextAfter = page.users.at(-1)!.id;
    if (query.count) page.count = await countUsers(this.db, principal.tenantId, query.filter);
    return page;
  }

  async count(principal: Principal, filter?: UserFilter): Promise<number> {
    if (!holdsAny(principal, READ_OTHERS)) throw missingPermission(READ_OTHERS);
    return countUsers(this.db, principal.tenantId, filter);
  }
}

/** §5.1: $count on directory objects needs `ConsistencyLevel: eventual`. */
export const countNotSupported = () => new GraphError(400, 'Request_BadRequest', '$count is not currently supported.');
