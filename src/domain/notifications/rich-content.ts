import { constants, createCipheriv, createHmac, publicEncrypt, randomBytes, X509Certificate } from 'node:crypto';
import { SignJWT } from 'jose';
import type { SigningKey } from '../../identity/signing-keys.js';

/** §3.7: the `appid` of Graph's change-notification publisher, which receivers check. */
export const GRAPH_NOTIFICATION_PUBLISHER = '0bf30f3b-4a52-48df-9a82-234910c4a086';

export interface EncryptionCertificate {
  x509: X509Certificate;
  /** SHA-1 of the DER, upper-case hex (§3.6 step 5). */
  thumbprint: string;
}

/**
 * §3.1 encryptionCertificate: base64 of an X.509 certificate (DER; PEM is accepted too) with an RSA public
 * key of 2048 to 4096 bits. Returns undefined with the reason when it is not one.
 */
export function parseEncryptionCertificate(value: string): EncryptionCertificate | string {
  let x509: X509Certificate;
  try {
    const pem = value.includes('-----BEGIN') ? value : undefined;
    const der = pem ? undefined : Buffer.from(value.replace(/\s+/g, ''), 'base64');
    if (der && der.length === 0) return 'it is empty.';
    x509 = new X509Certificate(pem ?? der!);
  } catch {
    return 'it is not a base64-encoded X.509 certificate.';
  }
  const key = x509.publicKey;
  if (key.asymmetricKeyType !== 'rsa') return 'its key must be an RSA key.';
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  if (bits < 2048 || bits > 4096) return `its RSA key must have 2048 to 4096 bits (it has ${bits}).`;
  return { x509, thumbprint: x509.fingerprint.replace(/:/g, '').toUpperCase() };
}

/**
 * §3.6: a fresh 32-byte key per item; `data` = AES-256-CBC with PKCS7 padding and the IV Graph uses (the
 * key's first 16 bytes); `dataSignature` = HMAC-SHA256 of the encrypted bytes with the same key; `dataKey`
 * = the key under RSA-OAEP (SHA-1, what Graph's samples decrypt with) and the subscription's certificate.
 */
export function encryptedContent(resourceJson: string, cert: EncryptionCertificate, certificateId: string | null) {
  const key = randomBytes(32);
  const cipher = createCipheriv('aes-256-cbc', key, key.subarray(0, 16));
  const data = Buffer.concat([cipher.update(resourceJson, 'utf8'), cipher.final()]);
  return {
    data: data.toString('base64'),
    dataSignature: createHmac('sha256', key).update(data).digest('base64'),
    dataKey: publicEncrypt({ key: cert.x509.publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' }, key).toString(
      'base64',
    ),
    encryptionCertificateId: certificateId ?? '',
    encryptionCertificateThumbprint: cert.thumbprint,
  };
}

/**
 * §3.7: one JWT per (app, tenant) of a rich notification, signed with this service's token key (its JWKS
 * is /{tenant}/discovery/v2.0/keys). aud = the subscribing app, iss = sts.windows.net/{tid}/, appid = the
 * publisher; valid for an hour.
 */
export async function validationToken(key: SigningKey, claims: { appId: string; tenantId: string; nowMs: number }): Promise<string> {
  const iat = Math.floor(claims.nowMs / 1000);
  return new SignJWT({ appid: GRAPH_NOTIFICATION_PUBLISHER, appidacr: '2', tid: claims.tenantId, ver: '1.0' })
    .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: key.kid, x5t: key.kid })
    .setAudience(claims.appId)
    .setIssuer(`https://sts.windows.net/${claims.tenantId}/`)
    .setIssuedAt(iat)
    .setNotBefore(iat - 300)
    .setExpirationTime(iat + 3600)
    .sign(key.privateKey);
}
