/**
 * A long-lived child process that drives the official Microsoft client libraries against the server
 * under test. Start it with NODE_EXTRA_CA_CERTS=<DATA_DIR/tls/ca.pem> (test/helpers/sdk-worker-client.ts):
 * that variable is only read at process start (client-compat §1.3), and it is the ONLY trust this file
 * relies on. No tlsOptions, no ca, no undici dispatcher here; that is the point of the exercise.
 *
 * Protocol (test/sdk/protocol.ts): receives { id, op, args } over IPC, replies { id, ok: true, result }
 * or { id, ok: false, error } with a plain summary of what the SDK threw.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { ClientSecretCredential, DeviceCodeCredential, UsernamePasswordCredential } from '@azure/identity';
import type { TokenCredential } from '@azure/identity';
import { ConfidentialClientApplication, CryptoProvider, PublicClientApplication } from '@azure/msal-node';
import { AzureIdentityAuthenticationProvider } from '@microsoft/kiota-authentication-azure';
import {
  BatchRequestContent as V3BatchRequestContent,
  BatchResponseContent as V3BatchResponseContent,
  Client,
  GraphError,
  type ResponseType,
} from '@microsoft/microsoft-graph-client';
import { BatchRequestContent, PageIterator } from '@microsoft/msgraph-sdk-core';
import {
  createUserCollectionResponseFromDiscriminatorValue,
  createUserFromDiscriminatorValue,
  type User,
} from '@microsoft/msgraph-sdk/models/index.js';
import { createODataErrorFromDiscriminatorValue } from '@microsoft/msgraph-sdk/models/oDataErrors/index.js';
import type { ParseNodeFactoryRegistry } from '@microsoft/kiota-abstractions';
import { TokenCredentialAuthenticationProvider } from '@microsoft/microsoft-graph-client/authProviders/azureTokenCredentials/index.js';
import { createGraphServiceClient, GraphRequestAdapter, type GraphServiceClient } from '@microsoft/msgraph-sdk';
import { deserializeIntoOnlineMeeting, type Event, type OnlineMeeting } from '@microsoft/msgraph-sdk/models/index.js';
import '@microsoft/msgraph-sdk-users';
import type { CreateOrGetPostRequestBody } from '@microsoft/msgraph-sdk-users/users/item/onlineMeetings/createOrGet/index.js';
import type {
  CredentialSpec,
  InteractiveResult,
  KiotaResult,
  OpName,
  Ops,
  RetriedCall,
  SdkErrorSummary,
  WireExchange,
  WorkerRequest,
  WorkerResponse,
} from './protocol.js';

const APP_SCOPES = ['https://graph.microsoft.com/.default'];
const DEFAULT_USER_SCOPES = ['https://graph.microsoft.com/OnlineMeetings.ReadWrite'];
/** Client-compat §3.2: hostname only, no scheme, no port. */
const ALLOWED_HOSTS = ['127.0.0.1', 'localhost'];

// ---------------------------------------------------------------------------------------------------
// Wire recording. Both Graph clients end in the global fetch (v3's HTTPMessageHandler calls it per request;
// Kiota's default middleware chain takes it when the client is built, which is always after this module
// loaded). Wrapping it here changes nothing about trust or transport: it passes every call through and,
// only inside a traced op (an AsyncLocalStorage scope), keeps a copy of what went out and what came back.

const traces = new AsyncLocalStorage<WireExchange[]>();
const untracedFetch = globalThis.fetch;

function bodyText(body: unknown): string | null {
  if (body === undefined || body === null) return null;
  if (typeof body === 'string') return body;
  if (body instanceof ArrayBuffer) return Buffer.from(body).toString('utf8');
  if (ArrayBuffer.isView(body)) return Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8');
  return `[${Object.prototype.toString.call(body)}]`;
}

globalThis.fetch = async function recordingFetch(input: Parameters<typeof fetch>[0], init?: RequestInit): Promise<Response> {
  const log = traces.getStore();
  const res = await untracedFetch(input, init);
  if (log) {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const method = init?.method ?? (input instanceof Request ? input.method : 'GET');
    const text = await res.clone().text();
    let body: unknown = text;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      // not JSON: keep the text
    }
    log.push({
      method: method.toUpperCase(),
      url,
      requestBody: bodyText(init?.body),
      status: res.status,
      headers: Object.fromEntries(res.headers.entries()),
      body,
    });
  }
  return res;
};

