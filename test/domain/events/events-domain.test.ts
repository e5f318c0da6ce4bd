import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { GraphError } from '../../../src/domain/errors.js';
import { changeKey, decodeOutlookId, defaultCalendarId, newEventId, newICalUId } from '../../../src/domain/events/event-ids.js';
import { bodyPreview, htmlBody, textOf } from '../../../src/domain/events/event-body.js';
import { parseInstant, parseQueryOptions } from '../../../src/domain/events/event-query.js';
import { findZone, requireZone, utcToWall, wallToUtc } from '../../../src/domain/events/time-zones.js';

const OWNER = 'ac02a79f-b09d-4d0a-a1f5-2ad5ab314a58';
const code = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof GraphError);
    return err.code;
  }
  assert.fail('expected an error');
};

describe('time zones (graph-events-spec.md §2): CLDR Windows names and IANA names', () => {
  test('Windows names map through CLDR territory 001, case-insensitively; IANA names and aliases resolve through Intl', () => {
    assert.equal(findZone('Pacific Standard Time')?.iana, 'America/Los_Angeles');
    assert.equal(findZone('w. europe standard time')?.iana, 'Europe/Berlin');
    assert.equal(findZone('Tokyo Standard Time')?.iana, 'Asia/Tokyo');
    assert.equal(findZone('India Standard Time')?.iana, 'Asia/Calcutta');
    assert.equal(findZone('UTC')?.iana, 'UTC');
    assert.equal(findZone('Europe/Paris')?.iana, 'Europe/Paris');
    assert.equal(findZone('Etc/GMT+12')?.name, 'Etc/GMT+12');
    for (const bad of ['Greenwich Mean Time', 'GMT+6:30', '[]', 'undefined', '', 'tzone://Microsoft/Custom', 'x'.repeat(200)]) {
      assert.equal(findZone(bad), undefined, bad);
      assert.equal(
        code(() => requireZone(bad)),
        'TimeZoneNotSupportedException',
      );
    }
  });

  test('wall time ⇄ UTC across daylight saving, including the spring gap and the autumn overlap', () => {
    const la = 'America/Los_Angeles';
    assert.equal(new Date(wallToUtc(Date.UTC(2030, 0, 15, 9), la)).toISOString(), '2030-01-15T17:00:00.000Z');
    assert.equal(new Date(wallToUtc(Date.UTC(2030, 6, 15, 9), la)).toISOString(), '2030-07-15T16:00:00.000Z');
    // 2030-03-10 02:30 does not exist in Los Angeles: it moves forward by the gap.
    assert.equal(new Date(wallToUtc(Date.UTC(2030, 2, 10, 2, 30), la)).toISOString(), '2030-03-10T10:30:00.000Z');
    // 2030-11-03 01:30 happens twice: the earlier (daylight) instant wins.
    assert.equal(new Date(wallToUtc(Date.UTC(2030, 10, 3, 1, 30), la)).toISOString(), '2030-11-03T08:30:00.000Z');
    assert.equal(new Date(utcToWall(Date.parse('2030-07-15T16:00:00Z'), la)).toISOString(), '2030-07-15T09:00:00.000Z');
    assert.equal(utcToWall(Date.parse('0001-01-01T00:00:00Z'), 'UTC'), Date.parse('0001-01-01T00:00:00Z'));
  });
});

