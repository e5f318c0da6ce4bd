import { createHash, randomUUID, X509Certificate } from 'node:crypto';
import type { Kysely } from 'kysely';
import * as creds from '../../storage/repositories/app-credentials-repository.js';
import * as directory from '../../storage/repositories/directory-repository.js';
import { uniqueViolation } from '../../storage/errors.js';
import type { Database } from '../../storage/tables.js';
import { badRequest, conflict, GraphError } from '../errors.js';

const notFound = (what: string) => new GraphError(404, 'NotFound', `${what} was not found.`);

/** Entra's rule for a scope's value: no spaces, not starting with a dot, at most 120 characters. */
const SCOPE_NAME = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,119}$/;
/** At most this many certificates per app (Entra's keyCredentials are similarly bounded). */
const MAX_CERTIFICATES = 20;

export const SIGN_IN_AUDIENCES = ['AzureADMyOrg', 'AzureADMultipleOrgs'] as const;
export type SignInAudience = (typeof SIGN_IN_AUDIENCES)[number];

export interface CertificateView {
  keyId: string;
  thumbprint: string;
  thumbprintSha256: string;
  subject: string;
  notBefore: string;
  notAfter: string;
  createdAt: string;
}

export const certificateView = (c: creds.CertificateRow): CertificateView => ({
  keyId: c.id,
  thumbprint: c.thumbprint,
  thumbprintSha256: c.thumbprint_sha256,
  subject: c.subject,
  notBefore: c.not_before,
  notAfter: c.not_after,
  createdAt: c.created_at,
});

/** The default Application ID URI of an app ("Expose an API" > Set): api://{clientId}. */
export const applicationIdUri = (clientId: string) => `api://${clientId}`;

/**
 * Administration of app credentials beyond secrets (issue #13): "Certificates & secrets > Certificates",
 * "Expose an API", one app's consent to another's API, and the app's supported account types.
 */
export class AppCredentialsService {
  constructor(private readonly db: Kysely<Database>) {}

  private async app(clientId: string) {
    const app = await directory.findApplicationByClientId(this.db, clientId);
    if (!app) throw notFound(`Application '${clientId}'`);
    return app;
  }