/** Runs `fn` and returns its result with the last HTTP exchange it made. */
async function traced<T>(fn: () => Promise<T>): Promise<{ value: T; wire: WireExchange }> {
  const log: WireExchange[] = [];
  const value = await traces.run(log, fn);
  const wire = log.at(-1);
  if (!wire) throw new Error('the SDK call made no HTTP request through fetch');
  return { value, wire };
}

// ---------------------------------------------------------------------------------------------------
// Credentials, cached by their full configuration (so tokens are reused across calls, as in real apps).

const credentials = new Map<string, TokenCredential>();

function credential(origin: string, spec: CredentialSpec): TokenCredential {
  const key = JSON.stringify([origin, spec]);
  let cred = credentials.get(key);
  if (!cred) {
    const options = { authorityHost: origin, disableInstanceDiscovery: true };
    cred =
      spec.type === 'app'
        ? new ClientSecretCredential(spec.tenant, spec.clientId, spec.secret, options)
        : new UsernamePasswordCredential(spec.tenant, spec.clientId, spec.username, spec.password, options);
    credentials.set(key, cred);
  }
  return cred;
}

function scopesFor(spec: CredentialSpec): string[] {
  return spec.type === 'app' ? APP_SCOPES : (spec.scopes ?? DEFAULT_USER_SCOPES);
}

async function tokenFrom(cred: TokenCredential, scopes: string[]): Promise<string> {
  const token = await cred.getToken(scopes);
  if (!token) throw new Error('getToken returned null');
  return token.token;
}

// ---------------------------------------------------------------------------------------------------
// Kiota helpers.

function kiotaAdapter(origin: string, spec: CredentialSpec): GraphRequestAdapter {
  const auth = new AzureIdentityAuthenticationProvider(credential(origin, spec), scopesFor(spec), undefined, new Set(ALLOWED_HOSTS));
  const adapter = new GraphRequestAdapter(auth);
  adapter.baseUrl = `${origin}/v1.0`;
  return adapter;
}

function kiotaClient(origin: string, spec: CredentialSpec): GraphServiceClient {
  return createGraphServiceClient(kiotaAdapter(origin, spec));
}

function v3Client(origin: string, cred: CredentialSpec): Client {
  return Client.initWithMiddleware({
    baseUrl: origin,
    customHosts: new Set(ALLOWED_HOSTS),
    authProvider: new TokenCredentialAuthenticationProvider(credential(origin, cred), { scopes: scopesFor(cred) }),
  });
}

const ERROR_MAPPINGS = { XXX: createODataErrorFromDiscriminatorValue };

/** `graph.me.onlineMeetings` (delegated) or `graph.users.byUserId(userId).onlineMeetings`. */
function kiotaMeetings(origin: string, spec: CredentialSpec, userId: string | undefined) {
  const graph = kiotaClient(origin, spec);
  return userId === undefined ? graph.me.onlineMeetings : graph.users.byUserId(userId).onlineMeetings;
}

const DATE_FIELDS = ['startDateTime', 'endDateTime', 'creationDateTime'];

/** Parent sends JSON, so dates arrive as strings; Kiota's serializer wants Date objects for typed date properties. */
function toKiotaBody(body: Record<string, unknown>): OnlineMeeting {
  const out: Record<string, unknown> = { ...body };
  for (const f of DATE_FIELDS) if (typeof out[f] === 'string') out[f] = new Date(out[f] as string);
  return out as OnlineMeeting;
}

/** Kiota bookkeeping that is not part of the resource. */
const KIOTA_INTERNAL = new Set(['backingStore', 'backingStoreEnabled', 'additionalData']);

/** Converts a Kiota model (possibly backed by a backing store, with Dates, Durations, ...) to plain JSON. */
function toPlain(value: unknown, seen = new WeakSet<object>()): unknown {
  if (value === null || value === undefined) return value ?? null;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'function' || typeof value === 'symbol') return undefined;
  if (typeof value !== 'object') return value;
  if (seen.has(value)) return '[Circular]';
  seen.add(value);
  try {
    if (Array.isArray(value)) return value.map((v) => toPlain(v, seen) ?? null);
    if (value instanceof ArrayBuffer || ArrayBuffer.isView(value)) return Buffer.from(value as ArrayBuffer).toString('base64');
    // Kiota's DateOnly / TimeOnly / Duration carry a meaningful toString().
    const proto = Object.getPrototypeOf(value) as object | null;
    if (proto && proto !== Object.prototype && typeof (value as { toString?: unknown }).toString === 'function') {
      const s = String(value);
      if (s !== '[object Object]') return s;
    }
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value)) {
      if (key === 'backingStore' || key === 'backingStoreEnabled') continue;
      const v = toPlain((value as Record<string, unknown>)[key], seen);
      if (v !== undefined) out[key] = v;
    }
    return out;
  } finally {
    seen.delete(value);
  }
}

