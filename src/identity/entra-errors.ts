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
  /** A token request whose body is not form-encoded (RFC 6749 §4.1.3: application/x-www-form-urlencoded). */
  notFormEncoded: () =>
    new EntraError(
      400,
      'invalid_request',
      900144,
      'The request body must be form-encoded (Content-Type: application/x-www-form-urlencoded).',
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
  /**
   * A refresh token of a user whose sessions were revoked (Graph revokeSignInSessions, the CLI's
   * `user revoke-sessions`, a password change): Entra's text, with its two dates (issue #11 item 9).
   */
  grantRevoked: (issuedAt: string, validFrom: string) =>
    new EntraError(
      400,
      'invalid_grant',
      50173,
      `The provided grant has expired due to it being revoked, a fresh auth token is needed. The user might have changed or reset their password. The grant was issued on '${entraTime(issuedAt)}' and the TokensValidFrom date (before which tokens are not valid) for this user is '${entraTime(validFrom)}'.`,
    ),
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

  // --- certificate credentials (client assertions) ----------------------------------------------------
  unsupportedAssertionType: (type: string) =>
    new EntraError(
      400,
      'invalid_request',
      90014,
      `The client_assertion_type '${type}' is not supported; use 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'.`,
    ),
  malformedAssertion: () => new EntraError(401, 'invalid_client', 50027, 'JWT token is invalid or malformed.'),
  unsupportedAssertionAlgorithm: (alg: string) =>
    new EntraError(
      401,
      'invalid_client',
      5002738,
      `Invalid JWT token. '${alg}' is not a supported signature algorithm. Supported signing algorithms are: 'RS256, PS256'.`,
    ),
  assertionClientMismatch: () =>
    new EntraError(
      401,
      'invalid_client',
      700021,
      "Client assertion application identifier doesn't match 'client_id' parameter. Review the documentation at https://docs.microsoft.com/azure/active-directory/develop/active-directory-certificate-credentials .",
    ),
  assertionKeyNotFound: (clientId: string, thumbprint: string | undefined) =>
    new EntraError(
      401,
      'invalid_client',
      700027,
      `The certificate with identifier used to sign the client assertion is not registered on application. [Reason - The key was not found., ${
        thumbprint ? `Thumbprint of key used by client: '${thumbprint}', ` : ''
      }Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see configured keys for app Id '${clientId}'.]`,
    ),
  assertionKeyExpired: (clientId: string, thumbprint: string) =>
    new EntraError(
      401,
      'invalid_client',
      700027,
      `Client assertion failed signature validation. [Reason - The key used is expired., Thumbprint of key used by client: '${thumbprint}', Found key 'Start=…, End=…', Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see configured keys for app Id '${clientId}'.]`,
    ),
  assertionBadSignature: (clientId: string) =>
    new EntraError(
      401,
      'invalid_client',
      700027,
      `Client assertion failed signature validation. [Reason - The provided signature value did not match the expected signature value., Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see configured keys for app Id '${clientId}'.]`,
    ),
  assertionAudience: () =>
    new EntraError(
      401,
      'invalid_client',
      700023,
      'Client assertion audience claim does not match Realm issuer. Review the documentation at https://docs.microsoft.com/azure/active-directory/develop/active-directory-certificate-credentials .',
    ),
  assertionTimeRange: (nowMs: number, nbf: number, exp: number) =>
    new EntraError(
      401,
      'invalid_client',
      700024,
      `Client assertion is not within its valid time range. Current time: ${new Date(nowMs).toISOString()}, assertion valid from ${new Date(nbf * 1000).toISOString()}, expiry time of assertion ${new Date(exp * 1000).toISOString()}. Review the documentation at https://docs.microsoft.com/azure/active-directory/develop/active-directory-certificate-credentials .`,
    ),

  // --- tenant aliases (/common, /organizations, /consumers) ------------------------------------------
  noTenantInformation: () =>
    new EntraError(
      400,
      'invalid_request',
      50059,
      'No tenant-identifying information found in either the request or implied by any provided credentials.',
    ),
  notMultiTenant: (clientId: string, name: string) =>
    new EntraError(
      400,
      'invalid_request',
      50194,
      `Application '${clientId}'(${name}) is not configured as a multi-tenant application. Usage of the /common endpoint is not supported for such applications created after '10/15/2018'. Use a tenant-specific endpoint or configure the application to be multi-tenant.`,
    ),
  consumersRefused: (clientId: string, name: string) =>
    new EntraError(
      400,
      'invalid_request',
      9002331,
      `Application '${clientId}'(${name}) is configured for use by Azure Active Directory users only. Please do not use the /consumers endpoint to serve this request.`,
    ),

  // --- on-behalf-of ------------------------------------------------------------------------------------
  oboKeyNotFound: () =>
    new EntraError(400, 'invalid_grant', 50013, 'Assertion failed signature validation. [Reason - The key was not found.]'),
  oboBadSignature: () =>
    new EntraError(
      400,
      'invalid_grant',
      50013,
      'Assertion failed signature validation. [Reason - The provided signature value did not match the expected signature value.]',
    ),
  oboMalformed: () => new EntraError(400, 'invalid_grant', 50027, 'JWT token is invalid or malformed.'),
  oboAudience: (aud: string, clientId: string, name: string) =>
    new EntraError(
      400,
      'invalid_grant',
      500131,
      `Assertion audience does not match the Client app presenting the assertion. The audience in the assertion was '${aud}' and the expected audience is '${clientId}' or one of the Application Uris of this application with App ID '${clientId}'(${name}). The downstream client must request a token for the expected audience (the application that made the OBO request) and this application should use that token as the assertion.`,
    ),
  oboExpired: (nowMs: number, exp: number) =>
    new EntraError(
      400,
      'invalid_grant',
      500133,
      `Assertion is not within its valid time range. Ensure that the access token is not expired before using it for user assertion, or request a new token. Current time: ${new Date(nowMs).toISOString()}, expiry time of assertion ${new Date(exp * 1000).toISOString()}.`,
    ),
  invalidRequestedTokenUse: (value: string) =>
    new EntraError(
      400,
      'invalid_request',
      900144,
      `The value '${value}' of 'requested_token_use' is not valid; on-behalf-of requests use 'on_behalf_of'.`,
    ),

  // --- scopes and resources ------------------------------------------------------------------------------
  moreThanOneResource: (scope: string) =>
    new EntraError(
      400,
      'invalid_request',
      28000,
      `Provided value for the input parameter scope is not valid because it contains more than one resource. Scope ${scope} is not valid.`,
    ),
  resourceNotFound: (resource: string, tenant: string) =>
    new EntraError(
      400,
      'invalid_resource',
      500011,
      `The resource principal named ${resource} was not found in the tenant named ${tenant}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.`,
    ),
};

/** Entra's timestamps in messages: UTC with seven fractional digits. */
const entraTime = (iso: string) => iso.replace(/\.(\d{3})Z$/, '.$10000Z');
