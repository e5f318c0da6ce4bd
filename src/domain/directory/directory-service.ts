import { randomUUID } from 'node:crypto';
import { revokeUserSessions } from '../../storage/repositories/refresh-token-repository.js';
import type { Kysely } from 'kysely';
import { generateClientSecret, hashPassword, hashSecret } from '../../identity/secrets.js';
import * as directory from '../../storage/repositories/directory-repository.js';
import { uniqueViolation } from '../../storage/errors.js';
import type { Database, RedirectPlatform } from '../../storage/tables.js';
import * as signIn from '../../storage/repositories/sign-in-repository.js';
import { REDIRECT_PLATFORMS, redirectUriProblem } from '../../identity/sign-in/redirect-uris.js';
import { badRequest, conflict, GraphError } from '../errors.js';
import { APPLICATION_PERMISSIONS, DELEGATED_SCOPES, canonicalPermission } from './permissions.js';
import { userProfileColumns, type UserProfileInput } from '../users/user-profile.js';
import { defaultTenantSettings, type MeetingTemplateDefinition, type TenantSettings } from './tenant-settings.js';

const DOMAIN = /^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
const UPN = /^[^\s@]{1,64}@([^\s@]+)$/;

const notFound = (what: string) => new GraphError(404, 'NotFound', `${what} was not found.`);

/**
 * Administration of the directory: what `graph-meetings` CLI commands and the demo seed do. Rules are
 * checked here (names, formats, that a UPN's domain belongs to its tenant), so every caller gets them.
 */
export class DirectoryService {
  constructor(private readonly db: Kysely<Database>) {}

  async requireTenant(idOrDomain: string) {
    const t = await directory.findTenant(this.db, idOrDomain);
    if (!t) throw notFound(`Tenant '${idOrDomain}'`);
    return t;
  }

  async createTenant(input: { id?: string; displayName: string; domain: string; settings?: TenantSettings }) {
    const id = (input.id ?? randomUUID()).toLowerCase();
    if (!directory.isGuid(id)) throw badRequest(`Tenant id '${id}' is not a GUID.`);
    const domain = input.domain.toLowerCase();
    if (!DOMAIN.test(domain)) throw badRequest(`'${input.domain}' is not a valid domain name.`);
    if (!input.displayName.trim()) throw badRequest('A tenant needs a display name.');
    await this.unique(`Tenant '${id}' or domain '${domain}' already exists.`, () =>
      this.db.transaction().execute(async (tx) => {
        await tx
          .insertInto('tenants')
          .values({
            id,
            display_name: input.displayName.trim(),
            settings: JSON.stringify(input.settings ?? defaultTenantSettings()),
            created_at: new Date().toISOString(),
          })
          .execute();
        await tx.insertInto('tenant_domains').values({ domain, tenant_id: id, is_default: 1 }).execute();
      }),
    );
    return { id, domain };
  }

  async createUser(input: { tenant: string; upn: string; displayName: string; password: string; id?: string } & UserProfileInput) {
    const tenant = await this.requireTenant(input.tenant);
    const upn = input.upn.toLowerCase();
    const m = UPN.exec(upn);
    if (!m) throw badRequest(`'${input.upn}' is not a user principal name (name@domain).`);
    const domains = await directory.tenantDomains(this.db, tenant.id);
    if (!domains.includes(m[1]!))
      throw badRequest(`The domain of '${upn}' is not a domain of tenant ${tenant.id} (${domains.join(', ')}).`);
    if (input.password.length < 8) throw badRequest('A password needs at least 8 characters.');
    const id = (input.id ?? randomUUID()).toLowerCase();
    if (!directory.isGuid(id)) throw badRequest(`User id '${id}' is not a GUID.`);
    const profile = userProfileColumns(input, upn);
    const password_hash = await hashPassword(input.password);
    await this.unique(`A user with id ${id} or UPN ${upn} already exists.`, () =>
      this.db
        .insertInto('users')
        .values({
          id,
          tenant_id: tenant.id,
          upn,
          display_name: input.displayName.trim() || upn,
          password_hash,
          created_at: new Date().toISOString(),
          ...profile,
        })
        .execute(),
    );
    return { id, upn, tenantId: tenant.id };
  }

  /**
   * Sets a user's password. As in Entra, a password change ends the user's sessions: their refresh tokens
   * answer AADSTS50173 and their browser sessions are over (issue #11 item 9).
   */
  async setPassword(userId: string, password: string): Promise<void> {
    if (password.length < 8) throw badRequest('A password needs at least 8 characters.');
    const password_hash = await hashPassword(password);
    await this.db.updateTable('users').set({ password_hash }).where('id', '=', userId).execute();
    await revokeUserSessions(this.db, userId, new Date().toISOString());
  }

