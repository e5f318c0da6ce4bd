import type { Principal } from '../identity/access-tokens.js';
import type { UserRow } from '../storage/tables.js';
import type { DirectoryLookups } from './directory/directory-lookups.js';
import { forbidden, meRequiresDelegated, missingPermission, noApplicationAccessPolicy, userNotFound } from './errors.js';

/** Whose meetings a path addresses: `/me/…` or `/users/{id or UPN}/…`. */
export type MeetingOwnerPath = { me: true } | { me: false; userId: string };

export type Access = 'read' | 'write' | 'virtualAppointment';

/**
 * The permission matrix of fact sheet §3.0: delegated callers need OnlineMeetings.Read or .ReadWrite
 * and act only for themselves; apps need OnlineMeetings.Read.All or .ReadWrite.All on /users/{id} paths
 * plus an application access policy for that user (§5), and cannot use /me at all.
 */
const NEEDED: Record<Principal['kind'], Record<Access, string[]>> = {
  user: {
    read: ['OnlineMeetings.Read', 'OnlineMeetings.ReadWrite'],
    write: ['OnlineMeetings.ReadWrite'],
    // §3.7: getVirtualAppointmentJoinWebUrl
    virtualAppointment: ['VirtualAppointment.Read', 'VirtualAppointment.ReadWrite', 'OnlineMeetings.Read', 'OnlineMeetings.ReadWrite'],
  },
  app: {
    read: ['OnlineMeetings.Read.All', 'OnlineMeetings.ReadWrite.All'],
    write: ['OnlineMeetings.ReadWrite.All'],
    // Issue #14: VirtualAppointment.Read.All / ReadWrite.All ("as authorized by online meetings application
    // access policy"), so the access policy applies as for meetings.
    virtualAppointment: ['VirtualAppointment.Read.All', 'VirtualAppointment.ReadWrite.All'],
  },
};

export function hasPermission(principal: Principal, access: Access): boolean {
  const granted = principal.kind === 'user' ? principal.scopes : principal.roles;
  return NEEDED[principal.kind][access].some((p) => granted.has(p));
}

/**
 * GET /communications/onlineMeetings?$filter=VideoTeleconferenceId eq '…' (§3.4): app tokens only, with
 * a read permission; no application access policy is involved.
 */
export function authorizeCommunicationsLookup(principal: Principal): void {
  if (principal.kind !== 'app') throw forbidden('This API supports application permissions only.');
  if (!hasPermission(principal, 'read')) throw missingPermission(NEEDED.app.read);
}

/** Resolves the user a meetings path acts for, and checks that the caller may act for them. */
export async function authorizeMeetingOwner(
  directory: DirectoryLookups,
  principal: Principal,
  path: MeetingOwnerPath,
  access: Access,
): Promise<UserRow> {
  if (principal.kind === 'app' && path.me) throw meRequiresDelegated();
  if (NEEDED[principal.kind][access].length === 0) throw forbidden('This API does not support application permissions.');
  if (!hasPermission(principal, access)) throw missingPermission(NEEDED[principal.kind][access]);
  const userKey = path.me ? (principal as { userId: string }).userId : path.userId;
  const user = await directory.userInTenant(principal.tenantId, userKey);
  if (!user) throw userNotFound(userKey);
  if (principal.kind === 'user') {
    // A delegated token acts only as its own user (§3.0: /users/{id} takes the signed-in user's id).
    if (user.id !== principal.userId) throw forbidden('The signed-in user can only access their own online meetings.');
    return user;
  }
  if (!(await directory.accessPolicyAllows(principal.tenantId, user.id, principal.clientId))) throw noApplicationAccessPolicy();
  return user;
}
