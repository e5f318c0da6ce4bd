import type { Kysely } from 'kysely';
import type { Database, RefreshTokensTable } from '../tables.js';

type Db = Kysely<Database>;

export async function insertRefreshToken(db: Db, row: Omit<RefreshTokensTable, 'last_used_at' | 'revoked_at'>) {
  await db
    .insertInto('refresh_tokens')
    .values({ ...row, last_used_at: null, revoked_at: null })
    .execute();
}

export async function findRefreshToken(db: Db, jti: string) {
  return db.selectFrom('refresh_tokens').selectAll().where('jti', '=', jti).executeTakeFirst();
}

export async function touchRefreshToken(db: Db, jti: string, now: string) {
  await db.updateTable('refresh_tokens').set({ last_used_at: now }).where('jti', '=', jti).execute();
}

/** Ends every refresh token and browser session of a user, in one transaction; returns how many tokens. */
export async function revokeUserSessions(db: Db, userId: string, now: string): Promise<number> {
  return db.transaction().execute(async (tx) => {
    const res = await tx
      .updateTable('refresh_tokens')
      .set({ revoked_at: now })
      .where('user_id', '=', userId)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    await tx.updateTable('browser_sessions').set({ ended_at: now }).where('user_id', '=', userId).where('ended_at', 'is', null).execute();
    return Number(res.numUpdatedRows);
  });
}

export async function purgeExpiredRefreshTokens(db: Db, before: string) {
  await db.deleteFrom('refresh_tokens').where('expires_at', '<=', before).execute();
}
