import { graphUser, type UserProfileInput } from '../domain/users/user-profile.js';
import type { Kysely } from 'kysely';
import type { Config } from '../config/config.js';
import { DirectoryService } from '../domain/directory/directory-service.js';
import { APPLICATION_PERMISSIONS, DELEGATED_SCOPES, canonicalPermission } from '../domain/directory/permissions.js';
import { GraphError, badRequest, conflict } from '../domain/errors.js';
import { AccessTokens, GRAPH_AUDIENCES, GRAPH_RESOURCE } from '../identity/access-tokens.js';
import { SigningKeyStore } from '../identity/signing-keys.js';
import { migrateToLatest } from '../storage/database.js';
import * as creds from '../storage/repositories/app-credentials-repository.js';
import * as directory from '../storage/repositories/directory-repository.js';
import { revokeUserSessions } from '../storage/repositories/refresh-token-repository.js';
import type { ApplicationRow, Database, UserRow } from '../storage/tables.js';

/**
 * The CLI's commands as plain functions over a database handle: each returns the data it printed
 * (main.ts renders it as text or JSON), so they can be called and tested without a process.
 * Directory rules live in DirectoryService; these functions only look things up and shape results.
 */

export interface CommandOutput {
  /** A message for the human at the terminal (stderr), kept off stdout so scripts can capture results. */
  note(message: string): void;
}

export interface CommandContext {
  db: Kysely<Database>;
  config: Config;
  out: CommandOutput;
  /** Standard input, read whole (`user add --password-stdin`); undefined where there is none. */
  readStdin?: () => Promise<string>;
}

const notFound = (what: string) => new GraphError(404, 'NotFound', `${what} was not found.`);
const SECRET_NOTE = 'Store the client secret now: it cannot be shown again (only its SHA-256 hash is kept).';

// --- tenants ---------------------------------------------------------------------------------------

export interface TenantView {
  id: string;
  displayName: string;
  domains: string[];
  createdAt: string;
}

export async function tenantList({ db }: CommandContext): Promise<TenantView[]> {
  const tenants = await directory.listTenants(db);
  return tenants.map((t) => ({ id: t.id, displayName: t.display_name, domains: t.domains, createdAt: t.created_at }));
}

export async function tenantAdd({ db }: CommandContext, input: { name: string; domain: string; id?: string }) {
  // The service's conflict message names both id and domain (it cannot tell which clashed); say which one did.
  const byDomain = await directory.findTenant(db, input.domain);
  if (byDomain)
    throw conflict(`Domain '${input.domain.toLowerCase()}' already belongs to tenant ${byDomain.display_name} (${byDomain.id}).`);
  if (input.id && directory.isGuid(input.id) && (await directory.findTenant(db, input.id))) {
    throw conflict(`Tenant '${input.id.toLowerCase()}' already exists.`);
  }
  const created = await new DirectoryService(db).createTenant({ displayName: input.name, domain: input.domain, id: input.id });
  return { id: created.id, displayName: input.name.trim(), domain: created.domain };
}

// --- users -----------------------------------------------------------------------------------------

export interface UserView {
  id: string;
  upn: string;
  displayName: string;
  tenantId: string;
  createdAt: string;
  givenName: string | null;
  surname: string | null;
  jobTitle: string | null;
  mail: string | null;
  mobilePhone: string | null;
  officeLocation: string | null;
  preferredLanguage: string | null;
  businessPhones: string[];
}

// Never the password hash: JSON output goes into logs and tickets.
const userView = (u: UserRow): UserView => ({
  id: u.id,
  upn: u.upn,
  displayName: u.display_name,
  tenantId: u.tenant_id,
  createdAt: u.created_at,
  givenName: u.given_name,
  surname: u.surname,
  jobTitle: u.job_title,
  mail: u.mail,
  mobilePhone: u.mobile_phone,
  officeLocation: u.office_location,
  preferredLanguage: u.preferred_language,
  businessPhones: graphUser(u).businessPhones as string[],
});

export async function userList({ db }: CommandContext, input: { tenant: string }): Promise<UserView[]> {
  const tenant = await new DirectoryService(db).requireTenant(input.tenant);
  return (await directory.listUsers(db, tenant.id)).map(userView);
}