function kiotaResult(model: unknown): KiotaResult {
  if (model === undefined || model === null) return { body: {}, populated: [] };
  const body = toPlain(model) as Record<string, unknown>;
  const populated = Object.keys(model as object)
    .filter(
      (k) =>
        !KIOTA_INTERNAL.has(k) && (model as Record<string, unknown>)[k] !== undefined && (model as Record<string, unknown>)[k] !== null,
    )
    .sort();
  return { body, populated };
}

// ---------------------------------------------------------------------------------------------------
// Error summaries.

const IDENTITY_ERRORS = new Set([
  'AuthenticationError',
  'AuthenticationRequiredError',
  'CredentialUnavailableError',
  'AggregateAuthenticationError',
  'ServerError',
  'AuthError',
  'ClientAuthError',
  'ClientConfigurationError',
  'InteractionRequiredAuthError',
]);

function str(v: unknown): string | null {
  return typeof v === 'string' && v.length > 0 ? v : null;
}

function summarize(err: unknown): SdkErrorSummary {
  if (err instanceof GraphError) {
    return {
      kind: 'GraphError',
      name: err.name,
      message: err.message,
      statusCode: err.statusCode,
      code: str(err.code),
      requestId: str(err.requestId),
    };
  }
  const e = (err ?? {}) as Record<string, unknown>;
  if (typeof e === 'object' && ('errorEscaped' in e || typeof e.responseStatusCode === 'number')) {
    // Kiota's ODataError: a thrown plain object (client-compat §3.5).
    const main = (e.errorEscaped ?? {}) as Record<string, unknown>;
    const inner = (main.innerError ?? {}) as Record<string, unknown>;
    const headers = (e.responseHeaders ?? {}) as Record<string, unknown>;
    const headerId = Array.isArray(headers['request-id']) ? headers['request-id'][0] : headers['request-id'];
    return {
      kind: 'ODataError',
      name: str(e.name) ?? 'ODataError',
      message: str(main.message) ?? str(e.message) ?? '',
      statusCode: typeof e.responseStatusCode === 'number' ? e.responseStatusCode : null,
      code: str(main.code),
      requestId: str(inner.requestId) ?? str(headerId),
    };
  }
  if (err instanceof Error) {
    const isIdentity = IDENTITY_ERRORS.has(err.name) || IDENTITY_ERRORS.has(err.constructor?.name ?? '');
    // @azure/identity rethrows MSAL's ServerError as AuthenticationRequiredError with only its message
    // ("invalid_client: Error(s): 7000215 - ... - Correlation ID: <uuid> - ..."), so fall back to parsing that.
    type Detail = {
      statusCode?: unknown;
      status?: unknown;
      errorCode?: unknown;
      errorResponse?: { error?: unknown };
      correlationId?: unknown;
    };
    const x = err as Error & Detail;
    const cause = (x.cause ?? {}) as Detail;
    const status = [x.statusCode, x.status, cause.status].find((v) => typeof v === 'number') as number | undefined;
    return {
      kind: isIdentity ? 'AuthenticationError' : 'Error',
      name: err.name,
      // fetch's TypeError('fetch failed') hides the real reason (TLS, ECONNREFUSED) in `cause`.
      message: !isIdentity && x.cause instanceof Error ? `${err.message} (cause: ${x.cause.message})` : err.message,
      statusCode: status ?? null,
      code:
        str(x.errorResponse?.error) ??
        str(x.errorCode) ??
        str(cause.errorCode) ??
        (isIdentity ? (/^([a-z_]+): /.exec(err.message)?.[1] ?? null) : null),
      requestId:
        str(x.correlationId) ??
        str(cause.correlationId) ??
        (isIdentity ? (/Correlation ID: ([0-9a-f-]{36})/.exec(err.message)?.[1] ?? null) : null),
    };
  }
  return { kind: 'Error', name: typeof err, message: String(err), statusCode: null, code: null, requestId: null };
}

