/**
 * The official libraries sign a user in through the emulated Entra ID in Debian's Chromium (issue 12):
 * msal-node's ConfidentialClientApplication (auth code + PKCE), PublicClientApplication (loopback,
 * form_post), @azure/msal-browser in a real page (redirect sign-in, acquireTokenSilent, a Graph fetch
 * that needs CORS), and @azure/identity's DeviceCodeCredential. One browser is shared; the refusals
 * are tested at HTTP level in test/identity/sign-in.test.ts. These run on SQLite only: the storage
 * paths they use are the ones that suite runs on every store, and each browser flow costs seconds.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { after, before, describe, test } from 'node:test';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { startSdkWorker, type SdkWorker } from '../helpers/sdk-worker-client.js';
import { DEMO, startTestApp, type TestApp } from '../helpers/test-app.js';

const C = DEMO.contoso;
const CHROMIUM = '/usr/bin/chromium';
const GRAPH = (s: string) => `https://graph.microsoft.com/${s}`;
const SCOPES = [GRAPH('OnlineMeetings.ReadWrite')];
const MSAL_BROWSER = readFileSync(
  createRequire(import.meta.url)
    .resolve('@azure/msal-browser')
    .replace(/msal-browser\.cjs$/, 'msal-browser.js'),
  'utf8',
);

/** Fills the sign-in page and submits it, as a person would. */
async function signIn(page: Page, username = C.alice.upn) {
  try {
    await page.waitForSelector('#password', { timeout: 10_000 });
  } catch (err) {
    const state = await page.evaluate('({ url: location.href, error: window.__error, body: document.body.innerText })');
    throw new Error(`no sign-in page: ${JSON.stringify(state)}`, { cause: err });
  }
  await page.fill('#username', username);
  await page.fill('#password', DEMO.password);
  await page.click('#signin');
}

/**
 * The single-page app: a page of its own origin (http://localhost:<port>, the Meeting SPA's redirect
 * URI, any port) that loads msal-browser's browser bundle and runs the app's sign-in code unchanged.
 */
function spaServer(origin: string) {
  const tenantHost = new URL(origin).host;
  const page = `<!doctype html><html><head><meta charset="utf-8"><title>Meeting SPA</title>
<script src="/msal-browser.js"></script></head><body><p id="status">loading</p>
<script type="module">
const scopes = ${JSON.stringify(SCOPES)};
try {
  const pca = await msal.createStandardPublicClientApplication({
    auth: {
      clientId: ${JSON.stringify(C.spa.clientId)},
      authority: ${JSON.stringify(`${origin}/${C.tenantId}`)},
      knownAuthorities: [${JSON.stringify(tenantHost)}],
      redirectUri: location.origin + '/',
    },
    cache: { cacheLocation: 'localStorage' },
  });
  const redirect = await pca.handleRedirectPromise();
  const account = redirect?.account ?? pca.getAllAccounts()[0];
  if (!account) {
    await pca.loginRedirect({ scopes });
  } else {
    // forceRefresh: the token comes from the token endpoint with the SPA's refresh token (cross-origin).
    const silent = await pca.acquireTokenSilent({ scopes, account, forceRefresh: true });
    const res = await fetch(${JSON.stringify(`${origin}/v1.0/me/onlineMeetings`)}, {
      method: 'POST',
      headers: { authorization: 'Bearer ' + silent.accessToken, 'content-type': 'application/json' },
      body: JSON.stringify({ subject: 'from the SPA' }),
    });
    window.__result = {
      status: res.status,
      requestId: res.headers.get('request-id'),
      body: await res.json(),
      username: account.username,
      idTokenAud: silent.idTokenClaims.aud,
      fromCache: silent.fromCache,
    };
  }
} catch (e) {
  window.__error = String(e && e.stack || e);
}
</script></body></html>`;
  return http.createServer((req, res) => {
    if ((req.url ?? '').startsWith('/msal-browser.js')) {
      res.writeHead(200, { 'content-type': 'text/javascript' }).end(MSAL_BROWSER);
      return;
    }
    res.writeHead(200, { 'content-type': 'text/html' }).end(page);
  });
}

