import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { CompiledQuery, sql, type Compilable, type Kysely } from 'kysely';
import type { CalendarEvent } from '../../src/domain/events/event.js';
import { newEventId, newICalUId } from '../../src/domain/events/event-ids.js';
import { migrateToLatest, type StoreKind } from '../../src/storage/database.js';
import { uniqueViolation } from '../../src/storage/errors.js';
import {
  deleteEvent,
  eventsPageQuery,
  findEventById,
  findEventByICalUId,
  findEventByTransaction,
  insertEvent,
  listEvents,
  countEvents,
  updateEvent,
  type EventQuery,
} from '../../src/storage/repositories/event-repository.js';
import type { Database } from '../../src/storage/tables.js';
import { STORES } from '../helpers/stores.js';
import { graphTime, tempStore, tenantRow, TENANT_ID } from './fixtures.js';

const OWNER = '0a1b2c3d-4e5f-4061-8728-394a5b6c7d8e';
const OTHER = '9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a';

function makeEvent(owner: string, startMinutes: number, minutes = 60, overrides: Partial<CalendarEvent> = {}): CalendarEvent {
  return {
    id: newEventId(owner),
    tenantId: TENANT_ID,
    ownerId: owner,
    iCalUId: newICalUId(Date.now()),
    transactionId: null,
    start: { utc: graphTime(startMinutes), timeZone: 'UTC' },
    end: { utc: graphTime(startMinutes + minutes), timeZone: 'UTC' },
    createdDateTime: graphTime(),
    lastModifiedDateTime: graphTime(),
    isOnlineMeeting: false,
    meetingId: null,
    subject: `at ${startMinutes}`,
    body: '<html><body></body></html>',
    isAllDay: false,
    location: { displayName: '', locationType: 'default', uniqueIdType: 'unknown' },
    locations: [],
    attendees: [],
    categories: [],
    importance: 'normal',
    sensitivity: 'normal',
    showAs: 'busy',
    isReminderOn: true,
    reminderMinutesBeforeStart: 15,
    responseRequested: true,
    allowNewTimeProposals: true,
    hideAttendees: false,
    onlineMeetingProvider: 'unknown',
    onlineMeeting: null,
    organizer: { name: 'Owner', address: 'owner@contoso.test' },
    version: 1,
    ...overrides,
  };
}

const query = (overrides: Partial<EventQuery> = {}): EventQuery => ({
  ownerId: OWNER,
  conditions: [],
  orderBy: [{ column: 'start_utc', desc: false }],
  top: 1000,
  skip: 0,
  ...overrides,
});

async function plan(kind: StoreKind, db: Kysely<Database>, q: Compilable): Promise<string> {
  const c = q.compile();
  if (kind === 'sqlite') {
    const res = await db.executeQuery<{ detail: string }>(CompiledQuery.raw(`EXPLAIN QUERY PLAN ${c.sql}`, [...c.parameters]));
    return res.rows.map((r) => r.detail).join('\n');
  }
  return db.transaction().execute(async (trx) => {
    await sql`SET LOCAL enable_seqscan = off`.execute(trx);
    const res = await trx.executeQuery<{ 'QUERY PLAN': string }>(CompiledQuery.raw(`EXPLAIN ${c.sql}`, [...c.parameters]));
    return res.rows.map((r) => r['QUERY PLAN']).join('\n');
  });
}

