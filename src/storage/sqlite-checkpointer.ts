import fs from 'node:fs';
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
 * PASSIVE checkpoints never block writers, but under continuous writes they never catch up with the end
 * of the WAL, which then cannot start over from its beginning and keeps growing. So once the file passes
 * `restartBytes`, each PASSIVE pass (which copies the bulk without blocking anyone) is followed by a
 * RESTART: it takes the write lock only to copy the short tail written during the pass, and lets the next
 * writer start the WAL over. Writers wait for it without blocking their event loop
 * (sqlite-group-commit.ts). Measured under sustained creates on two workers, the WAL stayed at its limit
 * with create p99 about the same as without any limit (40-52 ms at 64 MiB); a TRUNCATE in place of the
 * PASSIVE pass, copying everything under the lock, raised p99 to 60-107 ms.
 */
export interface CheckpointerOptions {
  file: string;
  intervalMs?: number;
  restartBytes?: number;
}

// Plain CommonJS evaluated in the worker, so it runs the same under tsx (tests) and from dist/.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file, { timeout: 0 });
const frameBytes = db.pragma('page_size', { simple: true }) + 24;
const checkpoint = () => {
  try {
    db.pragma('busy_timeout = 0');
    const [state] = db.pragma('wal_checkpoint(PASSIVE)');
    // state.log: frames in the WAL since it last started over.
    if (state && state.log * frameBytes >= workerData.restartBytes) {
      db.pragma('busy_timeout = 1000');
      db.pragma('wal_checkpoint(RESTART)');
    }
  } catch {
    // SQLITE_BUSY: another process is checkpointing, or writers kept the lock; the next tick tries again.
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
        restartBytes: options.restartBytes ?? 64 * 1024 * 1024,
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
    // Held while stopping: with the thread and the timer unreferenced, a script whose last step is
    // `await store.close()` would see its event loop empty out and exit before the close settles.
    this.#worker.ref();
    this.#worker.postMessage('stop');
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([stopped, new Promise((r) => (timer = setTimeout(r, 2000)))]);
    clearTimeout(timer);
    await this.#worker.terminate();
  }
}

/**
 * The checkpointer, started once the WAL first holds frames (issue #20: idle memory). The thread is a second V8
 * isolate with its own connection, about 9 MiB of resident memory (measured on an idle `npm start`), and it
 * only ever has work after a write: an idle service, or a start on an existing data directory that finds nothing
 * to migrate or seed, never appends to the WAL (SQLite deletes it on a clean close and recreates it empty).
 * Whatever writes, in this process or another one sharing the file (WORKERS > 1, the CLI), the WAL file grows,
 * so its size is what is watched: fs.watchFile stats it off the main thread every `pollMs` and never keeps the
 * process alive. Until the thread runs, a commit still does not checkpoint below the connections' fallback
 * threshold (160 MiB, database.ts), far more than one poll interval of writes, so commits never checkpoint
 * inline because of the delay.
 */
export class LazySqliteCheckpointer {
  readonly #options: CheckpointerOptions;
  readonly #wal: string;
  readonly #pollMs: number;
  #checkpointer: SqliteCheckpointer | undefined;
  #stopped = false;
  readonly #onChange = (current: fs.Stats) => {
    if (current.size > 0) this.#start();
  };

  constructor(options: CheckpointerOptions & { pollMs?: number }) {
    this.#options = options;
    this.#wal = `${options.file}-wal`;
    this.#pollMs = options.pollMs ?? 500;
    let size = 0;
    try {
      size = fs.statSync(this.#wal).size;
    } catch {
      // No WAL yet: the first connection to use the database creates it.
    }
    // Frames left by a process that did not close cleanly, or written by another one, need the thread at once.
    if (size > 0) this.#start();
    else fs.watchFile(this.#wal, { persistent: false, interval: this.#pollMs }, this.#onChange);
  }

  /** Whether the thread has been started (for tests). */
  get started(): boolean {
    return this.#checkpointer !== undefined;
  }

  #start() {
    if (this.#checkpointer || this.#stopped) return;
    fs.unwatchFile(this.#wal, this.#onChange);
    this.#checkpointer = new SqliteCheckpointer(this.#options);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    fs.unwatchFile(this.#wal, this.#onChange);
    await this.#checkpointer?.stop();
  }
}
