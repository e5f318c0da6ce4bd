import type { Kysely } from 'kysely';
import { setTenantSettings } from '../../storage/repositories/artifact-repository.js';
import { findTenant } from '../../storage/repositories/directory-repository.js';
import type { Database } from '../../storage/tables.js';
import { DEFAULT_ARTIFACT_SETTINGS, parseArtifactSettings, type ArtifactSettings } from '../directory/tenant-settings.js';
import { badRequest, GraphError } from '../errors.js';

const METERING = ['off', 'evaluation', 'paymentRequired'] as const;

/**
 * Changes a tenant's artifact switches (tenant-settings.ts ArtifactSettings), keeping its other settings;
 * PATCH /_emulator/tenants/{tenant}/artifactSettings and the demo directory use it. Returns the result.
 */
export async function setArtifactSettings(db: Kysely<Database>, tenantIdOrDomain: string, patch: unknown): Promise<ArtifactSettings> {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch))
    throw badRequest('The body must be a JSON object of artifact settings.');
  const p = patch as Record<string, unknown>;
  for (const [k, v] of Object.entries(p)) {
    if (!(k in DEFAULT_ARTIFACT_SETTINGS)) {
      throw badRequest(`Unknown artifact setting '${k.slice(0, 100)}' (${Object.keys(DEFAULT_ARTIFACT_SETTINGS).join(', ')}).`);
    }
    if (k === 'metering') {
      if (!METERING.includes(v as (typeof METERING)[number])) throw badRequest(`'metering' must be one of ${METERING.join(', ')}.`);
    } else if (typeof v !== 'boolean') throw badRequest(`'${k}' must be true or false.`);
  }
  const tenant = await findTenant(db, tenantIdOrDomain);
  if (!tenant) throw new GraphError(404, 'TenantNotFound', `No tenant has the id or domain '${tenantIdOrDomain.slice(0, 100)}'.`);
  const stored = JSON.parse(tenant.settings) as Record<string, unknown>;
  const artifacts = { ...parseArtifactSettings(tenant.settings), ...(p as Partial<ArtifactSettings>) };
  await setTenantSettings(db, tenant.id, JSON.stringify({ ...stored, artifacts }));
  return artifacts;
}
