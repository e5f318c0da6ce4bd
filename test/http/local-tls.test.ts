/**
 * Issue #11 item 10: a new local CA carries X.509 name constraints (critical) for the names it certifies,
 * Node's TLS client still accepts the server certificate, a certificate the CA's key signs for any other
 * name is refused by that same client, and a CA made before constraints existed keeps working.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import net, { type AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import forge from 'node-forge';
import { ensureLocalTls, permittedNames } from '../../src/http/local-tls.js';

const dirs: string[] = [];
const tempDir = () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'gm-local-tls-'));
  dirs.push(d);
  return d;
};

/** Serves `key`/`cert` on 127.0.0.1 and GETs it as Node's TLS client trusting only `ca`, by `servername`. */
async function handshake(material: { key: string; cert: string }, ca: string, servername: string): Promise<string> {
  const server = https.createServer(material, (_req, res) => res.end('ok'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  try {
    return await new Promise<string>((resolve, reject) => {
      // An IP is checked against the certificate's IP addresses (no SNI for addresses).
      const name = net.isIP(servername) ? {} : { servername };
      const req = https.get({ host: '127.0.0.1', port, ca, ...name, path: '/', headers: { host: servername } }, (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve(body));
      });
      req.on('error', reject);
    });
  } finally {
    server.close();
  }
}

function keyPair() {
  return generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
}

/** A certificate signed by the CA's key for `host` (what a leaked CA key would be used for). */
function issue(caPem: string, caKeyPem: string, host: string) {
  const keys = keyPair();
  const ca = forge.pki.certificateFromPem(caPem);
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(keys.publicKey);
  cert.serialNumber = '0' + randomBytes(8).toString('hex');
  cert.validity.notBefore = new Date(Date.now() - 60_000);
  cert.validity.notAfter = new Date(Date.now() + 86_400_000);
  cert.setSubject([{ name: 'commonName', value: host }]);
  cert.setIssuer(ca.subject.attributes);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'extKeyUsage', serverAuth: true },
    { name: 'subjectAltName', altNames: [{ type: 2, value: host }] },
  ]);
  cert.sign(forge.pki.privateKeyFromPem(caKeyPem), forge.md.sha256.create());
  return { key: keys.privateKey, cert: forge.pki.certificateToPem(cert) };
}

describe('local CA name constraints (issue #11 item 10)', () => {
  after(() => {
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });

  test('a new CA carries critical name constraints; Node accepts its server certificate by name and by IP', async () => {
    const dir = tempDir();
    const m = await ensureLocalTls(dir, ['meetings.example.com'], ['localhost', '127.0.0.1', '::1', 'meetings.example.com']);
    assert.equal(m.createdCa, true);
    const caPem = fs.readFileSync(m.caPath!, 'utf8');
    const ext = (forge.pki.certificateFromPem(caPem).extensions as Array<{ id: string; critical?: boolean }>).find(
      (e) => e.id === '2.5.29.30',
    );
    assert.ok(ext, 'nameConstraints present');
    assert.equal(ext.critical, true);
    assert.deepEqual(permittedNames(caPem), ['localhost', '127.0.0.0', '0:0:0:0:0:0:0:1', 'meetings.example.com']);
    assert.equal(await handshake(m, caPem, 'localhost'), 'ok');
    assert.equal(await handshake(m, caPem, 'meetings.example.com'), 'ok');
    assert.equal(await handshake(m, caPem, '127.0.0.1'), 'ok');
  });

  test("Node's TLS client refuses a certificate the CA's key signs for a name outside its constraints", async () => {
    const dir = tempDir();
    const m = await ensureLocalTls(dir, [], ['localhost', '127.0.0.1', '::1']);
    const caPem = fs.readFileSync(m.caPath!, 'utf8');
    const caKey = fs.readFileSync(path.join(dir, 'tls', 'ca-key.pem'), 'utf8');
    const inside = issue(caPem, caKey, 'api.localhost');
    assert.equal(await handshake(inside, caPem, 'api.localhost'), 'ok');
    const outside = issue(caPem, caKey, 'login.microsoftonline.com');
    await assert.rejects(handshake(outside, caPem, 'login.microsoftonline.com'), /permitted subtree violation|name constraint/i);
  });

  test('a CA made before name constraints keeps working; a constrained CA that misses a new name is replaced', async () => {
    const dir = tempDir();
    // An old CA: the same shape without the extension.
    const keys = keyPair();
    const ca = forge.pki.createCertificate();
    ca.publicKey = forge.pki.publicKeyFromPem(keys.publicKey);
    ca.serialNumber = '01';
    ca.validity.notBefore = new Date(Date.now() - 60_000);
    ca.validity.notAfter = new Date(Date.now() + 365 * 86_400_000);
    const subject = [{ name: 'commonName', value: 'graph-meetings local CA old' }];
    ca.setSubject(subject);
    ca.setIssuer(subject);
    ca.setExtensions([
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    ]);
    ca.sign(forge.pki.privateKeyFromPem(keys.privateKey), forge.md.sha256.create());
    const oldPem = forge.pki.certificateToPem(ca);
    fs.mkdirSync(path.join(dir, 'tls'), { recursive: true, mode: 0o700 });
    fs.writeFileSync(path.join(dir, 'tls', 'ca.pem'), oldPem, { mode: 0o600 });
    fs.writeFileSync(path.join(dir, 'tls', 'ca-key.pem'), keys.privateKey, { mode: 0o600 });
    const m = await ensureLocalTls(dir, ['meetings.example.com'], ['meetings.example.com']);
    assert.equal(m.createdCa, false);
    assert.equal(fs.readFileSync(m.caPath!, 'utf8'), oldPem, 'the old CA is kept');
    assert.equal(await handshake(m, oldPem, 'meetings.example.com'), 'ok');

    const dir2 = tempDir();
    const first = await ensureLocalTls(dir2, [], []);
    const firstPem = fs.readFileSync(first.caPath!, 'utf8');
    const again = await ensureLocalTls(dir2, [], []);
    assert.equal(again.createdCa, false, 'covered: kept');
    const moved = await ensureLocalTls(dir2, ['other.example.org'], ['other.example.org']);
    assert.equal(moved.createdCa, true, 'a name the constraints do not cover: a new CA');
    assert.notEqual(fs.readFileSync(moved.caPath!, 'utf8'), firstPem);
    assert.equal(await handshake(moved, fs.readFileSync(moved.caPath!, 'utf8'), 'other.example.org'), 'ok');
  });
});
