import { sql, type Expression, type ExpressionBuilder, type Kysely, type SqlBool } from 'kysely';
import type { UserFilter, UserFilterProperty } from '../../domain/users/user-filter.js';
import type { Database, UserRow } from '../tables.js';
import { isGuid, unstorable } from './directory-repository.js';

/**
 * The Graph users collection of one tenant: filtered, in id order, one page after a keyset cursor.
 * One query for SQLite and PostgreSQL: lower() on both sides makes comparisons case-insensitive (ASCII
 * on SQLite, Unicode on PostgreSQL), and LIKE patterns escape their own wildcards.
 */
const COLUMN: Record<UserFilterProperty, 'id' | 'mail' | 'upn' | 'display_name' | 'given_name' | 'surname'> = {
  id: 'id',
  mail: 'mail',
  userPrincipalName: 'upn',
  displayName: 'display_name',
  givenName: 'given_name',
  surname: 'surname',
};

type Eb = ExpressionBuilder<Database, 'users'>;

const likeEscape = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`);

function condition(eb: Eb, f: UserFilter): Expression<SqlBool> {
  if ('clauses' in f) return f.op === 'or' ? eb.or(f.clauses.map((c) => condition(eb, c))) : eb.and(f.clauses.map((c) => condition(eb, c)));
  // A value no row can hold matches nothing (PostgreSQL text cannot even be asked about NUL).
  if (unstorable(f.value) || (f.property === 'id' && f.op === 'eq' && !isGuid(f.value))) return sql<SqlBool>`1 = 0`;
  const column = sql.ref(COLUMN[f.property]);
  if (f.op === 'eq') return sql<SqlBool>`lower(${column}) = lower(${f.value})`;
  const pattern = f.op === 'startswith' ? `${likeEscape(f.value)}%` : `%${likeEscape(f.value)}`;
  // SQLite has no default LIKE escape character; name it for both.
  return sql<SqlBool>`lower(${column}) like lower(${pattern}) escape '\\'`;
}

export async function listUsersPage(
  db: Kysely<Database>,
  tenantId: string,
  query: { filter?: UserFilter; afterId?: string; limit: number },
): Promise<UserRow[]> {
  let q = db.selectFrom('users').selectAll().where('tenant_id', '=', tenantId);
  if (query.filter) {
    const filter = query.filter;
    q = q.where((eb) => condition(eb, filter));
  }
  if (query.afterId !== undefined) q = q.where('id', '>', query.afterId);
  return q.orderBy('id').limit(query.limit).execute();
}

export async function countUsers(db: Kysely<Database>, tenantId: string, filter?: UserFilter): Promise<number> {
  let q = db
    .selectFrom('users')
    .select((eb) => eb.fn.countAll<string | number>().as('n'))
    .where('tenant_id', '=', tenantId);
  if (filter) q = q.where((eb) => condition(eb, filter));
  const row = await q.executeTakeFirstOrThrow();
  return Number(row.n);
}
