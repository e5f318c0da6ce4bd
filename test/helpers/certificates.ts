import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import forge from 'node-forge';
import { runCli } from '../../src/cli/run.js';
import type { TestApp } from './test-app.js';

/** A key pair and a self-signed certificate, as an app's owner would make with openssl. */
export interface TestCertificate {
  /** PKCS#8 PEM of the private key (-----BEGIN PRIVATE KEY-----), what msal-node takes. */
  privateKey: string;
  /** The public certificate (PEM), what is registered on the app. */
  certificate: string;
  /** Private key + certificate in one PEM, what @azure/identity's ClientCertificateCredential takes. */
  combined: string;
  /** SHA-1 / SHA-256 of the DER, upper-case hex. */
  thumbprint: string;
  thumbprintSha256: string;
}

export function makeCertificate(options: { commonName?: string; notBefore?: Date; notAfter?: Date } = {}): TestCertificate {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(publicKey.export({ type: 'spki', format: 'pem' }).toString());
  cert.serialNumber = `01${randomBytes(8).toString('hex')}`;
  cert.validity.notBefore = options.notBefore ?? new Date(Date.now() - 3600_000);
  cert.validity.notAfter = options.notAfter ?? new Date(Date.now() + 365 * 86400_000);
  const attrs = [{ name: 'commonName', value: options.commonName ?? 'graph-meetings test daemon' }];
  cert.setSubject(attrs);
  cert.setIssuer(attrs);
  cert.sign(forge.pki.privateKeyFromPem(privateKey.export({ type: 'pkcs1', format: 'pem' }).toString()), forge.md.sha256.create());
  const certificate = forge.pki.certificateToPem(cert);
  const der = Buffer.from(forge.asn1.toDer(forge.pki.certificateToAsn1(cert)).getBytes(), 'binary');
  const keyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  return {
    privateKey: keyPem,
    certificate,
    combined: keyPem + certificate,
    thumbprint: createHash('sha1').update(der).digest('hex').toUpperCase(),
    thumbprintSha256: createHash('sha256').update(der).digest('hex').toUpperCase(),
  };
}

/** Runs the graph-meetings CLI in-process against the test app's database; returns exit code and output. */
export async function cli(t: TestApp, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  // The CLI opens DATA_DIR/graph-meetings.sqlite; the test store is DATA_DIR/test.sqlite. A symlink in a
  // directory of its own points the CLI at the very same database (SQLite resolves the link, so both
  // share one WAL).
  const cliDir = path.join(t.dataDir, 'cli');
  if (!t.testStore.databaseUrl && !fs.existsSync(cliDir)) {
    fs.mkdirSync(cliDir);
    fs.symlinkSync(path.join(t.dataDir, 'test.sqlite'), path.join(cliDir, 'graph-meetings.sqlite'));
  }
  const env: Record<string, string> = { DATA_DIR: cliDir, LOG_LEVEL: 'silent' };
  if (t.testStore.databaseUrl) env.DATABASE_URL = t.testStore.databaseUrl;
  const code = await runCli(args, {
    env,
    cwd: process.cwd(),
    stdout: (s) => (stdout += s),
    stderr: (s) => (stderr += s),
  });
  return { code, stdout, stderr };
}

/** Registers a certificate on an app with `graph-meetings app certificate add`, as an admin would. */
export async function registerCertificate(t: TestApp, clientId: string, cert: TestCertificate): Promise<string> {
  const file = path.join(t.dataDir, `cert-${cert.thumbprint}.pem`);
  fs.writeFileSync(file, cert.certificate);
  const res = await cli(t, ['app', 'certificate', 'add', '--client-id', clientId, '--cert-file', file]);
  if (res.code !== 0) throw new Error(`app certificate add failed (${res.code}): ${res.stderr}`);
  return res.stdout.trim();
}
