import { generateKeyPairSync, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import forge from 'node-forge';

/** A CA and a server certificate for 127.0.0.1 and localhost, as a receiver's operator would have. */
export interface ReceiverTls {
  caFile: string;
  key: string;
  cert: string;
}

/** An RSA key pair made by node:crypto (forge's own generator is slow), in forge's form. */
function keyPair() {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    privateKey: forge.pki.privateKeyFromPem(privateKey.export({ type: 'pkcs1', format: 'pem' }).toString()),
    publicKey: forge.pki.publicKeyFromPem(publicKey.export({ type: 'spki', format: 'pem' }).toString()),
  };
}

export function receiverTls(): ReceiverTls {
  const caKeys = keyPair();
  const ca = forge.pki.createCertificate();
  ca.publicKey = caKeys.publicKey;
  ca.serialNumber = `01${randomBytes(8).toString('hex')}`;
  ca.validity.notBefore = new Date(Date.now() - 3600_000);
  ca.validity.notAfter = new Date(Date.now() + 86400_000);
  const caName = [{ name: 'commonName', value: 'webhook receiver test CA' }];
  ca.setSubject(caName);
  ca.setIssuer(caName);
  ca.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
  ]);
  ca.sign(caKeys.privateKey, forge.md.sha256.create());
  const keys = keyPair();
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = `02${randomBytes(8).toString('hex')}`;
  cert.validity.notBefore = new Date(Date.now() - 3600_000);
  cert.validity.notAfter = new Date(Date.now() + 86400_000);
  cert.setSubject([{ name: 'commonName', value: '127.0.0.1' }]);
  cert.setIssuer(caName);
  cert.setExtensions([
    {
      name: 'subjectAltName',
      altNames: [
        { type: 7, ip: '127.0.0.1' },
        { type: 2, value: 'localhost' },
      ],
    },
    { name: 'extKeyUsage', serverAuth: true },
  ]);
  cert.sign(caKeys.privateKey, forge.md.sha256.create());
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gm-receiver-'));
  // The service reads the CA file when an app starts (NOTIFICATION_CA_FILES); it stays until this test process ends.
  process.once('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  const caFile = path.join(dir, 'ca.pem');
  fs.writeFileSync(caFile, forge.pki.certificateToPem(ca));
  return { caFile, key: forge.pki.privateKeyToPem(keys.privateKey), cert: forge.pki.certificateToPem(cert) };
}

export interface Received {
  path: string;
  query: URLSearchParams;
  contentType: string | undefined;
  body: string;
}

type Answer = (r: Received, res: http.ServerResponse) => void;

/** Graph's rule (§3.4): 200, text/plain, the decoded token. */
export const echoToken: Answer = (r, res) => {
  res.writeHead(200, { 'content-type': 'text/plain' }).end(r.query.get('validationToken'));
};

/**
 * A webhook receiver on loopback (https with `tls`, else http): answers validation requests with
 * `onValidation` (echo by default) and notifications with `onNotification` (202 by default), and records
 * everything. stop() and start() keep the port, so a test can take it away and bring it back.
 */
export class WebhookReceiver {
  readonly validations: Received[] = [];
  readonly notifications: Received[] = [];
  onValidation: Answer = echoToken;
  onNotification: Answer = (_r, res) => void res.writeHead(202).end();
  #server: http.Server | undefined;
  #port = 0;

  constructor(private readonly tls?: ReceiverTls) {}

  get url(): string {
    return `${this.tls ? 'https' : 'http'}://127.0.0.1:${this.#port}/hook`;
  }

  async start(): Promise<this> {
    const handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const u = new URL(req.url ?? '/', 'http://x');
        const r: Received = {
          path: u.pathname,
          query: u.searchParams,
          contentType: req.headers['content-type'],
          body: Buffer.concat(chunks).toString('utf8'),
        };
        if (u.searchParams.has('validationToken')) {
          this.validations.push(r);
          this.onValidation(r, res);
        } else {
          this.notifications.push(r);
          this.onNotification(r, res);
        }
      });
    };
    this.#server = this.tls ? https.createServer({ key: this.tls.key, cert: this.tls.cert }, handler) : http.createServer(handler);
    await new Promise<void>((resolve) => this.#server!.listen(this.#port, '127.0.0.1', resolve));
    this.#port = (this.#server.address() as AddressInfo).port;
    return this;
  }

  async stop(): Promise<void> {
    const s = this.#server;
    this.#server = undefined;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  /** The notification bodies received, parsed. */
  bodies(): Array<{ value: Array<Record<string, unknown>>; validationTokens?: string[] }> {
    return this.notifications.map((n) => JSON.parse(n.body));
  }
}
