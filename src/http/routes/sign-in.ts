import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import { jwtVerify, decodeProtectedHeader } from 'jose';
import { EntraError, entra } from '../../identity/entra-errors.js';
import type { DeviceCodes } from '../../identity/grants/device-code.js';
import {
  AuthorizePageError,
  AuthorizeRedirectError,
  redirectLocation,
  type AuthorizeRequest,
  type AuthorizeService,
  type ClientResponse,
} from '../../identity/sign-in/authorize-request.js';
import {
  BrowserSessions,
  CSRF_COOKIE,
  SESSION_COOKIE,
  cookie,
  newToken,
  readCookie,
  sameToken,
} from '../../identity/sign-in/browser-sessions.js';
import { checkSignInPassword } from '../../identity/sign-in/password-check.js';
import type { SignInProtection } from '../../identity/sign-in-protection.js';
import { matchRedirectUri } from '../../identity/sign-in/redirect-uris.js';
import { signInErrors } from '../../identity/sign-in/sign-in-errors.js';
import type { SigningKeyStore } from '../../identity/signing-keys.js';
import { findApplicationByClientId, findTenant, listApplications } from '../../storage/repositories/directory-repository.js';
import { redirectUris } from '../../storage/repositories/sign-in-repository.js';
import type { Database, UserRow } from '../../storage/tables.js';
import { HTML_HEADERS } from '../../web/layout.js';
import {
  authorizeErrorPage,
  deviceCodeEntryPage,
  deviceDonePage,
  formPostPage,
  signInHeaders,
  signInPage,
  signedOutPage,
} from '../../web/sign-in-pages.js';
import { entraCors } from '../cors.js';
import { entraCloudMetadata } from '../host-names.js';

export interface SignInRoutesOptions {
  db: Kysely<Database>;
  authorize: AuthorizeService;
  sessions: BrowserSessions;
  deviceCodes: DeviceCodes;
  keys: SigningKeyStore;
  requestOrigin: (request: FastifyRequest) => string;
  /** Smart lockout and bounded hashing, shared with the password grant (issue #11 item 2). */
  signIn: SignInProtection;
  /**
   * Paths of the authorize endpoint, each with a `:tenant` segment. The v2.0 path is Entra's
   * `/{tenant}/oauth2/v2.0/authorize`; another (the v1 `/{tenant}/oauth2/authorize`) can be added here.
   */
  authorizePaths?: string[];
}

type Params = Record<string, string | undefined>;
const WRONG_CREDENTIALS = 'Your account or password is incorrect. (AADSTS50126)';
const CSRF_FAILED = 'Your sign-in page expired. Please sign in again.';

/**
 * The interactive part of the emulated Entra ID (issue 12): the authorize endpoint with its sign-in
 * page, sign-out, the device-code endpoint and page, and MSAL's instance discovery. The token endpoint
 * (entra.ts) redeems what these hand out, through the grant modules in identity/grants/.
 */
