import { X509Certificate, generateKeyPair, randomBytes, sign } from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import type forgeModule from 'node-forge';
import { ensurePrivateDir, makePrivate } from '../storage/data-dir.js';

/**
 * The local certificate authority of graph-meetings. The official Microsoft clients refuse plain HTTP
 * (client-compat §1), so on first start we create a CA and a server certificate for 127.0.0.1, ::1 and
 * localhost (plus PUBLIC_URL's host), keep them in DATA_DIR/tls and reuse them after restarts. Clients
 * trust DATA_DIR/tls/ca.pem through NODE_EXTRA_CA_CERTS. The CA key never leaves DATA_DIR (mode 0600):
 * anyone holding it can impersonate any site to the machines that trust it, so this is for development
 * and for deployments that bring their own certificate (TLS_CERT_FILE / TLS_KEY_FILE).
 */
export interface TlsMaterial {
  key: string;
  cert: string;
  /** The CA certificate clients must trust, when we issued the server certificate ourselves. */
  caPath?: string;
  /** True when this start created the CA. */
  createdCa?: boolean;
}

const CA_DAYS = 3650;
const SERVER_DAYS = 397;
const RENEW_BEFORE_MS = 30 * 86_400_000;

/**
 * `caNames`: every name a new CA may certify (its X.509 name constraints, issue #11 item 10). Pass the
 * same full list to both ensure functions, since whichever runs first creates the CA.
 */
export async function ensureLocalTls(dataDir: string, extraHosts: string[] = [], caNames: readonly string[] = []): Promise<TlsMaterial> {
  const dir = path.join(dataDir, 'tls');
  ensurePrivateDir(dir);
  const files = {
    ca: path.join(dir, 'ca.pem'),
    caKey: path.join(dir, 'ca-key.pem'),
    cert: path.join(dir, 'server.pem'),
    key: path.join(dir, 'server-key.pem'),
  };
  const hosts = [...new Set(['localhost', '127.0.0.1', '::1', ...extraHosts.map((h) => h.replace(/^\[|\]$/g, '').toLowerCase())])];
  const createdCa = await ensureCertificates(files, hosts, [...caNames, ...hosts]);
  return { key: fs.readFileSync(files.key, 'utf8'), cert: fs.readFileSync(files.cert, 'utf8'), caPath: files.ca, createdCa };
}

/**
 * IMPERSONATE=on (src/http/host-names.ts): a second server certificate, from the same local CA, for
 * Microsoft's own host names, kept apart from the service's own certificate and served only to clients
 * whose SNI asks for one of those names. DATA_DIR/tls/impersonation.pem and impersonation-key.pem (0600).
 */
export async function ensureImpersonationTls(
  dataDir: string,
  hosts: readonly string[],
  caNames: readonly string[] = [],
): Promise<TlsMaterial> {
  const dir = path.join(dataDir, 'tls');
  ensurePrivateDir(dir);
  const files = {
    ca: path.join(dir, 'ca.pem'),
    caKey: path.join(dir, 'ca-key.pem'),
    cert: path.join(dir, 'impersonation.pem'),
    key: path.join(dir, 'impersonation-key.pem'),
  };
  const createdCa = await ensureCertificates(files, [...hosts], [...caNames, ...hosts]);
  return { key: fs.readFileSync(files.key, 'utf8'), cert: fs.readFileSync(files.cert, 'utf8'), caPath: files.ca, createdCa };
}

/**
 * Creates the CA when DATA_DIR has none, and the server certificate when it is missing, no longer usable or the
 * CA is new; true when the CA was created. A CA made before name constraints existed has none and keeps working
 * (clients already trust it). A CA with constraints that do not cover a name now needed (PUBLIC_URL changed,
 * IMPERSONATE turned on) could not certify it, so a new CA replaces it; the start-up log then says to trust the
 * new ca.pem, as on a first start.
 *
 * The RSA keys are generated off the main thread, both at once when both are needed (issue #20: a fresh
 * GraphMeetingsServer.create() generated them one after the other, about 0.3 s of its start, and they are
 * independent: the CA signs the server certificate, but only once both keys exist).
 */
async function ensureCertificates(
  files: { ca: string; caKey: string; cert: string; key: string },
  hosts: string[],
  names: readonly string[],
): Promise<boolean> {
  const permitted = [...new Set(['localhost', '127.0.0.1', '::1', ...names.map((h) => h.replace(/^\[|\]$/g, '').toLowerCase())])];
  const createCaNow = !caUsable(files.ca, files.caKey, permitted);
  if (!createCaNow && serverCertUsable(files.cert, files.key, fs.readFileSync(files.ca, 'utf8'), hosts)) return false;
  const generating = Promise.all([createCaNow ? rsaKeyPair() : undefined, rsaKeyPair()]);
  // Loading node-forge (about 0.1 s) overlaps the generation instead of following it.
  loadForge();
  const [caKeys, serverKeys] = await generating;
  if (caKeys) {
    const ca = createCa(permitted, caKeys);
    writePrivate(files.caKey, ca.key);
    writePrivate(files.ca, ca.cert);
  }
  const server = createServerCert(fs.readFileSync(files.ca, 'utf8'), fs.readFileSync(files.caKey, 'utf8'), hosts, serverKeys);
  writePrivate(files.key, server.key);
  writePrivate(files.cert, server.cert);
  return createCaNow;
}