describe('sqlite: the official libraries sign in through the browser', () => {
  let t: TestApp;
  let w: SdkWorker;
  let browser: Browser;
  let context: BrowserContext;
  let spa: http.Server;
  before(async () => {
    t = await startTestApp('sqlite', { listen: true });
    w = await startSdkWorker(t.caPath);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    });
  });
  after(async () => {
    await browser?.close();
    spa?.close();
    await w?.close();
    await t?.close();
  });
  const newPage = async () => {
    context = await browser.newContext({ ignoreHTTPSErrors: true });
    const page = await context.newPage();
    const cspViolations: string[] = [];
    page.on('console', (msg) => {
      if (/Content Security Policy/i.test(msg.text())) cspViolations.push(msg.text());
    });
    return { page, cspViolations };
  };

  test('msal-node ConfidentialClientApplication: getAuthCodeUrl → sign-in page → acquireTokenByCode → a meeting', async () => {
    const { page } = await newPage();
    const state = 'portal-state';
    // The web app's callback, as a dev server runs it: http://localhost:<port>/auth/callback matches the
    // registered http://localhost/auth/callback (loopback: any port).
    let callback: URL | undefined;
    const portal = http.createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      if (url.pathname === '/auth/callback') callback = url; // not /favicon.ico
      res.writeHead(200, { 'content-type': 'text/html' }).end('<p id="callback">callback</p>');
    });
    await new Promise<void>((resolve) => portal.listen(0, '127.0.0.1', resolve));
    after(() => portal.close());
    const redirectUri = `http://localhost:${(portal.address() as AddressInfo).port}/auth/callback`;
    const { url, verifier } = await w.call('msalAuthCodeUrl', {
      origin: t.origin,
      tenant: C.tenantId,
      clientId: C.portal.clientId,
      secret: C.portal.secret,
      redirectUri,
      scopes: SCOPES,
      state,
      nonce: 'portal-nonce',
    });
    await page.goto(url);
    await signIn(page);
    await page.waitForSelector('#callback');
    assert.ok(callback, 'the browser came back to the redirect URI');
    assert.equal(callback.searchParams.get('state'), state);
    const result = await w.call('msalAcquireByCode', {
      origin: t.origin,
      tenant: C.tenantId,
      clientId: C.portal.clientId,
      secret: C.portal.secret,
      redirectUri,
      scopes: SCOPES,
      code: callback.searchParams.get('code')!,
      verifier,
      state,
      nonce: 'portal-nonce',
    });
    assert.equal(result.username, C.alice.upn);
    assert.equal(result.idTokenClaims?.nonce, 'portal-nonce');
    const created = await w.call('fetch', {
      url: `${t.origin}/v1.0/me/onlineMeetings`,
      method: 'POST',
      token: result.accessToken,
      body: { subject: 'from msal-node' },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));

    // The browser session: a second sign-in of the same app is silent (no page).
    const again = await w.call('msalAuthCodeUrl', {
      origin: t.origin,
      tenant: C.tenantId,
      clientId: C.portal.clientId,
      secret: C.portal.secret,
      redirectUri,
      scopes: SCOPES,
      state: 'second',
      nonce: 'n2',
    });
    callback = undefined;
    await page.goto(again.url);
    await page.waitForSelector('#callback');
    assert.equal(callback!.searchParams.get('state'), 'second');
    await context.close();
  });

  test('msal-node PublicClientApplication: loopback redirect on any port, form_post auto-submitted under the CSP', async () => {
    const { page, cspViolations } = await newPage();
    const { flow, url } = await w.call('msalLoopbackStart', {
      origin: t.origin,
      tenant: C.tenantId,
      clientId: C.client.clientId,
      scopes: SCOPES,
    });
    assert.match(url, /response_mode=form_post/);
    assert.match(url, /redirect_uri=http%3A%2F%2Flocalhost%3A\d+/);
    await page.goto(url);
    await signIn(page);
    await page.waitForSelector('#msal-done');
    const result = await w.call('interactiveFinish', { flow });
    assert.equal(result.username, C.alice.upn);
    assert.ok(result.accessToken);
    assert.deepEqual(cspViolations, [], 'the auto-submit script runs under the strict CSP');
    await context.close();
  });

  test('@azure/msal-browser: loginRedirect, acquireTokenSilent (refresh token, cross-origin), then Graph through CORS', async () => {
    spa = spaServer(t.origin);
    await new Promise<void>((resolve) => spa.listen(0, '127.0.0.1', resolve));
    const spaOrigin = `http://localhost:${(spa.address() as AddressInfo).port}`;
    const { page } = await newPage();
    await page.goto(`${spaOrigin}/`);
    await signIn(page);
    await page.waitForFunction('window.__result ?? window.__error', null, {
      timeout: 20_000,
    });
    const error = (await page.evaluate('window.__error')) as string | undefined;
    assert.equal(error, undefined, error);
    const result = (await page.evaluate('window.__result')) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- page data
    assert.equal(result.status, 201, JSON.stringify(result.body));
    assert.equal(result.body.subject, 'from the SPA');
    assert.ok(result.requestId, 'request-id is exposed to the page (Access-Control-Expose-Headers)');
    assert.equal(result.username, C.alice.upn);
    assert.equal(result.idTokenAud, C.spa.clientId);
    assert.equal(result.fromCache, false);
    await context.close();
  });

  test('@azure/identity DeviceCodeCredential: the user completes the code on the device page', async () => {
    const { page } = await newPage();
    const start = await w.call('deviceCodeStart', { origin: t.origin, tenant: C.tenantId, clientId: C.client.clientId, scopes: SCOPES });
    assert.equal(start.verificationUri, `${t.origin}/devicelogin`);
    assert.ok(start.message.includes(start.userCode));
    await page.goto(start.verificationUri);
    await page.fill('#otc', start.userCode);
    await page.click('#next');
    await signIn(page);
    await page.waitForSelector('#done');
    const result = await w.call('interactiveFinish', { flow: start.flow });
    const created = await w.call('fetch', {
      url: `${t.origin}/v1.0/me/onlineMeetings`,
      method: 'POST',
      token: result.accessToken,
      body: { subject: 'from a device' },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    await context.close();
  });
});