export async function signInRoutes(app: FastifyInstance, opts: SignInRoutesOptions): Promise<void> {
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
    const params = new URLSearchParams(body as string);
    const out: Record<string, string> = {};
    for (const [key, value] of params) {
      if (key in out) return done(new EntraError(400, 'invalid_request', 90015, `Parameter '${key}' is duplicated.`), undefined);
      out[key] = value;
    }
    done(null, out);
  });
  entraCors(app, ['/common/discovery/instance', '/:tenant/oauth2/v2.0/devicecode']);

  // JSON endpoints answer Entra errors; pages answer an error page.
  app.setErrorHandler((err, request, reply) => {
    const e = err instanceof EntraError ? err : toEntraError(err);
    if (e.status >= 500) request.log.error({ err }, 'sign-in endpoint failed');
    const body = e.body(String(request.headers['client-request-id'] ?? request.id));
    if (/\/devicecode$|\/discovery\/instance$/i.test(request.url.split('?')[0] ?? '')) {
      return reply.code(e.status).header('cache-control', 'no-store').send(body);
    }
    return reply.code(e.status).headers(HTML_HEADERS).send(authorizeErrorPage(body));
  });

  const issuerFor = (request: FastifyRequest) => (tid: string) => `${opts.requestOrigin(request)}/${tid}/v2.0`;
  const correlation = (request: FastifyRequest) => String(request.headers['client-request-id'] ?? request.id);

  /** The CSRF token of this browser: the cookie's, or a new one set now (double-submit pattern). */
  const csrfToken = (request: FastifyRequest, reply: FastifyReply) => {
    const existing = readCookie(request.headers.cookie, CSRF_COOKIE);
    if (existing && /^[\w-]{43}$/.test(existing)) return existing;
    const token = newToken();
    reply.header('set-cookie', cookie(CSRF_COOKIE, token));
    return token;
  };
  const csrfValid = (request: FastifyRequest, body: Params) => sameToken(readCookie(request.headers.cookie, CSRF_COOKIE), body.gm_csrf);

  const sendClientResponse = (reply: FastifyReply, response: ClientResponse) => {
    if (response.mode !== 'form_post')
      return reply.code(302).header('cache-control', 'no-store').header('location', redirectLocation(response)).send();
    const nonce = randomBytes(16).toString('base64');
    return reply
      .code(200)
      .headers(signInHeaders({ formAction: cspSource(response.uri), scriptNonce: nonce }))
      .send(formPostPage({ uri: response.uri, params: response.params, nonce }));
  };

  const renderSignIn = (
    request: FastifyRequest,
    reply: FastifyReply,
    req: AuthorizeRequest,
    extra: { error?: string; username?: string; account?: UserRow; status?: number } = {},
  ) => {
    const csrf = csrfToken(request, reply);
    return (
      reply
        .code(extra.status ?? 200)
        // CSP form-action also governs the redirect that answers the form: allow the app's redirect URI origin.
        .headers(signInHeaders({ formAction: `'self' ${cspSource(req.redirectUri)}` }))
        .send(
          signInPage({
            action: request.url.split('?')[0]!,
            appName: req.app.display_name,
            // At /common and /organizations the page names no tenant: any work account may sign in.
            tenantName: req.tenant?.display_name,
            fields: { ...req.params, gm_csrf: csrf },
            username: extra.username ?? req.loginHint,
            error: extra.error,
            account: extra.account ? { name: extra.account.display_name, upn: extra.account.upn } : undefined,
          }),
        )
    );
  };

  const signInAs = async (reply: FastifyReply, tenantId: string, user: UserRow) => {
    const session = await opts.sessions.start(tenantId, user.id);
    reply.header('set-cookie', cookie(SESSION_COOKIE, session.id));
    return session.idHash;
  };

  const authorizeHandler = async (request: FastifyRequest<{ Params: { tenant: string } }>, reply: FastifyReply) => {
    const post = request.method === 'POST';
    const body = (post ? request.body : undefined) as Params | undefined;
    const raw = (body ?? request.query) as Params;
    let req: AuthorizeRequest;
    try {
      req = await opts.authorize.validate(request.params.tenant, raw);
    } catch (err) {
      if (err instanceof AuthorizeRedirectError) return sendClientResponse(reply, err.response(correlation(request)));
      if (err instanceof AuthorizePageError) throw err.entraError;
      throw err;
    }
    const issuer = issuerFor(request);
    const session = await opts.sessions.current(request.headers.cookie, req.tenant?.id);
    const fail = (e: EntraError) =>
      sendClientResponse(
        reply,
        new AuthorizeRedirectError({ redirectUri: req.redirectUri, state: req.state, mode: req.responseMode }, e).response(
          correlation(request),
        ),
      );

    /** The code for the user, in the user's tenant at /common and /organizations (or Entra's refusal, at the app). */
    const issueCode = async (user: UserRow, sessionIdHash: string | null) => {
      try {
        return sendClientResponse(
          reply,
          await opts.authorize.issueCode(req, await opts.authorize.userTenant(req, user), user, sessionIdHash, issuer),
        );
      } catch (err) {
        if (err instanceof AuthorizeRedirectError) return sendClientResponse(reply, err.response(correlation(request)));
        throw err;
      }
    };

    // A submission of the sign-in page (it posts back here with the protocol parameters).
    const action = body?.gm_action;
    if (action !== undefined) {
      if (!csrfValid(request, body!)) return renderSignIn(request, reply, req, { error: CSRF_FAILED, status: 400 });
      if (action === 'continue' && session) return issueCode(session.user, session.idHash);
      if (action === 'signin') {
        const username = body!.username ?? '';
        const check = await checkSignInPassword(opts.db, opts.signIn, {
          tenantId: req.tenant?.id,
          username,
          password: body!.password ?? '',
          sourceAddress: request.ip,
        });
        if (!('user' in check))
          return renderSignIn(request, reply, req, {
            error: 'refused' in check ? check.refused : WRONG_CREDENTIALS,
            username,
            status: 200,
          });
        const user = check.user;
        const idHash = await signInAs(reply, user.tenant_id, user);
        return issueCode(user, idHash);
      }
      return renderSignIn(request, reply, req);
    }

    const hintMismatch = session !== undefined && req.loginHint !== undefined && req.loginHint.trim().toLowerCase() !== session.user.upn;
    switch (req.prompt) {
      case 'none':
        if (!session) return fail(signInErrors.loginRequired());
        if (hintMismatch) return fail(signInErrors.interactionRequired());
        return issueCode(session.user, session.idHash);
      case 'login':
        return renderSignIn(request, reply, req);
      case 'select_account':
      case 'consent':
        return renderSignIn(request, reply, req, { account: hintMismatch ? undefined : session?.user });
      default:
        if (session && !hintMismatch) return issueCode(session.user, session.idHash);
        return renderSignIn(request, reply, req);
    }
  };
  for (const path of opts.authorizePaths ?? ['/:tenant/oauth2/v2.0/authorize']) {
    app.route({ method: ['GET', 'POST'], url: path, handler: authorizeHandler });
  }

  // --- sign-out ------------------------------------------------------------------------------------
  const logout = async (request: FastifyRequest<{ Params: { tenant: string } }>, reply: FastifyReply) => {
    const q = ((request.method === 'POST' ? request.body : request.query) ?? {}) as Params;
    await opts.sessions.end(request.headers.cookie);
    reply.header('set-cookie', cookie(SESSION_COOKIE, '', 0));
    const target = q.post_logout_redirect_uri;
    const tenant = await findTenant(opts.db, request.params.tenant);
    if (target && tenant && (await registeredForLogout(tenant.id, target, q))) {
      const location =
        q.state !== undefined ? `${target}${target.includes('?') ? '&' : '?'}${new URLSearchParams({ state: q.state })}` : target;
      return reply.code(302).header('cache-control', 'no-store').header('location', location).send();
    }
    // An unregistered post_logout_redirect_uri is never followed (no open redirect): the user sees this page.
    return reply.code(200).headers(HTML_HEADERS).send(signedOutPage());
  };
  /** Is the URI a registered redirect URI of the app named by client_id or id_token_hint (else of any app of the tenant)? */
  const registeredForLogout = async (tenantId: string, uri: string, q: Params) => {
    let clientId = q.client_id;
    if (!clientId && q.id_token_hint) clientId = await audienceOf(q.id_token_hint);
    const apps = clientId
      ? [await findApplicationByClientId(opts.db, clientId)].filter((a) => a !== undefined && a.tenant_id === tenantId)
      : await listApplications(opts.db, tenantId);
    for (const a of apps) if (a && matchRedirectUri(await redirectUris(opts.db, a.id), uri)) return true;
    return false;
  };
  const audienceOf = async (idToken: string) => {
    try {
      const { kid } = decodeProtectedHeader(idToken);
      const key = typeof kid === 'string' ? await opts.keys.publicKey(kid) : undefined;
      if (!key) return undefined;
      // An expired id token still names its app (Entra accepts it as a hint at sign-out).
      const { payload } = await jwtVerify(idToken, key, { algorithms: ['RS256'], clockTolerance: 365 * 24 * 3600 });
      return typeof payload.aud === 'string' ? payload.aud : undefined;
    } catch {
      return undefined;
    }
  };
  app.route({ method: ['GET', 'POST'], url: '/:tenant/oauth2/v2.0/logout', handler: logout });

  // --- device code ---------------------------------------------------------------------------------
  app.post<{ Params: { tenant: string } }>('/:tenant/oauth2/v2.0/devicecode', async (request, reply) => {
    const ct = String(request.headers['content-type'] ?? '');
    if (!ct.toLowerCase().startsWith('application/x-www-form-urlencoded')) throw entra.missingParameter('client_id');
    const answer = await opts.deviceCodes.start(
      request.params.tenant,
      (request.body ?? {}) as Params,
      `${opts.requestOrigin(request)}/devicelogin`,
    );
    return reply.header('cache-control', 'no-store').send(answer);
  });

  const devicePage = (reply: FastifyReply, status: number, page: string) =>
    reply
      .code(status)
      .headers(signInHeaders({ formAction: "'self'" }))
      .send(page);
  app.get<{ Querystring: { otc?: string } }>('/devicelogin', async (request, reply) =>
    devicePage(
      reply,
      200,
      deviceCodeEntryPage({
        action: '/devicelogin',
        csrf: csrfToken(request, reply),
        code: typeof request.query.otc === 'string' ? request.query.otc.slice(0, 20) : undefined,
      }),
    ),
  );
  app.post('/devicelogin', async (request, reply) => {
    const body = (request.body ?? {}) as Params;
    const csrf = csrfToken(request, reply);
    if (!csrfValid(request, body)) return devicePage(reply, 400, deviceCodeEntryPage({ action: '/devicelogin', csrf, error: CSRF_FAILED }));
    const row = await opts.deviceCodes.pendingByUserCode(body.otc ?? '');
    if (!row) {
      return devicePage(
        reply,
        200,
        deviceCodeEntryPage({
          action: '/devicelogin',
          csrf,
          error: "That code didn't work. Check the code and try again.",
          code: (body.otc ?? '').slice(0, 20),
        }),
      );
    }
    const tenant = (await findTenant(opts.db, row.tenant_id))!;
    const app = (await findApplicationByClientId(opts.db, row.client_id))!;
    const session = await opts.sessions.current(request.headers.cookie, tenant.id);
    const page = (extra: { error?: string; username?: string } = {}) =>
      devicePage(
        reply,
        200,
        signInPage({
          action: '/devicelogin',
          appName: app.display_name,
          tenantName: tenant.display_name,
          fields: { gm_csrf: csrf, otc: row.user_code },
          account: session ? { name: session.user.display_name, upn: session.user.upn } : undefined,
          decline: true,
          ...extra,
        }),
      );
    const approve = async (user: UserRow) => {
      await opts.deviceCodes.decide(row, 'approved', user.id);
      return devicePage(reply, 200, deviceDonePage(true, app.display_name));
    };
    switch (body.gm_action) {
      case 'signin': {
        const username = body.username ?? '';
        const check = await checkSignInPassword(opts.db, opts.signIn, {
          tenantId: tenant.id,
          username,
          password: body.password ?? '',
          sourceAddress: request.ip,
        });
        if (!('user' in check)) return page({ error: 'refused' in check ? check.refused : WRONG_CREDENTIALS, username });
        const user = check.user;
        await signInAs(reply, tenant.id, user);
        return approve(user);
      }
      case 'continue':
        return session ? approve(session.user) : page();
      case 'deny':
        await opts.deviceCodes.decide(row, 'declined', null);
        return devicePage(reply, 200, deviceDonePage(false, app.display_name));
      default:
        return page();
    }
  });

  // --- MSAL instance discovery ---------------------------------------------------------------------
  // MSAL asks `{instance}/common/discovery/instance?api-version=1.1&authorization_endpoint=…` unless told
  // the authority is known; the answer names this host as its own only alias, and the tenant's OIDC document.
  app.get<{ Querystring: { authorization_endpoint?: string } }>('/common/discovery/instance', async (request) => {
    const origin = opts.requestOrigin(request);
    const host = new URL(origin).host;
    let tenant = 'common';
    const endpoint = request.query.authorization_endpoint;
    if (typeof endpoint === 'string') {
      try {
        const u = new URL(endpoint);
        const first = u.pathname.split('/')[1];
        if (u.host === host && first && /^[\w.-]{1,256}$/.test(first)) tenant = first;
      } catch {
        // not a URL: the generic answer
      }
    }
    return {
      tenant_discovery_endpoint: `${origin}/${tenant}/v2.0/.well-known/openid-configuration`,
      'api-version': '1.1',
      metadata: entraCloudMetadata(host) ?? [{ preferred_network: host, preferred_cache: host, aliases: [host] }],
    };
  });
}

/** A CSP source for a redirect URI: its origin, or its scheme for custom schemes (msal{id}://auth). */
function cspSource(uri: string): string {
  const u = new URL(uri);
  return u.origin !== 'null' ? u.origin : u.protocol;
}

function toEntraError(err: unknown): EntraError {
  const e = err as { statusCode?: number };
  if (typeof e.statusCode === 'number' && e.statusCode < 500)
    return new EntraError(400, 'invalid_request', 90014, 'The request is malformed.');
  return entra.serverError();
}
