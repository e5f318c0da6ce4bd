import type { Kysely, Transaction } from 'kysely';
import type { AuthorizationCodesTable, Database, DeviceCodesTable, RedirectPlatform } from '../tables.js';
import { unstorable } from './directory-repository.js';

/** Queries of interactive sign-in (migration 004): redirect URIs, codes, device codes, browser sessions. */
type Db = Kysely<Database> | Transaction<Database>;

export async function redirectUris(db: Db, applicationId: string) {
  return db
    .selectFrom('application_redirect_uris')
    .select(['uri', 'platform', 'created_at'])
    .where('application_id', '=', applicationId)
    .orderBy('uri')
    .execute();
}

export async function addRedirectUri(db: Db, applicationId: string, uri: string, platform: RedirectPlatform, now: string) {
  await db
    .insertInto('application_redirect_uris')
    .values({ application_id: applicationId, uri, platform, created_at: now })
    .onConflict((oc) => oc.columns(['application_id', 'uri']).doUpdateSet({ platform }))
    .execute();
}

export async function removeRedirectUri(db: Db, applicationId: string, uri: string): Promise<boolean> {
  if (unstorable(uri)) return false;
  const res = await db
    .deleteFrom('application_redirect_uris')
    .where('application_id', '=', applicationId)
    .where('uri', '=', uri)
    .executeTakeFirst();
  return Number(res.numDeletedRows) > 0;
}

export async function insertAuthorizationCode(db: Db, row: AuthorizationCodesTable) {
  await db.insertInto('authorization_codes').values(row).execute();
}

export async function findAuthorizationCode(db: Db, codeHash: string) {
  return db.selectFrom('authorization_codes').selectAll().where('code_hash', '=', codeHash).executeTakeFirst();
}

/** Marks the code redeemed; false when another request redeemed it first (single use, atomically). */
export async function redeemAuthorizationCode(db: Db, codeHash: string, now: string): Promise<boolean> {
  const res = await db
    .updateTable('authorization_codes')
    .set({ redeemed_at: now })
    .where('code_hash', '=', codeHash)
    .where('redeemed_at', 'is', null)
    .executeTakeFirst();
  return Number(res.numUpdatedRows) === 1;
}

/** Codes are short-lived; drop those that expired before `before`. */
export async function purgeExpiredCodes(db: Db, before: string) {
  await db.deleteFrom('authorization_codes').where('expires_at', '<', before).execute();
  await db.deleteFrom('device_codes').where('expires_at', '<', before).execute();
  await db.deleteFrom('browser_sessions').where('expires_at', '<', before).execute();
}

export async function insertDeviceCode(db: Db, row: DeviceCodesTable) {
  await db.insertInto('device_codes').values(row).execute();
}

export async function findDeviceCode(db: Db, deviceCodeHash: string) {
  return db.selectFrom('device_codes').selectAll().where('device_code_hash', '=', deviceCodeHash).executeTakeFirst();
}

export async function findDeviceCodeByUserCode(db: Db, userCode: string) {
  if (unstorable(userCode)) return undefined;
  return db.selectFrom('device_codes').selectAll().where('user_code', '=', userCode).executeTakeFirst();
}

/** Approves or declines a pending device code; false when it was no longer pending. */
export async function decideDeviceCode(db: Db, deviceCodeHash: string, decision: 'approved' | 'declined', userId: string | null) {
  const res = await db
    .updateTable('device_codes')
    .set({ status: decision, user_id: userId })
    .where('device_code_hash', '=', deviceCodeHash)
    .where('status', '=', 'pending')
    .executeTakeFirst();
  return Number(res.numUpdatedRows) === 1;
}

export async function recordDevicePoll(db: Db, deviceCodeHash: string, now: string) {
  await db.updateTable('device_codes').set({ last_poll_at: now }).where('device_code_hash', '=', deviceCodeHash).execute();
}

/** Approved → redeemed, once. */
export async function redeemDeviceCode(db: Db, deviceCodeHash: string): Promise<boolean> {
  const res = await db
    .updateTable('device_codes')
    .set({ status: 'redeemed' })
    .where('device_code_hash', '=', deviceCodeHash)
    .where('status', '=', 'approved')
    .executeTakeFirst();
  return Number(res.numUpdatedRows) === 1;
}

export async function insertBrowserSession(
  db: Db,
  row: { id_hash: string; tenant_id: string; user_id: string; created_at: string; expires_at: string },
) {
  await db
    .insertInto('browser_sessions')
    .values({ ...row, ended_at: null })
    .execute();
}

export async function findBrowserSession(db: Db, idHash: string) {
  return db.selectFrom('browser_sessions').selectAll().where('id_hash', '=', idHash).executeTakeFirst();
}

export async function endBrowserSession(db: Db, idHash: string, now: string) {
  await db.updateTable('browser_sessions').set({ ended_at: now }).where('id_hash', '=', idHash).where('ended_at', 'is', null).execute();
}