export async function userAdd(
  { db }: CommandContext,
  input: { tenant: string; upn: string; name: string; password: string; id?: string } & UserProfileInput,
) {
  // As for tenants: name the clash precisely rather than the service's "id or UPN".
  const byUpn = await directory.findUserByUpn(db, input.upn);
  if (byUpn) throw conflict(`User '${byUpn.upn}' already exists (id ${byUpn.id}).`);
  if (input.id && directory.isGuid(input.id) && (await directory.findUserById(db, input.id))) {
    throw conflict(`A user with id '${input.id.toLowerCase()}' already exists.`);
  }
  const created = await new DirectoryService(db).createUser({
    tenant: input.tenant,
    upn: input.upn,
    displayName: input.name,
    password: input.password,
    id: input.id,
    givenName: input.givenName,
    surname: input.surname,
    jobTitle: input.jobTitle,
    mail: input.mail,
    mobilePhone: input.mobilePhone,
    officeLocation: input.officeLocation,
    preferredLanguage: input.preferredLanguage,
    businessPhones: input.businessPhones,
  });
  const row = (await directory.findUserById(db, created.id))!;
  return userView(row);
}

// --- applications ----------------------------------------------------------------------------------

export interface AppView {
  clientId: string;
  /** The object id, which is also the service principal id tokens carry as `oid`. */
  objectId: string;
  displayName: string;
  tenantId: string;
  allowPublicClient: boolean;
  /** Application permissions (app roles) granted with admin consent. */
  permissions: string[];
  /** Delegated scopes with tenant-wide admin consent. */
  consentedScopes: string[];
  /** Secret ids and their first characters: the values themselves are never stored. */
  secrets: Array<{ id: string; hint: string; createdAt: string }>;
  /** Supported account types (issue #13): AzureADMyOrg or AzureADMultipleOrgs. */
  signInAudience: string;
  /** Certificate thumbprints (SHA-1, hex), the public certificates only. */
  certificates: string[];
  /** Scopes the app exposes as an API (api://{clientId}/{scope}). */
  exposedScopes: string[];
  /** Scopes of other apps' APIs consented for this app (api://{clientId}/{scope}). */
  apiConsents: string[];
}

async function appView(db: Kysely<Database>, app: ApplicationRow): Promise<AppView> {
  return {
    clientId: app.client_id,
    objectId: app.id,
    displayName: app.display_name,
    tenantId: app.tenant_id,
    allowPublicClient: app.allow_public_client === 1,
    permissions: await directory.applicationPermissions(db, app.id),
    consentedScopes: await directory.delegatedConsents(db, app.id),
    secrets: (await directory.listSecrets(db, app.id)).map((s) => ({ id: s.id, hint: s.hint, createdAt: s.created_at })),
    signInAudience: app.sign_in_audience,
    certificates: (await creds.listCertificates(db, app.id)).map((c) => c.thumbprint),
    exposedScopes: (await creds.exposedScopes(db, app.id)).map((s) => `api://${app.client_id}/${s}`),
    apiConsents: (await creds.allApiConsents(db, app.id)).map((c) => `api://${c.apiClientId}/${c.scope}`),
  };
}

async function requireUser(db: Kysely<Database>, key: string): Promise<UserRow> {
  const user = directory.isGuid(key) ? await directory.findUserById(db, key) : await directory.findUserByUpn(db, key);
  if (!user) throw notFound(`User '${key}'`);
  return user;
}

/** Ends a user's sessions (Graph's revokeSignInSessions): refresh tokens and sign-in page sessions. */
export async function userRevokeSessions({ db }: CommandContext, input: { upn: string }) {
  const user = await requireUser(db, input.upn);
  const refreshTokens = await revokeUserSessions(db, user.id, new Date().toISOString());
  return { upn: user.upn, id: user.id, refreshTokens };
}

/** Sets a user's password; as in Entra, this also ends the user's sessions. */
export async function userSetPassword({ db }: CommandContext, input: { upn: string; password: string }) {
  const user = await requireUser(db, input.upn);
  await new DirectoryService(db).setPassword(user.id, input.password);
  return { upn: user.upn, id: user.id };
}

export async function appList({ db }: CommandContext, input: { tenant: string }): Promise<AppView[]> {
  const tenant = await new DirectoryService(db).requireTenant(input.tenant);
  const apps = await directory.listApplications(db, tenant.id);
  const views: AppView[] = [];
  for (const app of apps) views.push(await appView(db, app));
  return views;
}

