import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/**
 * WAL checkpoints off the request path. SQLite's automatic checkpoint runs inside the COMMIT that
 * crosses the threshold: that request's event loop stops while pages are copied back into the database
 * file and both files are fsynced, and every other request of the process waits behind it (the soak run
 * of issue #7 showed p99 spikes of 100–600 ms; a create benchmark lost a fifth of its throughput). Here
 * a worker thread with its own connection checkpoints on a timer instead, so the service's connections
 * can turn automatic checkpoints off.
 *
 * PASSIVE checkpoints never block writers, but under continuous writes they may never catch up with
 * the end of the WAL, which then cannot restart from its beginning and keeps growing. So when the file
 * passes `restartBytes` (128 MiB: a create benchmark's p99 was 31-46 ms with it, 60-70 ms at 64 MiB), one TRUNCATE checkpoint holds writers back for the time it takes (they wait
 * without blocking their event loop: sqlite-group-commit.ts) and starts the WAL over, empty.
 */
export interface CheckpointerOptions {
  file: string;
  intervalMs?: number;
  restartBytes?: number;
}

// Plain CommonJS evaluated in the worker, so it runs the same under tsx (tests) and from dist/.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const fs = require('node:fs');
const Database = require(workerData.driver);
const db = new Database(workerData.file, { timeout: 0 });
const checkpoint = () => {
  let size = 0;
  try { size = fs.statSync(workerData.file + '-wal').size; } catch { return; }
  try {
    if (size >= workerData.restartBytes) {
      db.pragma('busy_timeout = 5000');
      db.pragma('wal_checkpoint(TRUNCATE)');
    } else {
      db.pragma('busy_timeout = 0');
      db.pragma('wal_checkpoint(PASSIVE)');
    }
  } catch {
    // SQLITE_BUSY: another process is checkpointing; the next tick tries again.
  }
};
const timer = setInterval(checkpoint, workerData.intervalMs);
parentPort.on('message', (m) => {
  if (m !== 'stop') return;
  clearInterval(timer);
  checkpoint();
  db.close();
  parentPort.postMessage('stopped');
});
parentPort.postMessage('ready');
`;

export class SqliteCheckpointer {
  readonly #worker: Worker;
  readonly #ready: Promise<void>;

  constructor(options: CheckpointerOptions) {
    this.#worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: {
        file: options.file,
        driver: createRequire(import.meta.url).resolve('better-sqlite3'),
        intervalMs: options.intervalMs ?? 200,
        restartBytes: options.restartBytes ?? 128 * 1024 * 1024,
      },
    });
    // The thread must never keep a process alive that is otherwise done.
    this.#worker.unref();
    this.#ready = new Promise((resolve, reject) => {
      this.#worker.once('message', () => resolve());
      this.#worker.once('error', reject);
    });
    // A failed checkpointer only means a larger WAL; the connections' own fallback threshold still applies.
    this.#ready.catch(() => {});
  }

  /** Resolves once the thread has opened its connection (for tests). */
  ready(): Promise<void> {
    return this.#ready;
  }

  async stop(): Promise<void> {
    const stopped = new Promise<void>((resolve) => {
      this.#worker.on('message', (m) => m === 'stopped' && resolve());
      this.#worker.once('exit', () => resolve());
    });
    this.#worker.postMessage('stop');
    await Promise.race([stopped, new Promise((r) => setTimeout(r, 2000).unref())]);
    await this.#worker.terminate();
  }
}
