import type { Kysely, Transaction } from 'kysely';
import type { ApplicationRow, Database } from '../tables.js';
import { unstorable } from './directory-repository.js';

/** Queries over app credentials beyond secrets (issue #13): certificates, exposed scopes, app-to-app consents. */
type Db = Kysely<Database> | Transaction<Database>;

export type CertificateRow = Awaited<ReturnType<typeof listCertificates>>[number];

export async function listCertificates(db: Db, applicationId: string) {
  return db
    .selectFrom('application_certificates')
    .selectAll()
    .where('application_id', '=', applicationId)
    .orderBy('created_at')
    .orderBy('id')
    .execute();
}

/** A certificate of the app by SHA-1 or SHA-256 thumbprint (upper-case hex). */
export async function findCertificate(db: Db, applicationId: string, by: { sha1?: string; sha256?: string }) {
  let q = db.selectFrom('application_certificates').selectAll().where('application_id', '=', applicationId);
  if (by.sha1 !== undefined) q = q.where('thumbprint', '=', by.sha1);
  else if (by.sha256 !== undefined) q = q.where('thumbprint_sha256', '=', by.sha256);
  else return undefined;
  return q.executeTakeFirst();
}

export async function exposedScopes(db: Db, applicationId: string): Promise<string[]> {
  const rows = await db.selectFrom('exposed_scopes').select('scope').where('application_id', '=', applicationId).orderBy('scope').execute();
  return rows.map((r) => r.scope);
}

/** The scopes of `api` that `client` has admin consent to. */
export async function apiConsents(db: Db, clientApplicationId: string, apiApplicationId: string): Promise<string[]> {
  const rows = await db
    .selectFrom('api_consents')
    .select('scope')
    .where('application_id', '=', clientApplicationId)
    .where('api_application_id', '=', apiApplicationId)
    .orderBy('scope')
    .execute();
  return rows.map((r) => r.scope);
}

/** Every API consent of an app, with the API's client id (for listings). */
export async function allApiConsents(db: Db, clientApplicationId: string) {
  return db
    .selectFrom('api_consents')
    .innerJoin('applications', 'applications.id', 'api_consents.api_application_id')
    .select(['applications.client_id as apiClientId', 'api_consents.scope'])
    .where('api_consents.application_id', '=', clientApplicationId)
    .orderBy('applications.client_id')
    .orderBy('api_consents.scope')
    .execute();
}

/**
 * The app an API identifier names: `api://{clientId}` (the default Application ID URI) or the bare client id,
 * as Entra resolves the resource part of a scope.
 */
export async function findApiApplication(db: Db, identifier: string): Promise<ApplicationRow | undefined> {
  const id = identifier
    .toLowerCase()
    .replace(/^api:\/\//, '')
    .replace(/\/+$/, '');
  if (unstorable(id) || !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(id)) return undefined;
  return db.selectFrom('applications').selectAll().where('client_id', '=', id).executeTakeFirst();
}