export async function appAdd(
  { db, out }: CommandContext,
  input: { tenant: string; name: string; clientId?: string; publicClient: boolean },
) {
  const created = await new DirectoryService(db).createApplication({
    tenant: input.tenant,
    displayName: input.name,
    clientId: input.clientId,
    allowPublicClient: input.publicClient,
  });
  out.note(SECRET_NOTE);
  return {
    clientId: created.clientId,
    objectId: created.id,
    tenantId: created.tenantId,
    displayName: input.name.trim(),
    allowPublicClient: input.publicClient,
    secret: created.secret,
  };
}

export async function appSecretAdd({ db, out }: CommandContext, input: { clientId: string }) {
  const dir = new DirectoryService(db);
  const app = await dir.requireApplication(input.clientId);
  const secret = await dir.addSecret(app.client_id);
  out.note(SECRET_NOTE);
  return { clientId: app.client_id, secret };
}

export async function appSecretRemove({ db }: CommandContext, input: { clientId: string; secretId: string }) {
  const dir = new DirectoryService(db);
  const app = await dir.requireApplication(input.clientId);
  await dir.removeSecret(app.client_id, input.secretId);
  return { clientId: app.client_id, removedSecretId: input.secretId };
}

export async function appRedirectAdd({ db }: CommandContext, input: { clientId: string; uri: string; platform: string }) {
  const dir = new DirectoryService(db);
  const app = await dir.requireApplication(input.clientId);
  const redirectUris = await dir.addRedirectUri(app.client_id, input.uri, input.platform);
  return { clientId: app.client_id, added: input.uri, platform: input.platform, redirectUris };
}

export async function appRedirectList({ db }: CommandContext, input: { clientId: string }) {
  const dir = new DirectoryService(db);
  const app = await dir.requireApplication(input.clientId);
  return { clientId: app.client_id, redirectUris: await dir.listRedirectUris(app.client_id) };
}

export async function appRedirectRemove({ db }: CommandContext, input: { clientId: string; uri: string }) {
  const dir = new DirectoryService(db);
  const app = await dir.requireApplication(input.clientId);
  const redirectUris = await dir.removeRedirectUri(app.client_id, input.uri);
  return { clientId: app.client_id, removed: input.uri, redirectUris };
}

export async function appGrant({ db, out }: CommandContext, input: { clientId: string; permission: string }) {
  const dir = new DirectoryService(db);
  const app = await dir.requireApplication(input.clientId);
  const granted = await dir.grantApplicationPermission(app.client_id, input.permission);
  const policies = await directory.listAccessPolicies(db, app.tenant_id);
  // The permission alone is not enough on /users/{id}/onlineMeetings (fact sheet §5); say so before the 403 does.
  if (!policies.some((p) => p.appIds.includes(app.client_id))) {
    out.note(`No application access policy lists ${app.client_id} yet: add one (policy new, policy grant) before it can act for users.`);
  }
  return { clientId: app.client_id, granted, permissions: await directory.applicationPermissions(db, app.id) };
}

export async function appRevoke({ db, out }: CommandContext, input: { clientId: string; permission: string }) {
  const dir = new DirectoryService(db);
  const app = await dir.requireApplication(input.clientId);
  const before = await directory.applicationPermissions(db, app.id);
  const name = canonicalPermission(APPLICATION_PERMISSIONS, input.permission) ?? input.permission;
  if (!before.includes(name)) out.note(`'${input.permission}' was not granted to ${app.client_id}; nothing changed.`);
  await dir.revokeApplicationPermission(app.client_id, input.permission);
  return { clientId: app.client_id, revoked: name, permissions: await directory.applicationPermissions(db, app.id) };
}

export async function appConsent({ db }: CommandContext, input: { clientId: string; scopes: string[] }) {
  const dir = new DirectoryService(db);
  const app = await dir.requireApplication(input.clientId);
  const consented = await dir.consentDelegated(app.client_id, input.scopes.map(stripGraphPrefix));
  return { clientId: app.client_id, consented, consentedScopes: await directory.delegatedConsents(db, app.id) };
}

export async function appUnconsent({ db }: CommandContext, input: { clientId: string; scopes: string[] }) {
  const dir = new DirectoryService(db);
  const app = await dir.requireApplication(input.clientId);
  const names = input.scopes.map((s) => canonicalPermission(DELEGATED_SCOPES, stripGraphPrefix(s)) ?? s);
  await dir.revokeDelegated(app.client_id, names);
  return { clientId: app.client_id, revoked: names, consentedScopes: await directory.delegatedConsents(db, app.id) };
}