// ---------------------------------------------------------------------------------------------------
// Operations.

/** Runs an SDK call to its end, resolved or rejected, keeping every exchange it made (its retries too). */
async function tracedToEnd<T>(fn: () => Promise<T>, plain: (value: T) => unknown): Promise<RetriedCall> {
  const exchanges: WireExchange[] = [];
  const started = performance.now();
  const elapsedMs = () => Math.round(performance.now() - started);
  try {
    const value = await traces.run(exchanges, fn);
    return { value: plain(value), error: null, exchanges, elapsedMs: elapsedMs() };
  } catch (err) {
    return { value: null, error: summarize(err), exchanges, elapsedMs: elapsedMs() };
  }
}

// Interactive flows (issue 12) span two calls: the start answers with what a user would act on (a URL to
// open, a code to type) while the library waits; the test acts in the browser, then collects the result.
const flows = new Map<string, Promise<InteractiveResult>>();
let nextFlow = 1;
const startFlow = (promise: Promise<InteractiveResult>) => {
  const flow = String(nextFlow++);
  promise.catch(() => undefined); // collected (and rethrown) by interactiveFinish
  flows.set(flow, promise);
  return flow;
};
const msalAuthority = (origin: string, tenant: string) => ({ authority: `${origin}/${tenant}`, knownAuthorities: [new URL(origin).host] });

type Handlers = { [K in OpName]: (args: Ops[K]['args']) => Promise<Ops[K]['result']> };

