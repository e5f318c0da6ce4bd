import fs from 'node:fs';
import path from 'node:path';

/**
 * DATA_DIR holds the private signing keys (in the database) and the local CA's key: anyone who can read
 * it can forge tokens for every tenant (issue #11 item 4). Whichever process creates it first (the
 * server with or without TLS, the CLI), the folder is created 0700 and every file in it 0600.
 */
export const PRIVATE_DIR_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;

/** Creates `dir` (and missing parents inside it) private to this user; an existing folder is left as it is. */
export function ensurePrivateDir(dir: string): void {
  fs.mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
}

/**
 * Creates `file` empty and 0600 if it does not exist yet, so that what opens it next (SQLite, which
 * gives its -wal and -shm files the database file's mode) never creates it with the umask's 0644.
 */
export function ensurePrivateFile(file: string): void {
  try {
    fs.closeSync(fs.openSync(file, fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_WRONLY, PRIVATE_FILE_MODE));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
}

/** Makes a file this process just created private (chmod, whatever the umask did). */
export function makePrivate(file: string): void {
  try {
    fs.chmodSync(file, PRIVATE_FILE_MODE);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

/**
 * Warnings for a DATA_DIR, or a file in it, that other users can read or write (an existing folder made
 * by hand, or files left by an older version). Each names the path and the command that fixes it.
 */
export function dataDirWarnings(dataDir: string): string[] {
  const warnings: string[] = [];
  const check = (p: string, fix: string) => {
    let st: fs.Stats;
    try {
      st = fs.statSync(p);
    } catch {
      return;
    }
    if ((st.mode & 0o077) !== 0) {
      warnings.push(
        `${p} is readable or writable by other users (mode ${(st.mode & 0o777).toString(8)}); it holds the private signing keys. Fix: ${fix}`,
      );
    }
  };
  check(dataDir, `chmod 700 '${dataDir}'`);
  for (const name of ['graph-meetings.sqlite', 'graph-meetings.sqlite-wal', 'graph-meetings.sqlite-shm']) {
    check(path.join(dataDir, name), `chmod 600 '${path.join(dataDir, name)}'*`);
  }
  check(path.join(dataDir, 'tls'), `chmod -R go-rwx '${path.join(dataDir, 'tls')}'`);
  for (const name of ['ca-key.pem', 'server-key.pem'])
    check(path.join(dataDir, 'tls', name), `chmod 600 '${path.join(dataDir, 'tls', name)}'`);
  return warnings;
}
