import fs from 'node:fs';
import https from 'node:https';
import type { IncomingHttpHeaders } from 'node:http';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- parsed JSON under test
type Json = any;

export interface JsonResponse {
  status: number;
  headers: IncomingHttpHeaders;
  /** The raw body. */
  text: string;
  /** The parsed body, or undefined when it is empty or not JSON. */
  body: Json;
}

export interface RequestOptions {
  /** Sent as `Authorization: Bearer …`. */
  token?: string;
  /** Sent as JSON. */
  json?: unknown;
  /** Sent as application/x-www-form-urlencoded. */
  form?: Record<string, string>;
  headers?: Record<string, string>;
}

/**
 * A tiny JSON client over real HTTPS, for suites that talk to listening instances: one keep-alive agent
 * per origin, trusting only the given CA (e.g. an instance's DATA_DIR/tls/ca.pem).
 */
export class HttpsJsonClient {
  readonly origin: string;
  readonly #agent: https.Agent;

  constructor(origin: string, caPath: string) {
    this.origin = origin;
    this.#agent = new https.Agent({ keepAlive: true, ca: fs.readFileSync(caPath, 'utf8') });
  }

  request(method: string, path: string, options: RequestOptions = {}): Promise<JsonResponse> {
    const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
    let payload: string | undefined;
    if (options.json !== undefined) {
      payload = JSON.stringify(options.json);
      headers['content-type'] = 'application/json';
    } else if (options.form !== undefined) {
      payload = new URLSearchParams(options.form).toString();
      headers['content-type'] = 'application/x-www-form-urlencoded';
    }
    if (payload !== undefined) headers['content-length'] = String(Buffer.byteLength(payload));
    if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;

    return new Promise((resolve, reject) => {
      const req = https.request(new URL(path, this.origin), { method, headers, agent: this.#agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let body: Json;
          try {
            body = text === '' ? undefined : JSON.parse(text);
          } catch {
            body = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, body });
        });
      });
      req.on('error', reject);
      req.end(payload);
    });
  }

  /** Closes the pooled keep-alive sockets. */
  close(): void {
    this.#agent.destroy();
  }
}
