import type { Kysely, Transaction } from 'kysely';
import type { ApplicationRow, Database, TenantRow, UserRow } from '../tables.js';

/** Queries over the directory. Each takes the db handle first, so it runs in or out of a transaction. */
type Db = Kysely<Database> | Transaction<Database>;

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isGuid = (s: string) => GUID.test(s);

/**
 * A key that can never be stored: PostgreSQL text cannot hold NUL (it fails the query with SQLSTATE
 * 22021), and no directory name or id contains one. Lookups answer "not found" without asking.
 */
export const unstorable = (s: string) => s.includes('\0');

/** A tenant by id or by one of its domains (the `{tenant}` segment of Entra's URLs, client-compat §1.9). */
export async function findTenant(db: Db, idOrDomain: string): Promise<TenantRow | undefined> {
  if (unstorable(idOrDomain)) return undefined;
  if (isGuid(idOrDomain)) {
    return db.selectFrom('tenants').selectAll().where('id', '=', idOrDomain.toLowerCase()).executeTakeFirst();
  }
  return db
    .selectFrom('tenant_domains')
    .innerJoin('tenants', 'tenants.id', 'tenant_domains.tenant_id')
    .selectAll('tenants')
    .where('tenant_domains.domain', '=', idOrDomain.toLowerCase())
    .executeTakeFirst();
}

export async function listTenants(db: Db) {
  const tenants = await db.selectFrom('tenants').selectAll().orderBy('display_name').execute();
  const domains = await db.selectFrom('tenant_domains').selectAll().orderBy('domain').execute();
  return tenants.map((t) => ({ ...t, domains: domains.filter((d) => d.tenant_id === t.id).map((d) => d.domain) }));
}

export async function tenantDomains(db: Db, tenantId: string): Promise<string[]> {
  const rows = await db.selectFrom('tenant_domains').select('domain').where('tenant_id', '=', tenantId).execute();
  return rows.map((r) => r.domain);
}

/** A user of the tenant by object id or UPN ({userId} in Graph paths accepts both). */
export async function findUserInTenant(db: Db, tenantId: string, idOrUpn: string): Promise<UserRow | undefined> {
  if (unstorable(idOrUpn)) return undefined;
  const q = db.selectFrom('users').selectAll().where('tenant_id', '=', tenantId);
  return isGuid(idOrUpn)
    ? q.where('id', '=', idOrUpn.toLowerCase()).executeTakeFirst()
    : q.where('upn', '=', idOrUpn.toLowerCase()).executeTakeFirst();
}

export async function findUserByUpn(db: Db, upn: string): Promise<UserRow | undefined> {
  if (unstorable(upn)) return undefined;
  return db.selectFrom('users').selectAll().where('upn', '=', upn.toLowerCase()).executeTakeFirst();
}

export async function findUserById(db: Db, id: string): Promise<UserRow | undefined> {
  if (unstorable(id)) return undefined;
  return db.selectFrom('users').selectAll().where('id', '=', id.toLowerCase()).executeTakeFirst();
}

export async function usersByIds(db: Db, tenantId: string, ids: string[]): Promise<UserRow[]> {
  ids = ids.filter((i) => !unstorable(i));
  if (ids.length === 0) return [];
  return db.selectFrom('users').selectAll().where('tenant_id', '=', tenantId).where('id', 'in', ids).execute();
}

export async function usersByUpns(db: Db, tenantId: string, upns: string[]): Promise<UserRow[]> {
  upns = upns.filter((u) => !unstorable(u));
  if (upns.length === 0) return [];
  return db.selectFrom('users').selectAll().where('tenant_id', '=', tenantId).where('upn', 'in', upns).execute();
}

export async function listUsers(db: Db, tenantId: string): Promise<UserRow[]> {
  return db.selectFrom('users').selectAll().where('tenant_id', '=', tenantId).orderBy('upn').execute();
}

