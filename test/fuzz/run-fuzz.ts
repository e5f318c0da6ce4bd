import { DirectoryService } from '../../src/domain/directory/directory-service.js';
import fc from 'fast-check';
import type { LightMyRequestResponse } from 'fastify';
import { GraphError } from '../../src/domain/errors.js';
import type { StoreKind } from '../../src/storage/database.js';
import { DEMO, startTestApp, type TestApp } from '../helpers/test-app.js';
import {
  describeRequest,
  REQUEST_KINDS,
  requestArbitrary,
  withDescription,
  type FuzzContext,
  type FuzzRequest,
  type RefMeeting,
  type RequestKind,
} from './generators.js';

/**
 * The bad-input fuzz run: one app on a fresh store, a few reference meetings snapshotted from the
 * `meetings` table, then `runs` generated requests (generators.ts) through `app.inject`. For each:
 *
 * - the status is below 500;
 * - an error (>= 400) is Graph's OData envelope with innerError.request-id equal to the request-id header,
 *   or, on the token endpoint, Entra's error shape (`error`, `error_description`, `error_codes`);
 * - no body carries a stack trace;
 * - a PATCH of a reference meeting (always invalid, or by a caller who may not write it) is refused;
 * - a refused PATCH of a throwaway meeting leaves its row as it was (the throwaway is created, with a
 *   fuzzed create body, inside the same run: that is how valid PATCH bodies get exercised without
 *   touching the reference meetings);
 * - createOrGet naming a reference meeting's key answers 200 with that meeting;
 * - meetings in 2xx bodies carry Graph's date-times (UTC, 7 fractional digits).
 *
 * After the run the reference meetings' rows must be byte-identical to the snapshot.
 */

export interface FuzzOptions {
  kind: StoreKind;
  runs: number;
  seed: number;
  /**
   * 'assert' (default): the first violation fails the property and fast-check shrinks it to a minimal
   * counterexample. 'collect': every run is made, and violations are grouped in the report.
   */
  mode?: 'assert' | 'collect';
  /** Called every `progressEvery` runs. */
  onProgress?: (report: FuzzReport) => void;
  progressEvery?: number;
  env?: Record<string, string>;
  /** Gets the final report before the app is closed (so that a failing close cannot lose it). */
  onReport?: (report: FuzzReport) => void;
  /** Sees every generated request and its response (for ad-hoc investigation). */
  onResponse?: (req: FuzzRequest, res: LightMyRequestResponse) => void;
}

export interface ViolationGroup {
  reason: string;
  kind: RequestKind;
  status: number;
  code: string;
  count: number;
  /** Up to three requests (one line each) with the response body and, when caught, the server-side cause. */
  examples: string[];
}

export interface FuzzReport {
  store: StoreKind;
  seed: number;
  runs: number;
  /** Generated requests sent (each run sends one). */
  requests: number;
  /** Requests the harness sent around them (throwaway meetings for patchNew). */
  helperRequests: number;
  perKind: Record<RequestKind, number>;
  /** Milliseconds spent per kind (generation excluded; patchNew includes its throwaway meeting). */
  perKindMs: Record<RequestKind, number>;
  statuses: Record<string, number>;
  perKindStatuses: Record<RequestKind, Record<string, number>>;
  fiveXx: number;
  envelopeViolations: number;
  violations: ViolationGroup[];
  referenceMeetings: number;
  /** Reference meetings whose row differs from the snapshot, with the columns that changed. */
  referenceChanges: string[];
  elapsedMs: number;
}