// --- application access policies -------------------------------------------------------------------

export interface PolicyView {
  id: string;
  name: string;
  description: string;
  appIds: string[];
  /** Granted tenant-wide (Grant-CsApplicationAccessPolicy -Global). */
  global: boolean;
  /** Granted to these users (-Identity). */
  users: Array<{ id: string; upn: string }>;
}

export async function policyList({ db }: CommandContext, input: { tenant: string }): Promise<PolicyView[]> {
  const tenant = await new DirectoryService(db).requireTenant(input.tenant);
  const policies = await directory.listAccessPolicies(db, tenant.id);
  const userIds = [...new Set(policies.flatMap((p) => p.grantedTo.filter((g) => g !== '*')))];
  const upns = new Map((await directory.usersByIds(db, tenant.id, userIds)).map((u) => [u.id, u.upn]));
  return policies.map((p) => ({
    id: p.id,
    name: p.name,
    description: p.description,
    appIds: p.appIds,
    global: p.grantedTo.includes('*'),
    users: p.grantedTo.filter((g) => g !== '*').map((id) => ({ id, upn: upns.get(id) ?? '' })),
  }));
}

export async function policyNew(
  { db, out }: CommandContext,
  input: { tenant: string; name: string; appIds: string[]; description?: string },
) {
  const dir = new DirectoryService(db);
  const tenant = await dir.requireTenant(input.tenant);
  const created = await dir.createAccessPolicy({
    tenant: tenant.id,
    name: input.name,
    appIds: input.appIds,
    description: input.description,
  });
  // Teams accepts any app id (the app may be registered later), so an unknown one is worth a note, not an error.
  for (const appId of new Set(input.appIds.map((a) => a.toLowerCase()))) {
    const app = await directory.findApplicationByClientId(db, appId);
    if (!app || app.tenant_id !== tenant.id) out.note(`App id ${appId} is not an application of tenant ${tenant.id} (yet).`);
  }
  return {
    id: created.id,
    name: created.name,
    tenantId: tenant.id,
    description: input.description ?? '',
    appIds: input.appIds.map((a) => a.toLowerCase()),
  };
}

type Grantee = { global: true } | { global: false; id: string; upn: string };

async function grantee(db: Kysely<Database>, tenantId: string, input: { user?: string; global?: boolean }): Promise<Grantee> {
  if (input.global) return { global: true };
  if (!input.user) throw badRequest('Name a user (--user), or use --global.');
  const user = await directory.findUserInTenant(db, tenantId, input.user);
  if (!user) throw notFound(`User '${input.user}'`);
  return { global: false, id: user.id, upn: user.upn };
}

/** The policy currently granted to the user ('*' = tenant-wide), if any. */
async function currentPolicy(db: Kysely<Database>, tenantId: string, userId: string): Promise<string | undefined> {
  return (await directory.listAccessPolicies(db, tenantId)).find((p) => p.grantedTo.includes(userId))?.name;
}

export async function policyGrant({ db, out }: CommandContext, input: { tenant: string; name: string; user?: string; global?: boolean }) {
  const dir = new DirectoryService(db);
  const tenant = await dir.requireTenant(input.tenant);
  const who = await grantee(db, tenant.id, input);
  const previous = await currentPolicy(db, tenant.id, who.global ? '*' : who.id);
  const granted = await dir.grantAccessPolicy({
    tenant: tenant.id,
    policy: input.name,
    user: who.global ? undefined : who.id,
    global: who.global,
  });
  if (previous && previous !== granted.policy) out.note(`This grant replaces policy '${previous}' (a user holds one policy).`);
  return {
    tenantId: tenant.id,
    policy: granted.policy,
    grantedTo: who,
    replaced: previous && previous !== granted.policy ? previous : null,
  };
}

export async function policyRevoke({ db, out }: CommandContext, input: { tenant: string; user?: string; global?: boolean }) {
  const dir = new DirectoryService(db);
  const tenant = await dir.requireTenant(input.tenant);
  const who = await grantee(db, tenant.id, input);
  const previous = await currentPolicy(db, tenant.id, who.global ? '*' : who.id);
  await dir.revokeAccessPolicy({ tenant: tenant.id, user: who.global ? undefined : who.id, global: who.global });
  if (!previous)
    out.note(who.global ? 'No policy was granted tenant-wide; nothing changed.' : `${who.upn} held no policy; nothing changed.`);
  return { tenantId: tenant.id, revokedFrom: who, policy: previous ?? null };
}

