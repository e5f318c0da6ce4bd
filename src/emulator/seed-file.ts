import { Type, type Static } from '@sinclair/typebox';
import type { Kysely } from 'kysely';
import { DirectoryService } from '../domain/directory/directory-service.js';
import { defaultTenantSettings, type MeetingOptions } from '../domain/directory/tenant-settings.js';
import { GraphError } from '../domain/errors.js';
import type { Database } from '../storage/tables.js';
import { stableUuid } from '../util/randomness.js';

/**
 * SEED_FILE: a declarative JSON fixture of tenants and everything in them, loaded into an empty database
 * (beside the demo directory when SEED_DEMO_DIRECTORY is on) at start and again after every reset. It goes
 * through the same DirectoryService as the admin CLI, so it obeys the same rules (unique UPNs and domains,
 * secrets stored only as hashes). The README's "Seed files" section shows an example.
 */
const Guid = Type.String({ pattern: '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$' });
const Name = Type.String({ minLength: 1, maxLength: 256 });

const SeedUser = Type.Object(
  { id: Type.Optional(Guid), upn: Name, displayName: Name, password: Type.String({ minLength: 1, maxLength: 256 }) },
  { additionalProperties: false },
);
const SeedApp = Type.Object(
  {
    clientId: Type.Optional(Guid),
    displayName: Name,
    /** Client secrets in clear (fixtures are for tests); only their hashes are stored. */
    secrets: Type.Optional(Type.Array(Type.String({ minLength: 8, maxLength: 256 }))),
    publicClient: Type.Optional(Type.Boolean()),
    /** Application permissions, admin consent included (`app grant`). */
    permissions: Type.Optional(Type.Array(Name)),
    /** Tenant-wide admin consent to delegated scopes (`app consent`). */
    consentedScopes: Type.Optional(Type.Array(Name)),
  },
  { additionalProperties: false },
);
const SeedPolicy = Type.Object(
  {
    name: Name,
    description: Type.Optional(Type.String({ maxLength: 1024 })),
    /** Client ids the policy holds. */
    apps: Type.Array(Guid, { minItems: 1 }),
    /** Users (UPN or id) the policy is granted to. */
    users: Type.Optional(Type.Array(Name)),
    /** Granted tenant-wide (-Global). */
    global: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
const SeedTemplate = Type.Object(
  {
    id: Type.Optional(Guid),
    displayName: Name,
    values: Type.Record(Type.String(), Type.Unknown()),
    locked: Type.Optional(Type.Array(Type.String())),
  },
  { additionalProperties: false },
);
const SeedTenant = Type.Object(
  {
    id: Type.Optional(Guid),
    displayName: Name,
    domain: Name,
    users: Type.Optional(Type.Array(SeedUser)),
    apps: Type.Optional(Type.Array(SeedApp)),
    policies: Type.Optional(Type.Array(SeedPolicy)),
    templates: Type.Optional(Type.Array(SeedTemplate)),
  },
  { additionalProperties: false },
);
export const SeedFileSchema = Type.Object(
  { $schema: Type.Optional(Type.String()), tenants: Type.Array(SeedTenant) },
  { additionalProperties: false },
);
export type SeedFile = Static<typeof SeedFileSchema>;

/** A seed file that cannot be loaded: every problem, each with where it is. */
export class SeedFileError extends Error {
  constructor(
    readonly file: string,
    readonly problems: string[],
  ) {
    super(`SEED_FILE ${file} is not valid:\n  - ${problems.join('\n  - ')}`);
    this.name = 'SeedFileError';
  }
}

/** Parses and validates a seed file's text; rejects with SeedFileError listing the problems with their JSON paths. */
export async function parseSeedFile(text: string, file: string): Promise<SeedFile> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new SeedFileError(file, [`not JSON: ${(err as Error).message}`]);
  }
  // Loaded here rather than at start (issue #20): only a start with SEED_FILE checks a seed, and TypeBox's value
  // module is about 30 ms and 2 MiB of idle memory in every other start.
  const { Value } = await import('@sinclair/typebox/value');
  const problems = [...Value.Errors(SeedFileSchema, json)].slice(0, 20).map((e) => `${e.path || '/'}: ${e.message}`);
  if (problems.length) throw new SeedFileError(file, problems);
  const seed = json as SeedFile;
  const options = defaultTenantSettings().meetingPolicy as unknown as Record<string, unknown>;
  seed.tenants.forEach((t, ti) =>
    t.templates?.forEach((tpl, i) => {
      const at = `/tenants/${ti}/templates/${i}`;
      for (const [k, v] of Object.entries(tpl.values)) {
        if (!(k in options)) problems.push(`${at}/values/${k}: not a meeting option`);
        else if (typeof v !== typeof options[k]) problems.push(`${at}/values/${k}: must be of type ${typeof options[k]}`);
      }
      for (const k of tpl.locked ?? []) if (!(k in options)) problems.push(`${at}/locked: '${k}' is not a meeting option`);
    }),
  );
  if (problems.length) throw new SeedFileError(file, problems);
  return seed;
}

