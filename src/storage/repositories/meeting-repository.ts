import type { CompiledQuery, Kysely, Transaction } from 'kysely';
import type { Reader, Writer } from '../database.js';
import type { Meeting } from '../../domain/meetings/meeting.js';
import { LruCache } from '../../util/lru-cache.js';
import { ENTRY_OVERHEAD_BYTES, stringBytes } from '../../util/memory-budget.js';
import type { Database, MeetingRow, NewMeetingRow } from '../tables.js';

type Db = Kysely<Database> | Transaction<Database>;
/** Without the store's writer (Store.write), a statement runs directly on the handle given. */
const direct =
  (db: Db): Writer =>
  (q) =>
    db.executeQuery(q);

/** The part of a Meeting that has no column of its own, kept as one JSON document. */
type MeetingDocument = Omit<
  Meeting,
  | 'id'
  | 'tenantId'
  | 'organizerId'
  | 'externalId'
  | 'threadId'
  | 'creationDateTime'
  | 'startDateTime'
  | 'endDateTime'
  | 'expiryDateTime'
  | 'version'
  | 'videoTeleconferenceId'
>;

const COLUMNS = [
  'id',
  'tenant_id',
  'organizer_id',
  'external_id',
  'thread_id',
  'join_meeting_id',
  'conference_id',
  'video_teleconference_id',
  'creation_date_time',
  'start_date_time',
  'end_date_time',
  'expiry_date_time',
  'resource',
  'version',
] as const;

export function meetingToRow(m: Meeting): NewMeetingRow {
  const {
    id,
    tenantId,
    organizerId,
    externalId,
    threadId,
    creationDateTime,
    startDateTime,
    endDateTime,
    expiryDateTime,
    version: _version,
    videoTeleconferenceId,
    ...doc
  } = m;
  const resource: MeetingDocument = doc;
  return {
    id,
    tenant_id: tenantId,
    organizer_id: organizerId,
    external_id: externalId,
    thread_id: threadId,
    join_meeting_id: m.joinMeetingIdSettings.joinMeetingId,
    conference_id: m.audioConferencing.conferenceId,
    video_teleconference_id: videoTeleconferenceId,
    creation_date_time: creationDateTime,
    start_date_time: startDateTime,
    end_date_time: endDateTime,
    expiry_date_time: expiryDateTime,
    resource: JSON.stringify(resource),
  };
}

/**
 * Parsed meetings by id. The row is still read on every request (so changes by other instances are
 * seen); only the JSON.parse of its document is skipped when the stored version is the one cached.
 * Callers must not mutate what they get back (the service clones before changing a meeting).
 */
class ParsedMeetingCache {
  // A parsed document takes about three times its JSON's characters on the heap (objects, property
  // slots, two-byte strings); that is what it charges to the cache budget (memory-budget.ts).
  readonly #cache = new LruCache<string, { meeting: Meeting; chars: number }>(2000, Infinity, Date.now, {
    sizeOf: (id, v) => ENTRY_OVERHEAD_BYTES + stringBytes(id) + v.chars * 3,
  });

  parse(row: Omit<MeetingRow, 'deleted_at' | 'ical_uid'>): Meeting {
    const hit = this.#cache.get(row.id);
    if (hit && hit.meeting.version === Number(row.version)) return hit.meeting;
    const meeting = rowToMeeting(row);
    this.#cache.set(row.id, { meeting, chars: row.resource.length });
    return meeting;
  }
}

export function rowToMeeting(row: Omit<MeetingRow, 'deleted_at' | 'ical_uid'>): Meeting {
  const doc = JSON.parse(row.resource) as MeetingDocument;
  return {
    ...doc,
    id: row.id,
    tenantId: row.tenant_id,
    organizerId: row.organizer_id,
    externalId: row.external_id,
    threadId: row.thread_id,
    creationDateTime: row.creation_date_time,
    startDateTime: row.start_date_time,
    endDateTime: row.end_date_time,
    expiryDateTime: row.expiry_date_time,
    videoTeleconferenceId: row.video_teleconference_id,
    version: Number(row.version),
  };
}

/** Live meetings only: every read skips tombstones. Each lookup is a probe of a unique index. */
export const live = (db: Db) => db.selectFrom('meetings').select(COLUMNS).where('deleted_at', 'is', null);

type LookupRow = Omit<MeetingRow, 'deleted_at' | 'ical_uid'>;

/**
 * A read compiled once: Kysely builds and compiles `query` (with `arity` placeholder values) when the
 * store opens, and each call only swaps in its parameters. Building and compiling a query costs more
 * than running it on an index (issue #6 profile), and the hot lookups run on every request.
 */
function precompile(query: CompiledQuery<LookupRow>, arity: number) {
  if (query.parameters.length !== arity) throw new Error(`expected ${arity} parameters in: ${query.sql}`);
  return (...parameters: string[]): CompiledQuery<LookupRow> => ({ ...query, parameters });
}

