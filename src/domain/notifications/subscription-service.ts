import type { Kysely } from 'kysely';
import type { Principal } from '../../identity/access-tokens.js';
import { findMeetingById } from '../../storage/repositories/meeting-repository.js';
import * as repo from '../../storage/repositories/subscription-repository.js';
import type { Database, SubscriptionRow } from '../../storage/tables.js';
import type { Randomness } from '../../util/randomness.js';
import { compareDateTime, formatDateTime, parseDateTime } from '../datetime.js';
import type { DirectoryLookups } from '../directory/directory-lookups.js';
import {
  forbidden,
  lifecycleUrlRequired,
  missingPermission,
  noApplicationAccessPolicy,
  notificationUrlRefused,
  subscriptionExpirationTooFar,
  subscriptionExtensionError,
  subscriptionInvalid,
  subscriptionNotFound,
  subscriptionPayloadInvalid,
  subscriptionPropertyRequired,
  subscriptionQuotaExceeded,
  userNotFound,
  meetingNotFound,
} from '../errors.js';
import type { EventService } from '../events/event-service.js';
import { parseEncryptionCertificate } from './rich-content.js';
import { maxLifetimeMinutes, parseSubscriptionResource, type SubscriptionResource } from './subscription-resources.js';

export interface SubscriptionServiceDeps {
  db: Kysely<Database>;
  directory: DirectoryLookups;
  events: EventService;
  clock: () => number;
  random: Randomness;
  /** Why a URL may not receive notifications (NOTIFICATION_HOSTS), or undefined. */
  urlRefusal: (url: string) => string | undefined;
  /** §3.4: the validation request; throws the GraphError the create answers with. */
  validate: (url: string) => Promise<void>;
}

const CREATE_PROPERTIES = new Set([
  'changeType',
  'notificationUrl',
  'resource',
  'expirationDateTime',
  'clientState',
  'lifecycleNotificationUrl',
  'includeResourceData',
  'encryptionCertificate',
  'encryptionCertificateId',
  'latestSupportedTlsVersion',
  'notificationUrlAppId',
  'notificationQueryOptions',
  'notificationContentType',
  // Read-only properties a client may echo back from a GET; Graph ignores them.
  'id',
  'applicationId',
  'creatorId',
  '@odata.type',
  '@odata.context',
]);
const TLS_VERSIONS = ['v1_0', 'v1_1', 'v1_2', 'v1_3'];
const CHANGE_TYPES = ['created', 'updated', 'deleted'];
const HOUR_MS = 3_600_000;

/** §3.3 quotas for callTranscript/callRecording and the Outlook quota of events spec §7. */
export const QUOTAS = { perAppAndResource: 1, perUserAllApps: 10, perTenantArtifacts: 10_000, perMailbox: 1000 } as const;

/** Read permissions per subscribed resource (§3.3; events spec §5: Calendars.Read, .ReadWrite includes it). */
const READ = {
  transcripts: ['OnlineMeetingTranscript.Read.All'],
  recordings: ['OnlineMeetingRecording.Read.All'],
} as const;

/**
 * Graph's subscription API (graph-meeting-artifacts-spec.md §3.1, §3.2): the rules of create, list, get,
 * renew, reauthorize and delete. Delivery is not here: the outbox (src/notifications) sends what the
 * domain queues. Subscriptions belong to the app that created them (and, delegated, to the signed-in user).
 */
export class SubscriptionService {
  constructor(private readonly deps: SubscriptionServiceDeps) {}

  private nowMs() {
    return this.deps.clock();
  }

