import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { DEMO } from '../../src/domain/directory/demo-directory.js';
import type {
  AppCredentialSpec,
  OpName,
  Ops,
  SdkErrorSummary,
  UserCredentialSpec,
  WorkerRequest,
  WorkerResponse,
} from '../sdk/protocol.js';

export type { CredentialSpec, KiotaResult, KiotaTracedResult, SdkErrorSummary, V3TracedResult, WireExchange } from '../sdk/protocol.js';

const WORKER = fileURLToPath(new URL('../sdk/worker.ts', import.meta.url));
const CALL_TIMEOUT_MS = 30_000;
const OUTPUT_TAIL = 8_000;

/** An Error from the worker: `sdkError` is the summary of what the Microsoft library threw. */
export class SdkCallError extends Error {
  constructor(
    readonly op: string,
    readonly sdkError: SdkErrorSummary,
  ) {
    super(`${op} failed: ${sdkError.kind} ${sdkError.name} status=${sdkError.statusCode} code=${sdkError.code}: ${sdkError.message}`);
    this.name = 'SdkCallError';
  }
}

export interface SdkWorker {
  call<K extends OpName>(op: K, args: Ops[K]['args']): Promise<Ops[K]['result']>;
  close(): Promise<void>;
}

/**
 * Forks test/sdk/worker.ts with NODE_EXTRA_CA_CERTS=caPath, so the official Microsoft clients in it
 * trust the server's local CA exactly as a real app would (set at process start; client-compat §4.7).
 * `env` adds to the worker's environment (e.g. HTTPS_PROXY for the impersonation suite).
 */
export async function startSdkWorker(caPath: string, worker: string = WORKER, env: Record<string, string> = {}): Promise<SdkWorker> {
  const child: ChildProcess = fork(worker, [], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, NODE_EXTRA_CA_CERTS: caPath, ...env },
    // Keep the worker's output off the test runner's stdout; it is attached to failures instead.
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  let output = '';
  const collect = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-OUTPUT_TAIL);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);

  let nextId = 1;
  let exited: string | null = null;
  const pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void; timer: NodeJS.Timeout }>();

  const failAll = (why: string) => {
    for (const [id, p] of pending) {
      clearTimeout(p.timer);
      pending.delete(id);
      p.reject(new Error(`${why}${output ? `\n--- worker output ---\n${output}` : ''}`));
    }
  };

  const exitPromise = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exited = `sdk worker exited (code ${code}, signal ${signal})`;
      failAll(exited);
      resolve();
    });
  });
  child.once('error', (err) => {
    exited = `sdk worker error: ${err.message}`;
    failAll(exited);
  });

  child.on('message', (raw: unknown) => {
    const msg = raw as WorkerResponse;
    const p = pending.get(msg.id);
    if (!p) return;
    pending.delete(msg.id);
    clearTimeout(p.timer);
    if (msg.ok) p.resolve(msg.result);
    else p.reject(new SdkCallError(opNames.get(msg.id) ?? 'call', msg.error));
    opNames.delete(msg.id);
  });
  const opNames = new Map<number, string>();

  const call = <K extends OpName>(op: K, args: Ops[K]['args']): Promise<Ops[K]['result']> =>
    new Promise((resolve, reject) => {
      if (exited) {
        reject(new Error(`${exited}; cannot run ${op}${output ? `\n--- worker output ---\n${output}` : ''}`));
        return;
      }
      const id = nextId++;
      const timer = setTimeout(() => {
        pending.delete(id);
        opNames.delete(id);
        reject(new Error(`sdk worker: ${op} timed out after ${CALL_TIMEOUT_MS} ms (args ${JSON.stringify(args)})`));
      }, CALL_TIMEOUT_MS);
      pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
      opNames.set(id, op);
      const request: WorkerRequest = { id, op, args };
      child.send(request, (err) => {
        if (!err) return;
        clearTimeout(timer);
        pending.delete(id);
        opNames.delete(id);
        reject(new Error(`sdk worker: could not send ${op}: ${err.message}`));
      });
    });

  const close = async () => {
    if (exited) return;
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    try {
      await Promise.race([call('shutdown', {}).catch(() => undefined), exitPromise]);
      await exitPromise;
    } finally {
      clearTimeout(timer);
    }
  };

  return { call, close };
}

/** The demo Meeting Scheduler (app-only) and Alice through the demo Meeting Client (delegated, ROPC). */
export const DEMO_APP: AppCredentialSpec = {
  type: 'app',
  tenant: DEMO.contoso.tenantId,
  clientId: DEMO.contoso.scheduler.clientId,
  secret: DEMO.contoso.scheduler.secret,
};
export const DEMO_ALICE: UserCredentialSpec & { scopes: string[] } = {
  type: 'user',
  tenant: DEMO.contoso.tenantId,
  clientId: DEMO.contoso.client.clientId,
  username: DEMO.contoso.alice.upn,
  password: DEMO.password,
  scopes: ['https://graph.microsoft.com/OnlineMeetings.ReadWrite'],
};