const GRAPH_DATE_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z$/;
const INNER_ERROR_DATE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/;
const ENVELOPE_REASONS = new Set(['error is not a Graph envelope', 'error is not in Entra shape', 'error body is not JSON']);

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Makes the reference meetings (delegated for Alice, app-only for Bob) and returns what the generators need. */
async function prepare(t: TestApp): Promise<FuzzContext> {
  const C = DEMO.contoso;
  const F = DEMO.fabrikam;
  // Issue #14: the apps may read users, so that the /users fuzz reaches its query parsing and tenant scoping.
  const directory = new DirectoryService(t.testStore.store.db);
  await directory.grantApplicationPermission(C.scheduler.clientId, 'User.Read.All');
  await directory.grantApplicationPermission(F.scheduler.clientId, 'User.Read.All');
  const tokens = {
    alice: await t.userToken(),
    aliceRead: await t.userToken(C.alice.upn, ['OnlineMeetings.Read']),
    bob: await t.userToken(C.bob.upn),
    carol: await t.userToken(C.carol.upn),
    app: await t.appToken(),
    fabrikamApp: await t.appToken(F.scheduler.clientId, F.scheduler.secret, F.tenantId),
  };
  const make = async (token: string, url: string, body: unknown, owner: RefMeeting['owner']): Promise<RefMeeting> => {
    const res = await t.inject({
      method: 'POST',
      url,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      payload: JSON.stringify(body),
    });
    if (res.statusCode !== 201) throw new Error(`reference meeting not created: ${res.statusCode} ${res.body}`);
    const m = res.json() as {
      id: string;
      joinWebUrl: string;
      joinMeetingIdSettings: { joinMeetingId: string };
      videoTeleconferenceId: string;
      chatInfo: { threadId: string };
      externalId?: string | null;
    };
    return {
      id: m.id,
      owner,
      threadId: m.chatInfo.threadId,
      joinWebUrl: m.joinWebUrl,
      joinMeetingId: m.joinMeetingIdSettings.joinMeetingId,
      videoTeleconferenceId: m.videoTeleconferenceId,
      externalId: m.externalId ?? null,
    };
  };
  const rich = {
    subject: 'Fuzz reference: rich',
    startDateTime: '2030-01-02T10:00:00.1234567+01:00',
    endDateTime: '2030-01-02T11:30:00Z',
    participants: {
      attendees: [
        { upn: C.bob.upn, role: 'presenter', identity: { user: { id: C.bob.id } } },
        { upn: 'guest@example.com', role: 'attendee' },
      ],
    },
    anonymizeIdentityForRoles: ['attendee'],
    lobbyBypassSettings: { scope: 'organization', isDialInBypassEnabled: true },
    joinMeetingIdSettings: { isPasscodeRequired: true },
    meetingSpokenLanguageTag: 'de-DE',
    sensitivityLabelAssignment: { sensitivityLabelId: 'c3a1e0e5-1c1e-4c1e-9c1e-1c1e1c1e1c1e' },
    allowMeetingChat: 'limited',
  };
  const bobPath = `/v1.0/users/${C.bob.id}/onlineMeetings`;
  const refs = [
    await make(tokens.alice, '/v1.0/me/onlineMeetings', rich, 'alice'),
    await make(tokens.alice, '/v1.0/me/onlineMeetings', { subject: 'Fuzz reference: template', meetingTemplateId: C.templateId }, 'alice'),
    await make(
      tokens.alice,
      '/v1.0/me/onlineMeetings/createOrGet',
      { externalId: 'fuzz-ref-alice', subject: 'Fuzz reference: key' },
      'alice',
    ),
    await make(tokens.app, bobPath, { ...rich, subject: 'Fuzz reference: Bob' }, 'bob'),
    await make(tokens.app, `${bobPath}/createOrGet`, { externalId: 'fuzz-ref-bob', participants: rich.participants }, 'bob'),
  ];
  return {
    tenantId: C.tenantId,
    domain: C.domain,
    templateId: C.templateId,
    password: DEMO.password,
    users: { alice: C.alice, bob: C.bob, carol: C.carol, dave: F.dave },
    apps: {
      scheduler: C.scheduler,
      client: C.client,
      fabrikam: { ...F.scheduler, tenantId: F.tenantId, domain: F.domain },
    },
    tokens,
    refs,
  };
}

/** The meetings rows of `ids`, one JSON string per id (every column, as the driver returns it). */
async function readRows(t: TestApp, ids: string[]): Promise<Map<string, string>> {
  const rows = await t.app.graphMeetings.store.db.selectFrom('meetings').selectAll().where('id', 'in', ids).execute();
  return new Map(rows.map((r) => [r.id, JSON.stringify(r)]));
}

/**
 * Records the first unexpected (non-GraphError) exception thrown by the meeting service or the directory
 * lookups while a request is served, so that a 5xx in the report comes with its cause. Observation only.
 */