  /** Registers an app (and its service principal); returns its first client secret, which is never stored in clear. */
  async createApplication(input: {
    tenant: string;
    displayName: string;
    clientId?: string;
    id?: string;
    secret?: string;
    allowPublicClient?: boolean;
  }) {
    const tenant = await this.requireTenant(input.tenant);
    const clientId = (input.clientId ?? randomUUID()).toLowerCase();
    const id = (input.id ?? randomUUID()).toLowerCase();
    if (!directory.isGuid(clientId)) throw badRequest(`Client id '${clientId}' is not a GUID.`);
    if (!input.displayName.trim()) throw badRequest('An application needs a display name.');
    await this.unique(`An application with client id ${clientId} already exists.`, () =>
      this.db
        .insertInto('applications')
        .values({
          id,
          client_id: clientId,
          tenant_id: tenant.id,
          display_name: input.displayName.trim(),
          allow_public_client: input.allowPublicClient ? 1 : 0,
          created_at: new Date().toISOString(),
        })
        .execute(),
    );
    const secret = await this.addSecret(clientId, input.secret);
    return { id, clientId, tenantId: tenant.id, secret };
  }

  async requireApplication(clientId: string) {
    const app = await directory.findApplicationByClientId(this.db, clientId);
    if (!app) throw notFound(`Application '${clientId}'`);
    return app;
  }

  /** Adds a client secret; the value is returned once and only its hash is kept. */
  async addSecret(clientId: string, value?: string) {
    const app = await this.requireApplication(clientId);
    const secret = value ?? generateClientSecret();
    if (secret.length < 8) throw badRequest('A client secret needs at least 8 characters.');
    const id = randomUUID();
    await this.db
      .insertInto('application_secrets')
      .values({
        id,
        application_id: app.id,
        secret_hash: hashSecret(secret),
        hint: secret.slice(0, 3),
        created_at: new Date().toISOString(),
      })
      .execute();
    return { id, value: secret };
  }

  async removeSecret(clientId: string, secretId: string) {
    const app = await this.requireApplication(clientId);
    const res = await this.db
      .deleteFrom('application_secrets')
      .where('application_id', '=', app.id)
      .where('id', '=', secretId)
      .executeTakeFirst();
    if (Number(res.numDeletedRows) === 0) throw notFound(`Secret '${secretId}'`);
  }

  async grantApplicationPermission(clientId: string, permission: string) {
    const app = await this.requireApplication(clientId);
    const name = canonicalPermission(APPLICATION_PERMISSIONS, permission);
    if (!name) throw badRequest(`Unknown application permission '${permission}'. Known: ${APPLICATION_PERMISSIONS.join(', ')}.`);
    await this.db
      .insertInto('application_permissions')
      .values({ application_id: app.id, permission: name })
      .onConflict((oc) => oc.columns(['application_id', 'permission']).doNothing())
      .execute();
    return name;
  }

  async revokeApplicationPermission(clientId: string, permission: string) {
    const app = await this.requireApplication(clientId);
    await this.db
      .deleteFrom('application_permissions')
      .where('application_id', '=', app.id)
      .where('permission', '=', canonicalPermission(APPLICATION_PERMISSIONS, permission) ?? permission)
      .execute();
  }

  /** Admin consent to delegated scopes for every user of the app's tenant. */
  async consentDelegated(clientId: string, scopes: string[]) {
    const app = await this.requireApplication(clientId);
    const names = scopes.map((s) => {
      const name = canonicalPermission(DELEGATED_SCOPES, s);
      if (!name) throw badRequest(`Unknown delegated scope '${s}'. Known: ${DELEGATED_SCOPES.join(', ')}.`);
      return name;
    });
    for (const scope of names) {
      await this.db
        .insertInto('delegated_consents')
        .values({ application_id: app.id, scope })
        .onConflict((oc) => oc.columns(['application_id', 'scope']).doNothing())
        .execute();
    }
    return names;
  }

  /** Registers a redirect URI on a platform (web, spa, public), as the app's "Authentication" blade does. */
  async addRedirectUri(clientId: string, uri: string, platform: string) {
    const app = await this.requireApplication(clientId);
    if (!(REDIRECT_PLATFORMS as readonly string[]).includes(platform)) {
      throw badRequest(`Unknown platform '${platform}'. Known: ${REDIRECT_PLATFORMS.join(', ')}.`);
    }
    const problem = redirectUriProblem(uri, platform as RedirectPlatform);
    if (problem) throw badRequest(problem);
    await signIn.addRedirectUri(this.db, app.id, uri, platform as RedirectPlatform, new Date().toISOString());
    return signIn.redirectUris(this.db, app.id);
  }