/**
 * The lookups of the request path (GET by id, the joinWebUrl, joinMeetingId and VTC filters, the
 * createOrGet key), as the same Kysely queries as the functions below, compiled once and run through
 * the store's reader. Parsed meetings are reused while their version is unchanged.
 */
export class MeetingReads {
  readonly #read: Reader;
  readonly #parsed = new ParsedMeetingCache();
  readonly #byId;
  readonly #byThread;
  readonly #byJoinMeetingId;
  readonly #byVtcId;
  readonly #byExternalKey;

  constructor(db: Kysely<Database>, read: Reader = async (q) => (await db.executeQuery(q)).rows) {
    this.#read = read;
    this.#byId = precompile(live(db).where('id', '=', '').compile(), 1);
    this.#byThread = precompile(live(db).where('thread_id', '=', '').compile(), 1);
    this.#byJoinMeetingId = precompile(live(db).where('join_meeting_id', '=', '').compile(), 1);
    this.#byVtcId = precompile(live(db).where('video_teleconference_id', '=', '').compile(), 1);
    this.#byExternalKey = precompile(
      live(db).where('tenant_id', '=', '').where('organizer_id', '=', '').where('external_id', '=', '').compile(),
      3,
    );
  }

  async #one(query: CompiledQuery<LookupRow>): Promise<Meeting | undefined> {
    const [row] = await this.#read(query);
    return row && this.#parsed.parse(row);
  }

  byId(id: string) {
    return this.#one(this.#byId(id));
  }
  byThread(threadId: string) {
    return this.#one(this.#byThread(threadId));
  }
  byJoinMeetingId(joinMeetingId: string) {
    return this.#one(this.#byJoinMeetingId(joinMeetingId));
  }
  byVtcId(vtcId: string) {
    return this.#one(this.#byVtcId(vtcId));
  }
  /** createOrGet's key; its callers only read what they get, like every other lookup's (issue #20: the parse was 8% of it). */
  byExternalKey(tenantId: string, organizerId: string, externalId: string) {
    return this.#one(this.#byExternalKey(tenantId, organizerId, externalId));
  }
}

/** The columns meetingToRow fills, in the order of the compiled INSERT's parameters. */
const INSERT_COLUMNS = [...COLUMNS.filter((c) => c !== 'version'), 'ical_uid'] as const;
const compiledInserts = new WeakMap<object, (row: NewMeetingRow) => CompiledQuery>();

/** The INSERT of a meeting, compiled once per dialect (a transaction shares its database's adapter). */
function compiledInsert(db: Db): (row: NewMeetingRow) => CompiledQuery {
  const adapter = db.getExecutor().adapter;
  let make = compiledInserts.get(adapter);
  if (make === undefined) {
    const sample = Object.fromEntries(INSERT_COLUMNS.map((c) => [c, c])) as unknown as NewMeetingRow;
    const compiled = db.insertInto('meetings').values(sample).compile();
    if (compiled.parameters.join() !== INSERT_COLUMNS.join()) throw new Error(`unexpected parameters in: ${compiled.sql}`);
    make = (row) => ({ ...compiled, parameters: INSERT_COLUMNS.map((c) => row[c]) });
    compiledInserts.set(adapter, make);
  }
  return make;
}

export async function insertMeeting(db: Db, meeting: Meeting, write: Writer = direct(db)): Promise<void> {
  // ical_uid (migration 008) marks a calendar-backed meeting; meetingToRow keeps to the first schema's columns.
  await write(compiledInsert(db)({ ...meetingToRow(meeting), ical_uid: meeting.calendarEvent?.iCalUId ?? null }));
}

/** A monthly creation quota: at most `limit` meetings per organizer created in [start, end) (stored text bounds). */
export interface CreationQuota {
  limit: number;
  start: string;
  end: string;
}

/**
 * Inserts the meeting only while its organizer has fewer than `quota.limit` meetings (deleted ones too) created
 * in the quota's month; returns whether it did. The count is part of the INSERT statement itself
 * (`INSERT … SELECT … WHERE (SELECT COUNT(*) …) < limit`), so it sees every meeting committed before the
 * statement and every earlier write of the same transaction (an earlier creation of the same group-commit
 * batch on SQLite). `write` must run it where no other writer can slip a creation in between the count and
 * the insert: Store.writeExclusive (database.ts).
 */
export async function insertMeetingWithinQuota(db: Db, meeting: Meeting, quota: CreationQuota, write: Writer): Promise<boolean> {
  const row = { ...meetingToRow(meeting), ical_uid: meeting.calendarEvent?.iCalUId ?? null };
  const res = await write(compiledQuotaInsert(db)(row, quota));
  return Number(res.numAffectedRows) === 1;
}

const compiledQuotaInserts = new WeakMap<object, (row: NewMeetingRow, quota: CreationQuota) => CompiledQuery>();