/** Loads a validated seed into the database; directory refusals (a duplicate domain, an unknown user) become SeedFileError. */
export async function loadSeed(db: Kysely<Database>, seed: SeedFile, file: string): Promise<void> {
  const dir = new DirectoryService(db);
  let at = '/';
  try {
    for (const [ti, t] of seed.tenants.entries()) {
      at = `/tenants/${ti}`;
      const tenant = await dir.createTenant({ id: t.id ?? stableUuid('tenant', t.domain), displayName: t.displayName, domain: t.domain });
      const tenantId = (tenant as { id: string }).id;
      for (const [i, u] of (t.users ?? []).entries()) {
        at = `/tenants/${ti}/users/${i}`;
        await dir.createUser({
          tenant: tenantId,
          upn: u.upn,
          displayName: u.displayName,
          password: u.password,
          // Ids not given are derived from the names, so that they stay the same after every reset (cached tokens stay valid).
          id: u.id ?? stableUuid('user', u.upn),
        });
      }
      for (const [i, a] of (t.apps ?? []).entries()) {
        at = `/tenants/${ti}/apps/${i}`;
        const [first, ...more] = a.secrets ?? [];
        const app = await dir.createApplication({
          tenant: tenantId,
          displayName: a.displayName,
          clientId: a.clientId ?? stableUuid('application', t.domain, a.displayName),
          id: stableUuid('service-principal', a.clientId ?? stableUuid('application', t.domain, a.displayName)),
          ...(first ? { secret: first } : {}),
          allowPublicClient: a.publicClient === true,
        });
        for (const s of more) await dir.addSecret(app.clientId, s);
        for (const p of a.permissions ?? []) await dir.grantApplicationPermission(app.clientId, p);
        if (a.consentedScopes?.length) await dir.consentDelegated(app.clientId, a.consentedScopes);
      }
      for (const [i, p] of (t.policies ?? []).entries()) {
        at = `/tenants/${ti}/policies/${i}`;
        await dir.createAccessPolicy({
          tenant: tenantId,
          name: p.name,
          appIds: p.apps,
          ...(p.description ? { description: p.description } : {}),
        });
        for (const user of p.users ?? []) await dir.grantAccessPolicy({ tenant: tenantId, policy: p.name, user });
        if (p.global) await dir.grantAccessPolicy({ tenant: tenantId, policy: p.name, global: true });
      }
      for (const [i, tpl] of (t.templates ?? []).entries()) {
        at = `/tenants/${ti}/templates/${i}`;
        await dir.createMeetingTemplate({
          tenant: tenantId,
          displayName: tpl.displayName,
          id: tpl.id ?? stableUuid('template', t.domain, tpl.displayName),
          definition: { values: tpl.values as Partial<MeetingOptions>, locked: (tpl.locked ?? []) as Array<keyof MeetingOptions> },
        });
      }
    }
  } catch (err) {
    if (err instanceof GraphError && err.status < 500) throw new SeedFileError(file, [`${at}: ${err.message}`]);
    throw err;
  }
}