  /**
   * Registers a public certificate (PEM). Only the certificate is kept: a PEM that also carries a private
   * key is refused, so a key never lands in the database by accident.
   */
  async addCertificate(clientId: string, pem: string): Promise<CertificateView & { clientId: string }> {
    const app = await this.app(clientId);
    if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(pem)) {
      throw badRequest('The file holds a private key. Register the public certificate only (keep the key with the app).');
    }
    const m = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(pem);
    if (!m) throw badRequest('No PEM certificate (-----BEGIN CERTIFICATE-----) found.');
    let cert: X509Certificate;
    try {
      cert = new X509Certificate(m[0]);
    } catch {
      throw badRequest('The certificate could not be parsed.');
    }
    if (cert.publicKey.asymmetricKeyType !== 'rsa') {
      throw badRequest(
        `Only RSA certificates can sign client assertions (RS256, PS256); this one has a ${cert.publicKey.asymmetricKeyType} key.`,
      );
    }
    const existing = await creds.listCertificates(this.db, app.id);
    if (existing.length >= MAX_CERTIFICATES) throw badRequest(`An application holds at most ${MAX_CERTIFICATES} certificates.`);
    const row = {
      id: randomUUID(),
      application_id: app.id,
      thumbprint: createHash('sha1').update(cert.raw).digest('hex').toUpperCase(),
      thumbprint_sha256: createHash('sha256').update(cert.raw).digest('hex').toUpperCase(),
      certificate: cert.toString(),
      subject: cert.subject.replace(/\n/g, ', '),
      not_before: new Date(cert.validFrom).toISOString(),
      not_after: new Date(cert.validTo).toISOString(),
      created_at: new Date().toISOString(),
    };
    try {
      await this.db.insertInto('application_certificates').values(row).execute();
    } catch (err) {
      if (uniqueViolation(err)) throw conflict(`Certificate ${row.thumbprint} is already registered on ${app.client_id}.`);
      throw err;
    }
    return { clientId: app.client_id, ...certificateView(row) };
  }

  async listCertificates(clientId: string): Promise<CertificateView[]> {
    const app = await this.app(clientId);
    return (await creds.listCertificates(this.db, app.id)).map(certificateView);
  }

  /** Removes a certificate by its thumbprint (SHA-1 or SHA-256, any case, colons allowed) or its key id. */
  async removeCertificate(clientId: string, which: string): Promise<CertificateView> {
    const app = await this.app(clientId);
    const hex = which.replace(/:/g, '').toUpperCase();
    const found = (await creds.listCertificates(this.db, app.id)).find(
      (c) => c.thumbprint === hex || c.thumbprint_sha256 === hex || c.id === which.toLowerCase(),
    );
    if (!found) throw notFound(`Certificate '${which}' of ${app.client_id}`);
    await this.db.deleteFrom('application_certificates').where('id', '=', found.id).execute();
    return certificateView(found);
  }

  /** "Expose an API > Add a scope": the app becomes a resource at api://{clientId} with this delegated scope. */
  async exposeScope(clientId: string, scope: string) {
    const app = await this.app(clientId);
    if (!SCOPE_NAME.test(scope)) throw badRequest(`'${scope}' is not a valid scope name (letters, digits, . _ : -; up to 120).`);
    await this.db
      .insertInto('exposed_scopes')
      .values({ application_id: app.id, scope, created_at: new Date().toISOString() })
      .onConflict((oc) => oc.columns(['application_id', 'scope']).doNothing())
      .execute();
    return {
      clientId: app.client_id,
      applicationIdUri: applicationIdUri(app.client_id),
      scopes: await creds.exposedScopes(this.db, app.id),
    };
  }

  /** Admin consent for `clientId` to scopes exposed by the API app `api` (its client id or api://{clientId}). */
  async consentApi(clientId: string, api: string, scopes: string[]) {
    const app = await this.app(clientId);
    const resource = await creds.findApiApplication(this.db, api);
    if (!resource) throw notFound(`API '${api}'`);
    if (resource.tenant_id !== app.tenant_id) throw badRequest(`API ${resource.client_id} belongs to another tenant.`);
    const exposed = await creds.exposedScopes(this.db, resource.id);
    const names = scopes.map((s) => {
      const name = exposed.find((e) => e.toLowerCase() === s.toLowerCase());
      if (!name)
        throw badRequest(`API ${resource.client_id} does not expose '${s}' (exposed: ${exposed.join(', ') || 'none'}; see app expose).`);
      return name;
    });
    for (const scope of names) {
      await this.db
        .insertInto('api_consents')
        .values({ application_id: app.id, api_application_id: resource.id, scope })
        .onConflict((oc) => oc.columns(['application_id', 'api_application_id', 'scope']).doNothing())
        .execute();
    }
    return {
      clientId: app.client_id,
      api: applicationIdUri(resource.client_id),
      consented: names,
      consentedScopes: await creds.apiConsents(this.db, app.id, resource.id),
    };
  }

  async revokeApi(clientId: string, api: string, scopes: string[]) {
    const app = await this.app(clientId);
    const resource = await creds.findApiApplication(this.db, api);
    if (!resource) throw notFound(`API '${api}'`);
    await this.db
      .deleteFrom('api_consents')
      .where('application_id', '=', app.id)
      .where('api_application_id', '=', resource.id)
      .where('scope', 'in', scopes)
      .execute();
    return {
      clientId: app.client_id,
      api: applicationIdUri(resource.client_id),
      revoked: scopes,
      consentedScopes: await creds.apiConsents(this.db, app.id, resource.id),
    };
  }

  /** "Supported account types": single tenant (AzureADMyOrg) or any organization (AzureADMultipleOrgs, usable at /common). */
  async setSignInAudience(clientId: string, audience: SignInAudience) {
    const app = await this.app(clientId);
    await this.db.updateTable('applications').set({ sign_in_audience: audience }).where('id', '=', app.id).execute();
    return { clientId: app.client_id, signInAudience: audience };
  }
}