/** The quota'd INSERT, compiled once per dialect like compiledInsert. */
function compiledQuotaInsert(db: Db): (row: NewMeetingRow, quota: CreationQuota) => CompiledQuery {
  const adapter = db.getExecutor().adapter;
  let make = compiledQuotaInserts.get(adapter);
  if (make === undefined) {
    const compiled = db
      .insertInto('meetings')
      .columns([...INSERT_COLUMNS])
      .expression(
        db
          .selectNoFrom((eb) => INSERT_COLUMNS.map((c) => eb.val(c).as(c)))
          .where((eb) =>
            eb(
              eb
                .selectFrom('meetings')
                .select((s) => s.fn.countAll().as('n'))
                .where('tenant_id', '=', 'q:tenant')
                .where('organizer_id', '=', 'q:organizer')
                .where('creation_date_time', '>=', 'q:start')
                .where('creation_date_time', '<', 'q:end'),
              '<',
              eb.val('q:limit'),
            ),
          ),
      )
      .compile();
    const expected = [...INSERT_COLUMNS, 'q:tenant', 'q:organizer', 'q:start', 'q:end', 'q:limit'];
    if (compiled.parameters.join() !== expected.join()) throw new Error(`unexpected parameters in: ${compiled.sql}`);
    make = (row, quota) => ({
      ...compiled,
      parameters: [...INSERT_COLUMNS.map((c) => row[c]), row.tenant_id, row.organizer_id, quota.start, quota.end, quota.limit],
    });
    compiledQuotaInserts.set(adapter, make);
  }
  return make;
}

// The reference lookups, built on each call: the request path uses MeetingReads, compiled from the same
// live() queries; tests, migrations and tools use these.
export async function findMeetingById(db: Db, id: string): Promise<Meeting | undefined> {
  const row = await live(db).where('id', '=', id).executeTakeFirst();
  return row && rowToMeeting(row);
}

export async function findMeetingByThread(db: Db, threadId: string): Promise<Meeting | undefined> {
  const row = await live(db).where('thread_id', '=', threadId).executeTakeFirst();
  return row && rowToMeeting(row);
}

export async function findMeetingByJoinMeetingId(db: Db, joinMeetingId: string): Promise<Meeting | undefined> {
  const row = await live(db).where('join_meeting_id', '=', joinMeetingId).executeTakeFirst();
  return row && rowToMeeting(row);
}

export async function findMeetingByVtcId(db: Db, vtcId: string): Promise<Meeting | undefined> {
  const row = await live(db).where('video_teleconference_id', '=', vtcId).executeTakeFirst();
  return row && rowToMeeting(row);
}

export async function findMeetingByExternalId(
  db: Db,
  tenantId: string,
  organizerId: string,
  externalId: string,
): Promise<Meeting | undefined> {
  const row = await live(db)
    .where('tenant_id', '=', tenantId)
    .where('organizer_id', '=', organizerId)
    .where('external_id', '=', externalId)
    .executeTakeFirst();
  return row && rowToMeeting(row);
}

/** Writes an updated meeting if nobody else updated it first; returns whether it did. */
export async function updateMeeting(db: Db, meeting: Meeting, write: Writer = direct(db)): Promise<boolean> {
  const row = meetingToRow(meeting);
  const res = await write(
    db
      .updateTable('meetings')
      .set({
        start_date_time: row.start_date_time,
        end_date_time: row.end_date_time,
        expiry_date_time: row.expiry_date_time,
        resource: row.resource,
        version: meeting.version + 1,
      })
      .where('id', '=', meeting.id)
      .where('version', '=', meeting.version)
      .where('deleted_at', 'is', null)
      .compile(),
  );
  return Number(res.numAffectedRows) === 1;
}

/**
 * Deletes a meeting, leaving a tombstone that keeps its generated numbers taken. The createOrGet key is
 * released at once: a new createOrGet with the same externalId makes a new meeting (fact sheet §3.2).
 */
export async function deleteMeeting(db: Db, id: string, deletedAt: string, write: Writer = direct(db)): Promise<boolean> {
  const res = await write(
    db
      .updateTable('meetings')
      .set({ deleted_at: deletedAt, external_id: null, resource: '{}' })
      .where('id', '=', id)
      .where('deleted_at', 'is', null)
      .compile(),
  );
  return Number(res.numAffectedRows) === 1;
}

/** Removes tombstones older than the cutoff, freeing their numbers for new meetings. */
export async function purgeTombstones(db: Db, cutoff: string): Promise<number> {
  const res = await db.deleteFrom('meetings').where('deleted_at', '<', cutoff).executeTakeFirst();
  return Number(res.numDeletedRows);
}

/** Live meetings, newest first, optionally of one tenant and/or organizer (GET /_emulator/meetings). */
export async function listMeetings(
  db: Db,
  filter: { tenantId?: string | undefined; organizerId?: string | undefined; limit: number },
): Promise<Meeting[]> {
  let q = live(db);
  if (filter.tenantId !== undefined) q = q.where('tenant_id', '=', filter.tenantId);
  if (filter.organizerId !== undefined) q = q.where('organizer_id', '=', filter.organizerId);
  const rows = await q.orderBy('creation_date_time', 'desc').orderBy('id').limit(filter.limit).execute();
  return rows.map(rowToMeeting);
}
