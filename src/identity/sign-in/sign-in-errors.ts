import { EntraError } from '../entra-errors.js';

/**
 * The AADSTS errors of the interactive flows (Microsoft identity platform, "AADSTS error codes"; the
 * numbers and `error` values are the ones Entra returns, checked against MSAL's issue tracker). Token
 * endpoint errors are EntraErrors (JSON); authorize errors either go back to a registered redirect URI
 * as `error`/`error_description` or, when no redirect URI can be trusted, are shown as a page.
 */
export const signInErrors = {
  // --- token endpoint: authorization_code grant ---
  invalidCode: () => new EntraError(400, 'invalid_grant', 70000, "The provided value for the 'code' parameter is not valid."),
  codeRedeemed: () =>
    new EntraError(
      400,
      'invalid_grant',
      54005,
      'OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.',
    ),
  codeExpired: () =>
    new EntraError(
      400,
      'invalid_grant',
      70008,
      'The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.',
    ),
  codeOtherClient: () =>
    new EntraError(
      400,
      'invalid_grant',
      70000,
      'The provided authorization code was issued to a different client. Provided grant is invalid or malformed.',
    ),
  redirectMismatch: () =>
    new EntraError(
      400,
      'invalid_grant',
      500112,
      'The reply address does not match the reply address provided when requesting Authorization code.',
    ),
  verifierMismatch: () =>
    new EntraError(
      400,
      'invalid_grant',
      501481,
      'The Code_Verifier does not match the code_challenge supplied in the authorization request.',
    ),
  verifierMissing: () =>
    new EntraError(400, 'invalid_request', 900144, "The request body must contain the following parameter: 'code_verifier'."),
  spaWithoutOrigin: () =>
    new EntraError(
      400,
      'invalid_request',
      9002327,
      "Tokens issued for the 'Single-Page Application' client-type may only be redeemed via cross-origin requests.",
    ),
  crossOriginNotSpa: () =>
    new EntraError(
      400,
      'invalid_request',
      9002326,
      "Cross-origin token redemption is permitted only for the 'Single-Page Application' client-type.",
    ),
  // --- token endpoint: device code grant ---
  authorizationPending: () =>
    new EntraError(400, 'authorization_pending', 70016, 'OAuth 2.0 device flow error. Authorization is pending. Continue polling.'),
  slowDown: () =>
    new EntraError(400, 'slow_down', 70016, 'OAuth 2.0 device flow error. Polling too fast: wait the interval between requests.'),
  authorizationDeclined: () => new EntraError(400, 'authorization_declined', 70000, 'The end user denied the authorization request.'),
  deviceCodeExpired: () =>
    new EntraError(
      400,
      'expired_token',
      70020,
      "The provided value for the input parameter 'device_code' is not valid. This device code has expired.",
    ),
  badDeviceCode: () =>
    new EntraError(400, 'bad_verification_code', 70000, "The provided value for the input parameter 'device_code' is not valid."),
  // --- authorize endpoint, shown as a page (no redirect URI to trust) ---
  redirectNotRegistered: (uri: string, clientId: string) =>
    new EntraError(
      400,
      'invalid_request',
      50011,
      `The redirect URI '${uri}' specified in the request does not match the redirect URIs configured for the application '${clientId}'. Make sure the redirect URI sent in the request matches one added to your application in the Azure portal.`,
    ),
  // --- authorize endpoint, sent back to the redirect URI ---
  loginRequired: () => new EntraError(400, 'login_required', 50058, 'A silent sign-in request was sent but no user is signed in.'),
  interactionRequired: () =>
    new EntraError(
      400,
      'interaction_required',
      16000,
      'Either multiple user identities are available for the current request or selected account is not supported for the scenario.',
    ),
  unsupportedResponseType: (type: string) =>
    new EntraError(400, 'unsupported_response_type', 700054, `response_type '${type}' is not enabled for the application.`),
  invalidResponseMode: (mode: string) => new EntraError(400, 'invalid_request', 900144, `The response_mode '${mode}' is not supported.`),
  pkceRequiredForSpa: () =>
    new EntraError(
      400,
      'invalid_request',
      9002325,
      'Proof Key for Code Exchange is required for cross-origin authorization code redemption.',
    ),
  invalidCodeChallengeMethod: (method: string) =>
    new EntraError(400, 'invalid_request', 501491, `Invalid code_challenge_method '${method}'; supported are S256 and plain.`),
  invalidCodeChallenge: () => new EntraError(400, 'invalid_request', 501491, 'Invalid size of Code_Challenge parameter.'),
  invalidPrompt: (prompt: string) => new EntraError(400, 'invalid_request', 90023, `Invalid value '${prompt}' for the prompt parameter.`),
};
