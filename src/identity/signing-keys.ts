import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type JWK } from 'jose';
import type { webcrypto } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../storage/tables.js';

type CryptoKey = webcrypto.CryptoKey;

export interface SigningKey {
  kid: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
}

/**
 * Token signing keys live in the database, so they survive restarts (with SQLite, inside DATA_DIR) and
 * every instance over one PostgreSQL database signs and verifies with the same set.
 */
export class SigningKeyStore {
  #keys = new Map<string, { publicKey: CryptoKey; jwk: JWK }>();
  #active: SigningKey | undefined;
  #lastReload = 0;

  constructor(private readonly db: Kysely<Database>) {}

  /** Loads the keys, creating the first one when there is none. */
  async init(): Promise<void> {
    await this.reload();
    if (this.#keys.size === 0) {
      const { privateKey, publicKey } = await generateKeyPair('RS256', { modulusLength: 2048, extractable: true });
      const publicJwk = await exportJWK(publicKey);
      const kid = await calculateJwkThumbprint(publicJwk);
      const privateJwk = await exportJWK(privateKey);
      await this.db
        .insertInto('signing_keys')
        .values({
          kid,
          private_jwk: JSON.stringify(privateJwk),
          public_jwk: JSON.stringify(publicJwk),
          created_at: new Date().toISOString(),
        })
        .onConflict((oc) => oc.column('kid').doNothing())
        .execute();
      // Instances that raced here each inserted a key; all of them sign with the oldest (see reload).
      await this.reload();
    }
  }

  async reload(): Promise<void> {
    const rows = await this.db
      .selectFrom('signing_keys')
      .select(['kid', 'private_jwk', 'public_jwk', 'created_at'])
      .orderBy('created_at')
      .orderBy('kid')
      .execute();
    const keys = new Map<string, { publicKey: CryptoKey; jwk: JWK }>();
    for (const row of rows) {
      const jwk = JSON.parse(row.public_jwk) as JWK;
      keys.set(row.kid, { publicKey: (await importJWK({ ...jwk, alg: 'RS256' }, 'RS256')) as CryptoKey, jwk });
    }
    const first = rows[0];
    if (first) {
      this.#active = {
        kid: first.kid,
        privateKey: (await importJWK({ ...(JSON.parse(first.private_jwk) as JWK), alg: 'RS256' }, 'RS256')) as CryptoKey,
        publicJwk: JSON.parse(first.public_jwk) as JWK,
      };
    }
    this.#keys = keys;
    this.#lastReload = Date.now();
  }

  get active(): SigningKey {
    if (!this.#active) throw new Error('signing keys are not initialized');
    return this.#active;
  }

  /** The public key for a kid; an unknown kid triggers at most one reload a second (another instance may have added it). */
  async publicKey(kid: string): Promise<CryptoKey | undefined> {
    const hit = this.#keys.get(kid);
    if (hit) return hit.publicKey;
    if (Date.now() - this.#lastReload > 1000) {
      await this.reload();
      return this.#keys.get(kid)?.publicKey;
    }
    return undefined;
  }

  /** The JWKS document of discovery/v2.0/keys. */
  jwks(issuer: string): { keys: Array<Record<string, unknown>> } {
    return {
      keys: [...this.#keys.entries()].map(([kid, { jwk }]) => ({ kty: jwk.kty, use: 'sig', kid, x5t: kid, n: jwk.n, e: jwk.e, issuer })),
    };
  }
}