  async create(principal: Principal, body: unknown): Promise<SubscriptionRow> {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw subscriptionPayloadInvalid('the body is not a JSON object');
    const b = body as Record<string, unknown>;
    for (const k of Object.keys(b)) if (!CREATE_PROPERTIES.has(k)) throw subscriptionPayloadInvalid(`unknown property '${k}'`);
    const str = (name: string, max = 2048) => {
      const v = b[name];
      if (v === undefined || v === null) return undefined;
      if (typeof v !== 'string') throw subscriptionPayloadInvalid(`${name} must be a string`);
      if (v.length > max) throw subscriptionInvalid(`${name} must be at most ${max} characters.`);
      return v;
    };
    for (const required of ['changeType', 'notificationUrl', 'resource', 'expirationDateTime']) {
      if (b[required] === undefined || b[required] === null || b[required] === '') throw subscriptionPropertyRequired(required);
    }
    const resourceText = str('resource')!;
    const resource = parseSubscriptionResource(resourceText);
    if (!resource) throw subscriptionExtensionError(`Resource '${resourceText}' is not supported for change notifications.`);
    const changeType = parseChangeType(str('changeType', 100)!, resource);
    const includeResourceData = b.includeResourceData ?? false;
    if (typeof includeResourceData !== 'boolean') throw subscriptionPayloadInvalid('includeResourceData must be a boolean');
    const notificationUrl = str('notificationUrl')!;
    const lifecycleUrl = str('lifecycleNotificationUrl');
    this.checkUrl('notificationUrl', notificationUrl);
    if (lifecycleUrl !== undefined) this.checkUrl('lifecycleNotificationUrl', lifecycleUrl);
    const clientState = str('clientState', 128);
    const certificate = str('encryptionCertificate', 65_536);
    const certificateId = str('encryptionCertificateId', 128);
    // §3.1: required with includeResourceData; checked whenever given, so a bad one never waits for the first notification.
    if (includeResourceData || certificate !== undefined) this.requireCertificate(certificate);
    const tls = str('latestSupportedTlsVersion', 10);
    if (tls !== undefined && !TLS_VERSIONS.includes(tls))
      throw subscriptionInvalid(`latestSupportedTlsVersion must be one of ${TLS_VERSIONS.join(', ')}.`);
    const expiration = this.checkExpiration(b.expirationDateTime, resource, includeResourceData);
    // §3.3: transcripts and recordings need a lifecycle URL beyond one hour.
    if (resource.kind !== 'events' && lifecycleUrl === undefined && expiration.ms - this.nowMs() > HOUR_MS) throw lifecycleUrlRequired();

    const resourceKey = await this.authorize(principal, resource);
    await this.checkQuotas(principal, resource, resourceKey);
    // §3.4: both URLs are validated, each with its own request, before anything is stored.
    await this.deps.validate(notificationUrl);
    if (lifecycleUrl !== undefined) await this.deps.validate(lifecycleUrl);

    const row: SubscriptionRow = {
      id: this.deps.random.uuid(),
      tenant_id: principal.tenantId,
      application_id: principal.clientId,
      creator_id: principal.kind === 'user' ? principal.userId : principal.servicePrincipalId,
      resource: resourceText,
      resource_kind: resource.kind,
      resource_key: resourceKey,
      change_type: changeType,
      notification_url: notificationUrl,
      lifecycle_notification_url: lifecycleUrl ?? null,
      client_state: clientState ?? null,
      include_resource_data: includeResourceData ? 1 : 0,
      encryption_certificate: certificate ?? null,
      encryption_certificate_id: certificateId ?? null,
      latest_supported_tls_version: tls ?? 'v1_2',
      notification_url_app_id: str('notificationUrlAppId', 128) ?? null,
      notification_query_options: str('notificationQueryOptions') ?? null,
      expiration_date_time: formatDateTime(expiration),
      created_at: formatDateTime({ ms: this.nowMs(), ticks: 0 }),
      reauthorization_sent_at: null,
    };
    await repo.insertSubscription(this.deps.db, row);
    return row;
  }

  /** A subscription the caller may see: its tenant and app, and delegated, its user; expired ones are gone (§3.2). */
  async get(principal: Principal, id: string): Promise<SubscriptionRow> {
    const row = await repo.findSubscription(this.deps.db, id);
    if (!row || !this.owns(principal, row) || row.expiration_date_time <= this.nowText()) throw subscriptionNotFound(id);
    return row;
  }

  /** §3.2 List: this app's subscriptions (delegated: for the signed-in user), paged by id. */
  async list(principal: Principal, afterId: string | undefined, limit: number): Promise<{ rows: SubscriptionRow[]; more: boolean }> {
    const rows = await repo.listSubscriptions(this.deps.db, {
      tenantId: principal.tenantId,
      applicationId: principal.clientId,
      ...(principal.kind === 'user' ? { creatorId: principal.userId } : {}),
      afterId,
      limit: limit + 1,
    });
    const now = this.nowText();
    const live = rows.filter((r) => r.expiration_date_time > now);
    return { rows: live.slice(0, limit), more: rows.length > limit };
  }

