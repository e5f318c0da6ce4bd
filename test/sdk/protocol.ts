/**
 * The IPC protocol between the test process and test/sdk/worker.ts, the child that runs the official
 * Microsoft client libraries with NODE_EXTRA_CA_CERTS set at process start (client-compat §1.3, §4.7).
 * Everything here must survive structured cloning: plain objects, strings, numbers, arrays.
 */

/** An app-only credential (ClientSecretCredential). */
export interface AppCredentialSpec {
  type: 'app';
  tenant: string;
  clientId: string;
  secret: string;
}

/** A delegated credential (UsernamePasswordCredential, ROPC). `scopes` are the full Graph scope URIs to ask for. */
export interface UserCredentialSpec {
  type: 'user';
  tenant: string;
  clientId: string;
  username: string;
  password: string;
  scopes?: string[];
}

export type CredentialSpec = AppCredentialSpec | UserCredentialSpec;

/** What the SDK threw, flattened so it can cross the IPC channel. */
export interface SdkErrorSummary {
  kind: 'GraphError' | 'ODataError' | 'AuthenticationError' | 'Error';
  name: string;
  message: string;
  statusCode: number | null;
  code: string | null;
  requestId: string | null;
}

export interface KiotaResult {
  /** The deserialized model as plain JSON (Dates as ISO strings, additionalData kept). */
  body: Record<string, unknown>;
  /** The known (typed) model properties Kiota populated, sorted. Unknown ones are in body.additionalData. */
  populated: string[];
}

