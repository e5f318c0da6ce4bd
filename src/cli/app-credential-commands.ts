import fs from 'node:fs';
import { AppCredentialsService, SIGN_IN_AUDIENCES, type SignInAudience } from '../domain/directory/app-credentials-service.js';
import { badRequest } from '../domain/errors.js';
import type { CommandContext } from './commands.js';

/**
 * CLI commands for app credentials beyond secrets (issue #13): certificates, exposed API scopes,
 * consent of one app to another's API, and the supported account types. Rules live in AppCredentialsService.
 */

export async function appCertificateAdd({ db, out }: CommandContext, input: { clientId: string; certFile: string }) {
  let pem: string;
  try {
    pem = fs.readFileSync(input.certFile, 'utf8');
  } catch (err) {
    throw badRequest(`Cannot read ${input.certFile}: ${(err as NodeJS.ErrnoException).code ?? String(err)}.`);
  }
  const added = await new AppCredentialsService(db).addCertificate(input.clientId, pem);
  out.note('Only the public certificate was stored; sign client assertions with its private key (x5t or x5t#S256 names it).');
  return added;
}

export async function appCertificateList({ db }: CommandContext, input: { clientId: string }) {
  return new AppCredentialsService(db).listCertificates(input.clientId);
}

export async function appCertificateRemove({ db }: CommandContext, input: { clientId: string; thumbprint: string }) {
  const removed = await new AppCredentialsService(db).removeCertificate(input.clientId, input.thumbprint);
  return { clientId: input.clientId.toLowerCase(), removed };
}

export async function appExpose({ db }: CommandContext, input: { clientId: string; scope: string }) {
  return new AppCredentialsService(db).exposeScope(input.clientId, input.scope);
}

export async function appConsentApi({ db }: CommandContext, input: { clientId: string; api: string; scopes: string[] }) {
  // Scopes may be given bare (access_as_user) or in full (api://{id}/access_as_user).
  const names = input.scopes.map((s) => s.slice(s.lastIndexOf('/') + 1));
  return new AppCredentialsService(db).consentApi(input.clientId, input.api, names);
}

export async function appUnconsentApi({ db }: CommandContext, input: { clientId: string; api: string; scopes: string[] }) {
  const names = input.scopes.map((s) => s.slice(s.lastIndexOf('/') + 1));
  return new AppCredentialsService(db).revokeApi(input.clientId, input.api, names);
}

export async function appAudience({ db }: CommandContext, input: { clientId: string; audience: string }) {
  const audience = SIGN_IN_AUDIENCES.find((a) => a.toLowerCase() === input.audience.toLowerCase());
  if (!audience) throw badRequest(`Unknown sign-in audience '${input.audience}'. Known: ${SIGN_IN_AUDIENCES.join(', ')}.`);
  return new AppCredentialsService(db).setSignInAudience(input.clientId, audience as SignInAudience);
}
