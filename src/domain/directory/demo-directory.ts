import { stableUuid } from '../../util/randomness.js';
import type { Kysely } from 'kysely';
import { secretMatches, verifyPassword } from '../../identity/secrets.js';
import * as directory from '../../storage/repositories/directory-repository.js';
import { isEmpty } from '../../storage/repositories/directory-repository.js';
import type { Database } from '../../storage/tables.js';
import { GraphError } from '../errors.js';
import { AppCredentialsService } from './app-credentials-service.js';
import { DirectoryService } from './directory-service.js';
import type { MeetingTemplateDefinition } from './tenant-settings.js';
import type { UserProfileInput } from '../users/user-profile.js';
import { setArtifactSettings } from '../artifacts/artifact-settings.js';

/** Issue #17: the three artifact permissions the demo apps hold. */
const ARTIFACT_PERMISSIONS = [
  'OnlineMeetingArtifact.Read.All',
  'OnlineMeetingTranscript.Read.All',
  'OnlineMeetingRecording.Read.All',
] as const;

/**
 * The well-known demo directory, like Azurite's devstoreaccount1: fixed ids and secrets that tests and
 * snippets everywhere can rely on. These values are a contract (README "Demo directory"); do not change them.
 * They are public, so a deployment that holds real data must turn seeding off (SEED_DEMO_DIRECTORY=false).
 */
export const DEMO = {
  password: 'Demo-Passw0rd!',
  contoso: {
    tenantId: '049d4814-06f2-4ac7-8c07-6547360dd433',
    domain: 'contoso.test',
    alice: { id: 'ac02a79f-b09d-4d0a-a1f5-2ad5ab314a58', upn: 'alice@contoso.test', displayName: 'Alice Adams' },
    bob: { id: '213795bc-ba9a-4d64-9366-06dcd08731a2', upn: 'bob@contoso.test', displayName: 'Bob Baker' },
    carol: { id: '1abdbcdc-63ba-45e2-8392-c3f81e1d291c', upn: 'carol@contoso.test', displayName: 'Carol Chen' },
    scheduler: { clientId: '30a2fcea-f295-468c-abe2-b48159ee8486', secret: 'scheduler-demo-secret', displayName: 'Meeting Scheduler' },
    client: {
      clientId: '358b1947-f5d9-4301-8ae7-ba77a3a74041',
      secret: 'client-demo-secret',
      displayName: 'Meeting Client',
      redirectUri: 'http://localhost',
    },
    portal: {
      clientId: 'e9267e5d-75ec-4178-85f9-bdcda4cf14fc',
      secret: 'portal-demo-secret',
      displayName: 'Meeting Portal',
      redirectUri: 'http://localhost/auth/callback',
    },
    spa: { clientId: '6b194f2c-cb6a-4db3-810f-3e211156d340', displayName: 'Meeting SPA', redirectUri: 'http://localhost' },
    /** A middle-tier API (issue #13): exposes access_as_user, which Meeting Client may ask for; exchanges it on-behalf-of. */
    api: {
      clientId: 'c8a1f0d2-5b6e-4f3a-9d7c-2e4b6a8c0f13',
      secret: 'meetings-api-demo-secret',
      displayName: 'Meetings API',
      scope: 'access_as_user',
    },
    templateId: '05b9ed5f-2ac3-4470-aae9-f4a0c30b1a4b',
  },
  fabrikam: {
    tenantId: 'a46aa479-2ce9-44fb-bf90-301ac12db47a',
    domain: 'fabrikam.test',
    dave: { id: '70f75c01-19bd-4979-9379-e9e977df4aff', upn: 'dave@fabrikam.test', displayName: 'Dave Diaz' },
    scheduler: { clientId: 'bf5e306d-d15e-4a22-80e4-5e3ff5c3a703', secret: 'fabrikam-demo-secret', displayName: 'Fabrikam Scheduler' },
  },
} as const;

/** Profiles of the demo users (Graph's default user properties, issue #14); mail is the UPN. */
export const DEMO_PROFILES: Record<string, UserProfileInput> = {
  [DEMO.contoso.alice.id]: {
    givenName: 'Alice',
    surname: 'Adams',
    jobTitle: 'Product Manager',
    officeLocation: 'Building 1',
    preferredLanguage: 'en-US',
    businessPhones: ['+1 425 555 0101'],
    mobilePhone: '+1 425 555 0111',
  },
  [DEMO.contoso.bob.id]: { givenName: 'Bob', surname: 'Baker', jobTitle: 'Engineer', preferredLanguage: 'en-US' },
  [DEMO.contoso.carol.id]: { givenName: 'Carol', surname: 'Chen' },
  [DEMO.fabrikam.dave.id]: { givenName: 'Dave', surname: 'Diaz' },
};