  /** §3.2 Renew: a new expiry (and optionally a new certificate); it reauthorizes too, so read access is checked again. */
  async update(principal: Principal, id: string, body: unknown): Promise<SubscriptionRow> {
    const row = await this.get(principal, id);
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw subscriptionPayloadInvalid('the body is not a JSON object');
    const b = body as Record<string, unknown>;
    for (const k of Object.keys(b)) {
      if (k === 'lifecycleNotificationUrl')
        throw subscriptionInvalid(
          'lifecycleNotificationUrl cannot be added or changed by an update; delete the subscription and create it again.',
        );
      if (!['expirationDateTime', 'encryptionCertificate', 'encryptionCertificateId', 'notificationUrl', '@odata.type'].includes(k))
        throw subscriptionInvalid(
          `Property '${k}' cannot be updated; only expirationDateTime, notificationUrl, encryptionCertificate and encryptionCertificateId can.`,
        );
    }
    const resource = parseSubscriptionResource(row.resource)!;
    await this.authorize(principal, resource);
    const set: Parameters<typeof repo.updateSubscription>[2] = { reauthorization_sent_at: null };
    if (b.expirationDateTime !== undefined) {
      const expiration = this.checkExpiration(b.expirationDateTime, resource, row.include_resource_data === 1);
      if (resource.kind !== 'events' && row.lifecycle_notification_url === null && expiration.ms - this.nowMs() > HOUR_MS)
        throw lifecycleUrlRequired();
      set.expiration_date_time = formatDateTime(expiration);
    }
    if (b.encryptionCertificate !== undefined) {
      if (typeof b.encryptionCertificate !== 'string') throw subscriptionPayloadInvalid('encryptionCertificate must be a string');
      this.requireCertificate(b.encryptionCertificate);
      set.encryption_certificate = b.encryptionCertificate;
    }
    if (b.encryptionCertificateId !== undefined) {
      if (typeof b.encryptionCertificateId !== 'string' || b.encryptionCertificateId.length > 128)
        throw subscriptionInvalid('encryptionCertificateId must be a string of at most 128 characters.');
      set.encryption_certificate_id = b.encryptionCertificateId;
    }
    if (b.notificationUrl !== undefined) {
      if (typeof b.notificationUrl !== 'string') throw subscriptionPayloadInvalid('notificationUrl must be a string');
      this.checkUrl('notificationUrl', b.notificationUrl);
      await this.deps.validate(b.notificationUrl);
      set.notification_url = b.notificationUrl;
    }
    if (!(await repo.updateSubscription(this.deps.db, id, set))) throw subscriptionNotFound(id);
    return (await repo.findSubscription(this.deps.db, id)) ?? row;
  }

  /** §3.2 Reauthorize: 204, the expiry unchanged; the lifecycle cadence starts over. */
  async reauthorize(principal: Principal, id: string): Promise<void> {
    const row = await this.get(principal, id);
    await this.authorize(principal, parseSubscriptionResource(row.resource)!);
    await repo.updateSubscription(this.deps.db, id, { reauthorization_sent_at: null });
  }

  async delete(principal: Principal, id: string): Promise<void> {
    await this.get(principal, id);
    if (!(await repo.deleteSubscription(this.deps.db, id))) throw subscriptionNotFound(id);
  }

  private owns(principal: Principal, row: SubscriptionRow): boolean {
    if (row.tenant_id !== principal.tenantId || row.application_id !== principal.clientId) return false;
    return principal.kind === 'app' || row.creator_id === principal.userId;
  }

  private nowText() {
    return formatDateTime({ ms: this.nowMs(), ticks: 0 });
  }

  private checkUrl(property: string, url: string) {
    const why = this.deps.urlRefusal(url);
    if (why) throw notificationUrlRefused(property, why);
  }

  private requireCertificate(certificate: string | undefined) {
    if (certificate === undefined) throw subscriptionInvalid('encryptionCertificate is required when includeResourceData is true.');
    const parsed = parseEncryptionCertificate(certificate);
    if (typeof parsed === 'string') throw subscriptionInvalid(`The encryptionCertificate is not valid: ${parsed}`);
  }

  private checkExpiration(value: unknown, resource: SubscriptionResource, includeResourceData: boolean) {
    if (typeof value !== 'string') throw subscriptionPayloadInvalid('expirationDateTime must be a date-time string');
    const parsed = parseDateTime(value);
    if (!parsed) throw subscriptionInvalid(`expirationDateTime '${value.slice(0, 60)}' is not a valid ISO 8601 date-time.`);
    const now = this.nowMs();
    if (compareDateTime(parsed, { ms: now, ticks: 0 }) <= 0) throw subscriptionInvalid('Subscription expiration must be in the future.');
    const max = maxLifetimeMinutes(resource, includeResourceData);
    if (parsed.ms - now > max * 60_000) throw subscriptionExpirationTooFar(max);
    return parsed;
  }

