import { randomUUID } from 'node:crypto';
import type { CompiledQuery, Kysely, Transaction } from 'kysely';
import { artifactFacts, enqueueChangeQuery, type Change } from '../../storage/repositories/subscription-repository.js';
import type { Database } from '../../storage/tables.js';
import { formatDateTime } from '../datetime.js';
import type { CalendarEvent } from '../events/event.js';
import { changeKey } from '../events/event-ids.js';

/** §3.8: Graph retries a notification for up to 4 hours, then discards it. */
export const RETRY_HORIZON_MS = 4 * 3_600_000;

export interface ArtifactChange {
  kind: 'transcripts' | 'recordings';
  tenantId: string;
  meetingId: string;
  organizerId: string;
  artifactId: string;
  /** When transcription (or recording) started: only subscriptions that existed then are notified (§3.3). */
  startedAt: string;
  /** The rich payload's decrypted `data` (§3.5): the callTranscript / callRecording JSON. */
  resource: Record<string, unknown>;
}

/**
 * What the domain says when something happens that subscriptions may watch (issue #18). Each method returns
 * the one INSERT … SELECT that queues the change for every live subscription that sees it, for the caller to
 * run in the same transaction as the change itself (Store.writeTogether): the transactional outbox. Nothing
 * here calls HTTP; src/notifications delivers.
 */
export class ChangeFeed {
  constructor(
    private readonly deps: {
      db: Kysely<Database>;
      clock: () => number;
      /** The event's JSON as GET returns it, for rich notifications (the HTTP view, injected so that the domain stays below it). */
      renderEvent?: (event: CalendarEvent) => Record<string, unknown>;
    },
  ) {}

  private base(nowMs: number) {
    return {
      // Not from ID_SEED's sequence: an outbox row must not shift the ids of what is created after it.
      changeId: randomUUID(),
      now: formatDateTime({ ms: nowMs, ticks: 0 }),
      giveUpAt: formatDateTime({ ms: nowMs + RETRY_HORIZON_MS, ticks: 0 }),
    };
  }

  /**
   * events spec §7: `Users/{oid}/Events/{id}` with `#Microsoft.Graph.Event` and the long notification ETag
   * (§0.2: 0F000000 16000000 + the 22-byte change key). `event` is the state after the change (before it for
   * deletes); its version is the one the write produces.
   */
  eventChanged(event: CalendarEvent, changeType: 'created' | 'updated' | 'deleted'): CompiledQuery {
    const nowMs = this.deps.clock();
    const resource = `Users/${event.ownerId}/Events/${event.id}`;
    const resourceData: Record<string, unknown> = { '@odata.type': '#Microsoft.Graph.Event', '@odata.id': resource };
    if (changeType !== 'deleted') {
      const long = Buffer.concat([Buffer.from('0f00000016000000', 'hex'), Buffer.from(changeKey(event.ownerId, event.version), 'base64')]);
      resourceData['@odata.etag'] = `W/"${long.toString('base64')}"`;
    }
    resourceData.id = event.id;
    const rendered = changeType !== 'deleted' && this.deps.renderEvent ? JSON.stringify(this.deps.renderEvent(event)) : null;
    const change: Change = {
      ...this.base(nowMs),
      tenantId: event.tenantId,
      kind: 'events',
      keys: [`user:${event.ownerId}`],
      changeType,
      payload: JSON.stringify({ changeType, resource, resourceData }),
      resourceJson: rendered,
      subscribedBy: formatDateTime({ ms: nowMs, ticks: 0 }),
    };
    return enqueueChangeQuery(this.deps.db, change);
  }

  /**
   * Issue #17's SessionService.inTransaction hook: inside the transaction that stored a session's transcript
   * and recording (or completed a streamed recording), queue their notifications, so that they commit or roll
   * back with the artifacts. The session's start is when transcription started (§3.3).
   */
  async sessionRecorded(tx: Transaction<Database>, recorded: { transcriptId: string | null; recordingId: string | null }): Promise<void> {
    for (const [kind, id] of [
      ['transcripts', recorded.transcriptId],
      ['recordings', recorded.recordingId],
    ] as const) {
      if (id === null) continue;
      const row = await artifactFacts(tx, kind, id);
      if (!row) continue;
      const url = `communications/onlineMeetings/${row.meeting_id}/${kind}/${row.id}/content`;
      await tx.executeQuery(
        this.artifactCreated({
          kind,
          tenantId: row.tenant_id,
          meetingId: row.meeting_id,
          organizerId: row.organizer_id,
          artifactId: row.id,
          startedAt: row.created_date_time,
          // §3.5's decrypted data: ids, the content URL relative to the service root, the organizer; recordings carry content: null.
          resource: {
            id: row.id,
            meetingId: row.meeting_id,
            callId: row.call_id,
            contentCorrelationId: row.content_correlation_id,
            createdDateTime: row.created_date_time,
            endDateTime: row.end_date_time,
            ...(kind === 'transcripts' ? { transcriptContentUrl: url } : { recordingContentUrl: url, content: null }),
            meetingOrganizer: {
              application: null,
              device: null,
              user: { userIdentityType: 'aadUser', id: row.organizer_id, displayName: null, tenantId: row.tenant_id },
            },
          },
        }),
      );
    }
  }

  /**
   * §3.3, §3.5: a transcript or recording was created. Subscribers to the tenant's getAll resource, the
   * organizer's users/{id}/onlineMeetings/getAll… and the meeting's own resource are notified, if they
   * subscribed before it started. resource = communications/onlineMeetings('{mid}')/transcripts('{id}').
   */
  artifactCreated(a: ArtifactChange): CompiledQuery {
    const nowMs = this.deps.clock();
    const resource = `communications/onlineMeetings('${a.meetingId}')/${a.kind}('${a.artifactId}')`;
    const type = a.kind === 'transcripts' ? '#Microsoft.Graph.callTranscript' : '#Microsoft.Graph.callRecording';
    const change: Change = {
      ...this.base(nowMs),
      tenantId: a.tenantId,
      kind: a.kind,
      keys: ['tenant', `user:${a.organizerId}`, `meeting:${a.meetingId}`],
      changeType: 'created',
      payload: JSON.stringify({
        changeType: 'created',
        resource,
        resourceData: { id: a.artifactId, '@odata.type': type, '@odata.id': resource },
      }),
      resourceJson: JSON.stringify(a.resource),
      subscribedBy: a.startedAt,
    };
    return enqueueChangeQuery(this.deps.db, change);
  }
}
