import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import { DEMO } from '../../domain/directory/demo-directory.js';
import { parseTenantSettings } from '../../domain/directory/tenant-settings.js';
import { threadFromJoinUrl } from '../../domain/meetings/meeting-ids.js';
import { findTenant, findUserById } from '../../storage/repositories/directory-repository.js';
import { findMeetingByThread } from '../../storage/repositories/meeting-repository.js';
import type { Database } from '../../storage/tables.js';
import { HTML_HEADERS } from '../../web/layout.js';
import {
  currentMeetingOptionsPage,
  dialInPage,
  errorPage,
  joinMeetingPage,
  landingPage,
  meetingOptionsPage,
  notFoundPage,
  virtualAppointmentPage,
} from '../../web/pages.js';
import type { Meeting } from '../../domain/meetings/meeting.js';

export interface WebPagesOptions {
  db: Kysely<Database>;
}

// Bounds before any decoding or lookup: these segments come from whoever holds (or forges) a link.
const MAX_THREAD_PARAM = 600;
const MAX_TENANT_PARAM = 256;
const CONFERENCE_ID = /^\d{1,20}$/;
const MESSAGE_ID = /^\d{1,20}$/;

const sendPage = (reply: FastifyReply, status: number, page: string) => reply.code(status).headers(HTML_HEADERS).send(page);

/**
 * The browser pages behind the links in a meeting (joinWebUrl, dialinUrl, meetingOptionsWebUrl) and a
 * landing page. Like Teams' join links they need no sign-in. Every answer, errors included, is HTML:
 * a person followed the link, so a Graph JSON error would be no use to them.
 */
