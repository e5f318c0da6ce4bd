import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { CompiledQuery, sql, type Compilable, type Kysely } from 'kysely';
import type { Meeting } from '../../src/domain/meetings/meeting.js';
import { migrateToLatest, type StoreKind } from '../../src/storage/database.js';
import { meetingConstraint, uniqueViolation } from '../../src/storage/errors.js';
import {
  live,
  deleteMeeting,
  findMeetingByExternalId,
  findMeetingById,
  findMeetingByJoinMeetingId,
  findMeetingByThread,
  findMeetingByVtcId,
  insertMeeting,
  MeetingReads,
  meetingToRow,
  purgeTombstones,
  updateMeeting,
} from '../../src/storage/repositories/meeting-repository.js';
import type { Database } from '../../src/storage/tables.js';
import { STORES } from '../helpers/stores.js';
import { graphTime, makeMeeting, ORGANIZER_ID, tempStore } from './fixtures.js';

type Db = Kysely<Database>;
type Constraint = ReturnType<typeof meetingConstraint>;

// `live(db)` is the repository's own query builder, so the plans checked below are those of the real queries.

/**
 * The plan lines of a query. SQLite: EXPLAIN QUERY PLAN's `detail` column. PostgreSQL: EXPLAIN with sequential
 * scans priced out (SET LOCAL, so only this transaction's connection), so a tiny table still shows whether an
 * index *can* serve the query.
 */
async function plan(kind: StoreKind, db: Db, query: Compilable): Promise<string[]> {
  const c = query.compile();
  if (kind === 'sqlite') {
    const res = await db.executeQuery<{ detail: string }>(CompiledQuery.raw(`EXPLAIN QUERY PLAN ${c.sql}`, [...c.parameters]));
    return res.rows.map((r) => r.detail);
  }
  return db.transaction().execute(async (trx) => {
    await sql`SET LOCAL enable_seqscan = off`.execute(trx);
    const res = await trx.executeQuery<{ 'QUERY PLAN': string }>(CompiledQuery.raw(`EXPLAIN ${c.sql}`, [...c.parameters]));
    return res.rows.map((r) => r['QUERY PLAN']);
  });
}

/** The indexes a plan probes on the meetings table; fails on any full scan of it. */
function indexesUsed(kind: StoreKind, lines: string[]): string[] {
  const text = lines.join('\n');
  if (kind === 'sqlite') {
    assert.ok(!lines.some((l) => /^SCAN meetings\b/.test(l)), `table scan:\n${text}`);
    assert.ok(
      lines.some((l) => l.includes('USING INDEX') || l.includes('USING COVERING INDEX')),
      `no index:\n${text}`,
    );
    return lines.flatMap((l) => /^SEARCH meetings USING (?:COVERING )?INDEX (\S+)/.exec(l)?.[1] ?? []);
  }
  assert.ok(!/Seq Scan/.test(text), `sequential scan:\n${text}`);
  return lines.flatMap((l) => {
    const m = /(?:Index Scan|Index Only Scan) using (\S+) on meetings|Bitmap Index Scan on (\S+)/.exec(l);
    return m ? [(m[1] ?? m[2])!] : [];
  });
}

/** Runs `insert`, which must hit a unique constraint; returns the raw name and what meetingConstraint makes of it. */
async function violation(insert: Promise<unknown>): Promise<{ raw: string; constraint: Constraint }> {
  let caught: unknown;
  await insert.catch((err: unknown) => {
    caught = err;
  });
  assert.ok(caught, 'the insert must fail');
  const raw = uniqueViolation(caught);
  assert.ok(raw !== undefined, `not recognized as a unique violation: ${String(caught)}`);
  return { raw, constraint: meetingConstraint(raw) };
}

/** The same meeting numbers as `of`, one at a time: a new meeting that reuses exactly one unique value of `of`. */
const REUSES: Array<{ column: string; constraint: Constraint; reuse: (of: Meeting) => Meeting }> = [
  { column: 'id', constraint: 'id', reuse: (of) => ({ ...makeMeeting(), id: of.id }) },
  { column: 'thread_id', constraint: 'thread', reuse: (of) => ({ ...makeMeeting(), threadId: of.threadId }) },
  {
    column: 'join_meeting_id',
    constraint: 'joinMeetingId',
    reuse: (of) => {
      const m = makeMeeting();
      m.joinMeetingIdSettings.joinMeetingId = of.joinMeetingIdSettings.joinMeetingId;
      return m;
    },
  },
  {
    column: 'conference_id',
    constraint: 'conferenceId',
    reuse: (of) => {
      const m = makeMeeting();
      m.audioConferencing.conferenceId = of.audioConferencing.conferenceId;
      return m;
    },
  },
  {
    column: 'video_teleconference_id',
    constraint: 'vtcId',
    reuse: (of) => ({ ...makeMeeting(), videoTeleconferenceId: of.videoTeleconferenceId }),
  },
  {
    column: '(tenant_id, organizer_id, external_id)',
    constraint: 'externalKey',
    reuse: (of) => makeMeeting({ tenantId: of.tenantId, organizerId: of.organizerId, externalId: of.externalId }),
  },
];

