import type { DirectoryLookups } from '../domain/directory/directory-lookups.js';
import { GraphError, invalidAuthenticationToken } from '../domain/errors.js';
import type { AccessTokens, Principal } from '../identity/access-tokens.js';

/**
 * Bearer authentication for Graph routes: the token must verify (access-tokens.ts) and its tenant and
 * principal must still exist, so deleting a user or an app cuts off its tokens (within the
 * directory cache's second).
 */
export async function authenticate(
  directory: DirectoryLookups,
  tokens: AccessTokens,
  authorization: string | undefined,
): Promise<Principal> {
  const principal = await tokens.verify(authorization);
  const tenant = await directory.tenant(principal.tenantId);
  if (!tenant) throw invalidAuthenticationToken(`tenant ${principal.tenantId} unknown`, 'Access token validation failure. Invalid tenant.');
  const app = await directory.application(principal.clientId);
  if (!app || app.tenant_id !== tenant.id)
    throw invalidAuthenticationToken(
      `app ${principal.clientId} unknown`,
      'Access token validation failure. The application no longer exists.',
    );
  if (principal.kind === 'app') {
    if (app.id !== principal.servicePrincipalId) throw invalidAuthenticationToken('oid is not the app service principal');
  } else {
    const user = await directory.userById(principal.userId);
    if (!user || user.tenant_id !== tenant.id)
      throw invalidAuthenticationToken(`user ${principal.userId} unknown`, 'Access token validation failure. The user no longer exists.');
  }
  return principal;
}

export const isGraphError = (e: unknown): e is GraphError => e instanceof GraphError;