function instrument(t: TestApp): { take(): string | undefined } {
  let last: string | undefined;
  for (const target of [t.app.graphMeetings.meetings, t.app.graphMeetings.directory] as object[]) {
    const proto = Object.getPrototypeOf(target) as Record<string, unknown>;
    for (const name of Object.getOwnPropertyNames(proto)) {
      const original = proto[name];
      if (name === 'constructor' || typeof original !== 'function') continue;
      Object.defineProperty(target, name, {
        configurable: true,
        value: function (this: unknown, ...args: unknown[]) {
          const note = (err: unknown) => {
            if (!(err instanceof GraphError) && last === undefined) {
              const e = err as Error;
              const frame = String(e?.stack ?? '')
                .split('\n')
                .find((l) => l.includes('/src/'));
              last = `${e?.name ?? 'Error'}: ${String(e?.message ?? err).slice(0, 160)}${
                frame
                  ? ` (${frame
                      .trim()
                      .replace(/^at /, '')
                      .replace(/\(.*\/src\//, '(src/')})`
                  : ''
              } in ${name}()`;
            }
            throw err;
          };
          try {
            const result = (original as (...a: unknown[]) => unknown).apply(this, args);
            return result instanceof Promise ? result.catch(note) : result;
          } catch (err) {
            return note(err);
          }
        },
      });
    }
  }
  return {
    take() {
      const value = last;
      last = undefined;
      return value;
    },
  };
}

const short = (s: string, n = 300) => (s.length > n ? `${s.slice(0, n)}…(${s.length})` : s);

/** What is wrong with one response; empty when it is fine. */
function checkResponse(req: FuzzRequest, res: LightMyRequestResponse): { problems: string[]; code: string } {
  const problems: string[] = [];
  const status = res.statusCode;
  let body: unknown;
  const text = res.body;
  try {
    body = text.length > 0 ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  const error = isObject(body) ? body.error : undefined;
  // Graph's error.code, else a framework's own code (FST_…), else Entra's error.
  const code = isObject(error)
    ? String(error.code)
    : isObject(body) && body.code
      ? String(body.code)
      : typeof error === 'string'
        ? error
        : '';

  if (status >= 500) problems.push('5xx');
  if (text.includes('    at ')) problems.push('stack trace in body');
  if (status >= 400) {
    if (body === undefined) problems.push('error body is not JSON');
    else if (req.kind === 'token' && isEntraError(body)) {
      // Entra's shape.
    } else if (!isGraphEnvelope(body, res))
      problems.push(req.kind === 'token' ? 'error is not in Entra shape' : 'error is not a Graph envelope');
  } else if (status >= 200 && status < 300 && req.kind !== 'token' && status !== 204) {
    if (body === undefined) problems.push('2xx body is not JSON');
    for (const m of meetingsIn(body)) {
      for (const f of ['creationDateTime', 'startDateTime', 'endDateTime', 'expiryDateTime']) {
        // ($select may leave some out.)
        if (f in m && (typeof m[f] !== 'string' || !GRAPH_DATE_TIME.test(m[f] as string))) {
          problems.push(`meeting ${f} not in Graph's date-time format`);
          break;
        }
      }
    }
  }
  if (status >= 200 && status < 300 && req.mustNotLeak?.some((s) => text.toLowerCase().includes(s.toLowerCase())))
    problems.push('another tenant leaked into the answer');
  if (req.kind === 'batch' && status === 200 && isObject(body) && Array.isArray(body.responses)) {
    for (const inner of body.responses) {
      if (!isObject(inner) || typeof inner.status !== 'number') problems.push('batch response item malformed');
      else if (inner.status >= 500) problems.push('5xx inside a batch');
      else if (inner.status >= 400 && !(isObject(inner.body) && isObject(inner.body.error)))
        problems.push('batch error item is not a Graph envelope');
    }
  }
  if (req.mustFail && status < 400) problems.push('PATCH of a reference meeting was not refused');
  if (req.expectExisting && status >= 200 && status < 300) {
    if (status !== 200 || !isObject(body) || body.id !== req.expectExisting)
      problems.push('createOrGet of an existing key did not return that meeting with 200');
  }
  return { problems, code };
}

function isGraphEnvelope(body: unknown, res: LightMyRequestResponse): boolean {
  if (!isObject(body) || Object.keys(body).length !== 1 || !isObject(body.error)) return false;
  const { code, message, innerError } = body.error;
  if (typeof code !== 'string' || code === '' || typeof message !== 'string' || message === '' || !isObject(innerError)) return false;
  const requestId = res.headers['request-id'];
  return (
    typeof innerError.date === 'string' &&
    INNER_ERROR_DATE.test(innerError.date) &&
    typeof requestId === 'string' &&
    innerError['request-id'] === requestId &&
    typeof innerError['client-request-id'] === 'string' &&
    /^application\/json/.test(String(res.headers['content-type']))
  );
}

function isEntraError(body: unknown): boolean {
  return (
    isObject(body) &&
    typeof body.error === 'string' &&
    typeof body.error_description === 'string' &&
    Array.isArray(body.error_codes) &&
    body.error_codes.every((c) => typeof c === 'number')
  );
}

/** Meetings in a 2xx body: the entity itself, or a collection's `value`. */
function meetingsIn(body: unknown): Json[] {
  if (!isObject(body)) return [];
  if (Array.isArray(body.value)) return body.value.filter(isObject).filter((m) => 'startDateTime' in m);
  return 'startDateTime' in body && 'id' in body ? [body] : [];
}

class Stats {
  requests = 0;
  helperRequests = 0;
  perKind = Object.fromEntries(REQUEST_KINDS.map((k) => [k, 0])) as Record<RequestKind, number>;
  perKindMs = Object.fromEntries(REQUEST_KINDS.map((k) => [k, 0])) as Record<RequestKind, number>;
  statuses: Record<string, number> = {};
  perKindStatuses = Object.fromEntries(REQUEST_KINDS.map((k) => [k, {}])) as Record<RequestKind, Record<string, number>>;
  fiveXx = 0;
  envelopeViolations = 0;
  groups = new Map<string, ViolationGroup>();

  count(kind: RequestKind, status: number) {
    this.requests++;
    this.perKind[kind]++;
    this.statuses[status] = (this.statuses[status] ?? 0) + 1;
    this.perKindStatuses[kind][status] = (this.perKindStatuses[kind][status] ?? 0) + 1;
    if (status >= 500) this.fiveXx++;
  }

  violation(reason: string, req: FuzzRequest, status: number, code: string, example: string) {
    if (ENVELOPE_REASONS.has(reason)) this.envelopeViolations++;
    const key = `${reason}|${req.kind}|${status}|${code}`;
    let g = this.groups.get(key);
    if (!g) {
      g = { reason, kind: req.kind, status, code, count: 0, examples: [] };
      this.groups.set(key, g);
    }
    g.count++;
    if (g.examples.length < 3) g.examples.push(example);
  }
}

/** Runs the fuzz property; see the top of this file. */
export async function fuzz(options: FuzzOptions): Promise<FuzzReport> {
  const mode = options.mode ?? 'assert';
  const started = performance.now();
  const t = await startTestApp(options.kind, options.env ? { env: options.env } : {});
  const stats = new Stats();
  try {
    const ctx = await prepare(t);
    const refIds = ctx.refs.map((r) => r.id);
    const snapshot = await readRows(t, refIds);
    const causes = instrument(t);
    const report = (referenceChanges: string[] = []): FuzzReport => ({
      store: options.kind,
      seed: options.seed,
      runs: options.runs,
      requests: stats.requests,
      helperRequests: stats.helperRequests,
      perKind: stats.perKind,
      perKindMs: Object.fromEntries(Object.entries(stats.perKindMs).map(([k, v]) => [k, Math.round(v)])) as Record<RequestKind, number>,
      statuses: stats.statuses,
      perKindStatuses: stats.perKindStatuses,
      fiveXx: stats.fiveXx,
      envelopeViolations: stats.envelopeViolations,
      violations: [...stats.groups.values()].sort((a, b) => b.count - a.count),
      referenceMeetings: refIds.length,
      referenceChanges,
      elapsedMs: Math.round(performance.now() - started),
    });

    const fail = (req: FuzzRequest, res: LightMyRequestResponse, problems: string[], code: string, extra = '') => {
      const cause = causes.take();
      const example = `${describeRequest(req)}${extra} → ${res.statusCode} ${short(res.body, 400)}${cause ? ` [server: ${cause}]` : ''}`;
      for (const p of problems) stats.violation(p, req, res.statusCode, code, example);
      if (mode === 'assert') throw new Error(`${problems.join('; ')}\n  ${example}`);
    };

    /** patchNew: a throwaway meeting of the caller's organizer, made with the generated create body if it is accepted. */
    const throwaway = async (req: FuzzRequest): Promise<string | undefined> => {
      const { owner, body } = req.setup!;
      const url = owner === 'alice' ? '/v1.0/me/onlineMeetings' : `/v1.0/users/${ctx.users.bob.id}/onlineMeetings`;
      const token = owner === 'alice' ? ctx.tokens.alice : ctx.tokens.app;
      for (const payload of [body, '{}']) {
        const res = await t.inject({
          method: 'POST',
          url,
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          payload,
        });
        stats.helperRequests++;
        const setupReq = withDescription({
          kind: 'create',
          method: 'POST',
          url,
          headers: {},
          payload,
          note: `setup of patchNew (${owner})`,
        });
        const { problems, code } = checkResponse(setupReq, res);
        if (problems.length)
          fail(
            setupReq,
            res,
            problems.map((p) => `${p} (patchNew setup)`),
            code,
          );
        if (res.statusCode === 201) return (res.json() as { id: string }).id;
      }
      return undefined;
    };

    let done = 0;
    const property = fc.asyncProperty(requestArbitrary(ctx), async (req) => {
      causes.take();
      const t0 = performance.now();
      let url = req.url;
      let newId: string | undefined;
      let before: string | undefined;
      if (req.setup) {
        newId = await throwaway(req);
        if (!newId) return true; // reported by throwaway()
        url = url.replace('{new}', newId);
        before = (await readRows(t, [newId])).get(newId);
      }
      let res: LightMyRequestResponse;
      try {
        res = await t.inject({
          method: req.method,
          url,
          headers: req.headers,
          ...(req.payload !== undefined ? { payload: req.payload } : {}),
        });
      } catch (err) {
        // The harness could not send it (not the service's fault): report it, it means a generator is wrong.
        stats.violation(`harness could not send the request: ${String(err).slice(0, 100)}`, req, 0, '', describeRequest(req));
        if (mode === 'assert') throw err;
        return true;
      }
      stats.count(req.kind, res.statusCode);
      options.onResponse?.(req, res);
      stats.perKindMs[req.kind] += performance.now() - t0;
      const { problems, code } = checkResponse(req, res);
      let extra = '';
      if (newId && res.statusCode >= 400) {
        const after = (await readRows(t, [newId])).get(newId);
        if (after !== before) {
          problems.push('refused PATCH changed the meeting');
          extra = ` (row before ${short(before ?? '', 200)} after ${short(after ?? '', 200)})`;
        }
      }
      if (problems.length) fail(req, res, problems, code, extra);
      done++;
      if (options.onProgress && options.progressEvery && done % options.progressEvery === 0) options.onProgress(report());
      return true;
    });
    await fc.assert(property, { numRuns: options.runs, seed: options.seed, includeErrorInReport: true });

    const after = await readRows(t, refIds);
    const referenceChanges = refIds
      .filter((id) => after.get(id) !== snapshot.get(id))
      .map((id) => describeChange(id, snapshot.get(id), after.get(id)));
    if (mode === 'assert' && referenceChanges.length) throw new Error(`reference meetings changed:\n  ${referenceChanges.join('\n  ')}`);
    const final = report(referenceChanges);
    options.onReport?.(final);
    return final;
  } finally {
    await t.close();
  }
}

function describeChange(id: string, before: string | undefined, after: string | undefined): string {
  if (!after) return `${id}: row is gone`;
  const b = JSON.parse(before ?? '{}') as Json;
  const a = JSON.parse(after) as Json;
  const columns = Object.keys({ ...a, ...b }).filter((k) => JSON.stringify(a[k]) !== JSON.stringify(b[k]));
  return `${id}: ${columns.map((c) => `${c} ${short(JSON.stringify(b[c]), 80)} → ${short(JSON.stringify(a[c]), 80)}`).join(', ')}`;
}

/** The report as text: totals, per-kind counts and statuses, violations with examples. */
export function formatReport(r: FuzzReport): string {
  const histogram = (h: Record<string, number>) =>
    Object.entries(h)
      .sort(([a], [b]) => Number(a) - Number(b))
      .map(([s, n]) => `${s}:${n}`)
      .join(' ');
  const lines = [
    `store ${r.store}, seed ${r.seed}, ${r.runs} runs in ${(r.elapsedMs / 1000).toFixed(1)} s`,
    `requests sent: ${r.requests} generated + ${r.helperRequests} helper (throwaway meetings for patchNew)`,
    `per kind: ${REQUEST_KINDS.map((k) => `${k} ${r.perKind[k]} (${(r.perKindMs[k] / 1000).toFixed(1)} s)`).join(', ')}`,
    `statuses: ${histogram(r.statuses)}`,
    ...REQUEST_KINDS.map((k) => `  ${k.padEnd(11)} ${histogram(r.perKindStatuses[k])}`),
    `5xx: ${r.fiveXx}; envelope violations: ${r.envelopeViolations}; violation groups: ${r.violations.length}`,
    `reference meetings: ${r.referenceMeetings}, changed: ${r.referenceChanges.length}`,
    ...r.referenceChanges.map((c) => `  changed ${c}`),
  ];
  for (const v of r.violations) {
    lines.push(`- ${v.count} × ${v.reason} [${v.kind} → ${v.status}${v.code ? ` ${v.code}` : ''}]`);
    for (const e of v.examples) lines.push(`    e.g. ${e}`);
  }
  return lines.join('\n');
}
