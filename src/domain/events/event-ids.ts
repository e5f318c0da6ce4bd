import { createHash, randomBytes } from 'node:crypto';
import { eventIdMalformed } from '../errors.js';

/**
 * Outlook identifiers in Exchange's formats (graph-events-spec.md §0). Item and folder ids are base64 of
 * `00 03 24 00` + the mailbox GUID as 36 ASCII characters + `00` + a little-endian length + an entry id,
 * written with Outlook's REST alphabet: `/` as `-` and `+` as `_`, `=` padding kept (§0.1). Here the
 * mailbox GUID is the user's object id, so an id names its mailbox, and the entry id is random.
 */
const HEADER = Buffer.from([0x00, 0x03, 0x24, 0x00]);
const ITEM_ENTRY_BYTES = 70; // a MAPI message entry id (§0.1)
const FOLDER_ENTRY_BYTES = 46; // a calendar folder entry id (§0.1)
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** Real item ids are 152 characters, folder ids 120; nothing longer is an id. */
const MAX_ID_LENGTH = 200;

const toRest = (base64: string) => base64.replace(/\//g, '-').replace(/\+/g, '_');
const fromRest = (rest: string) => rest.replace(/-/g, '/').replace(/_/g, '+');

function encode(mailboxId: string, entry: Buffer): string {
  const length = Buffer.alloc(2);
  length.writeUInt16LE(entry.length);
  return toRest(Buffer.concat([HEADER, Buffer.from(mailboxId, 'ascii'), Buffer.from([0]), length, entry]).toString('base64'));
}

/** A new event id in the mailbox of `ownerId`. */
export function newEventId(ownerId: string): string {
  return encode(ownerId, randomBytes(ITEM_ENTRY_BYTES));
}

/** The default calendar's id: derived from the mailbox, so it needs no storage and never changes. */
export function defaultCalendarId(ownerId: string): string {
  const entry = createHash('sha512').update(`calendar:${ownerId}`).digest().subarray(0, FOLDER_ENTRY_BYTES);
  return encode(ownerId, entry);
}

export type DecodedId = { kind: 'item' | 'folder'; mailboxId: string };

/**
 * Decodes an item or folder id from a path. Anything that is not one (truncated, invented, an EWS id with
 * `/` or `+`) gets Outlook's 400 ErrorInvalidIdMalformed before any lookup (§6).
 */
export function decodeOutlookId(id: string): DecodedId {
  if (id.length < 16 || id.length > MAX_ID_LENGTH || !/^[A-Za-z0-9_-]+={0,2}$/.test(id) || id.length % 4 !== 0) throw eventIdMalformed();
  const bytes = Buffer.from(fromRest(id), 'base64');
  if (bytes.length < 43 || !bytes.subarray(0, 4).equals(HEADER) || bytes[40] !== 0) throw eventIdMalformed();
  const mailboxId = bytes.subarray(4, 40).toString('ascii');
  if (!GUID.test(mailboxId)) throw eventIdMalformed();
  const length = bytes.readUInt16LE(41);
  if (bytes.length !== 43 + length) throw eventIdMalformed();
  if (length === ITEM_ENTRY_BYTES) return { kind: 'item', mailboxId };
  if (length === FOLDER_ENTRY_BYTES) return { kind: 'folder', mailboxId };
  throw eventIdMalformed();
}

/**
 * The 16-byte GUID part of a mailbox's change keys (§0.2), stable per mailbox. Every event rendered hashes it,
 * so the last mailboxes' prefixes are kept (issue #20: the hash was 2% of GET …/events/{id}); the map is
 * emptied when full, so it stays small whatever the number of mailboxes.
 */
const prefixes = new Map<string, Buffer>();
function changeKeyPrefix(ownerId: string): Buffer {
  let prefix = prefixes.get(ownerId);
  if (prefix === undefined) {
    if (prefixes.size >= 1000) prefixes.clear();
    prefix = createHash('sha256').update(`changekey:${ownerId}`).digest().subarray(0, 16);
    prefixes.set(ownerId, prefix);
  }
  return prefix;
}

/** §0.2: 16-byte mailbox GUID + 6-byte change counter, standard base64; `@odata.etag` is W/"{changeKey}". */
export function changeKey(ownerId: string, version: number): string {
  const counter = Buffer.alloc(6);
  counter.writeUIntBE(version, 0, 6);
  return Buffer.concat([changeKeyPrefix(ownerId), counter]).toString('base64');
}

/** §0.3: MS-OXOCAL's Global Object ID in upper-case hex: class id, zero date, creation FILETIME, zeros, 16 random bytes. */
export function newICalUId(createdMs: number): string {
  const filetime = Buffer.alloc(8);
  filetime.writeBigUInt64LE(BigInt(createdMs) * 10_000n + 116_444_736_000_000_000n);
  const length = Buffer.from([0x10, 0x00, 0x00, 0x00]);
  return Buffer.concat([
    Buffer.from('040000008200E00074C5B7101A82E008', 'hex'),
    Buffer.alloc(4),
    filetime,
    Buffer.alloc(8),
    length,
    randomBytes(16),
  ])
    .toString('hex')
    .toUpperCase();
}

/** §0.4, work/school form: the id URL-encoded in OWA's item link. */
export const webLink = (eventId: string) =>
  `https://outlook.office365.com/owa/?itemid=${encodeURIComponent(eventId)}&exvsurl=1&path=/calendar/item`;
