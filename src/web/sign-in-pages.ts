import { Html, html, layout } from './layout.js';

/**
 * The pages of the emulated Entra sign-in: the sign-in form, the account picker, the device-code
 * pages, the sign-out confirmation, error pages and the form_post auto-submit. All markup goes through
 * `html` (every value escaped); headers come from signInHeaders, a strict CSP per page.
 */

/**
 * The CSP of a sign-in page: as strict as the other pages, except that a form may post to `formAction`
 * ('self' for the sign-in forms, the app's redirect URI origin for form_post) and one nonce'd script
 * may run (the form_post auto-submit).
 */
export function signInHeaders(options: { formAction: string; scriptNonce?: string }) {
  const script = options.scriptNonce ? `; script-src 'nonce-${options.scriptNonce}'` : '';
  return {
    'content-type': 'text/html; charset=utf-8',
    'content-security-policy': `default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action ${options.formAction}; frame-ancestors 'none'${script}`,
    'x-frame-options': 'DENY',
    'referrer-policy': 'no-referrer',
    'cache-control': 'no-store',
  } as const;
}

const hiddenFields = (fields: Record<string, string>) =>
  Object.entries(fields).map(([name, value]) => html`<input type="hidden" name="${name}" value="${value}" />`);

const SIGN_IN_STYLE = new Html(`<style>
  label { display: block; margin: 12px 0 4px; }
  input[type=text], input[type=password], input[type=email] { width: 100%; box-sizing: border-box; padding: 8px; font: inherit; }
  button { margin-top: 16px; padding: 8px 20px; font: inherit; background: #6264a7; color: #fff; border: 0; border-radius: 4px; cursor: pointer; }
  button.secondary { background: #e1dfdd; color: #252424; }
  .error { color: #a4262c; border-left: 4px solid #a4262c; background: #fdf3f4; padding: 8px 12px; }
</style>`);

export interface SignInPageInput {
  /** Where the form posts (this origin). */
  action: string;
  appName: string;
  /** Undefined at /common and /organizations: any organization's account may sign in. */
  tenantName: string | undefined;
  /** The protocol parameters carried through, plus the CSRF token. */
  fields: Record<string, string>;
  username?: string;
  error?: string;
  /** When a session exists (prompt=select_account|consent): offer to continue as this account. */
  account?: { name: string; upn: string };
  /** Offer to decline (the device-code page: the user may not have started this sign-in). */
  decline?: boolean;
}

export function signInPage(input: SignInPageInput): string {
  const error = input.error ? html`<p class="error" role="alert" id="error">${input.error}</p>` : html``;
  const account = input.account
    ? html`<form method="post" action="${input.action}">
          ${hiddenFields(input.fields)}
          <input type="hidden" name="gm_action" value="continue" />
          <p>Continue as <strong>${input.account.name}</strong> (<code>${input.account.upn}</code>)?</p>
          <button type="submit" id="continue">Continue</button>
        </form>
        <p>Or sign in with another account:</p>`
    : html``;
  return layout(
    'Sign in',
    html`${SIGN_IN_STYLE}
      <h1>Sign in</h1>
      <p>to continue to <strong>${input.appName}</strong>${input.tenantName !== undefined ? html` (${input.tenantName})` : html``}</p>
      ${error} ${account}
      <form method="post" action="${input.action}" autocomplete="on">
        ${hiddenFields(input.fields)}
        <input type="hidden" name="gm_action" value="signin" />
        <label for="username">Email or user name</label>
        <input type="email" id="username" name="username" value="${input.username ?? ''}" autocomplete="username" required />
        <label for="password">Password</label>
        <input type="password" id="password" name="password" autocomplete="current-password" required />
        <button type="submit" id="signin">Sign in</button>
      </form>
      ${
        input.decline
          ? html`<form method="post" action="${input.action}">
              ${hiddenFields(input.fields)}
              <input type="hidden" name="gm_action" value="deny" />
              <p>Didn't start this sign-in on a device?</p>
              <button type="submit" class="secondary" id="deny">Cancel sign-in</button>
            </form>`
          : html``
      }
      <p class="note">This is the emulated Microsoft Entra ID of graph-meetings: sign in with a user of the tenant's directory.</p>`,
  );
}

/** An AADSTS error shown as a page: no redirect URI could be trusted (Entra shows these the same way). */
export function authorizeErrorPage(body: { error: string; error_description: string; correlation_id: string }): string {
  const [first] = body.error_description.split(' Trace ID:');
  return layout(
    'Sign-in error',
    html`<h1>Sorry, but we're having trouble signing you in.</h1>
      <p id="error-description">${first ?? body.error_description}</p>
      <dl>
        <dt>Error</dt>
        <dd><code>${body.error}</code></dd>
        <dt>Correlation ID</dt>
        <dd><code>${body.correlation_id}</code></dd>
      </dl>`,
  );
}

/**
 * response_mode=form_post: a form to the app's redirect URI, submitted by a script that the CSP
 * admits by its nonce (no inline handlers, nothing else may run). Without script, a button does it.
 */
export function formPostPage(input: { uri: string; params: Record<string, string>; nonce: string }): string {
  return layout(
    'Signing in',
    html`<form method="post" action="${input.uri}" id="form_post">
        ${hiddenFields(input.params)}
        <noscript><p>Script is disabled. Press the button to continue.</p></noscript>
        <button type="submit">Continue</button>
      </form>
      <script nonce="${input.nonce}">
        document.getElementById('form_post').submit();
      </script>`,
  );
}

export function signedOutPage(): string {
  return layout(
    'Signed out',
    html`<h1>You signed out of your account</h1>
      <p>It's a good idea to close all browser windows.</p>`,
  );
}

export function deviceCodeEntryPage(input: { action: string; csrf: string; error?: string; code?: string }): string {
  const error = input.error ? html`<p class="error" role="alert" id="error">${input.error}</p>` : html``;
  return layout(
    'Enter code',
    html`${SIGN_IN_STYLE}
      <h1>Enter code</h1>
      <p>Enter the code displayed on your app or device.</p>
      ${error}
      <form method="post" action="${input.action}">
        <input type="hidden" name="gm_csrf" value="${input.csrf}" />
        <input type="hidden" name="gm_action" value="code" />
        <label for="otc">Code</label>
        <input type="text" id="otc" name="otc" value="${input.code ?? ''}" autocomplete="off" required />
        <button type="submit" id="next">Next</button>
      </form>`,
  );
}

export function deviceDonePage(approved: boolean, appName: string): string {
  return layout(
    approved ? 'Signed in' : 'Sign-in declined',
    approved
      ? html`<h1 id="done">You have signed in to ${appName} on your device.</h1>
          <p>You may now close this window.</p>`
      : html`<h1 id="done">You declined to sign in to ${appName} on your device.</h1>
          <p>You may now close this window.</p>`,
  );
}