  async listRedirectUris(clientId: string) {
    const app = await this.requireApplication(clientId);
    return signIn.redirectUris(this.db, app.id);
  }

  async removeRedirectUri(clientId: string, uri: string) {
    const app = await this.requireApplication(clientId);
    if (!(await signIn.removeRedirectUri(this.db, app.id, uri))) throw notFound(`Redirect URI '${uri}'`);
    return signIn.redirectUris(this.db, app.id);
  }

  async revokeDelegated(clientId: string, scopes: string[]) {
    const app = await this.requireApplication(clientId);
    const names = scopes.map((s) => canonicalPermission(DELEGATED_SCOPES, s) ?? s);
    await this.db.deleteFrom('delegated_consents').where('application_id', '=', app.id).where('scope', 'in', names).execute();
  }

  /** New-CsApplicationAccessPolicy -Identity <name> -AppIds … (fact sheet §5). */
  async createAccessPolicy(input: { tenant: string; name: string; appIds: string[]; description?: string }) {
    const tenant = await this.requireTenant(input.tenant);
    const name = input.name.trim();
    if (!/^[A-Za-z0-9 ._-]{1,64}$/.test(name))
      throw badRequest(`'${input.name}' is not a valid policy name (letters, digits, space, . _ -).`);
    const appIds = input.appIds.map((a) => a.toLowerCase());
    for (const a of appIds) if (!directory.isGuid(a)) throw badRequest(`App id '${a}' is not a GUID.`);
    const id = randomUUID();
    await this.unique(`An application access policy named '${name}' already exists.`, () =>
      this.db.transaction().execute(async (tx) => {
        await tx
          .insertInto('access_policies')
          .values({
            id,
            tenant_id: tenant.id,
            name,
            name_key: name.toLowerCase(),
            description: input.description ?? '',
            created_at: new Date().toISOString(),
          })
          .execute();
        for (const client_id of new Set(appIds)) await tx.insertInto('access_policy_apps').values({ policy_id: id, client_id }).execute();
      }),
    );
    return { id, name };
  }

  /** Grant-CsApplicationAccessPolicy -PolicyName <name> -Identity <user> | -Global. A user holds one policy; a new grant replaces it. */
  async grantAccessPolicy(input: { tenant: string; policy: string; user?: string; global?: boolean }) {
    const tenant = await this.requireTenant(input.tenant);
    const policy = await directory.findAccessPolicy(this.db, tenant.id, input.policy);
    if (!policy) throw notFound(`Application access policy '${input.policy}'`);
    let userId = '*';
    if (!input.global) {
      if (!input.user) throw badRequest('Name a user, or grant the policy tenant-wide.');
      const user = await directory.findUserInTenant(this.db, tenant.id, input.user);
      if (!user) throw notFound(`User '${input.user}'`);
      userId = user.id;
    }
    await this.db
      .insertInto('access_policy_assignments')
      .values({ tenant_id: tenant.id, user_id: userId, policy_id: policy.id })
      .onConflict((oc) => oc.columns(['tenant_id', 'user_id']).doUpdateSet({ policy_id: policy.id }))
      .execute();
    return { policy: policy.name, grantedTo: userId === '*' ? 'Global' : userId };
  }

  /** Grant-CsApplicationAccessPolicy -PolicyName $null: removes the user's (or the tenant-wide) grant. */
  async revokeAccessPolicy(input: { tenant: string; user?: string; global?: boolean }) {
    const tenant = await this.requireTenant(input.tenant);
    let userId = '*';
    if (!input.global) {
      const user = input.user ? await directory.findUserInTenant(this.db, tenant.id, input.user) : undefined;
      if (!user) throw notFound(`User '${input.user ?? ''}'`);
      userId = user.id;
    }
    await this.db.deleteFrom('access_policy_assignments').where('tenant_id', '=', tenant.id).where('user_id', '=', userId).execute();
  }

  async createMeetingTemplate(input: { tenant: string; id?: string; displayName: string; definition: MeetingTemplateDefinition }) {
    const tenant = await this.requireTenant(input.tenant);
    const id = (input.id ?? randomUUID()).toLowerCase();
    await this.unique(`A meeting template with id ${id} already exists.`, () =>
      this.db
        .insertInto('meeting_templates')
        .values({ id, tenant_id: tenant.id, display_name: input.displayName, definition: JSON.stringify(input.definition) })
        .execute(),
    );
    return { id };
  }

  private async unique<T>(message: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (err) {
      if (uniqueViolation(err)) throw conflict(message);
      throw err;
    }
  }
}