const handlers: Handlers = {
  async kiotaArtifactsTraced({ origin, cred, userId, meetingId, action, id, headers, query, url }) {
    const graph = kiotaClient(origin, cred);
    const meetings = userId === undefined ? graph.me.onlineMeetings : graph.users.byUserId(userId).onlineMeetings;
    const config = { headers: headers ?? {} };
    const meeting = () => meetings.byOnlineMeetingId(meetingId!);
    const getAll = () =>
      graph.users.byUserId(userId!).onlineMeetings
        .getAllTranscriptsmeetingOrganizerUserIdMeetingOrganizerUserIdWithStartDateTimeWithEndDateTime;
    const run = (): Promise<unknown> => {
      switch (action) {
        case 'reports':
          return meeting().attendanceReports.get(config);
        case 'report':
          return meeting()
            .attendanceReports.byMeetingAttendanceReportId(id!)
            .get({ ...config, queryParameters: { expand: ['attendanceRecords'] } });
        case 'records':
          return meeting().attendanceReports.byMeetingAttendanceReportId(id!).attendanceRecords.get(config);
        case 'transcripts':
          return meeting().transcripts.get(config);
        case 'transcriptContent':
          return meeting().transcripts.byCallTranscriptId(id!).content.get(config);
        case 'metadataContent':
          return meeting().transcripts.byCallTranscriptId(id!).metadataContent.get(config);
        case 'recordings':
          return meeting().recordings.get(config);
        case 'recordingContent':
          return meeting().recordings.byCallRecordingId(id!).content.get(config);
        case 'getAllTranscripts':
          return getAll().get({
            ...config,
            queryParameters: {
              meetingOrganizerUserId: query?.meetingOrganizerUserId,
              startDateTime: query?.startDateTime === undefined ? undefined : new Date(query.startDateTime),
              top: query?.top,
            },
          });
        case 'getAllTranscriptsUrl':
          return getAll().withUrl(url!).get(config);
      }
    };
    const { value, wire } = await traced(run);
    if (value instanceof ArrayBuffer) return { body: { base64: Buffer.from(value).toString('base64') }, populated: [], wire };
    return { ...kiotaResult(value), wire };
  },

  async v3GetAs({ origin, cred, path, responseType, headers }) {
    const request = v3Client(origin, cred).api(path).version('v1.0');
    for (const [name, value] of Object.entries(headers ?? {})) request.header(name, value);
    if (responseType) request.responseType(responseType as ResponseType);
    const { value, wire } = await traced<unknown>(() => request.get());
    if (value instanceof ArrayBuffer) return { result: { base64: Buffer.from(value).toString('base64') }, wire };
    return { result: value === undefined ? null : JSON.parse(JSON.stringify(value)), wire };
  },

  async identityAppToken({ origin, tenant, clientId, secret, scopes }) {
    return tokenFrom(credential(origin, { type: 'app', tenant, clientId, secret }), scopes ?? APP_SCOPES);
  },

  // IMPERSONATE=on: ClientSecretCredential exactly as an unchanged app builds it (no authorityHost, no
  // disableInstanceDiscovery), so it talks to https://login.microsoftonline.com; the worker's HTTPS_PROXY
  // and NODE_EXTRA_CA_CERTS are what bring it here.
  async identityDefaultAppToken({ tenant, clientId, secret }) {
    return tokenFrom(new ClientSecretCredential(tenant, clientId, secret), APP_SCOPES);
  },

  async identityDefaultUserToken({ tenant, clientId, username, password, scopes }) {
    return tokenFrom(new UsernamePasswordCredential(tenant, clientId, username, password), scopes);
  },

  async identityUserToken({ origin, tenant, clientId, username, password, scopes }) {
    return tokenFrom(credential(origin, { type: 'user', tenant, clientId, username, password, scopes }), scopes);
  },

  async msalAppToken({ origin, tenant, clientId, secret, scopes }) {
    const cca = new ConfidentialClientApplication({
      auth: { clientId, clientSecret: secret, authority: `${origin}/${tenant}`, knownAuthorities: [new URL(origin).host] },
    });
    const result = await cca.acquireTokenByClientCredential({ scopes: scopes ?? APP_SCOPES });
    if (!result) throw new Error('acquireTokenByClientCredential returned null');
    return result.accessToken;
  },

  async msalAuthCodeUrl({ origin, tenant, clientId, secret, redirectUri, scopes, state, nonce }) {
    const cca = new ConfidentialClientApplication({ auth: { clientId, clientSecret: secret, ...msalAuthority(origin, tenant) } });
    const { verifier, challenge } = await new CryptoProvider().generatePkceCodes();
    const url = await cca.getAuthCodeUrl({ scopes, redirectUri, state, nonce, codeChallenge: challenge, codeChallengeMethod: 'S256' });
    return { url, verifier };
  },

  async msalAcquireByCode({ origin, tenant, clientId, secret, redirectUri, scopes, code, verifier, state, nonce }) {
    const cca = new ConfidentialClientApplication({ auth: { clientId, clientSecret: secret, ...msalAuthority(origin, tenant) } });
    const result = await cca.acquireTokenByCode({ code, scopes, redirectUri, codeVerifier: verifier, state, nonce }, { code, state });
    return {
      accessToken: result.accessToken,
      idTokenClaims: result.idTokenClaims as Record<string, unknown>,
      username: result.account?.username ?? null,
    };
  },

  async msalLoopbackStart({ origin, tenant, clientId, scopes }) {
    const pca = new PublicClientApplication({ auth: { clientId, ...msalAuthority(origin, tenant) } });
    let opened: (url: string) => void = () => undefined;
    const url = new Promise<string>((resolve) => (opened = resolve));
    const result = pca
      .acquireTokenInteractive({
        scopes,
        openBrowser: async (u) => opened(u),
        successTemplate: '<p id="msal-done">Signed in. You can close this window.</p>',
        errorTemplate: '<p id="msal-error">Sign-in failed.</p>',
      })
      .then((r) => ({
        accessToken: r.accessToken,
        idTokenClaims: r.idTokenClaims as Record<string, unknown>,
        username: r.account?.username ?? null,
      }));
    const flow = startFlow(result);
    return { flow, url: await Promise.race([url, result.then(() => '')]) };
  },

  async deviceCodeStart({ origin, tenant, clientId, scopes }) {
    let prompted: (info: { userCode: string; verificationUri: string; message: string }) => void = () => undefined;
    const info = new Promise<{ userCode: string; verificationUri: string; message: string }>((resolve) => (prompted = resolve));
    const cred = new DeviceCodeCredential({
      tenantId: tenant,
      clientId,
      authorityHost: origin,
      disableInstanceDiscovery: true,
      userPromptCallback: (i) => prompted(i),
    });
    const result = cred.getToken(scopes).then((t) => {
      if (!t) throw new Error('getToken returned null');
      return { accessToken: t.token, idTokenClaims: null, username: null };
    });
    const flow = startFlow(result);
    const prompt = await Promise.race([info, result.then(() => ({ userCode: '', verificationUri: '', message: '' }))]);
    return { flow, ...prompt };
  },

  async interactiveFinish({ flow }) {
    const result = flows.get(flow);
    if (!result) throw new Error(`no flow ${flow}`);
    flows.delete(flow);
    return result;
  },

  async v3Request({ origin, cred, method, path, body, version }) {
    const client = Client.initWithMiddleware({
      baseUrl: origin,
      customHosts: new Set(ALLOWED_HOSTS),
      authProvider: new TokenCredentialAuthenticationProvider(credential(origin, cred), { scopes: scopesFor(cred) }),
    });
    const request = client.api(path).version(version ?? 'v1.0');
    const result: unknown = await (method === 'get'
      ? request.get()
      : method === 'delete'
        ? request.delete()
        : method === 'patch'
          ? request.patch(body)
          : request.post(body));
    return result === undefined ? null : JSON.parse(JSON.stringify(result));
  },

  async kiotaCreate({ origin, cred, userId, body }) {
    const graph = kiotaClient(origin, cred);
    const meetings = userId === undefined ? graph.me.onlineMeetings : graph.users.byUserId(userId).onlineMeetings;
    return kiotaResult(await meetings.post(toKiotaBody(body)));
  },

  async kiotaGet({ origin, cred, userId, meetingId }) {
    const graph = kiotaClient(origin, cred);
    const meetings = userId === undefined ? graph.me.onlineMeetings : graph.users.byUserId(userId).onlineMeetings;
    return kiotaResult(await meetings.byOnlineMeetingId(meetingId).get());
  },

  async kiotaCreateTraced({ origin, cred, userId, body, headers }) {
    const graph = kiotaClient(origin, cred);
    const meetings = userId === undefined ? graph.me.onlineMeetings : graph.users.byUserId(userId).onlineMeetings;
    const { value, wire } = await traced(() => meetings.post(toKiotaBody(body), { headers: headers ?? {} }));
    return { ...kiotaResult(value), wire };
  },

  async kiotaGetTraced({ origin, cred, userId, meetingId, headers }) {
    const graph = kiotaClient(origin, cred);
    const meetings = userId === undefined ? graph.me.onlineMeetings : graph.users.byUserId(userId).onlineMeetings;
    const { value, wire } = await traced(() => meetings.byOnlineMeetingId(meetingId).get({ headers: headers ?? {} }));
    return { ...kiotaResult(value), wire };
  },

  async v3RequestTraced({ origin, cred, method, path, body, version, headers, filter }) {
    const client = Client.initWithMiddleware({
      baseUrl: origin,
      customHosts: new Set(ALLOWED_HOSTS),
      authProvider: new TokenCredentialAuthenticationProvider(credential(origin, cred), { scopes: scopesFor(cred) }),
    });
    const request = client.api(path).version(version ?? 'v1.0');
    for (const [name, value] of Object.entries(headers ?? {})) request.header(name, value);
    if (filter !== undefined) request.filter(filter);
    const { value, wire } = await traced<unknown>(() =>
      method === 'get'
        ? request.get()
        : method === 'delete'
          ? request.delete()
          : method === 'patch'
            ? request.patch(body)
            : request.post(body),
    );
    return { result: value === undefined ? null : JSON.parse(JSON.stringify(value)), wire };
  },

  async kiotaCreateOrGetTraced({ origin, cred, userId, body, headers }) {
    const meetings = kiotaMeetings(origin, cred, userId);
    const request = toKiotaBody(body) as CreateOrGetPostRequestBody;
    const { value, wire } = await traced(() => meetings.createOrGet.post(request, { headers: headers ?? {} }));
    return { ...kiotaResult(value), wire };
  },

  async kiotaFindTraced({ origin, cred, userId, filter, headers }) {
    const meetings = kiotaMeetings(origin, cred, userId);
    const { value, wire } = await traced(() => meetings.get({ queryParameters: { filter }, headers: headers ?? {} }));
    return { ...kiotaResult(value), wire };
  },

  async kiotaPatchTraced({ origin, cred, userId, meetingId, body, headers }) {
    const meetings = kiotaMeetings(origin, cred, userId);
    const { value, wire } = await traced(() => meetings.byOnlineMeetingId(meetingId).patch(toKiotaBody(body), { headers: headers ?? {} }));
    return { ...kiotaResult(value), wire };
  },

  async kiotaDeleteTraced({ origin, cred, userId, meetingId, headers }) {
    const meetings = kiotaMeetings(origin, cred, userId);
    const { wire } = await traced(() => meetings.byOnlineMeetingId(meetingId).delete({ headers: headers ?? {} }));
    return { wire };
  },

  async kiotaEventsTraced({ origin, cred, userId, action, eventId, body, query, url, headers }) {
    const graph = kiotaClient(origin, cred);
    const user = userId === undefined ? graph.me : graph.users.byUserId(userId);
    const config = { headers: headers ?? {} };
    const event = () => user.events.byEventId(eventId!);
    const run = (): Promise<unknown> => {
      switch (action) {
        case 'create':
          return user.events.post(body as Event, config);
        case 'get':
          return event().get(config);
        case 'patch':
          return event().patch(body as Event, config);
        case 'delete':
          return event().delete(config);
        case 'cancel':
          return event().cancel.post(body ?? {}, config);
        case 'list':
          return user.events.get({ ...config, queryParameters: query ?? {} });
        case 'calendarView':
          return user.calendarView.get({ ...config, queryParameters: query ?? {} });
        case 'calendar':
          return user.calendar.get(config);
        case 'mailboxSettings':
          return user.mailboxSettings.get(config);
        case 'nextPage':
          return user.events.withUrl(url!).get(config);
      }
    };
    const { value, wire } = await traced(run);
    return { ...kiotaResult(value), wire };
  },

  async kiotaVirtualAppointmentJoinWebUrlTraced({ origin, cred, userId, meetingId, headers }) {
    const meetings = kiotaMeetings(origin, cred, userId);
    const { value, wire } = await traced(() =>
      meetings.byOnlineMeetingId(meetingId).getVirtualAppointmentJoinWebUrl.get({ headers: headers ?? {} }),
    );
    return { ...kiotaResult(value), wire };
  },

  async kiotaOnlineMeetingFields() {
    return Object.keys(deserializeIntoOnlineMeeting({})).sort();
  },

  async fetch({ url, method, token, body }) {
    const headers: Record<string, string> = {};
    if (token) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(url, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      // not JSON: keep the text
    }
    return { status: res.status, headers: Object.fromEntries(res.headers.entries()), body: parsed };
  },

  async v3RequestRetried({ origin, cred, method, path, body, headers }) {
    const client = Client.initWithMiddleware({
      baseUrl: origin,
      customHosts: new Set(ALLOWED_HOSTS),
      authProvider: new TokenCredentialAuthenticationProvider(credential(origin, cred), { scopes: scopesFor(cred) }),
    });
    const request = client.api(path).version('v1.0');
    for (const [name, value] of Object.entries(headers ?? {})) request.header(name, value);
    return tracedToEnd<unknown>(
      () =>
        method === 'get'
          ? request.get()
          : method === 'delete'
            ? request.delete()
            : method === 'patch'
              ? request.patch(body)
              : request.post(body),
      (value) => (value === undefined ? null : JSON.parse(JSON.stringify(value))),
    );
  },

  async kiotaCreateRetried({ origin, cred, userId, body, headers }) {
    const meetings = kiotaMeetings(origin, cred, userId);
    return tracedToEnd(
      () => meetings.post(toKiotaBody(body), { headers: headers ?? {} }),
      (value) => kiotaResult(value).body,
    );
  },

  async kiotaMeTraced({ origin, cred, select, headers }) {
    const graph = kiotaClient(origin, cred);
    const { value, wire } = await traced(() => graph.me.get({ queryParameters: select ? { select } : {}, headers: headers ?? {} }));
    return { ...kiotaResult(value), wire };
  },

  async kiotaUserTraced({ origin, cred, userId, select, headers }) {
    const graph = kiotaClient(origin, cred);
    const { value, wire } = await traced(() =>
      graph.users.byUserId(userId).get({ queryParameters: select ? { select } : {}, headers: headers ?? {} }),
    );
    return { ...kiotaResult(value), wire };
  },

  async kiotaUsersTraced({ origin, cred, filter, select, top, count, headers }) {
    const graph = kiotaClient(origin, cred);
    const { value, wire } = await traced(() =>
      graph.users.get({ queryParameters: { filter, select, top, count }, headers: headers ?? {} }),
    );
    return { ...kiotaResult(value), wire };
  },

  async kiotaUsersIterate({ origin, cred, top }) {
    const adapter = kiotaAdapter(origin, cred);
    const graph = createGraphServiceClient(adapter);
    const log: WireExchange[] = [];
    const ids: string[] = [];
    await traces.run(log, async () => {
      const first = await graph.users.get({ queryParameters: { top, select: ['id'] } });
      if (!first) throw new Error('no first page');
      const iterator = new PageIterator<User>(
        adapter,
        first as never,
        (user) => {
          ids.push(user.id!);
          return true;
        },
        createUserCollectionResponseFromDiscriminatorValue as never,
        ERROR_MAPPINGS,
      );
      await iterator.iterate();
    });
    return { ids, requests: log.length };
  },

  async kiotaUsersCount({ origin, cred, filter }) {
    const graph = kiotaClient(origin, cred);
    const n = await graph.users.count.get({ queryParameters: { filter }, headers: { ConsistencyLevel: 'eventual' } });
    if (n === undefined) throw new Error('no count');
    return n;
  },

  async kiotaBatch({ origin, cred, steps }) {
    const adapter = kiotaAdapter(origin, cred);
    const graph = createGraphServiceClient(adapter);
    const content = new BatchRequestContent(adapter, ERROR_MAPPINGS);
    for (const step of steps) {
      const info =
        step.kind === 'me'
          ? graph.me.toGetRequestInformation()
          : step.kind === 'user'
            ? graph.users.byUserId(step.userId!).toGetRequestInformation()
            : graph.me.onlineMeetings.byOnlineMeetingId(step.meetingId!).toGetRequestInformation();
      content.addBatchRequest(info, step.id);
    }
    const { value: response, wire } = await traced(() => content.postAsync());
    if (!response) throw new Error('no batch response');
    const statuses = Object.fromEntries(await response.getResponsesStatusCodes());
    // The adapter's own registry, as an app would pass it.
    const registry = adapter.getParseNodeFactory() as ParseNodeFactoryRegistry;
    const users: Record<string, unknown> = {};
    for (const step of steps) {
      if (step.kind === 'meeting' || statuses[step.id] !== 200) continue;
      users[step.id] = toPlain(response.getParsableResponseById<User>(step.id, registry, createUserFromDiscriminatorValue));
    }
    return { statuses, users, wire };
  },

  async v3Batch({ origin, cred, steps }) {
    const client = v3Client(origin, cred);
    const content = new V3BatchRequestContent();
    for (const step of steps) {
      const init: RequestInit = { method: step.method };
      if (step.body !== undefined) {
        init.body = JSON.stringify(step.body);
        init.headers = { 'Content-Type': 'application/json' };
      }
      content.addRequest({ id: step.id, request: new Request(`${origin}/v1.0${step.path}`, init), dependsOn: step.dependsOn });
    }
    const { value: raw, wire } = await traced(async () => client.api('/$batch').post(await content.getContent()) as Promise<unknown>);
    const response = new V3BatchResponseContent(raw as never);
    const statuses: Record<string, number> = {};
    const bodies: Record<string, unknown> = {};
    const headers: Record<string, Record<string, string>> = {};
    for (const [id, res] of response.getResponses()) {
      statuses[id] = res.status;
      headers[id] = Object.fromEntries(res.headers.entries());
      const text = await res.text();
      bodies[id] = text ? (JSON.parse(text) as unknown) : null;
    }
    return { statuses, bodies, headers, wire };
  },

  async shutdown() {
    setImmediate(() => process.exit(0));
    return null;
  },
};

function reply(msg: WorkerResponse) {
  process.send?.(msg);
}

if (!process.send) {
  console.error('test/sdk/worker.ts must be started with child_process.fork (it talks over IPC).');
  process.exit(2);
}

process.on('message', (raw: unknown) => {
  const { id, op, args } = raw as WorkerRequest;
  const handler = handlers[op] as ((a: unknown) => Promise<unknown>) | undefined;
  if (!handler) {
    reply({
      id,
      ok: false,
      error: { kind: 'Error', name: 'Error', message: `unknown op ${String(op)}`, statusCode: null, code: null, requestId: null },
    });
    return;
  }
  handler(args ?? {}).then(
    (result) => reply({ id, ok: true, result: result ?? null }),
    (err: unknown) => reply({ id, ok: false, error: summarize(err) }),
  );
});

// The parent going away must not leave us running.
process.on('disconnect', () => process.exit(0));