  /**
   * §3.2: "the caller must be allowed to read the resource". Returns the resource key changes are matched on
   * ('user:{oid}', 'meeting:{id}' or 'tenant').
   */
  private async authorize(principal: Principal, resource: SubscriptionResource): Promise<string> {
    if (resource.kind === 'events') {
      // events spec §5, §7: Calendars.Read (ReadWrite includes it); delegated only the own mailbox, no .Shared.
      const owner = await this.deps.events.authorize(principal, resource.mailbox, 'read');
      return `user:${owner.id}`;
    }
    const needed = READ[resource.kind];
    const granted = principal.kind === 'user' ? principal.scopes : principal.roles;
    if (resource.scope === 'tenant') {
      // §3.3: the tenant-wide getAll resources take application permissions only.
      if (principal.kind === 'user')
        throw forbidden('This resource does not support delegated permissions; use an application permission.');
      if (!needed.some((p) => granted.has(p))) throw missingPermission([...needed]);
      return 'tenant';
    }
    if (!needed.some((p) => granted.has(p))) throw missingPermission([...needed]);
    let organizerId: string;
    if (resource.scope === 'user') {
      const user = await this.deps.directory.userInTenant(principal.tenantId, resource.userId);
      if (!user) throw userNotFound(resource.userId);
      organizerId = user.id;
    } else {
      const meeting = await findMeetingById(this.deps.db, resource.meetingId);
      if (!meeting || meeting.tenantId !== principal.tenantId) throw meetingNotFound();
      organizerId = meeting.organizerId;
    }
    // Artifacts spec §2.5: delegated callers read their own meetings' artifacts; apps need the Teams
    // application access policy for the organizer.
    if (principal.kind === 'user') {
      if (organizerId !== principal.userId) throw forbidden('The signed-in user can only subscribe to their own meetings.');
    } else if (!(await this.deps.directory.accessPolicyAllows(principal.tenantId, organizerId, principal.clientId))) {
      throw noApplicationAccessPolicy();
    }
    return resource.scope === 'user' ? `user:${organizerId}` : `meeting:${resource.meetingId}`;
  }

  /** §3.3 quotas (403 naming the quota); events spec §7: 1,000 per mailbox. */
  private async checkQuotas(principal: Principal, resource: SubscriptionResource, resourceKey: string) {
    const count = (q: Omit<Parameters<typeof repo.countSubscriptions>[1], 'tenantId' | 'now'>) =>
      repo.countSubscriptions(this.deps.db, { ...q, tenantId: principal.tenantId, now: this.nowText() });
    if (resource.kind === 'events') {
      if ((await count({ kinds: ['events'], resourceKey })) >= QUOTAS.perMailbox)
        throw subscriptionQuotaExceeded(`${QUOTAS.perMailbox} subscriptions per mailbox`);
      return;
    }
    const kinds = [resource.kind];
    if ((await count({ kinds, resourceKey, applicationId: principal.clientId })) >= QUOTAS.perAppAndResource) {
      const what = resource.scope === 'meeting' ? 'online meeting' : resource.scope === 'user' ? 'user' : 'tenant';
      throw subscriptionQuotaExceeded(`1 subscription per app and ${what} for this resource`);
    }
    if (resource.scope === 'user' && (await count({ kinds, resourceKey })) >= QUOTAS.perUserAllApps)
      throw subscriptionQuotaExceeded(`${QUOTAS.perUserAllApps} subscriptions per user`);
    if ((await count({ kinds: ['transcripts', 'recordings'] })) >= QUOTAS.perTenantArtifacts)
      throw subscriptionQuotaExceeded(`${QUOTAS.perTenantArtifacts} subscriptions per organization`);
  }
}

/** §3.1 changeType: a comma list of created/updated/deleted; transcripts and recordings take `created` only (§3.1 [3p]). */
function parseChangeType(raw: string, resource: SubscriptionResource): string {
  const parts = raw.split(',').map((p) => p.trim());
  const seen = new Set<string>();
  for (const p of parts) {
    if (!CHANGE_TYPES.includes(p))
      throw subscriptionInvalid(`changeType '${raw}' is invalid: use created, updated or deleted, separated by commas.`);
    seen.add(p);
  }
  if (resource.kind !== 'events' && [...seen].some((p) => p !== 'created'))
    throw subscriptionExtensionError(`changeType '${raw}' is not supported for this resource; only 'created' is.`);
  return CHANGE_TYPES.filter((c) => seen.has(c)).join(',');
}