/**
 * The demo template ("Confidential briefing", the seed's example 4): only the organizer presents,
 * nobody records, content is watermarked and everyone but the organizer waits in the lobby, all locked;
 * chat during the meeting only and no reactions are preset but may be changed.
 */
export const DEMO_TEMPLATE: MeetingTemplateDefinition = {
  values: {
    allowedPresenters: 'organizer',
    allowRecording: false,
    watermarkProtection: { isEnabledForContentSharing: true, isEnabledForVideo: true },
    lobbyBypassSettings: { scope: 'organizer', isDialInBypassEnabled: false },
    allowMeetingChat: 'limited',
    allowTeamworkReactions: false,
  },
  locked: ['allowedPresenters', 'allowRecording', 'watermarkProtection', 'lobbyBypassSettings'],
};

/** Seeds the demo directory into an empty database; returns whether it did. */
export async function seedDemoDirectory(db: Kysely<Database>): Promise<boolean> {
  if (!(await isEmpty(db))) return false;
  const dir = new DirectoryService(db);
  const c = DEMO.contoso;
  try {
    await dir.createTenant({ id: c.tenantId, displayName: 'Contoso', domain: c.domain });
  } catch (err) {
    if (err instanceof GraphError && err.status === 409) return false; // another instance is seeding the same database
    throw err;
  }
  for (const u of [c.alice, c.bob, c.carol]) {
    await dir.createUser({
      tenant: c.tenantId,
      id: u.id,
      upn: u.upn,
      displayName: u.displayName,
      password: DEMO.password,
      ...DEMO_PROFILES[u.id],
    });
  }
  await dir.createApplication({
    tenant: c.tenantId,
    clientId: c.scheduler.clientId,
    // A fixed object id, so that tokens cached by clients stay valid across POST /_emulator/reset.
    id: stableUuid('service-principal', c.scheduler.clientId),
    displayName: c.scheduler.displayName,
    secret: c.scheduler.secret,
  });
  await dir.grantApplicationPermission(c.scheduler.clientId, 'OnlineMeetings.ReadWrite.All');
  // Issue #16: schedulers create Teams meetings through Outlook events too (graph-events-spec.md §5).
  await dir.grantApplicationPermission(c.scheduler.clientId, 'Calendars.ReadWrite');
  await dir.grantApplicationPermission(c.scheduler.clientId, 'MailboxSettings.Read');
  // Issue #17: the meeting artifacts (attendance, transcripts, recordings; artifacts spec §1.3, §2.5).
  for (const p of ARTIFACT_PERMISSIONS) await dir.grantApplicationPermission(c.scheduler.clientId, p);
  await dir.createAccessPolicy({
    tenant: c.tenantId,
    name: 'Scheduler',
    appIds: [c.scheduler.clientId],
    description: 'Meeting Scheduler may act for Alice and Bob',
  });
  await dir.grantAccessPolicy({ tenant: c.tenantId, policy: 'Scheduler', user: c.alice.id });
  await dir.grantAccessPolicy({ tenant: c.tenantId, policy: 'Scheduler', user: c.bob.id });
  await dir.createApplication({
    tenant: c.tenantId,
    clientId: c.client.clientId,
    // A fixed object id, so that tokens cached by clients stay valid across POST /_emulator/reset.
    id: stableUuid('service-principal', c.client.clientId),
    displayName: c.client.displayName,
    secret: c.client.secret,
    allowPublicClient: true,
  });
  await dir.consentDelegated(c.client.clientId, ['OnlineMeetings.ReadWrite', 'OnlineMeetings.Read', 'User.Read']);
  // Issue #13: Meeting Client serves /common and /organizations too, and may call the demo middle-tier API.
  const credentials = new AppCredentialsService(db);
  await credentials.setSignInAudience(c.client.clientId, 'AzureADMultipleOrgs');
  await dir.createApplication({ tenant: c.tenantId, clientId: c.api.clientId, displayName: c.api.displayName, secret: c.api.secret });
  await dir.consentDelegated(c.api.clientId, ['OnlineMeetings.ReadWrite', 'User.Read']);
  await credentials.exposeScope(c.api.clientId, c.api.scope);
  await credentials.consentApi(c.client.clientId, c.api.clientId, [c.api.scope]);
  await dir.consentDelegated(c.client.clientId, ['Calendars.ReadWrite', 'MailboxSettings.Read']);
  await dir.consentDelegated(c.client.clientId, [...ARTIFACT_PERMISSIONS]);
  // Issue #17: Contoso lets Graph read transcripts, with speaker attribution (artifacts spec §2.6).
  await setArtifactSettings(db, c.tenantId, { graphTranscriptAccess: true, attributedTranscripts: true });
  // Interactive sign-in (issue 12). openid, profile, email and offline_access need no consent here:
  // OpenID Connect scopes are always granted (permissions.ts OIDC_SCOPES).
  await dir.addRedirectUri(c.client.clientId, c.client.redirectUri, 'public');
  await dir.createApplication({
    tenant: c.tenantId,
    clientId: c.portal.clientId,
    displayName: c.portal.displayName,
    secret: c.portal.secret,
  });
  await dir.addRedirectUri(c.portal.clientId, c.portal.redirectUri, 'web');
  await dir.consentDelegated(c.portal.clientId, ['User.Read', 'OnlineMeetings.ReadWrite']);
  // A single-page app has no secret it could keep; the one createApplication makes is never shown.
  await dir.createApplication({ tenant: c.tenantId, clientId: c.spa.clientId, displayName: c.spa.displayName });
  await dir.addRedirectUri(c.spa.clientId, c.spa.redirectUri, 'spa');
  await dir.consentDelegated(c.spa.clientId, ['User.Read', 'OnlineMeetings.ReadWrite']);
  await dir.createMeetingTemplate({
    tenant: c.tenantId,
    id: c.templateId,
    displayName: 'Confidential briefing',
    definition: DEMO_TEMPLATE,
  });

  const f = DEMO.fabrikam;
  await dir.createTenant({ id: f.tenantId, displayName: 'Fabrikam', domain: f.domain });
  await dir.createUser({
    tenant: f.tenantId,
    id: f.dave.id,
    upn: f.dave.upn,
    displayName: f.dave.displayName,
    password: DEMO.password,
    ...DEMO_PROFILES[f.dave.id],
  });
  await dir.createApplication({
    tenant: f.tenantId,
    clientId: f.scheduler.clientId,
    // A fixed object id, so that tokens cached by clients stay valid across POST /_emulator/reset.
    id: stableUuid('service-principal', f.scheduler.clientId),
    displayName: f.scheduler.displayName,
    secret: f.scheduler.secret,
  });
  await dir.grantApplicationPermission(f.scheduler.clientId, 'OnlineMeetings.ReadWrite.All');
  await dir.grantApplicationPermission(f.scheduler.clientId, 'Calendars.ReadWrite');
  await dir.grantApplicationPermission(f.scheduler.clientId, 'MailboxSettings.Read');
  for (const p of ARTIFACT_PERMISSIONS) await dir.grantApplicationPermission(f.scheduler.clientId, p);
  // Issue #17: Fabrikam keeps Teams' 2026 defaults, both switches off, so their 403s can be tried.
  await setArtifactSettings(db, f.tenantId, { graphTranscriptAccess: false, attributedTranscripts: false });
  await dir.createAccessPolicy({ tenant: f.tenantId, name: 'Fabrikam-Global', appIds: [f.scheduler.clientId], description: 'tenant-wide' });
  await dir.grantAccessPolicy({ tenant: f.tenantId, policy: 'Fabrikam-Global', global: true });
  return true;
}

/**
 * Which of the demo directory's published credentials this database still accepts (issue #11 item 5):
 * the demo apps' secrets and the demo users' password, as printed in the README. A server started with
 * SEED_DEMO_DIRECTORY=false on such a database says so at every start.
 */
export async function publishedDemoCredentials(db: Kysely<Database>): Promise<string[]> {
  const found: string[] = [];
  const c = DEMO.contoso;
  const f = DEMO.fabrikam;
  for (const app of [c.scheduler, c.client, f.scheduler]) {
    const row = await directory.findApplicationByClientId(db, app.clientId);
    if (row && secretMatches(app.secret, await directory.secretHashes(db, row.id))) found.push(`app ${app.clientId} (${app.displayName})`);
  }
  for (const user of [c.alice, c.bob, c.carol, f.dave]) {
    const row = await directory.findUserById(db, user.id);
    if (row?.password_hash && (await verifyPassword(DEMO.password, row.password_hash))) found.push(`user ${row.upn}`);
  }
  return found;
}
