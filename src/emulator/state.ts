import type { Kysely } from 'kysely';
import { invalidStateDocument } from '../domain/errors.js';
import { migrations } from '../storage/migrations/index.js';
import { allRows, binaryColumns, deleteAll, insertRows, parentsFirst, tableGraph } from '../storage/repositories/state-repository.js';
import type { Database } from '../storage/tables.js';

/**
 * Reset, export and import of the whole emulated state (POST /_emulator/reset, GET /_emulator/export,
 * POST /_emulator/import).
 *
 * The rule, so that areas added later need no change here: **state is every table of the database except
 * KEPT_TABLES**. Tables are found at run time and ordered by their foreign keys, so a new area's tables are
 * reset, exported and imported as soon as its migration creates them. Binary columns (the recording chunks
 * of migration 010) are written into the document as base64 strings and decoded on import, so an export
 * carries recordings' bytes in full. KEPT_TABLES holds what must survive a
 * reset and never leave the server in an export: the migration bookkeeping and key material (token signing
 * keys; an area that stores TLS or certificate keys in a table adds that table here, one line). An area that
 * keeps state in memory (a cache) registers a listener with onChange() so it is cleared after a reset or import.
 */
export const KEPT_TABLES: ReadonlySet<string> = new Set([
  'schema_migrations',
  'schema_migrations_lock',
  'signing_keys', // token signing keys: tokens issued before a reset stay verifiable (and are refused if their user is gone)
]);

export const STATE_FORMAT = 'graph-meetings-state';
/** Bumped when the document's own layout changes (not when tables or columns do: `schema` records those). */
export const STATE_VERSION = 1;
/** The newest migration: the schema an export was taken from, which an import must match. */
export const SCHEMA = Object.keys(migrations).sort().at(-1)!;

export interface StateDocument {
  format: typeof STATE_FORMAT;
  version: typeof STATE_VERSION;
  schema: string;
  exportedAt: string;
  /** Every state table, as rows of column → value. */
  tables: Record<string, Record<string, unknown>[]>;
}

export class EmulatorState {
  readonly #db: Kysely<Database>;
  readonly #seed: () => Promise<void>;
  readonly #clock: () => number;
  readonly #listeners: Array<() => void> = [];
  /** Reset and import run one at a time. */
  #queue: Promise<unknown> = Promise.resolve();

  constructor(options: { db: Kysely<Database>; seed: () => Promise<void>; clock: () => number }) {
    this.#db = options.db;
    this.#seed = options.seed;
    this.#clock = options.clock;
  }

  /** Called after every reset and import (clear in-memory caches of the directory and the like). */
  onChange(listener: () => void): void {
    this.#listeners.push(listener);
  }

  async #stateTables() {
    const graph = await tableGraph(this.#db);
    const order = parentsFirst(
      graph,
      [...graph.keys()].filter((t) => !KEPT_TABLES.has(t)),
    );
    return order;
  }

  #exclusive<T>(run: () => Promise<T>): Promise<T> {
    const next = this.#queue.then(run, run);
    this.#queue = next.catch(() => {});
    return next;
  }

  /** Back to the seeded state: every state table emptied, then the demo directory and SEED_FILE loaded again. */
  reset(): Promise<void> {
    return this.#exclusive(async () => {
      const order = await this.#stateTables();
      await this.#db.transaction().execute(async (tx) => {
        for (const t of [...order].reverse()) await deleteAll(tx, t);
      });
      this.#changed();
      await this.#seed();
      this.#changed();
    });
  }

  async export(): Promise<StateDocument> {
    const order = await this.#stateTables();
    const tables: StateDocument['tables'] = {};
    // One transaction, so the document is one consistent snapshot.
    const binary = await binaryColumns(this.#db);
    await this.#db.transaction().execute(async (tx) => {
      for (const t of order) tables[t] = await allRows(tx, t, binary.get(t));
    });
    return { format: STATE_FORMAT, version: STATE_VERSION, schema: SCHEMA, exportedAt: new Date(this.#clock()).toISOString(), tables };
  }

  /** Replaces the whole state with a document from export(); all or nothing. */
  import(doc: unknown): Promise<{ tables: Record<string, number> }> {
    return this.#exclusive(async () => {
      const order = await this.#stateTables();
      const state = validate(doc, new Set(order));
      // Binary columns (recording bytes) travel as base64 strings (export above).
      for (const [t, cols] of await binaryColumns(this.#db)) {
        for (const [i, row] of (state.tables[t] ?? []).entries()) {
          for (const c of cols) {
            const v = row[c];
            if (v === undefined || v === null) continue;
            if (typeof v !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(v) || v.length % 4 !== 0) {
              throw invalidStateDocument(`tables.${t}[${i}].${c} must be base64 (binary column).`);
            }
            row[c] = Buffer.from(v, 'base64');
          }
        }
      }
      await this.#db.transaction().execute(async (tx) => {
        for (const t of [...order].reverse()) await deleteAll(tx, t);
        for (const t of order) {
          const rows = state.tables[t] ?? [];
          try {
            await insertRows(tx, t, rows);
          } catch (err) {
            throw invalidStateDocument(`the rows of table '${t}' could not be stored (${(err as Error).message}).`);
          }
        }
      });
      this.#changed();
      return { tables: Object.fromEntries(order.map((t) => [t, state.tables[t]?.length ?? 0])) };
    });
  }

  #changed() {
    for (const l of this.#listeners) l();
  }
}

function validate(doc: unknown, known: Set<string>): StateDocument {
  const d = doc as Partial<StateDocument> | null;
  if (typeof d !== 'object' || d === null || Array.isArray(d))
    throw invalidStateDocument('the body must be a JSON object from GET /_emulator/export.');
  if (d.format !== STATE_FORMAT) throw invalidStateDocument(`'format' must be '${STATE_FORMAT}'.`);
  if (d.version !== STATE_VERSION)
    throw invalidStateDocument(`'version' ${String(d.version)} is not supported (this server reads version ${STATE_VERSION}).`);
  if (d.schema !== SCHEMA) {
    throw invalidStateDocument(
      `it was exported from schema '${String(d.schema)}' and this server has '${SCHEMA}'; export and import with the same graph-meetings version.`,
    );
  }
  if (typeof d.tables !== 'object' || d.tables === null || Array.isArray(d.tables))
    throw invalidStateDocument("'tables' must be an object of table name → rows.");
  for (const [name, rows] of Object.entries(d.tables)) {
    if (!known.has(name)) throw invalidStateDocument(`'${name}' is not a state table (known: ${[...known].sort().join(', ')}).`);
    if (!Array.isArray(rows)) throw invalidStateDocument(`tables.${name} must be an array of rows.`);
    for (const [i, row] of rows.entries()) {
      if (typeof row !== 'object' || row === null || Array.isArray(row) || Object.keys(row).length === 0) {
        throw invalidStateDocument(`tables.${name}[${i}] must be an object of column → value.`);
      }
      for (const [col, v] of Object.entries(row as Record<string, unknown>)) {
        if (!/^[a-z_][a-z0-9_]*$/.test(col))
          throw invalidStateDocument(`tables.${name}[${i}] has an invalid column name '${col.slice(0, 64)}'.`);
        if (v !== null && typeof v !== 'string' && typeof v !== 'number') {
          throw invalidStateDocument(`tables.${name}[${i}].${col} must be a string, a number or null.`);
        }
      }
    }
  }
  return d as StateDocument;
}