// --- tokens ----------------------------------------------------------------------------------------

async function tokenMinter({ db, config }: CommandContext): Promise<AccessTokens> {
  const keys = new SigningKeyStore(db);
  await keys.init();
  return new AccessTokens(keys, config.tokenLifetimeSeconds);
}

const GRAPH_PREFIXES = [`${GRAPH_RESOURCE}/`, `${GRAPH_AUDIENCES[1]}/`];
/** Accepts `https://graph.microsoft.com/User.Read` as well as `User.Read`, as the token endpoint does. */
function stripGraphPrefix(scope: string): string {
  const prefix = GRAPH_PREFIXES.find((p) => scope.toLowerCase().startsWith(p.toLowerCase()));
  return prefix ? scope.slice(prefix.length) : scope;
}

/** An app-only token, as client credentials would issue it, carrying the app's granted application permissions. */
export async function tokenApp(ctx: CommandContext, input: { clientId: string }) {
  const app = await new DirectoryService(ctx.db).requireApplication(input.clientId);
  const roles = (await directory.applicationPermissions(ctx.db, app.id)).filter((r) => canonicalPermission(APPLICATION_PERMISSIONS, r));
  if (roles.length === 0) ctx.out.note(`${app.client_id} holds no application permission: Graph will answer 403 (see app grant).`);
  const tokens = await tokenMinter(ctx);
  const accessToken = await tokens.mintAppToken({
    tenantId: app.tenant_id,
    servicePrincipalId: app.id,
    clientId: app.client_id,
    appDisplayName: app.display_name,
    roles,
    clientAuth: '1',
  });
  return { accessToken, tokenType: 'Bearer', expiresIn: tokens.lifetime, tenantId: app.tenant_id, clientId: app.client_id, roles };
}

/** A delegated token for a user through an app; scopes must have admin consent (the token endpoint's AADSTS65001 rule). */
export async function tokenUser(ctx: CommandContext, input: { upn: string; clientId: string; scopes?: string[] }) {
  const app = await new DirectoryService(ctx.db).requireApplication(input.clientId);
  const user = directory.isGuid(input.upn)
    ? await directory.findUserById(ctx.db, input.upn)
    : await directory.findUserByUpn(ctx.db, input.upn);
  if (!user) throw notFound(`User '${input.upn}'`);
  if (user.tenant_id !== app.tenant_id) {
    throw badRequest(
      `User ${user.upn} is in tenant ${user.tenant_id}, but application ${app.client_id} is registered in tenant ${app.tenant_id}.`,
    );
  }
  const consented = await directory.delegatedConsents(ctx.db, app.id);
  let scopes: string[];
  if (input.scopes === undefined || input.scopes.length === 0) {
    if (consented.length === 0) throw badRequest(`Application ${app.client_id} has no consented delegated scopes (see app consent).`);
    scopes = consented;
  } else {
    scopes = [];
    for (const raw of input.scopes) {
      const name = canonicalPermission(DELEGATED_SCOPES, stripGraphPrefix(raw));
      if (!name) throw badRequest(`Unknown delegated scope '${raw}'. Known: ${DELEGATED_SCOPES.join(', ')}.`);
      if (!consented.includes(name)) {
        throw badRequest(
          `Scope '${name}' is not consented for ${app.client_id} (consented: ${consented.join(', ') || 'none'}); see app consent.`,
        );
      }
      if (!scopes.includes(name)) scopes.push(name);
    }
  }
  const tokens = await tokenMinter(ctx);
  const accessToken = await tokens.mintUserToken({
    tenantId: user.tenant_id,
    userId: user.id,
    upn: user.upn,
    displayName: user.display_name,
    clientId: app.client_id,
    appDisplayName: app.display_name,
    scopes,
    clientAuth: app.allow_public_client ? '0' : '1',
    cae: false,
  });
  return {
    accessToken,
    tokenType: 'Bearer',
    expiresIn: tokens.lifetime,
    tenantId: user.tenant_id,
    clientId: app.client_id,
    userId: user.id,
    upn: user.upn,
    scopes,
  };
}

// --- schema ----------------------------------------------------------------------------------------

export async function migrate({ db }: CommandContext) {
  const result = await migrateToLatest(db);
  return { applied: (result.results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName) };
}