/** Whether DATA_DIR's CA exists and may certify every permitted name (see ensureCertificates). */
function caUsable(caFile: string, caKeyFile: string, permitted: readonly string[]): boolean {
  if (!fs.existsSync(caFile) || !fs.existsSync(caKeyFile)) return false;
  const existing = permittedNames(fs.readFileSync(caFile, 'utf8'));
  return existing === undefined || permitted.every((n) => covers(existing, n));
}

/** Every file in DATA_DIR is 0600 (issue #11 item 4); clients read the CA certificate as the same user. */
function writePrivate(file: string, pem: string) {
  fs.writeFileSync(file, pem, { mode: 0o600 });
  makePrivate(file);
}

/** A server certificate is reused while it chains to our CA, covers every host and has a month left. */
function serverCertUsable(certFile: string, keyFile: string, caPem: string, hosts: string[]): boolean {
  if (!fs.existsSync(certFile) || !fs.existsSync(keyFile)) return false;
  try {
    const cert = new X509Certificate(fs.readFileSync(certFile));
    if (!cert.verify(new X509Certificate(caPem).publicKey)) return false;
    if (Date.parse(cert.validTo) - Date.now() < RENEW_BEFORE_MS) return false;
    return hosts.every((h) => (net.isIP(h) ? cert.checkIP(h) : cert.checkHost(h)) !== undefined);
  } catch {
    return false;
  }
}

const require = createRequire(import.meta.url);
/**
 * node-forge writes certificates, which happens on a data directory's first start or when a host is added; loading
 * all of it took about 0.1 s of every start, and issue #15 asks for a start in about a second. A start with the
 * certificates in place only reads the CA's name constraints, with forge's ASN.1 reader alone (about a tenth).
 */
const loadForge = () => require('node-forge') as typeof forgeModule;
const loadAsn1 = () => require('node-forge/lib/asn1') as typeof forgeModule.asn1;

interface KeyPair {
  privateKey: string;
  publicKey: string;
}

/** A 2048-bit RSA key pair, generated on libuv's thread pool. */
function rsaKeyPair(): Promise<KeyPair> {
  return promisify(generateKeyPair)('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
}

/**
 * Signs a forge certificate with node:crypto: forge's own RSA is pure JavaScript, about 80 ms per certificate in
 * the CPU profile of a first start (issue #20). forge's cert.sign(key, md) feeds the DER of the to-be-signed
 * certificate to md.update and takes key.sign(md) as the signature; here md keeps those bytes and key.sign
 * returns their RSASSA-PKCS1-v1_5 SHA-256 signature, the algorithm forge writes into the certificate for a
 * 'sha256' digest (sha256WithRSAEncryption), so the certificate is the one forge would have produced.
 */
function signCertificate(cert: forgeModule.pki.Certificate, privateKeyPem: string) {
  let tbs = '';
  const md = { algorithm: 'sha256', update: (bytes: string) => void (tbs += bytes) };
  const key = { sign: () => sign('sha256', Buffer.from(tbs, 'binary'), privateKeyPem).toString('binary') };
  cert.sign(key as unknown as forgeModule.pki.rsa.PrivateKey, md as unknown as forgeModule.md.MessageDigest);
}

function baseCert(publicKeyPem: string, days: number) {
  const forge = loadForge();
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(publicKeyPem);
  // Positive serial: clear the top bit of a random 16-byte number.
  const serial = randomBytes(16);
  serial[0]! &= 0x7f;
  cert.serialNumber = serial.toString('hex');
  cert.validity.notBefore = new Date(Date.now() - 60_000);
  cert.validity.notAfter = new Date(Date.now() + days * 86_400_000);
  return cert;
}

const NAME_CONSTRAINTS_OID = '2.5.29.30';

/**
 * The nameConstraints extension (RFC 5280 §4.2.1.10), critical: the CA certifies only these DNS names (and
 * their subdomains) and addresses, so its key, if it leaked, could not vouch for any other site a machine
 * that trusts it visits. Loopback is permitted as 127.0.0.0/8 and ::1/128.
 */
function nameConstraints(names: readonly string[]) {
  const asn1 = loadAsn1();
  const subtrees = names.flatMap((n) => {
    const ip = net.isIP(n);
    let bytes: string | undefined;
    if (n === '127.0.0.1') bytes = String.fromCharCode(127, 0, 0, 0, 255, 0, 0, 0);
    else if (ip === 4) bytes = String.fromCharCode(...n.split('.').map(Number), 255, 255, 255, 255);
    else if (ip === 6) bytes = ipv6Bytes(n) + '\xff'.repeat(16);
    const base =
      bytes !== undefined
        ? asn1.create(asn1.Class.CONTEXT_SPECIFIC, 7, false, bytes)
        : asn1.create(asn1.Class.CONTEXT_SPECIFIC, 2, false, n);
    return [asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [base])];
  });
  const value = asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [asn1.create(asn1.Class.CONTEXT_SPECIFIC, 0, true, subtrees)]);
  return { id: NAME_CONSTRAINTS_OID, critical: true, value: asn1.toDer(value).getBytes() };
}

