import { randomUUID } from 'node:crypto';

/**
 * Errors of the emulated Entra token endpoint, in Entra's shape (client-compat §4.6, §7): `error`,
 * `error_description` starting with the AADSTS code and ending with trace/correlation ids and a
 * timestamp, `error_codes`, `timestamp`, `trace_id`, `correlation_id`. The AADSTS numbers are Entra's own.
 */
export class EntraError extends Error {
  constructor(
    readonly status: 400 | 401 | 429 | 500,
    readonly error: string,
    readonly aadsts: number,
    readonly description: string,
  ) {
    super(`AADSTS${aadsts}: ${description}`);
    this.name = 'EntraError';
  }

  body(correlationId: string = randomUUID()) {
    const traceId = randomUUID();
    const timestamp = new Date()
      .toISOString()
      .replace('T', ' ')
      .replace(/\.\d+Z$/, 'Z');
    return {
      error: this.error,
      error_description: `AADSTS${this.aadsts}: ${this.description} Trace ID: ${traceId} Correlation ID: ${correlationId} Timestamp: ${timestamp}`,
      error_codes: [this.aadsts],
      timestamp,
      trace_id: traceId,
      correlation_id: correlationId,
    };
  }
}

export const entra = {
  tenantNotFound: (tenant: string) =>
    new EntraError(
      400,
      'invalid_request',
      90002,
      `Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.`,
    ),
  missingParameter: (name: string) =>
    new EntraError(400, 'invalid_request', 900144, `The request body must contain the following parameter: '${name}'.`),
  unsupportedGrant: (grant: string) =>
    new EntraError(400, 'unsupported_grant_type', 70003, `The app requested an unsupported grant type '${grant}'.`),
  applicationNotFound: (clientId: string, tenant: string) =>
    new EntraError(
      400,
      'unauthorized_client',
      700016,
      `Application with identifier '${clientId}' was not found in the directory '${tenant}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant.`,
    ),
  invalidClientSecret: (clientId: string) =>
    new EntraError(
      401,
      'invalid_client',
      7000215,
      `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${clientId}'.`,
    ),
  clientSecretRequired: () =>
    new EntraError(
      401,
      'invalid_client',
      7000218,
      "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
    ),
  invalidCredentials: () =>
    new EntraError(400, 'invalid_grant', 50126, 'Error validating credentials due to invalid username or password.'),
  userNotInTenant: (upn: string, tenant: string) =>
    new EntraError(
      400,
      'invalid_grant',
      50034,
      `The user account ${upn} does not exist in the ${tenant} directory. To sign into this application, the account must be added to the directory.`,
    ),
  notConsented: (clientId: string, name: string) =>
    new EntraError(
      400,
      'invalid_grant',
      65001,
      `The user or administrator has not consented to use the application with ID '${clientId}' named '${name}'. Send an interactive authorization request for this user and resource.`,
    ),
  invalidScope: (scope: string) =>
    new EntraError(
      400,
      'invalid_scope',
      70011,
      `The provided request must include a 'scope' input parameter. The provided value for the input parameter 'scope' is not valid. The scope ${scope} is not valid.`,
    ),
  defaultScopeRequired: (scope: string) =>
    new EntraError(
      400,
      'invalid_scope',
      1002012,
      `The provided value for scope ${scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`,
    ),
  badClientAuth: () =>
    new EntraError(
      401,
      'invalid_client',
      7000216,
      "'client_assertion', 'client_secret' or 'request' is required for the 'client_credentials' grant type.",
    ),
  invalidRefreshToken: () => new EntraError(400, 'invalid_grant', 9002313, 'Invalid request. Request is malformed or invalid.'),
  /** Smart lockout (sign-in-protection.ts): Entra's IdsLocked. */
  accountLocked: () =>
    new EntraError(
      400,
      'invalid_grant',
      50053,
      "The account is locked, you've tried to sign in too many times with an incorrect user ID or password.",
    ),
  /** Too many password checks at once (sign-in-protection.ts): Entra's TenantThrottlingError. */
  throttled: () => new EntraError(429, 'temporarily_unavailable', 90055, 'There are too many incoming requests. Try again later.'),
  serverError: () => new EntraError(500, 'server_error', 50000, 'There was an error issuing a token.'),
  ambiguousClientAuth: () =>
    new EntraError(
      401,
      'invalid_client',
      7000219,
      'The client presented credentials in both the body and the Authorization header; use one.',
    ),
};