for (const kind of STORES) {
  describe(`${kind}: meeting repository`, () => {
    let t: Awaited<ReturnType<typeof tempStore>>;
    let db: Db;
    before(async () => {
      t = await tempStore(kind);
      db = t.store.db;
      await migrateToLatest(db);
    });
    after(() => t.cleanup());

    const rawRow = (id: string) => db.selectFrom('meetings').selectAll().where('id', '=', id).executeTakeFirst();

    describe('every lookup probes an index, never scans the table', () => {
      let sample: Meeting;
      before(async () => {
        // Enough rows, a few tombstones and createOrGet keys that the planner has real choices to make.
        const all = Array.from({ length: 200 }, (_, i) => makeMeeting({ externalId: i % 2 ? `plan-${i}` : null }));
        await db.insertInto('meetings').values(all.map(meetingToRow)).execute();
        for (const m of all.slice(0, 20)) await deleteMeeting(db, m.id, graphTime(1));
        sample = all[101]!;
      });

      const primaryKey = kind === 'sqlite' ? /^sqlite_autoindex_meetings_\d+$/ : /^meetings_pkey$/;
      const lookups: Array<{ name: string; index: RegExp; query: () => Compilable }> = [
        { name: 'findMeetingById', index: primaryKey, query: () => live(db).where('id', '=', sample.id) },
        { name: 'findMeetingByThread', index: /^meetings_thread$/, query: () => live(db).where('thread_id', '=', sample.threadId) },
        {
          name: 'findMeetingByJoinMeetingId',
          index: /^meetings_join_meeting_id$/,
          query: () => live(db).where('join_meeting_id', '=', sample.joinMeetingIdSettings.joinMeetingId),
        },
        {
          name: 'findMeetingByVtcId',
          index: /^meetings_vtc_id$/,
          query: () => live(db).where('video_teleconference_id', '=', sample.videoTeleconferenceId),
        },
        {
          name: 'findMeetingByExternalId',
          index: /^meetings_external_key$/,
          query: () =>
            live(db)
              .where('tenant_id', '=', sample.tenantId)
              .where('organizer_id', '=', sample.organizerId)
              .where('external_id', '=', sample.externalId!),
        },
        {
          name: 'updateMeeting',
          index: primaryKey,
          query: () =>
            db
              .updateTable('meetings')
              .set({ resource: '{}', version: 2 })
              .where('id', '=', sample.id)
              .where('version', '=', 1)
              .where('deleted_at', 'is', null),
        },
        {
          name: 'deleteMeeting',
          index: primaryKey,
          query: () =>
            db
              .updateTable('meetings')
              .set({ deleted_at: graphTime(), external_id: null, resource: '{}' })
              .where('id', '=', sample.id)
              .where('deleted_at', 'is', null),
        },
        {
          name: 'purgeTombstones',
          index: /^meetings_deleted_at$/,
          query: () => db.deleteFrom('meetings').where('deleted_at', '<', graphTime(2)),
        },
      ];

      // Pinning the index matters: `deleted_at IS NULL` alone can be served by meetings_deleted_at, so a lookup on an
      // unindexed column shows up as "SEARCH meetings USING INDEX meetings_deleted_at" (SQLite) or an Index Scan on it
      // (PostgreSQL) while reading every live row, and would pass a mere "no SCAN, some index" check.
      // SQLite never gathers statistics by itself (nothing runs ANALYZE), so the plan without them is the one
      // production gets; PostgreSQL's autovacuum analyzes, so check both states.
      for (const stats of ['without planner statistics', 'after ANALYZE'] as const) {
        describe(stats, () => {
          if (stats === 'after ANALYZE') before(() => sql`ANALYZE`.execute(db));
          for (const { name, index, query } of lookups) {
            test(`${name} uses ${index === primaryKey ? 'the primary key' : index.source.slice(1, -1)}`, async () => {
              const lines = await plan(kind, db, query());
              const used = indexesUsed(kind, lines);
              assert.ok(used.length > 0, `no index probe found in:\n${lines.join('\n')}`);
              for (const u of used) assert.match(u, index, `unexpected index in:\n${lines.join('\n')}`);
            });
          }
        });
      }
    });

    describe('unique constraints map to the same meeting property on both stores', () => {
      for (const { column, constraint, reuse } of REUSES) {
        test(`a duplicate ${column} is a '${constraint}' violation`, async () => {
          const original = makeMeeting({ externalId: `unique-${column}` });
          await insertMeeting(db, original);
          const duplicate = reuse(original);
          const v = await violation(insertMeeting(db, duplicate));
          assert.equal(v.constraint, constraint, `raw constraint name: ${v.raw}`);
          if (column !== 'id') assert.equal(await rawRow(duplicate.id), undefined, 'nothing was written');
          assert.deepEqual(await findMeetingById(db, original.id), original);
        });
      }

      test('other constraint errors are not unique violations', async () => {
        let caught: unknown;
        const row = { ...meetingToRow(makeMeeting()), thread_id: null as unknown as string };
        await db
          .insertInto('meetings')
          .values(row)
          .execute()
          .catch((err: unknown) => {
            caught = err;
          });
        assert.ok(caught, 'a NOT NULL violation must fail');
        assert.equal(uniqueViolation(caught), undefined);
      });
    });

    test("MeetingReads, through the store's reader, finds what the reference queries find, and sees every change", async () => {
      const reads = new MeetingReads(db, t.store.read);
      const m = makeMeeting({ externalId: 'reads-ext' });
      const other = makeMeeting();
      await insertMeeting(db, m);
      await insertMeeting(db, other);
      const lookups = (x: Meeting) => [
        [reads.byId(x.id), findMeetingById(db, x.id)],
        [reads.byThread(x.threadId), findMeetingByThread(db, x.threadId)],
        [
          reads.byJoinMeetingId(x.joinMeetingIdSettings.joinMeetingId),
          findMeetingByJoinMeetingId(db, x.joinMeetingIdSettings.joinMeetingId),
        ],
        [reads.byVtcId(x.videoTeleconferenceId), findMeetingByVtcId(db, x.videoTeleconferenceId)],
      ];
      for (const x of [m, other]) {
        for (const [fast, reference] of lookups(x)) assert.deepEqual(await fast, await reference);
        assert.deepEqual(await reads.byId(x.id), x);
      }
      assert.deepEqual(await reads.byExternalKey(m.tenantId, m.organizerId, 'reads-ext'), m);
      assert.equal(await reads.byExternalKey(m.tenantId, m.organizerId, 'nope'), undefined);
      assert.equal(await reads.byExternalKey(m.tenantId, '0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d', 'reads-ext'), undefined);
      assert.equal(await reads.byId('no-such-meeting'), undefined);
      // A parsed meeting is reused only while its version is current: an update and a delete are seen at once.
      assert.equal(await updateMeeting(db, { ...m, subject: 'Changed' }), true);
      assert.equal((await reads.byId(m.id))?.subject, 'Changed');
      assert.equal((await reads.byThread(m.threadId))?.version, 2);
      assert.equal(await deleteMeeting(db, m.id, graphTime(700)), true);
      for (const [fast] of lookups(m)) assert.equal(await fast, undefined);
    });

    test('meetings without an externalId never collide on the createOrGet key', async () => {
      const a = makeMeeting({ externalId: null });
      const b = makeMeeting({ externalId: null });
      await insertMeeting(db, a);
      await insertMeeting(db, b);
      assert.deepEqual(await findMeetingById(db, a.id), a);
      assert.deepEqual(await findMeetingById(db, b.id), b);
      // The key is per organizer: another organizer may use the same externalId.
      const mine = makeMeeting({ externalId: 'shared-ext' });
      const theirs = makeMeeting({ externalId: 'shared-ext', organizerId: '0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d' });
      await insertMeeting(db, mine);
      await insertMeeting(db, theirs);
      assert.deepEqual(await findMeetingByExternalId(db, mine.tenantId, ORGANIZER_ID, 'shared-ext'), mine);
      assert.deepEqual(await findMeetingByExternalId(db, theirs.tenantId, theirs.organizerId, 'shared-ext'), theirs);
    });

    test('updateMeeting with a stale version returns false and changes nothing', async () => {
      const m = makeMeeting();
      await insertMeeting(db, m);
      const read = (await findMeetingById(db, m.id))!;
      assert.equal(read.version, 1);
      assert.equal(await updateMeeting(db, { ...read, subject: 'First writer', endDateTime: graphTime(9_000) }), true);
      const current = (await findMeetingById(db, m.id))!;
      assert.equal(current.version, 2);
      assert.equal(current.subject, 'First writer');
      const before = await rawRow(m.id);

      assert.equal(await updateMeeting(db, { ...read, subject: 'Second writer', endDateTime: graphTime(9_999) }), false);
      assert.deepEqual(await rawRow(m.id), before);
      assert.deepEqual(await findMeetingById(db, m.id), current);
      // Re-reading and retrying, as the service does, succeeds.
      assert.equal(await updateMeeting(db, { ...current, subject: 'Second writer' }), true);
      assert.equal((await findMeetingById(db, m.id))?.version, 3);
    });

    test('deleteMeeting leaves a tombstone: invisible to every finder, its numbers still taken, its createOrGet key free', async () => {
      const m = makeMeeting({ externalId: 'deleted-ext' });
      await insertMeeting(db, m);
      const deletedAt = graphTime(500);
      assert.equal(await deleteMeeting(db, m.id, deletedAt), true);

      assert.equal(await findMeetingById(db, m.id), undefined);
      assert.equal(await findMeetingByThread(db, m.threadId), undefined);
      assert.equal(await findMeetingByJoinMeetingId(db, m.joinMeetingIdSettings.joinMeetingId), undefined);
      assert.equal(await findMeetingByVtcId(db, m.videoTeleconferenceId), undefined);
      assert.equal(await findMeetingByExternalId(db, m.tenantId, m.organizerId, 'deleted-ext'), undefined);

      const tomb = await rawRow(m.id);
      assert.ok(tomb, 'the row stays');
      assert.equal(tomb.deleted_at, deletedAt);
      assert.equal(tomb.external_id, null);
      assert.equal(tomb.join_meeting_id, m.joinMeetingIdSettings.joinMeetingId);

      assert.equal(await deleteMeeting(db, m.id, graphTime(501)), false, 'a tombstone is not deleted twice');
      assert.equal(await updateMeeting(db, m), false, 'a tombstone is not updated');
      assert.equal((await rawRow(m.id))?.deleted_at, deletedAt);

      for (const { column, constraint, reuse } of REUSES.filter((r) => r.constraint !== 'externalKey')) {
        const v = await violation(insertMeeting(db, reuse(m)));
        assert.equal(v.constraint, constraint, `${column} of a tombstone must stay taken (raw: ${v.raw})`);
      }
      // fact sheet §3.2: a createOrGet after the delete makes a new meeting.
      const again = makeMeeting({ externalId: 'deleted-ext' });
      await insertMeeting(db, again);
      assert.deepEqual(await findMeetingByExternalId(db, m.tenantId, m.organizerId, 'deleted-ext'), again);
    });

    test('purgeTombstones removes only tombstones older than the cutoff', async () => {
      // Long before every other tombstone of this suite (those are in 2030), so the count is exact.
      const cutoff = '2002-01-01T00:00:00.0000000Z';
      const deletions = {
        old1: '2001-01-01T00:00:00.0000000Z',
        old2: '2001-12-31T23:59:59.9999999Z',
        atCutoff: cutoff,
        newer: '2002-01-01T00:00:00.0000001Z',
      };
      const tombs = Object.fromEntries(Object.keys(deletions).map((k) => [k, makeMeeting()])) as Record<keyof typeof deletions, Meeting>;
      const alive = makeMeeting();
      for (const [k, m] of Object.entries(tombs)) {
        await insertMeeting(db, m);
        assert.equal(await deleteMeeting(db, m.id, deletions[k as keyof typeof deletions]), true);
      }
      await insertMeeting(db, alive);

      assert.equal(await purgeTombstones(db, cutoff), 2);
      assert.equal(await rawRow(tombs.old1.id), undefined);
      assert.equal(await rawRow(tombs.old2.id), undefined);
      assert.equal((await rawRow(tombs.atCutoff.id))?.deleted_at, cutoff);
      assert.equal((await rawRow(tombs.newer.id))?.deleted_at, deletions.newer);
      assert.deepEqual(await findMeetingById(db, alive.id), alive);
      assert.equal(await purgeTombstones(db, cutoff), 0);

      // A purged meeting's numbers are free again; a kept tombstone's are not.
      const reuseJoinId = (of: Meeting) => REUSES.find((r) => r.constraint === 'joinMeetingId')!.reuse(of);
      const reborn = reuseJoinId(tombs.old1);
      await insertMeeting(db, reborn);
      assert.deepEqual(await findMeetingByJoinMeetingId(db, tombs.old1.joinMeetingIdSettings.joinMeetingId), reborn);
      assert.equal((await violation(insertMeeting(db, reuseJoinId(tombs.atCutoff)))).constraint, 'joinMeetingId');
    });
  });
}
