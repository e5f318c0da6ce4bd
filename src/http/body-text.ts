import { invalidProperty, invalidRequestBody } from '../domain/errors.js';
import type { GraphError } from '../domain/errors.js';

/**
 * Text checks every JSON body passes before anything reaches a store (issue #11 item 7):
 * - the bytes must be valid UTF-8 (a decoder would otherwise store U+FFFD in place of what was sent);
 * - no string may hold a lone surrogate: PostgreSQL stores one as U+FFFD, SQLite keeps it, so
 *   "x\ud800", "x\udbff" and "x\ufffd" would be one key on one store and three on the other;
 * - an externalId may not hold NUL (PostgreSQL text cannot store it).
 * Each refusal is a 400 naming the property.
 */
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

export function decodeUtf8Body(body: Buffer): string {
  try {
    return strictUtf8.decode(body);
  } catch {
    throw invalidRequestBody('The request body is not valid UTF-8.');
  }
}

/** The first problem in a parsed body, as a GraphError naming the property; undefined when clean. */
export function checkBodyText(value: unknown): GraphError | undefined {
  const pending: Array<{ v: unknown; path: string }> = [{ v: value, path: '' }];
  while (pending.length > 0) {
    const { v, path } = pending.pop()!;
    if (typeof v === 'string') {
      if (LONE_SURROGATE.test(v))
        return invalidProperty(path || '(body)', 'the text contains an unpaired UTF-16 surrogate (not valid Unicode).');
      if (path === 'externalId' && v.includes('\0')) return invalidProperty('externalId', 'an externalId cannot contain a NUL character.');
    } else if (Array.isArray(v)) {
      v.forEach((item, i) => pending.push({ v: item, path: `${path}[${i}]` }));
    } else if (v !== null && typeof v === 'object') {
      for (const [k, child] of Object.entries(v)) {
        if (LONE_SURROGATE.test(k)) return invalidProperty(path || '(body)', 'a property name contains an unpaired UTF-16 surrogate.');
        pending.push({ v: child, path: path ? `${path}.${k}` : k });
      }
    }
  }
  return undefined;
}
