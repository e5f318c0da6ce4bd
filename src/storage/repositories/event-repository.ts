import type { CompiledQuery, Kysely, Transaction } from 'kysely';
import type { CalendarEvent } from '../../domain/events/event.js';
import type { Reader, Writer } from '../database.js';
import { LruCache } from '../../util/lru-cache.js';
import { ENTRY_OVERHEAD_BYTES, stringBytes } from '../../util/memory-budget.js';
import type { Database, EventRow, NewEventRow } from '../tables.js';

type Db = Kysely<Database> | Transaction<Database>;
const direct =
  (db: Db): Writer =>
  (q) =>
    db.executeQuery(q);

/** The part of an event that has no column of its own, kept as one JSON document. */
type EventDocument = Omit<
  CalendarEvent,
  | 'id'
  | 'tenantId'
  | 'ownerId'
  | 'iCalUId'
  | 'transactionId'
  | 'createdDateTime'
  | 'lastModifiedDateTime'
  | 'isOnlineMeeting'
  | 'meetingId'
  | 'version'
> & { start: CalendarEvent['start']; end: CalendarEvent['end'] };

export function eventToRow(e: CalendarEvent): NewEventRow {
  const {
    id,
    tenantId,
    ownerId,
    iCalUId,
    transactionId,
    createdDateTime,
    lastModifiedDateTime,
    isOnlineMeeting,
    meetingId,
    version: _version,
    ...doc
  } = e;
  const resource: EventDocument = doc;
  return {
    id,
    tenant_id: tenantId,
    owner_id: ownerId,
    ical_uid: iCalUId,
    transaction_id: transactionId,
    start_utc: e.start.utc,
    end_utc: e.end.utc,
    is_online_meeting: isOnlineMeeting ? 1 : 0,
    meeting_id: meetingId,
    created_date_time: createdDateTime,
    last_modified_date_time: lastModifiedDateTime,
    resource: JSON.stringify(resource),
  };
}

export function rowToEvent(row: EventRow): CalendarEvent {
  const doc = JSON.parse(row.resource) as EventDocument;
  return {
    ...doc,
    id: row.id,
    tenantId: row.tenant_id,
    ownerId: row.owner_id,
    iCalUId: row.ical_uid,
    transactionId: row.transaction_id,
    createdDateTime: row.created_date_time,
    lastModifiedDateTime: row.last_modified_date_time,
    isOnlineMeeting: Number(row.is_online_meeting) === 1,
    meetingId: row.meeting_id,
    version: Number(row.version),
  };
}

/** The columns eventToRow fills, in the order of the compiled INSERT's parameters. */
const INSERT_COLUMNS = [
  'id',
  'tenant_id',
  'owner_id',
  'ical_uid',
  'transaction_id',
  'start_utc',
  'end_utc',
  'is_online_meeting',
  'meeting_id',
  'created_date_time',
  'last_modified_date_time',
  'resource',
] as const satisfies readonly (keyof NewEventRow)[];
const compiledInserts = new WeakMap<object, CompiledQuery>();

/**
 * The INSERT of an event, compiled once per dialect (a transaction shares its database's adapter) and given
 * each event's values: Kysely building it on every create cost more than running it (issue #20), as it did
 * for meetings (meeting-repository.ts compiledInsert).
 */
export function insertEventQuery(db: Db, e: CalendarEvent): CompiledQuery {
  const adapter = db.getExecutor().adapter;
  let compiled = compiledInserts.get(adapter);
  if (compiled === undefined) {
    const sample = Object.fromEntries(INSERT_COLUMNS.map((c) => [c, c])) as unknown as NewEventRow;
    compiled = db.insertInto('events').values(sample).compile();
    if (compiled.parameters.join() !== INSERT_COLUMNS.join()) throw new Error(`unexpected parameters in: ${compiled.sql}`);
    compiledInserts.set(adapter, compiled);
  }
  const row = eventToRow(e);
  return { ...compiled, parameters: INSERT_COLUMNS.map((c) => row[c]) };
}

export async function insertEvent(db: Db, e: CalendarEvent, write: Writer = direct(db)): Promise<void> {
  await write(insertEventQuery(db, e));
}

/** One probe of the primary key. */
export async function findEventById(db: Db, id: string): Promise<CalendarEvent | undefined> {
  const row = await db.selectFrom('events').selectAll().where('id', '=', id).executeTakeFirst();
  return row && rowToEvent(row);
}

/**
 * GET …/events/{id}'s read (issue #20): the probe of findEventById compiled once and run through the store's
 * reader (Kysely building and running it was 10% of the request), and the parsed event reused while its stored
 * version is unchanged (every write bumps it, updateEventQuery), as MeetingReads does for meetings. The row is
 * still read every time, so another process's change is seen at once. Callers must not mutate what they get.
 */