describe('Outlook ids (§0.1–§0.3)', () => {
  test('event ids are 152 characters in the REST alphabet and name their mailbox; calendar ids 120', () => {
    const id = newEventId(OWNER);
    assert.equal(id.length, 152);
    assert.match(id, /^AAMkA[A-Za-z0-9_-]+=*$/);
    assert.deepEqual(decodeOutlookId(id), { kind: 'item', mailboxId: OWNER });
    const cal = defaultCalendarId(OWNER);
    assert.equal(cal.length, 120);
    assert.equal(cal, defaultCalendarId(OWNER));
    assert.deepEqual(decodeOutlookId(cal), { kind: 'folder', mailboxId: OWNER });
  });

  test('anything else is ErrorInvalidIdMalformed, before any lookup', () => {
    const id = newEventId(OWNER);
    const ews = id.replace(/-/g, '/').replace(/_/g, '+');
    for (const bad of [
      '',
      'abc',
      id.slice(0, 148),
      `${id}AAAA`,
      ews === id ? `${id}/` : ews,
      Buffer.from('x'.repeat(120)).toString('base64'),
      'A'.repeat(400),
    ]) {
      assert.equal(
        code(() => decodeOutlookId(bad)),
        'ErrorInvalidIdMalformed',
        bad,
      );
    }
  });

  test('changeKey: 16-byte mailbox GUID + 6-byte counter; iCalUId: MS-OXOCAL layout with the creation FILETIME', () => {
    const one = Buffer.from(changeKey(OWNER, 1), 'base64');
    const two = Buffer.from(changeKey(OWNER, 2), 'base64');
    assert.equal(one.length, 22);
    assert.deepEqual(one.subarray(0, 16), two.subarray(0, 16));
    assert.equal(two.readUIntBE(16, 6), 2);
    // The doc example's FILETIME decodes to 2017-04-15T03:00:50.759Z (§0.3 "Check").
    const uid = newICalUId(Date.parse('2017-04-15T03:00:50.759Z'));
    assert.match(uid, /^040000008200E00074C5B7101A82E00800000000[0-9A-F]{16}000000000000000010000000[0-9A-F]{32}$/);
    const filetime = Buffer.from(uid.slice(40, 56), 'hex').readBigUInt64LE();
    assert.equal(new Date(Number((filetime - 116_444_736_000_000_000n) / 10_000n)).toISOString(), '2017-04-15T03:00:50.759Z');
  });
});

describe('bodies and queries', () => {
  test('text bodies are escaped into an HTML document; the text rendition and a 255-character preview come back', () => {
    const html = htmlBody({ contentType: 'text', content: 'a < b\nnext & last' });
    assert.match(html, /^<html>/);
    assert.ok(html.includes('a &lt; b<br>'));
    assert.equal(textOf(html), 'a < b\r\nnext & last');
    assert.equal(bodyPreview(htmlBody({ contentType: 'text', content: 'x'.repeat(400) })).length, 255);
    assert.equal(htmlBody({ contentType: 'html', content: '<html><body>kept</body></html>' }), '<html><body>kept</body></html>');
  });

  test('instants: offsets honoured, no offset is UTC, lenient month/day widths as Odoo sends them', () => {
    assert.equal(parseInstant('2019-11-08T19:00:00-08:00'), '2019-11-09T03:00:00.0000000Z');
    assert.equal(parseInstant('2030-1-01T00:00:00Z'), '2030-01-01T00:00:00.0000000Z');
    assert.equal(parseInstant('2030-01-01'), '2030-01-01T00:00:00.0000000Z');
    assert.equal(parseInstant('2030-02-30T00:00:00Z'), undefined);
    assert.equal(parseInstant('tomorrow'), undefined);
  });

  test('$top defaults to 10 and is capped at 1000; $orderby start is not primitive', () => {
    assert.equal(parseQueryOptions({}).top, 10);
    assert.equal(parseQueryOptions({ $top: '5000' }).top, 1000);
    assert.equal(
      code(() => parseQueryOptions({ $orderby: 'start' })),
      'BadRequest',
    );
    assert.deepEqual(parseQueryOptions({ $orderby: 'start/dateTime desc' }).orderBy, [{ column: 'start_utc', desc: true }]);
    assert.deepEqual(parseQueryOptions({ $filter: "start/dateTime ge '2030-01-01T00:00:00'" }).conditions, [
      { column: 'start_utc', op: '>=', value: '2030-01-01T00:00:00.0000000Z' },
    ]);
  });
});