for (const kind of STORES) {
  describe(`${kind}: event repository (migration 008)`, () => {
    let t: Awaited<ReturnType<typeof tempStore>>;
    let db: Kysely<Database>;
    const events: CalendarEvent[] = [];
    before(async () => {
      t = await tempStore(kind);
      db = t.store.db;
      await migrateToLatest(db);
      await db.insertInto('tenants').values(tenantRow()).execute();
      for (const [id, upn] of [
        [OWNER, 'owner@contoso.test'],
        [OTHER, 'other@contoso.test'],
      ]) {
        await db
          .insertInto('users')
          .values({ id: id!, tenant_id: TENANT_ID, upn: upn!, display_name: upn!, password_hash: 'x', created_at: graphTime() })
          .execute();
      }
      // One event an hour for 200 hours, plus a zero-length one and another mailbox's events at the same times.
      for (let i = 0; i < 200; i++) events.push(makeEvent(OWNER, i * 60, 30, { isOnlineMeeting: i % 2 === 0 }));
      events.push(makeEvent(OWNER, 10 * 60 + 45, 0));
      for (const e of events) await insertEvent(db, e);
      for (let i = 0; i < 50; i++) await insertEvent(db, makeEvent(OTHER, i * 60));
    });
    after(() => t.cleanup());

    test('insert, read by id, iCalUId and transactionId, optimistic update, delete', async () => {
      const e = makeEvent(OWNER, 100_000, 60, { transactionId: 'txn-1' });
      await insertEvent(db, e);
      assert.deepEqual(await findEventById(db, e.id), e);
      assert.deepEqual(await findEventByICalUId(db, e.iCalUId), e);
      assert.deepEqual(await findEventByTransaction(db, OWNER, 'txn-1'), e);
      assert.equal(await findEventByTransaction(db, OTHER, 'txn-1'), undefined);
      // The same transactionId in one mailbox is refused by the unique index; in another it is fine.
      await assert.rejects(
        insertEvent(db, makeEvent(OWNER, 5, 5, { transactionId: 'txn-1' })),
        (err) => uniqueViolation(err) !== undefined,
      );
      await insertEvent(db, makeEvent(OTHER, 5, 5, { transactionId: 'txn-1' }));
      const moved = { ...e, subject: 'moved', start: { utc: graphTime(100_100), timeZone: 'UTC' } };
      assert.equal(await updateEvent(db, moved, 1), true);
      assert.equal(await updateEvent(db, { ...moved, subject: 'stale' }, 1), false, 'a stale version loses');
      assert.deepEqual(await findEventById(db, e.id), { ...moved, version: 2 });
      assert.equal(await deleteEvent(db, e.id), true);
      assert.equal(await deleteEvent(db, e.id), false);
      assert.equal(await findEventById(db, e.id), undefined);
    });

    test('calendarView overlap: boundary-touching events excluded, zero-length events at the start included', async () => {
      const window = { start: graphTime(10 * 60), end: graphTime(11 * 60 + 30) };
      const found = await listEvents(db, query({ window }));
      // 10:00–10:30 and 11:00–11:30 overlap; 10:45 (zero length) starts inside; 09:00–09:30 ends before.
      assert.deepEqual(
        found.map((e) => e.subject),
        ['at 600', 'at 645', 'at 660'],
      );
      assert.equal(await countEvents(db, query({ window })), 3);
      const touching = await listEvents(db, query({ window: { start: graphTime(9 * 60 + 30), end: graphTime(10 * 60) } }));
      assert.deepEqual(touching, []);
    });

    test('conditions, isOnlineMeeting, order, top and skip; another mailbox never appears', async () => {
      const page = await listEvents(
        db,
        query({
          conditions: [
            { column: 'start_utc', op: '>=', value: graphTime(100 * 60) },
            { column: 'end_utc', op: '<', value: graphTime(110 * 60) },
          ],
          isOnlineMeeting: true,
          orderBy: [{ column: 'start_utc', desc: true }],
          top: 3,
          skip: 1,
        }),
      );
      assert.deepEqual(
        page.map((e) => e.subject),
        ['at 6360', 'at 6240', 'at 6120'],
      );
      const all = await listEvents(db, query());
      assert.equal(all.length, 201);
      assert.ok(all.every((e) => e.ownerId === OWNER));
    });

    test('every list query is served by an owner index, never a full scan of events', async () => {
      for (const q of [
        query({ window: { start: graphTime(600), end: graphTime(700) } }),
        query({ conditions: [{ column: 'start_utc', op: '>=', value: graphTime(600) }] }),
        query({ conditions: [{ column: 'end_utc', op: '<', value: graphTime(600) }], orderBy: [{ column: 'end_utc', desc: true }] }),
        query({ top: 10, skip: 10 }),
      ]) {
        const text = await plan(kind, db, eventsPageQuery(db, q));
        if (kind === 'sqlite') {
          assert.ok(!/^SCAN events\b/m.test(text), `table scan:\n${text}`);
          assert.match(text, /USING (COVERING )?INDEX events_owner_(start|end)/, text);
        } else {
          assert.ok(!/Seq Scan on events/.test(text), `sequential scan:\n${text}`);
          // Without statistics PostgreSQL may pick any index that leads with owner_id; each narrows to one mailbox.
          assert.match(text, /events_owner_/, text);
        }
      }
      for (const [column, value, index] of [
        ['ical_uid', events[0]!.iCalUId, 'events_ical_uid'],
        ['id', events[0]!.id, kind === 'sqlite' ? 'sqlite_autoindex_events_1' : 'events_pkey'],
      ] as const) {
        const text = await plan(kind, db, db.selectFrom('events').selectAll().where(column, '=', value));
        assert.ok(text.includes(index), `${column}:\n${text}`);
      }
    });
  });
}
