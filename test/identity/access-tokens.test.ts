import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { GraphError } from '../../src/domain/errors.js';
import { AccessTokens } from '../../src/identity/access-tokens.js';
import { SigningKeyStore } from '../../src/identity/signing-keys.js';
import { migrateToLatest, openStore, type Store } from '../../src/storage/database.js';

const APP = {
  tenantId: '049d4814-06f2-4ac7-8c07-6547360dd433',
  servicePrincipalId: '11111111-1111-4111-8111-111111111111',
  clientId: '30a2fcea-f295-468c-abe2-b48159ee8486',
  appDisplayName: 'a',
  roles: [],
  clientAuth: '1' as const,
};

describe('verified-token cache', () => {
  let store: Store;
  let dir: string;
  let keys: SigningKeyStore;
  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gm-tokens-'));
    store = openStore({ databaseUrl: undefined, sqliteFile: path.join(dir, 'k.sqlite') });
    await migrateToLatest(store.db);
    keys = new SigningKeyStore(store.db);
    await keys.init();
  });
  after(async () => {
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('a cached token still expires on time', async () => {
    let now = Date.now();
    const tokens = new AccessTokens(keys, 600, () => now);
    const token = await tokens.mintAppToken(APP);
    const first = await tokens.verify(`Bearer ${token}`);
    assert.equal(first.kind, 'app');
    assert.equal(await tokens.verify(`Bearer ${token}`), first, 'the second verification is a cache hit');
    now += 600_000 + 61_000; // past exp and the 60 s skew
    await assert.rejects(
      tokens.verify(`Bearer ${token}`),
      (e: unknown) => e instanceof GraphError && e.status === 401 && /expired/.test(e.message),
    );
  });

  test('a token that fails verification is not cached as good', async () => {
    const tokens = new AccessTokens(keys, 600);
    const token = await tokens.mintAppToken(APP);
    const tampered = `${token.slice(0, -4)}AAAA`;
    for (let i = 0; i < 2; i++)
      await assert.rejects(tokens.verify(`Bearer ${tampered}`), (e: unknown) => e instanceof GraphError && e.status === 401);
  });
});