export class EventReads {
  readonly #read: Reader;
  readonly #byId: CompiledQuery<EventRow>;
  // A parsed event takes about three times its JSON's characters on the heap (see ParsedMeetingCache).
  readonly #parsed = new LruCache<string, { event: CalendarEvent; chars: number }>(2000, Infinity, Date.now, {
    sizeOf: (id, v) => ENTRY_OVERHEAD_BYTES + stringBytes(id) + v.chars * 3,
  });

  constructor(db: Kysely<Database>, read: Reader = async (q) => (await db.executeQuery(q)).rows) {
    this.#read = read;
    this.#byId = db.selectFrom('events').selectAll().where('id', '=', '').compile();
  }

  async byId(id: string): Promise<CalendarEvent | undefined> {
    const [row] = await this.#read<EventRow>({ ...this.#byId, parameters: [id] });
    if (!row) return undefined;
    const hit = this.#parsed.get(row.id);
    if (hit && hit.event.version === Number(row.version)) return hit.event;
    const event = rowToEvent(row);
    this.#parsed.set(row.id, { event, chars: row.resource.length });
    return event;
  }
}

/** One probe of the (owner_id, transaction_id) unique index. */
export async function findEventByTransaction(db: Db, ownerId: string, transactionId: string): Promise<CalendarEvent | undefined> {
  const row = await db
    .selectFrom('events')
    .selectAll()
    .where('owner_id', '=', ownerId)
    .where('transaction_id', '=', transactionId)
    .executeTakeFirst();
  return row && rowToEvent(row);
}

/** One probe of the iCalUId unique index. */
export async function findEventByICalUId(db: Db, iCalUId: string): Promise<CalendarEvent | undefined> {
  const row = await db.selectFrom('events').selectAll().where('ical_uid', '=', iCalUId).executeTakeFirst();
  return row && rowToEvent(row);
}

/** Writes an updated event if nobody else updated it first; returns whether it did. */
export async function updateEvent(db: Db, e: CalendarEvent, expectedVersion: number, write: Writer = direct(db)): Promise<boolean> {
  const res = await write(updateEventQuery(db, e, expectedVersion));
  return Number(res.numAffectedRows) === 1;
}

/** The UPDATE of updateEvent: it changes a row only if nobody else updated the event first. */
export function updateEventQuery(db: Db, e: CalendarEvent, expectedVersion: number) {
  const row = eventToRow(e);
  return db
    .updateTable('events')
    .set({
      start_utc: row.start_utc,
      end_utc: row.end_utc,
      is_online_meeting: row.is_online_meeting,
      meeting_id: row.meeting_id,
      last_modified_date_time: row.last_modified_date_time,
      resource: row.resource,
      version: expectedVersion + 1,
    })
    .where('id', '=', e.id)
    .where('version', '=', expectedVersion)
    .compile();
}

export const deleteEventQuery = (db: Db, id: string) => db.deleteFrom('events').where('id', '=', id).compile();

export async function deleteEvent(db: Db, id: string, write: Writer = direct(db)): Promise<boolean> {
  const res = await write(deleteEventQuery(db, id));
  return Number(res.numAffectedRows) === 1;
}

export type EventColumn = 'start_utc' | 'end_utc' | 'created_date_time' | 'last_modified_date_time';
export type Comparison = '=' | '<>' | '<' | '<=' | '>' | '>=';

export interface EventQuery {
  ownerId: string;
  /** calendarView (§4.4): events overlapping [start, end); a zero-length event counts when it starts inside. */
  window?: { start: string; end: string };
  /** $filter conditions, all of which must hold (§2.3: compared on the stored UTC value). */
  conditions: Array<{ column: EventColumn; op: Comparison; value: string }>;
  isOnlineMeeting?: boolean;
  /** A filter nothing can match (isOrganizer eq false: every event here is its owner's own). */
  matchNothing?: boolean;
  orderBy: Array<{ column: EventColumn; desc: boolean }>;
  top: number;
  skip: number;
}

/** The rows a query matches, before order and paging: the owner, the calendarView window and $filter. */
function matching(db: Db, q: EventQuery) {
  let query = db.selectFrom('events').where('owner_id', '=', q.ownerId);
  if (q.window) {
    const { start, end } = q.window;
    query = query.where((eb) =>
      eb.or([
        eb.and([eb('start_utc', '<', end), eb('end_utc', '>', start)]),
        eb.and([eb('start_utc', '=', eb.ref('end_utc')), eb('start_utc', '>=', start), eb('start_utc', '<', end)]),
      ]),
    );
  }
  for (const c of q.conditions) query = query.where(c.column, c.op, c.value);
  if (q.isOnlineMeeting !== undefined) query = query.where('is_online_meeting', '=', q.isOnlineMeeting ? 1 : 0);
  return query;
}

/**
 * A page of a mailbox's events, as one query. Every filter and order is on a column, so the
 * (owner_id, start_utc, id) and (owner_id, end_utc, id) indexes serve calendarView, $filter and $orderby;
 * `id` breaks ties so that $skip paging is stable.
 */
export function eventsPageQuery(db: Db, q: EventQuery) {
  let query = matching(db, q).selectAll();
  for (const o of q.orderBy) query = query.orderBy(o.column, o.desc ? 'desc' : 'asc');
  return query.orderBy('id', 'asc').limit(q.top).offset(q.skip);
}

export async function listEvents(db: Db, q: EventQuery): Promise<CalendarEvent[]> {
  if (q.matchNothing) return [];
  return (await eventsPageQuery(db, q).execute()).map(rowToEvent);
}

/** How many events a query matches, for $count=true. */
export async function countEvents(db: Db, q: EventQuery): Promise<number> {
  if (q.matchNothing) return 0;
  const row = await matching(db, q)
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirst();
  return Number(row?.n ?? 0);
}
