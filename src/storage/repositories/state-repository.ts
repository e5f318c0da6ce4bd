import { sql, SqliteAdapter, type Kysely } from 'kysely';
import type { Database } from '../tables.js';

/**
 * The whole-database operations behind the emulator control API (reset, export, import). They work on the
 * tables the database actually has, found at run time, so that tables added by later migrations are
 * included without touching this file. The two dialect-specific catalog queries live here.
 */
type AnyDb = Kysely<Database>;

/** Every base table of the current schema, with the tables each one references (foreign keys). */
export async function tableGraph(db: AnyDb): Promise<Map<string, Set<string>>> {
  const sqlite = db.getExecutor().adapter instanceof SqliteAdapter;
  const graph = new Map<string, Set<string>>();
  if (sqlite) {
    const tables = await sql<{ name: string }>`select name from sqlite_master where type = 'table' and name not like 'sqlite_%'`.execute(
      db,
    );
    for (const t of tables.rows) graph.set(t.name, new Set());
    const refs = await sql<{ tbl: string; ref: string }>`
      select m.name as tbl, p."table" as ref from sqlite_master m join pragma_foreign_key_list(m.name) p
      where m.type = 'table'`.execute(db);
    for (const r of refs.rows) graph.get(r.tbl)?.add(r.ref);
  } else {
    const tables = await sql<{ name: string }>`
      select table_name as name from information_schema.tables
      where table_schema = current_schema() and table_type = 'BASE TABLE'`.execute(db);
    for (const t of tables.rows) graph.set(t.name, new Set());
    const refs = await sql<{ tbl: string; ref: string }>`
      select cl.relname as tbl, rf.relname as ref from pg_constraint c
      join pg_class cl on c.conrelid = cl.oid join pg_class rf on c.confrelid = rf.oid
      join pg_namespace n on cl.relnamespace = n.oid
      where c.contype = 'f' and n.nspname = current_schema()`.execute(db);
    for (const r of refs.rows) graph.get(r.tbl)?.add(r.ref);
  }
  return graph;
}

/** Orders tables so that every table comes after the tables it references (insert order; reverse it to delete). */
export function parentsFirst(graph: Map<string, Set<string>>, tables: string[]): string[] {
  const wanted = new Set(tables);
  const out: string[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (t: string) => {
    if (state.get(t) === 'done' || state.get(t) === 'visiting') return; // a cycle (self-reference) is left as found
    state.set(t, 'visiting');
    for (const ref of graph.get(t) ?? []) if (wanted.has(ref) && ref !== t) visit(ref);
    state.set(t, 'done');
    out.push(t);
  };
  for (const t of [...tables].sort()) visit(t);
  return out;
}

/**
 * The binary columns of each table (recording bytes, migration 010): an export writes them as base64
 * strings and an import turns those back into bytes, so the document stays plain JSON.
 */
export async function binaryColumns(db: AnyDb): Promise<Map<string, Set<string>>> {
  const sqlite = db.getExecutor().adapter instanceof SqliteAdapter;
  const rows = sqlite
    ? await sql<{ tbl: string; col: string }>`
        select m.name as tbl, p.name as col from sqlite_master m join pragma_table_info(m.name) p
        where m.type = 'table' and upper(p.type) = 'BLOB'`.execute(db)
    : await sql<{ tbl: string; col: string }>`
        select table_name as tbl, column_name as col from information_schema.columns
        where table_schema = current_schema() and data_type = 'bytea'`.execute(db);
  const out = new Map<string, Set<string>>();
  for (const r of rows.rows) {
    if (!out.has(r.tbl)) out.set(r.tbl, new Set());
    out.get(r.tbl)!.add(r.col);
  }
  return out;
}

const quoted = (name: string) => sql.id(name);

export async function deleteAll(db: AnyDb, table: string): Promise<void> {
  await sql`delete from ${quoted(table)}`.execute(db);
}

export async function allRows(db: AnyDb, table: string, binary: ReadonlySet<string> = new Set()): Promise<Record<string, unknown>[]> {
  let rows = (await sql<Record<string, unknown>>`select * from ${quoted(table)}`.execute(db)).rows;
  if (binary.size > 0) {
    rows = rows.map((row) => {
      const out = { ...row };
      for (const c of binary) {
        const v = out[c];
        if (v instanceof Uint8Array) out[c] = Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64');
      }
      return out;
    });
  }
  // Without ORDER BY, PostgreSQL returns rows in physical order, which an UPDATE or an import changes:
  // sort them (by their columns, in column order) so that the same state is always the same document.
  const keyed = rows.map((row) => ({
    row,
    key: JSON.stringify(Object.values(row), (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)),
  }));
  keyed.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return keyed.map((k) => k.row);
}

/** Inserts rows (objects of column → value) in batches that stay under both dialects' parameter limits. */
export async function insertRows(db: AnyDb, table: string, rows: Record<string, unknown>[]): Promise<void> {
  for (let i = 0; i < rows.length;) {
    const columns = Object.keys(rows[i]!);
    const batch: Record<string, unknown>[] = [];
    // One statement per run of rows with the same columns, at most ~30,000 parameters.
    while (i < rows.length && batch.length * columns.length < 30_000 - columns.length && sameColumns(columns, Object.keys(rows[i]!))) {
      batch.push(rows[i]!);
      i++;
    }
    const values = batch.map((r) => sql`(${sql.join(columns.map((c) => sql`${r[c] as never}`))})`);
    await sql`insert into ${quoted(table)} (${sql.join(columns.map(quoted))}) values ${sql.join(values)}`.execute(db);
  }
}

const sameColumns = (a: string[], b: string[]) => a.length === b.length && a.every((c, i) => c === b[i]);
