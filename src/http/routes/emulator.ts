import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import { adminKeyRequired, badRequest } from '../../domain/errors.js';
import type { AdminKey } from '../../emulator/admin-key.js';
import type { EmulatorState } from '../../emulator/state.js';
import * as directory from '../../storage/repositories/directory-repository.js';
import { listMeetings } from '../../storage/repositories/meeting-repository.js';
import type { Database } from '../../storage/tables.js';
import type { EmulatorClock } from '../../util/clock.js';
import { INSPECTOR_CSS, INSPECTOR_HEADERS, INSPECTOR_JS, inspectorPage } from '../../web/inspector.js';
import { onlineMeetingJson } from '../online-meeting-view.js';
import type { NotificationDelivery } from '../../notifications/notification-delivery.js';
import { recentOutbox } from '../../storage/repositories/subscription-repository.js';
import type { SessionService } from '../../domain/artifacts/session-service.js';
import { setArtifactSettings } from '../../domain/artifacts/artifact-settings.js';

export interface EmulatorRoutesOptions {
  db: Kysely<Database>;
  adminKey: AdminKey;
  state: EmulatorState;
  clock: EmulatorClock;
  origin: () => string;
  /** Largest accepted import document, in bytes. */
  importLimitBytes: number;
  /** Change notifications (issue #18): GET /_emulator/notifications and POST /_emulator/notifications/flush. */
  notifications: NotificationDelivery;
  /** Meetings that happen (issue #17). */
  sessions: SessionService;
  /** Largest JSON body of POST /_emulator/sessions (a recording in contentBase64 rides in it). */
  sessionBodyLimitBytes: number;
  /** RECORDING_UPLOAD_LIMIT_BYTES: largest streamed recording upload. */
  recordingUploadLimitBytes: number;
  /** Called after a change to the directory made here (cached tenant settings are dropped). */
  directoryChanged: () => void;
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The emulator control API (README "Emulator control API"): what a test suite needs around the emulated
 * services, under /_emulator/, outside Graph's and Entra's paths. /_emulator/health and the inspector's
 * static files are open; everything else needs `Authorization: Bearer <admin key>`. Errors use the same
 * envelope as Graph's (src/http/errors.ts), with the control API's own codes (src/domain/errors.ts).
 */
export async function emulatorRoutes(app: FastifyInstance, opts: EmulatorRoutesOptions): Promise<void> {
  const open = new Set(['/_emulator/health', '/_emulator/', '/_emulator', '/_emulator/inspector.js', '/_emulator/inspector.css']);
  app.addHook('onRequest', (request, _reply, done) => {
    const path = request.url.split('?')[0]!.toLowerCase();
    if (open.has(path)) return done();
    const header = request.headers.authorization;
    const m = typeof header === 'string' ? /^Bearer ([\x21-\x7e]{1,512})$/i.exec(header.trim()) : null;
    if (!m || !opts.adminKey.matches(m[1]!)) {
      request.log.info({ reason: header ? 'wrong admin key' : 'no Authorization header' }, 'refused a control API request');
      return done(adminKeyRequired(header !== undefined));
    }
    done();
  });

  app.get('/_emulator/health', async () => ({ status: 'ok' }));

  app.get('/_emulator/', async (_request, reply) => reply.headers(INSPECTOR_HEADERS).send(inspectorPage()));
  app.get('/_emulator/inspector.js', async (_request, reply) =>
    reply.headers({ ...INSPECTOR_HEADERS, 'content-type': 'text/javascript; charset=utf-8' }).send(INSPECTOR_JS),
  );
  app.get('/_emulator/inspector.css', async (_request, reply) =>
    reply.headers({ ...INSPECTOR_HEADERS, 'content-type': 'text/css; charset=utf-8' }).send(INSPECTOR_CSS),
  );

  app.post('/_emulator/reset', async (_request, reply) => {
    await opts.state.reset();
    return reply.code(204).send();
  });

  app.get('/_emulator/export', async (_request, reply) => {
    const doc = await opts.state.export();
    return reply.header('content-disposition', 'attachment; filename="graph-meetings-state.json"').send(doc);
  });

  app.post('/_emulator/import', { bodyLimit: opts.importLimitBytes }, async (request) => {
    if (request.body === undefined) throw badRequest('Send the JSON document from GET /_emulator/export as the body.');
    return { imported: (await opts.state.import(request.body)).tables };
  });

  // --- meetings that happen (issue #17) -------------------------------------------------------------
  app.post('/_emulator/sessions', { bodyLimit: opts.sessionBodyLimitBytes }, async (request, reply) => {
    if (request.body === undefined) throw badRequest('Send the session as a JSON object (README "Meetings that happen").');
    const s = await opts.sessions.recordSession(request.body);
    return reply
      .code(201)
      .send({ id: s.id, attendanceReportId: s.attendanceReportId, transcriptId: s.transcriptId, recordingId: s.recordingId });
  });
  // A recording too large for JSON: the raw body is streamed into the store (never held whole in memory).
  await app.register(async (raw) => {
    raw.removeAllContentTypeParsers();
    raw.addContentTypeParser('*', (_request, _payload, done) => done(null, undefined));
    raw.put('/_emulator/sessions/:sessionId/recording', async (request, reply) => {
      const { sessionId } = request.params as { sessionId: string };
      const header = request.headers['content-type'];
      const contentType = (typeof header === 'string' ? header.split(';')[0]!.trim() : '') || 'video/mp4';
      const s = await opts.sessions.attachRecording(sessionId, contentType, request.raw, opts.recordingUploadLimitBytes);
      return reply.code(201).send({ id: s.id, recordingId: s.recordingId, size: s.size });
    });
  });
  app.patch('/_emulator/tenants/:tenant/artifactSettings', async (request) => {
    const { tenant } = request.params as { tenant: string };
    const settings = await setArtifactSettings(opts.db, tenant, request.body);
    opts.directoryChanged();
    return settings;
  });

  app.get('/_emulator/clock', async () => ({ now: new Date(opts.clock.now()).toISOString(), frozen: opts.clock.frozen }));
  app.post('/_emulator/clock', async (request) => {
    const body = request.body as { advanceSeconds?: unknown } | undefined;
    const n = body?.advanceSeconds;
    if (typeof body !== 'object' || body === null || Object.keys(body).some((k) => k !== 'advanceSeconds')) {
      throw badRequest('The body must be {"advanceSeconds": n}.');
    }
    if (typeof n !== 'number' || !Number.isFinite(n) || n < 0 || n > 100 * 365 * 86400) {
      throw badRequest("'advanceSeconds' must be a number of seconds from 0 to 3153600000 (the clock only moves forward).");
    }
    opts.clock.advance(n);
    return { now: new Date(opts.clock.now()).toISOString(), frozen: opts.clock.frozen };
  });

  app.get('/_emulator/meetings', async (request: FastifyRequest<{ Querystring: Record<string, string | string[] | undefined> }>) => {
    const q = request.query;
    const one = (name: string) => {
      const v = q[name];
      if (Array.isArray(v)) throw badRequest(`Give '${name}' once.`);
      if (v !== undefined && (v.length === 0 || v.length > 256)) throw badRequest(`'${name}' must be 1 to 256 characters.`);
      return v;
    };
    for (const k of Object.keys(q))
      if (!['tenant', 'organizer', 'top'].includes(k)) throw badRequest(`Unknown query parameter '${k}' (tenant, organizer, top).`);
    const tenantParam = one('tenant');
    const organizerParam = one('organizer');
    const topParam = one('top');
    const top = topParam === undefined ? 1000 : Number(topParam);
    if (!/^\d{1,5}$/.test(topParam ?? '1') || top < 1 || top > 10_000) throw badRequest("'top' must be a whole number from 1 to 10000.");
    let tenantId: string | undefined;
    if (tenantParam !== undefined) {
      const tenant = await directory.findTenant(opts.db, tenantParam);
      if (!tenant) return { value: [] };
      tenantId = tenant.id;
    }
    let organizerId: string | undefined;
    if (organizerParam !== undefined) {
      if (GUID.test(organizerParam)) organizerId = organizerParam.toLowerCase();
      else {
        const user = await directory.findUserByUpn(opts.db, organizerParam);
        if (!user) return { value: [] };
        organizerId = user.id;
      }
    }
    const found = await listMeetings(opts.db, { tenantId, organizerId, limit: top });
    const serviceRoot = `${opts.origin()}/v1.0`;
    return {
      value: found.map((m) => ({
        tenantId: m.tenantId,
        organizerId: m.organizerId,
        meeting: onlineMeetingJson(m, { serviceRoot, language: 'en-US', includeUnknownEnumMembers: true }),
      })),
    };
  });

  /** The directory as the inspector shows it: never a secret or a password hash (secret ids and hints only). */
  app.get('/_emulator/directory', async () => {
    const tenants = await directory.listTenants(opts.db);
    return {
      tenants: await Promise.all(
        tenants.map(async (t) => {
          const apps = await directory.listApplications(opts.db, t.id);
          return {
            id: t.id,
            displayName: t.display_name,
            domains: t.domains,
            users: (await directory.listUsers(opts.db, t.id)).map((u) => ({
              id: u.id,
              userPrincipalName: u.upn,
              displayName: u.display_name,
            })),
            applications: await Promise.all(
              apps.map(async (a) => ({
                id: a.id,
                clientId: a.client_id,
                displayName: a.display_name,
                publicClient: a.allow_public_client === 1,
                permissions: await directory.applicationPermissions(opts.db, a.id),
                consentedScopes: await directory.delegatedConsents(opts.db, a.id),
                secrets: (await directory.listSecrets(opts.db, a.id)).map((s) => ({
                  id: s.id,
                  hint: s.hint,
                  createdDateTime: s.created_at,
                })),
              })),
            ),
            policies: (await directory.listAccessPolicies(opts.db, t.id)).map((p) => ({
              name: p.name,
              description: p.description,
              appIds: p.appIds,
              grantedTo: p.grantedTo,
            })),
          };
        }),
      ),
    };
  });

  /**
   * Issue #18: the notifications queued and sent, newest first, with their outcome (status pending, delivered
   * or dropped; attempts; the receiver's last answer). `notification` is the item as queued, before encryption.
   */
  app.get('/_emulator/notifications', async (request: FastifyRequest<{ Querystring: Record<string, string | string[] | undefined> }>) => {
    const q = request.query;
    for (const k of Object.keys(q))
      if (!['subscriptionId', 'top'].includes(k)) throw badRequest(`Unknown query parameter '${k}' (subscriptionId, top).`);
    const sub = q.subscriptionId;
    if (Array.isArray(sub) || (sub !== undefined && !GUID.test(sub)))
      throw badRequest("'subscriptionId' must be one subscription id (a GUID).");
    const topParam = q.top;
    if (Array.isArray(topParam) || (topParam !== undefined && !/^\d{1,4}$/.test(topParam)) || Number(topParam ?? 100) < 1)
      throw badRequest("'top' must be a whole number from 1 to 1000.");
    const rows = await recentOutbox(opts.db, { subscriptionId: sub, limit: Math.min(Number(topParam ?? 100), 1000) });
    return {
      value: rows.map((r) => ({
        id: r.id,
        subscriptionId: r.subscription_id,
        tenantId: r.tenant_id,
        kind: r.kind,
        url: r.url,
        status: r.status,
        attempts: Number(r.attempts),
        createdDateTime: r.created_at,
        nextAttemptDateTime: r.status === 'pending' ? r.next_attempt_at : null,
        lastAttemptDateTime: r.last_attempt_at,
        lastStatus: r.last_status === null ? null : Number(r.last_status),
        lastError: r.last_error,
        lastDurationMs: r.last_duration_ms === null ? null : Number(r.last_duration_ms),
        deliveredDateTime: r.delivered_at,
        notification: JSON.parse(r.payload) as unknown,
      })),
    };
  });

  /**
   * Issue #18: queue the lifecycle notifications the clock calls for, then attempt every pending item now
   * (back-off or not); `{"honorBackoff": true}` attempts only what is due by the emulator clock.
   */
  app.post('/_emulator/notifications/flush', async (request) => {
    const body = request.body as Record<string, unknown> | undefined;
    if (
      body !== undefined &&
      (typeof body !== 'object' ||
        body === null ||
        Array.isArray(body) ||
        Object.keys(body).some((k) => k !== 'honorBackoff') ||
        (body.honorBackoff !== undefined && typeof body.honorBackoff !== 'boolean'))
    )
      throw badRequest('The body must be empty or {"honorBackoff": true|false}.');
    return opts.notifications.flush({ honorBackoff: body?.honorBackoff === true });
  });
}
