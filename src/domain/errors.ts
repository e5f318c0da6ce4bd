/**
 * The one catalog of errors graph-meetings answers with. Every function builds a GraphError that the
 * HTTP error plugin (src/http/errors.ts) turns into Graph's OData envelope (fact sheet §6.1). Codes and
 * messages are Graph's own where the fact sheet records them (§3, §5.1, §8); the section is cited beside each.
 */
export class GraphError extends Error {
  readonly status: number;
  readonly code: string;
  /** Extra response headers (WWW-Authenticate, Retry-After). */
  readonly headers: Record<string, string>;
  /** Extra members of innerError (the 429 body carries some, §6.5). */
  readonly innerError: Record<string, string>;
  /** Logged, never sent. */
  readonly detail?: string;

  constructor(
    status: number,
    code: string,
    message: string,
    options: { headers?: Record<string, string>; innerError?: Record<string, string>; detail?: string; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'GraphError';
    this.status = status;
    this.code = code;
    this.headers = options.headers ?? {};
    this.innerError = options.innerError ?? {};
    if (options.detail !== undefined) this.detail = options.detail;
  }

  get expose(): boolean {
    return this.status < 500;
  }
}

/**
 * Graph's throttling answer (fact sheet §6.5): 429, Retry-After, and {"error":{"code":"TooManyRequests",
 * "message":"Please retry again later.","innerError":{"code":"429","message":"Please retry after","status":"429",…}}}.
 */
export function tooManyRequests(retryAfterSeconds: number, detail: string): GraphError {
  return new GraphError(429, 'TooManyRequests', 'Please retry again later.', {
    headers: { 'retry-after': String(retryAfterSeconds) },
    innerError: { code: '429', message: 'Please retry after', status: '429' },
    detail,
  });
}

const bearerChallenge = (error?: string) =>
  error
    ? `Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", error="${error}"`
    : 'Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize"';

// --- authentication (client-compat §8) -------------------------------------------------------------
export const accessTokenEmpty = () =>
  new GraphError(401, 'InvalidAuthenticationToken', 'Access token is empty.', {
    headers: { 'www-authenticate': bearerChallenge() },
  });

export const invalidAuthenticationToken = (detail: string, message = 'Access token validation failure. Invalid audience.') =>
  new GraphError(401, 'InvalidAuthenticationToken', message, {
    headers: { 'www-authenticate': bearerChallenge('invalid_token') },
    detail,
  });

export const tokenExpired = (detail: string) =>
  new GraphError(401, 'InvalidAuthenticationToken', 'Lifetime validation failed, the token is expired.', {
    headers: { 'www-authenticate': bearerChallenge('invalid_token') },
    detail,
  });

// --- authorization (§3.0, §5.1) --------------------------------------------------------------------
export const forbidden = (message = 'Insufficient privileges to complete the operation.') => new GraphError(403, 'Forbidden', message);

export const missingPermission = (needed: string[]) =>
  new GraphError(403, 'Forbidden', 'Insufficient privileges to complete the operation.', {
    detail: `token lacks every one of: ${needed.join(', ')}`,
  });

/** §5.1: the current documented code is Forbidden; the message keeps the trailing period seen in 2024. */
export const noApplicationAccessPolicy = () => new GraphError(403, 'Forbidden', 'No application access policy found for this app.');

/** §3.0: an app token on a /me path. */
export const meRequiresDelegated = () =>
  new GraphError(400, 'Request_BadRequest', '/me request is only valid with delegated authentication flow.');

// --- addressing ------------------------------------------------------------------------------------
export const userNotFound = (userId: string) =>
  new GraphError(
    404,
    'Request_ResourceNotFound',
    `Resource '${userId}' does not exist or one of its queried reference-property objects are not present.`,
  );

/** §3.3 / §9 quirk 5: the path user is not the meeting's organizer. */
export const organizerMismatch = (userId: string) => new GraphError(404, 'NotFound', `Organizer Id mismatch User Id: ${userId}.`);

export const meetingNotFound = () => new GraphError(404, 'NotFound', 'The specified meeting was not found.');

/** §0.1, §8: an id that does not decode to Graph's format. */
export const meetingIdCorrupted = () => new GraphError(400, 'BadRequest', 'Meeting Id is corrupted.');

/** §8: a raw chat thread id passed where a meeting id belongs. */
export const invalidMeetingId = (id: string) => new GraphError(400, 'BadRequest', `Invalid meeting id ${id}.`);

/** §3.8: paths outside the supported surface. */
export const apiNotSupported = () => new GraphError(404, 'NotFound', 'Requested API is not supported. Please check the path.');

export const methodNotAllowed = (method: string) =>
  new GraphError(405, 'Request_BadRequest', `The HTTP method '${method}' is not supported for this resource.`);

// --- request shape ---------------------------------------------------------------------------------
export const badRequest = (message: string) => new GraphError(400, 'BadRequest', message);

export const invalidRequestBody = (message: string) => new GraphError(400, 'BadRequest', message);

export const invalidProperty = (path: string, problem: string) =>
  new GraphError(400, 'BadRequest', `Invalid value for property '${path}': ${problem}`);

export const unsupportedMediaType = (contentType: string | undefined) =>
  new GraphError(
    415,
    'UnsupportedMediaType',
    contentType
      ? `The content type '${contentType}' is not supported. Use 'application/json'.`
      : "A request body needs the header 'Content-Type: application/json'.",
  );

export const payloadTooLarge = (limit: number) =>
  new GraphError(
    413,
    'RequestEntityTooLarge',
    limit > 0 ? `The request body is larger than the limit of ${limit} bytes.` : 'The request body is larger than the server accepts.',
  );

export const invalidArgument = (message: string) => new GraphError(400, 'InvalidArgument', message);

export const queryOptionNotSupported = (option: string) =>
  new GraphError(400, 'BadRequest', `The query option '${option}' is not supported on this resource.`);

export const conflict = (message: string) => new GraphError(409, 'Conflict', message);

// --- server side -----------------------------------------------------------------------------------
export const internalError = (cause?: unknown) => new GraphError(500, 'InternalServerError', 'Internal Server Error', { cause });

export const serviceUnavailable = (message = 'The service is temporarily unavailable.') =>
  new GraphError(503, 'ServiceUnavailable', message, { headers: { 'retry-after': '1' } });

// --- Outlook calendar (graph-events-spec.md §6): Exchange ResponseCode names, messages verbatim ----------
export const eventIdMalformed = () => new GraphError(400, 'ErrorInvalidIdMalformed', 'Id is malformed.');

export const eventNotFound = () => new GraphError(404, 'ErrorItemNotFound', 'The specified object was not found in the store.');

/** §6: a path user that has no mailbox here (another tenant's, or unknown). */
export const mailboxUserInvalid = (userId: string, tenantId: string) =>
  new GraphError(404, 'ErrorInvalidUser', `The requested user '${userId}@${tenantId}' is invalid.`);

/** §2.1, §2.2: an unknown zone in a dateTimeTimeZone or in Prefer: outlook.timezone. */
export const timeZoneNotSupported = (zone: string) =>
  new GraphError(
    400,
    'TimeZoneNotSupportedException',
    `A valid TimeZone value must be specified. The following TimeZone value is not supported: '${zone.length > 100 ? `${zone.slice(0, 100)}...` : zone}'.`,
  );

/** §2.4, §6: end before start and other values Exchange refuses; `detail` (logged) says which. */
export const propertyValidationFailure = (detail: string) =>
  new GraphError(400, 'ErrorPropertyValidationFailure', 'At least one property failed validation.', { detail });

/** §6: a body that does not deserialize into an event (wrong JSON type, unknown enum member, bad date). */
export const unableToDeserializePostBody = (detail: string) =>
  new GraphError(400, 'UnableToDeserializePostBody', 'were unable to deserialize ', { detail });

/** §4.4: calendarView without its window, or with one that is not a date-time. */
export const calendarViewWindowRequired = () =>
  new GraphError(
    400,
    'ErrorInvalidParameter',
    'This request requires a time window specified by the query string parameters StartDateTime and EndDateTime.',
  );

export const invalidParameter = (message: string) => new GraphError(400, 'ErrorInvalidParameter', message);

/** §5: a token without the Calendars permission, or a delegated token on another user's calendar. */
export const calendarAccessDenied = (detail: string) =>
  new GraphError(403, 'ErrorAccessDenied', 'Access is denied. Check credentials and try again.', { detail });

/** §5 "/me with an application token": the 2023 capture's code. */
export const meRequiresDelegatedOutlook = () =>
  new GraphError(400, 'BadRequest', '/me request is only valid with delegated authentication flow.');

/** §2.3, §6: $orderby=start (a complex property) and filters the service does not support. */
export const orderByNotPrimitive = () =>
  new GraphError(400, 'BadRequest', 'The $orderby expression must evaluate to a single value of primitive type.');

export const filterNotSupported = (detail: string) => new GraphError(400, 'BadRequest', 'This filter query is not supported.', { detail });

export const invalidFilterClause = (detail: string) => new GraphError(400, 'BadRequest', `Invalid filter clause: ${detail}`);

/** §3.6, §4.7 cancel: only the organizer can cancel. */
export const cancelNeedsOrganizer = () =>
  new GraphError(400, 'ErrorInvalidRequest', "Your request can't be completed. You need to be an organizer to cancel a meeting.");

// --- emulator control API (/_emulator/, README "Emulator control API"); not Graph's, same envelope ----
export const adminKeyRequired = (given: boolean) =>
  new GraphError(
    401,
    'AdminKeyRequired',
    given
      ? 'The admin key is wrong. The emulator control API expects Authorization: Bearer <admin key> (ADMIN_KEY, or the key the server generated into DATA_DIR/admin-key).'
      : 'The emulator control API expects Authorization: Bearer <admin key> (ADMIN_KEY, or the key the server generated into DATA_DIR/admin-key).',
    { headers: { 'www-authenticate': 'Bearer realm="graph-meetings emulator"' } },
  );
export const invalidStateDocument = (problem: string) =>
  new GraphError(400, 'InvalidStateDocument', `The state document cannot be imported: ${problem}`);

// --- change notifications (graph-meeting-artifacts-spec.md §3.2, issue #18) -------------------------
/** §3.2: a misspelt or badly typed property of the create body. */
export const subscriptionPayloadInvalid = (detail: string) =>
  new GraphError(
    400,
    'InvalidRequest',
    'Could not process subscription creation payload. Are all property names spelled and camelCased properly?',
    { detail },
  );

/** §3.2 (dc#7399): the wording Graph uses for a missing required property. */
export const subscriptionPropertyRequired = (property: string) =>
  new GraphError(400, 'InvalidRequest', `${property} is a required property for subscription creation.`);

export const subscriptionInvalid = (message: string) => new GraphError(400, 'InvalidRequest', message);

/** §3.2: Outlook's wording; the other resources use the same with their own maximum ([inf]). */
export const subscriptionExpirationTooFar = (minutes: number) =>
  new GraphError(400, 'ExtensionError', `Subscription expiration can only be ${minutes} minutes in the future.`);

export const subscriptionExtensionError = (message: string) => new GraphError(400, 'ExtensionError', message);

/** §3.3: transcripts and recordings need lifecycleNotificationUrl past one hour. */
export const lifecycleUrlRequired = () =>
  new GraphError(
    400,
    'ValidationError',
    'lifecycleNotificationUrl is required for subscription creation on this resource when the expirationDateTime value exceeds 1 hour.',
  );

/** §3.2, §3.4: the validation POST failed or was answered wrongly. */
export const validationNotOk = (detail: string) =>
  new GraphError(
    400,
    'ValidationError',
    'Subscription validation request failed. Notification endpoint must respond with 200 OK to validation request.',
    { detail },
  );

export const validationMismatch = () =>
  new GraphError(
    400,
    'ValidationError',
    'Subscription validation request failed. Response must exactly match validationToken query parameter.',
  );

export const validationTimedOut = () => new GraphError(400, 'InvalidRequest', 'Subscription validation request timed out.');

/** Where notifications may go (NOTIFICATION_HOSTS; README "Change notifications"). */
export const notificationUrlRefused = (property: string, why: string) =>
  new GraphError(400, 'InvalidRequest', `The ${property} is not allowed: ${why}`);

/** §3.3 quotas: 403 naming the quota. */
export const subscriptionQuotaExceeded = (quota: string) => new GraphError(403, 'Forbidden', `Subscription quota exceeded: ${quota}.`);

/** §3.2: renewing or reading a deleted or expired subscription (integrators recreate on 404). */
export const subscriptionNotFound = (id: string) =>
  new GraphError(404, 'ResourceNotFound', `The object was not found. Subscription Id: ${id}.`);