export interface FetchResult {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

/**
 * One HTTP exchange an SDK made, recorded at the global fetch it calls: the request body exactly as the
 * SDK serialized it, and the status and body exactly as the server sent them (before the SDK parsed them).
 */
export interface WireExchange {
  method: string;
  url: string;
  /** The request body as sent (UTF-8), or null when there was none. */
  requestBody: string | null;
  status: number;
  headers: Record<string, string>;
  /** The response body, JSON-parsed when it is JSON, else the text. */
  body: unknown;
}

/** A Kiota call with the exchange behind it (the last one the SDK made; redirects or retries would be earlier). */
export interface KiotaTracedResult extends KiotaResult {
  wire: WireExchange;
}

/** A graph-client v3 call: what the SDK returned (its own JSON parse) and the exchange behind it. */
export interface V3TracedResult {
  result: unknown;
  wire: WireExchange;
}

/** The outcome of an interactive flow in the worker. */
export interface InteractiveResult {
  accessToken: string;
  idTokenClaims: Record<string, unknown> | null;
  username: string | null;
}

export interface Ops {
  /**
   * Issue #17: Kiota's artifact builders under `graph.me.onlineMeetings` or `graph.users.byUserId(id).onlineMeetings`:
   * attendanceReports (list, get with $expand, attendanceRecords), transcripts (list, content, metadataContent),
   * recordings (list, content), and getAllTranscripts (query parameters, or `withUrl` for next and delta links).
   * Stream bodies (ArrayBuffer) come back as `{ base64 }`.
   */
  kiotaArtifactsTraced: {
    args: {
      origin: string;
      cred: CredentialSpec;
      userId?: string;
      meetingId?: string;
      action:
        | 'reports'
        | 'report'
        | 'records'
        | 'transcripts'
        | 'transcriptContent'
        | 'metadataContent'
        | 'recordings'
        | 'recordingContent'
        | 'getAllTranscripts'
        | 'getAllTranscriptsUrl';
      id?: string;
      headers?: Record<string, string>;
      query?: { meetingOrganizerUserId?: string; startDateTime?: string; top?: number };
      url?: string;
    };
    result: KiotaTracedResult;
  };
  /** graph-client v3 GET with a response type (`.responseType('text' | 'arraybuffer')`); an ArrayBuffer comes back as `{ base64 }`. */
  v3GetAs: {
    args: { origin: string; cred: CredentialSpec; path: string; responseType?: 'text' | 'arraybuffer'; headers?: Record<string, string> };
    result: V3TracedResult;
  };
  identityAppToken: { args: { origin: string; tenant: string; clientId: string; secret: string; scopes?: string[] }; result: string };
  /** ClientSecretCredential with default options (login.microsoftonline.com, instance discovery on). */
  identityDefaultAppToken: { args: { tenant: string; clientId: string; secret: string }; result: string };
  /** UsernamePasswordCredential with default options. */
  identityDefaultUserToken: {
    args: { tenant: string; clientId: string; username: string; password: string; scopes: string[] };
    result: string;
  };
  identityUserToken: {
    args: { origin: string; tenant: string; clientId: string; username: string; password: string; scopes: string[] };
    result: string;
  };
  msalAppToken: { args: { origin: string; tenant: string; clientId: string; secret: string; scopes?: string[] }; result: string };
  /** msal-node ConfidentialClientApplication.getAuthCodeUrl with PKCE from msal's CryptoProvider (issue 12). */
  msalAuthCodeUrl: {
    args: {
      origin: string;
      tenant: string;
      clientId: string;
      secret: string;
      redirectUri: string;
      scopes: string[];
      state: string;
      nonce: string;
    };
    result: { url: string; verifier: string };
  };
  /** ConfidentialClientApplication.acquireTokenByCode with what the redirect brought back. */
  msalAcquireByCode: {
    args: {
      origin: string;
      tenant: string;
      clientId: string;
      secret: string;
      redirectUri: string;
      scopes: string[];
      code: string;
      verifier: string;
      state: string;
      nonce: string;
    };
    result: InteractiveResult;
  };
  /** PublicClientApplication.acquireTokenInteractive: answers with the URL msal-node opens; finish with interactiveFinish. */
  msalLoopbackStart: {
    args: { origin: string; tenant: string; clientId: string; scopes: string[] };
    result: { flow: string; url: string };
  };
  /** @azure/identity DeviceCodeCredential.getToken: answers with what the user is told; finish with interactiveFinish. */
  deviceCodeStart: {
    args: { origin: string; tenant: string; clientId: string; scopes: string[] };
    result: { flow: string; userCode: string; verificationUri: string; message: string };
  };
  interactiveFinish: { args: { flow: string }; result: InteractiveResult };
  v3Request: {
    args: {
      origin: string;
      cred: CredentialSpec;
      method: 'get' | 'post' | 'patch' | 'delete';
      path: string;
      body?: unknown;
      version?: string;
    };
    result: unknown;
  };
  kiotaCreate: { args: { origin: string; cred: CredentialSpec; userId?: string; body: Record<string, unknown> }; result: KiotaResult };
  kiotaGet: { args: { origin: string; cred: CredentialSpec; userId?: string; meetingId: string }; result: KiotaResult };
  /** kiotaCreate with request headers (Kiota request configuration), and the raw exchange Kiota deserialized. */
  kiotaCreateTraced: {
    args: { origin: string; cred: CredentialSpec; userId?: string; body: Record<string, unknown>; headers?: Record<string, string> };
    result: KiotaTracedResult;
  };
  /** kiotaGet with request headers, and the raw exchange Kiota deserialized. */
  kiotaGetTraced: {
    args: { origin: string; cred: CredentialSpec; userId?: string; meetingId: string; headers?: Record<string, string> };
    result: KiotaTracedResult;
  };
  /** v3Request with request headers (`.header(name, value)`), and the raw exchange behind it. */
  v3RequestTraced: {
    args: {
      origin: string;
      cred: CredentialSpec;
      method: 'get' | 'post' | 'patch' | 'delete';
      path: string;
      body?: unknown;
      version?: string;
      headers?: Record<string, string>;
      /** Set through the client's own `.filter(...)` (it builds `$filter=` itself; client-compat §2.2). */
      filter?: string;
    };
    result: V3TracedResult;
  };
  /** Kiota `…onlineMeetings.createOrGet.post(body)`; the exchange shows whether the server answered 201 or 200. */
  kiotaCreateOrGetTraced: {
    args: { origin: string; cred: CredentialSpec; userId?: string; body: Record<string, unknown>; headers?: Record<string, string> };
    result: KiotaTracedResult;
  };
  /**
   * Kiota `…onlineMeetings.get({ queryParameters: { filter } })`: the collection response as plain JSON
   * (`body.value` the meetings, `body.additionalData` the rest).
   */
  kiotaFindTraced: {
    args: { origin: string; cred: CredentialSpec; userId?: string; filter: string; headers?: Record<string, string> };
    result: KiotaTracedResult;
  };
  /** Kiota `…byOnlineMeetingId(id).patch(body)`. */
  kiotaPatchTraced: {
    args: {
      origin: string;
      cred: CredentialSpec;
      userId?: string;
      meetingId: string;
      body: Record<string, unknown>;
      headers?: Record<string, string>;
    };
    result: KiotaTracedResult;
  };
  /** Kiota `…byOnlineMeetingId(id).delete()` (resolves to undefined on 204). */
  kiotaDeleteTraced: {
    args: { origin: string; cred: CredentialSpec; userId?: string; meetingId: string; headers?: Record<string, string> };
    result: { wire: WireExchange };
  };
  /** Kiota `…byOnlineMeetingId(id).getVirtualAppointmentJoinWebUrl.get()`: body is `{ value, additionalData }`. */
  kiotaVirtualAppointmentJoinWebUrlTraced: {
    args: { origin: string; cred: CredentialSpec; userId?: string; meetingId: string; headers?: Record<string, string> };
    result: KiotaTracedResult;
  };
  /** The JSON property names Kiota's OnlineMeeting deserializer knows (anything else lands in additionalData). */
  kiotaOnlineMeetingFields: { args: Record<string, never>; result: string[] };
  /** Plain global fetch in the worker (trust from NODE_EXTRA_CA_CERTS), e.g. to use an msal-node token. */
  fetch: { args: { url: string; method: string; token?: string; body?: unknown }; result: FetchResult };
  /**
   * v3Request with request headers, run to its end whether it resolves or throws: every exchange the client made
   * (its retry handler's too) and the outcome. For throttling tests (client-compat §2.5).
   */
  v3RequestRetried: {
    args: {
      origin: string;
      cred: CredentialSpec;
      method: 'get' | 'post' | 'patch' | 'delete';
      path: string;
      body?: unknown;
      headers?: Record<string, string>;
    };
    result: RetriedCall;
  };
  /** Kiota `…onlineMeetings.post(body)` with request headers, run to its end (client-compat §3.6). */
  kiotaCreateRetried: {
    args: { origin: string; cred: CredentialSpec; userId?: string; body: Record<string, unknown>; headers?: Record<string, string> };
    result: RetriedCall;
  };
  /**
   * Kiota's Outlook calendar builders (`graph.me` or `graph.users.byUserId(id)`): events post/get/patch/delete,
   * `events.byEventId(id).cancel.post`, `events.get` with query parameters, `calendarView.get`, `calendar.get`,
   * `mailboxSettings.get`, and `events.withUrl(nextLink).get()` for paging. The exchange behind each is kept.
   */
  kiotaEventsTraced: {
    args: {
      origin: string;
      cred: CredentialSpec;
      userId?: string;
      action: 'create' | 'get' | 'patch' | 'delete' | 'cancel' | 'list' | 'calendarView' | 'calendar' | 'mailboxSettings' | 'nextPage';
      eventId?: string;
      body?: Record<string, unknown>;
      query?: { top?: number; select?: string[]; filter?: string; orderby?: string[]; startDateTime?: string; endDateTime?: string };
      url?: string;
      headers?: Record<string, string>;
    };
    result: KiotaTracedResult;
  };
  /** Kiota `graph.me.get()` (issue #14): the user model, with `$select` when given. */
  kiotaMeTraced: {
    args: { origin: string; cred: CredentialSpec; select?: string[]; headers?: Record<string, string> };
    result: KiotaTracedResult;
  };
  /** Kiota `graph.users.byUserId(id).get()`. */
  kiotaUserTraced: {
    args: { origin: string; cred: CredentialSpec; userId: string; select?: string[]; headers?: Record<string, string> };
    result: KiotaTracedResult;
  };
  /** Kiota `graph.users.get({ queryParameters })`: one page. */
  kiotaUsersTraced: {
    args: {
      origin: string;
      cred: CredentialSpec;
      filter?: string;
      select?: string[];
      top?: number;
      count?: boolean;
      headers?: Record<string, string>;
    };
    result: KiotaTracedResult;
  };
  /** Every user through Kiota's PageIterator (msgraph-sdk-core), following @odata.nextLink. */
  kiotaUsersIterate: { args: { origin: string; cred: CredentialSpec; top: number }; result: { ids: string[]; requests: number } };
  /** Kiota `graph.users.count.get()` with ConsistencyLevel: eventual. */
  kiotaUsersCount: { args: { origin: string; cred: CredentialSpec; filter?: string }; result: number };
  /**
   * Kiota's batch helpers (msgraph-sdk-core BatchRequestContent): GET steps built from request builders,
   * posted to {+baseurl}/$batch; statuses from getResponsesStatusCodes, bodies as the raw batch items.
   */
  kiotaBatch: {
    args: {
      origin: string;
      cred: CredentialSpec;
      steps: Array<{ id: string; kind: 'me' | 'user' | 'meeting'; userId?: string; meetingId?: string }>;
    };
    result: { statuses: Record<string, number>; users: Record<string, unknown>; wire: WireExchange };
  };
  /** graph-client v3 BatchRequestContent / BatchResponseContent, posted with `client.api('/$batch').post(...)`. */
  v3Batch: {
    args: {
      origin: string;
      cred: CredentialSpec;
      steps: Array<{ id: string; method: string; path: string; body?: unknown; dependsOn?: string[] }>;
    };
    result: {
      statuses: Record<string, number>;
      bodies: Record<string, unknown>;
      headers: Record<string, Record<string, string>>;
      wire: WireExchange;
    };
  };
  shutdown: { args: Record<string, never>; result: null };
}

/** An SDK call run to its end: what it returned or threw, every Graph exchange behind it, and how long it took. */
export interface RetriedCall {
  /** The result as plain JSON when the call resolved (Kiota: the model), else null. */
  value: unknown;
  /** What the SDK threw, or null when it resolved. */
  error: SdkErrorSummary | null;
  /** Every exchange through fetch, in order (retries included). */
  exchanges: WireExchange[];
  elapsedMs: number;
}

export type OpName = keyof Ops;

export interface WorkerRequest {
  id: number;
  op: OpName;
  args: unknown;
}

export type WorkerResponse = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: SdkErrorSummary };