export async function findApplicationByClientId(db: Db, clientId: string): Promise<ApplicationRow | undefined> {
  if (!isGuid(clientId)) return undefined;
  return db.selectFrom('applications').selectAll().where('client_id', '=', clientId.toLowerCase()).executeTakeFirst();
}

export async function findApplicationById(db: Db, id: string): Promise<ApplicationRow | undefined> {
  if (unstorable(id)) return undefined;
  return db.selectFrom('applications').selectAll().where('id', '=', id.toLowerCase()).executeTakeFirst();
}

export async function listApplications(db: Db, tenantId: string): Promise<ApplicationRow[]> {
  return db.selectFrom('applications').selectAll().where('tenant_id', '=', tenantId).orderBy('display_name').execute();
}

export async function secretHashes(db: Db, applicationId: string): Promise<string[]> {
  const rows = await db.selectFrom('application_secrets').select('secret_hash').where('application_id', '=', applicationId).execute();
  return rows.map((r) => r.secret_hash);
}

export async function listSecrets(db: Db, applicationId: string) {
  return db
    .selectFrom('application_secrets')
    .select(['id', 'hint', 'created_at'])
    .where('application_id', '=', applicationId)
    .orderBy('created_at')
    .execute();
}

export async function applicationPermissions(db: Db, applicationId: string): Promise<string[]> {
  const rows = await db
    .selectFrom('application_permissions')
    .select('permission')
    .where('application_id', '=', applicationId)
    .orderBy('permission')
    .execute();
  return rows.map((r) => r.permission);
}

export async function delegatedConsents(db: Db, applicationId: string): Promise<string[]> {
  const rows = await db
    .selectFrom('delegated_consents')
    .select('scope')
    .where('application_id', '=', applicationId)
    .orderBy('scope')
    .execute();
  return rows.map((r) => r.scope);
}

/**
 * Does an application access policy let this app act for this user (fact sheet §5)? The user's own
 * grant decides when there is one; the tenant-wide (-Global) grant applies only to users without one.
 */
export async function accessPolicyAllows(db: Db, tenantId: string, userId: string, clientId: string): Promise<boolean> {
  const assignments = await db
    .selectFrom('access_policy_assignments')
    .select(['user_id', 'policy_id'])
    .where('tenant_id', '=', tenantId)
    .where('user_id', 'in', [userId, '*'])
    .execute();
  const own = assignments.find((a) => a.user_id === userId) ?? assignments.find((a) => a.user_id === '*');
  if (!own) return false;
  const hit = await db
    .selectFrom('access_policy_apps')
    .select('client_id')
    .where('policy_id', '=', own.policy_id)
    .where('client_id', '=', clientId.toLowerCase())
    .executeTakeFirst();
  return hit !== undefined;
}

export async function findAccessPolicy(db: Db, tenantId: string, name: string) {
  if (unstorable(name)) return undefined;
  return db
    .selectFrom('access_policies')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where('name_key', '=', name.toLowerCase())
    .executeTakeFirst();
}

export async function listAccessPolicies(db: Db, tenantId: string) {
  const policies = await db.selectFrom('access_policies').selectAll().where('tenant_id', '=', tenantId).orderBy('name_key').execute();
  const apps = await db.selectFrom('access_policy_apps').selectAll().execute();
  const grants = await db.selectFrom('access_policy_assignments').selectAll().where('tenant_id', '=', tenantId).execute();
  return policies.map((p) => ({
    ...p,
    appIds: apps.filter((a) => a.policy_id === p.id).map((a) => a.client_id),
    grantedTo: grants.filter((g) => g.policy_id === p.id).map((g) => g.user_id),
  }));
}

export async function findMeetingTemplate(db: Db, tenantId: string, id: string) {
  if (unstorable(id)) return undefined;
  return db
    .selectFrom('meeting_templates')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where('id', '=', id.toLowerCase())
    .executeTakeFirst();
}

export async function isEmpty(db: Db): Promise<boolean> {
  const row = await db.selectFrom('tenants').select('id').limit(1).executeTakeFirst();
  return row === undefined;
}