function ipv6Bytes(address: string): string {
  const [head, tail] = address.includes('::') ? address.split('::') : [address, undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  return groups.map((g) => String.fromCharCode(parseInt(g, 16) >> 8, parseInt(g, 16) & 0xff)).join('');
}

/** A CA's permitted names, as written by nameConstraints(); undefined for a CA without the extension. */
export function permittedNames(caPem: string): string[] | undefined {
  const asn1 = loadAsn1();
  type Asn1 = forgeModule.asn1.Asn1;
  // Certificate ::= SEQUENCE { tbsCertificate, … }; the extensions are tbsCertificate's [3] (RFC 5280 §4.1).
  const tbs = (asn1.fromDer(new X509Certificate(caPem).raw.toString('binary')).value as Asn1[])[0]!;
  const extensions = (tbs.value as Asn1[]).find((v) => v.tagClass === asn1.Class.CONTEXT_SPECIFIC && v.type === 3);
  // Extension ::= SEQUENCE { extnID OID, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING }
  const ext = ((extensions?.value as Asn1[] | undefined)?.[0]?.value as Asn1[] | undefined)?.find(
    (e) => asn1.derToOid((e.value as Asn1[])[0]!.value as string) === NAME_CONSTRAINTS_OID,
  );
  const extValue = (ext?.value as Asn1[] | undefined)?.at(-1)?.value as string | undefined;
  if (!extValue) return undefined;
  const root = asn1.fromDer(extValue);
  const permitted = (root.value as Asn1[]).find((v) => v.type === 0);
  if (!permitted) return [];
  return (permitted.value as Asn1[]).map((subtree) => {
    const base = (subtree.value as Asn1[])[0]!;
    const raw = base.value as string;
    if (base.type === 2) return raw;
    const addr = raw.slice(0, raw.length / 2);
    if (addr.length === 4) return [...addr].map((c) => c.charCodeAt(0)).join('.');
    const hex = [...addr].map((c) => c.charCodeAt(0).toString(16).padStart(2, '0')).join('');
    return (hex.match(/.{4}/g) ?? []).map((g) => parseInt(g, 16).toString(16)).join(':');
  });
}

/** Whether a permitted list covers a name: the same name, a subdomain of a permitted DNS name, or 127.x. */
function covers(permitted: string[], name: string): boolean {
  if (net.isIP(name) === 4 && name.startsWith('127.')) return permitted.includes('127.0.0.0') || permitted.includes(name);
  if (net.isIP(name) === 6) return permitted.some((p) => net.isIP(p) === 6 && ipv6Bytes(p) === ipv6Bytes(name));
  if (net.isIP(name)) return permitted.includes(name);
  return permitted.some((p) => !net.isIP(p) && (name === p || name.endsWith(`.${p}`)));
}

function createCa(names: readonly string[], keys: KeyPair): { cert: string; key: string } {
  const forge = loadForge();
  const cert = baseCert(keys.publicKey, CA_DAYS);
  const subject = [
    { name: 'commonName', value: `graph-meetings local CA ${randomBytes(4).toString('hex')}` },
    { name: 'organizationName', value: 'graph-meetings (development only)' },
  ];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, pathLenConstraint: 0, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
    nameConstraints(names),
  ]);
  signCertificate(cert, keys.privateKey);
  return { cert: forge.pki.certificateToPem(cert), key: keys.privateKey };
}

function createServerCert(caPem: string, caKeyPem: string, hosts: string[], keys: KeyPair): { cert: string; key: string } {
  const forge = loadForge();
  const ca = forge.pki.certificateFromPem(caPem);
  const cert = baseCert(keys.publicKey, SERVER_DAYS);
  cert.setSubject([{ name: 'commonName', value: hosts[0] ?? 'localhost' }]);
  cert.setIssuer(ca.subject.attributes);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false, critical: true },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    { name: 'subjectAltName', altNames: hosts.map((h) => (net.isIP(h) ? { type: 7, ip: h } : { type: 2, value: h })) },
    { name: 'subjectKeyIdentifier' },
    { name: 'authorityKeyIdentifier', keyIdentifier: ca.generateSubjectKeyIdentifier().getBytes() },
  ]);
  signCertificate(cert, caKeyPem);
  return { cert: forge.pki.certificateToPem(cert), key: keys.privateKey };
}
