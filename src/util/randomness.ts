import { createHash, randomInt, randomUUID } from 'node:crypto';

/**
 * Where generated ids, meeting numbers and passcodes come from. By default the operating system's
 * cryptographic randomness; with ID_SEED a reproducible sequence (snapshot tests), which is predictable
 * by design and so only for tests. Secrets, salts, token ids and key material never come from here.
 */
export interface Randomness {
  /** A version-4 UUID. */
  uuid(): string;
  /** A whole number in [min, max). */
  int(min: number, max: number): number;
}

export const cryptoRandomness: Randomness = { uuid: () => randomUUID(), int: (min, max) => randomInt(min, max) };

/** A reproducible Randomness: the same seed gives the same sequence (sfc32 seeded through splitmix32). */
export function seededRandomness(seed: number): Randomness {
  let s = seed >>> 0;
  const splitmix = () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
  let a = splitmix();
  let b = splitmix();
  let c = splitmix();
  let d = splitmix();
  const next32 = () => {
    const t = (((a + b) >>> 0) + d) >>> 0;
    d = (d + 1) >>> 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) >>> 0;
    c = ((c << 21) | (c >>> 11)) >>> 0;
    c = (c + t) >>> 0;
    return t >>> 0;
  };
  const int = (min: number, max: number) => min + Math.floor((next32() / 2 ** 32) * (max - min));
  const uuid = () => {
    const bytes = Array.from({ length: 16 }, () => int(0, 256));
    bytes[6] = (bytes[6]! & 0x0f) | 0x40;
    bytes[8] = (bytes[8]! & 0x3f) | 0x80;
    const hex = bytes.map((b) => b.toString(16).padStart(2, '0')).join('');
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  };
  return { uuid, int };
}

/**
 * A UUID that is always the same for the same parts (SHA-256 based). Seeded objects get these so that they
 * keep their ids across a reset: a client's cached token names its app's and user's object ids, and must
 * stay valid after POST /_emulator/reset recreates them.
 */
export function stableUuid(...parts: string[]): string {
  const hex = createHash('sha256')
    .update(`graph-meetings:${parts.join(':').toLowerCase()}`)
    .digest('hex');
  const variant = ((parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