export async function webPages(app: FastifyInstance, opts: WebPagesOptions): Promise<void> {
  app.setErrorHandler((err: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    const status = typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    if (status >= 500) request.log.error({ err }, 'web page failed');
    return status === 404 ? sendPage(reply, 404, notFoundPage('Page')) : sendPage(reply, status, errorPage(request.id));
  });

  app.get('/', async (_request, reply) => {
    const demo = await findTenant(opts.db, DEMO.contoso.domain);
    return sendPage(reply, 200, landingPage({ demoTenantDomain: demo ? DEMO.contoso.domain : undefined }));
  });

  app.get<{ Params: { thread: string; messageId: string } }>('/l/meetup-join/:thread/:messageId', async (request, reply) => {
    const { thread: raw, messageId } = request.params;
    // Fastify hands over the segment decoded once; links that were encoded twice (as Graph's docs show
    // them) arrive still encoded. threadFromJoinUrl decodes until stable and checks the thread-id format.
    const threadId = raw.length <= MAX_THREAD_PARAM && MESSAGE_ID.test(messageId) ? threadFromJoinUrl(joinPath(raw)) : undefined;
    const meeting = threadId ? await findMeetingByThread(opts.db, threadId) : undefined;
    if (!meeting) return sendPage(reply, 404, notFoundPage('Meeting'));
    const organizer = await findUserById(opts.db, meeting.organizerId);
    return sendPage(
      reply,
      200,
      joinMeetingPage({
        subject: meeting.subject,
        organizerName: organizer?.display_name ?? meeting.participants.organizer.identity.user?.displayName ?? 'Unknown organizer',
        startDateTime: meeting.startDateTime,
        endDateTime: meeting.endDateTime,
        joinMeetingId: meeting.joinMeetingIdSettings.joinMeetingId,
        isPasscodeRequired: meeting.joinMeetingIdSettings.isPasscodeRequired,
        tenantId: meeting.tenantId,
        conferenceId: meeting.audioConferencing.conferenceId,
      }),
    );
  });

  app.get<{ Params: { tenantId: string }; Querystring: { id?: unknown } }>('/dialin/:tenantId', async (request, reply) => {
    const { tenantId } = request.params;
    const tenant = tenantId.length <= MAX_TENANT_PARAM ? await findTenant(opts.db, tenantId) : undefined;
    if (!tenant) return sendPage(reply, 404, notFoundPage('Tenant'));
    const { dialIn } = parseTenantSettings(tenant.settings);
    const id = request.query.id;
    return sendPage(
      reply,
      200,
      dialInPage({
        tenantName: tenant.display_name,
        tollNumbers: dialIn.tollNumbers,
        tollFreeNumbers: dialIn.tollFreeNumbers,
        conferenceId: typeof id === 'string' && CONFERENCE_ID.test(id) ? id : undefined,
      }),
    );
  });

  // Issue #14: the options of the meeting the link names (organizerId, tenantId, threadId as meetingOptionsWebUrl
  // writes them), read-only; a link without them gets the explanation alone.
  app.get<{ Querystring: Record<string, unknown> }>('/meetingOptions/', async (request, reply) => {
    const { threadId, tenantId, organizerId } = request.query;
    if (threadId === undefined && tenantId === undefined && organizerId === undefined) return sendPage(reply, 200, meetingOptionsPage());
    const meeting =
      typeof threadId === 'string' && threadId.length <= MAX_THREAD_PARAM
        ? await findMeetingByThread(opts.db, threadId.replace(/^19_/, '19:'))
        : undefined;
    if (!meeting || meeting.tenantId !== tenantId || meeting.organizerId !== organizerId)
      return sendPage(reply, 404, notFoundPage('Meeting'));
    return sendPage(
      reply,
      200,
      currentMeetingOptionsPage({
        subject: meeting.subject,
        organizerName: await organizerName(meeting),
        options: Object.entries(meeting.options).map(([name, value]) => ({
          name,
          value: optionText(value),
          locked: (meeting.lockedOptions as string[]).includes(name),
        })),
      }),
    );
  });

  // The link getVirtualAppointmentJoinWebUrl returns (§3.7): tid and convId name the meeting.
  app.get<{ Querystring: Record<string, unknown> }>('/webrtc-svc/api/route', async (request, reply) => {
    const { tid, convId } = request.query;
    const meeting =
      typeof convId === 'string' && convId.length <= MAX_THREAD_PARAM && typeof tid === 'string'
        ? await findMeetingByThread(opts.db, convId)
        : undefined;
    if (!meeting || meeting.tenantId !== tid) return sendPage(reply, 404, notFoundPage('Appointment'));
    return sendPage(
      reply,
      200,
      virtualAppointmentPage({
        subject: meeting.subject,
        organizerName: await organizerName(meeting),
        startDateTime: meeting.startDateTime,
        endDateTime: meeting.endDateTime,
      }),
    );
  });

  const organizerName = async (meeting: Meeting) =>
    (await findUserById(opts.db, meeting.organizerId))?.display_name ??
    meeting.participants.organizer.identity.user?.displayName ??
    'Unknown organizer';

  // Anything else under the link prefixes (missing or extra segments, or a segment longer than the
  // router's maxParamLength, which would otherwise get the router's bare 414 JSON) is a link to nothing.
  for (const [prefix, what] of [
    ['/l/meetup-join', 'Meeting'],
    ['/dialin', 'Tenant'],
  ] as const) {
    const notFound = async (_request: FastifyRequest, reply: FastifyReply) => sendPage(reply, 404, notFoundPage(what));
    app.get(prefix, notFound);
    app.get(`${prefix}/*`, notFound);
  }
}

/** An option's value as a person reads it: yes/no, the enum member, or the members of a complex value. */
function optionText(value: unknown): string {
  if (value === null || value === undefined) return 'Not set';
  if (typeof value === 'boolean') return value ? 'Yes' : 'No';
  if (typeof value !== 'object') return String(value);
  if (Array.isArray(value)) return value.length === 0 ? 'None' : value.map(optionText).join(', ');
  return Object.entries(value)
    .map(([k, v]) => `${k}: ${optionText(v)}`)
    .join('; ');
}

/** The segment re-encoded into a join-link path, the shape threadFromJoinUrl parses. */
const joinPath = (segment: string) => `/l/meetup-join/${encodeURIComponent(segment)}/0`;
