import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { MIN_ADMIN_KEY_LENGTH } from '../config/config.js';
import { ensurePrivateDir } from '../storage/data-dir.js';

/**
 * The admin key of the emulator control API: ADMIN_KEY, or one generated at first start into
 * DATA_DIR/admin-key (mode 0600) and reused after restarts, like the local CA.
 */
export interface AdminKey {
  /** The key (handed to the programmatic server's caller; never logged). */
  readonly value: string;
  /** The file it was read from or written to; undefined when it came from ADMIN_KEY. */
  readonly file: string | undefined;
  /** Constant-time check of an Authorization header's bearer value. */
  matches(candidate: string): boolean;
}

export function loadAdminKey(configured: string | undefined, dataDir: string): AdminKey {
  let value = configured;
  let file: string | undefined;
  if (value === undefined) {
    file = path.join(dataDir, 'admin-key');
    try {
      value = fs.readFileSync(file, 'utf8').trim();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      // DATA_DIR is 0700 whichever file creates it first (issue #11 item 4).
      ensurePrivateDir(dataDir);
      const fresh = randomBytes(24).toString('base64url');
      try {
        // 'wx': two instances starting on the same DATA_DIR must not overwrite each other's key.
        fs.writeFileSync(file, `${fresh}\n`, { mode: 0o600, flag: 'wx' });
        value = fresh;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        value = fs.readFileSync(file, 'utf8').trim();
      }
    }
  }
  if (value.length < MIN_ADMIN_KEY_LENGTH) {
    throw new Error(`the admin key in ${file ?? 'ADMIN_KEY'} must be at least ${MIN_ADMIN_KEY_LENGTH} characters`);
  }
  // Compared as SHA-256 digests so that timingSafeEqual sees equal lengths whatever the candidate's.
  const digest = createHash('sha256').update(value).digest();
  const key = value;
  return {
    value: key,
    file,
    matches: (candidate) => timingSafeEqual(createHash('sha256').update(candidate).digest(), digest),
  };
}
