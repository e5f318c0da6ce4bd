import { createHash, randomBytes } from 'node:crypto';
import type { LightMyRequestResponse } from 'fastify';
import type { TestApp } from '../helpers/test-app.js';

/** PKCE pair (RFC 7636): a random verifier and its S256 challenge. */
export function pkce() {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

/** The name=value pairs of a response's Set-Cookie headers, as a Cookie header, merged into `jar`. */
export function cookies(res: LightMyRequestResponse, jar: Record<string, string> = {}): Record<string, string> {
  const set = res.headers['set-cookie'];
  for (const line of Array.isArray(set) ? set : set ? [set] : []) {
    const [pair] = line.split(';');
    const i = pair!.indexOf('=');
    jar[pair!.slice(0, i)] = pair!.slice(i + 1);
  }
  return jar;
}
export const cookieHeader = (jar: Record<string, string>) =>
  Object.entries(jar)
    .filter(([, v]) => v !== '')
    .map(([k, v]) => `${k}=${v}`)
    .join('; ');

/** The hidden fields of the sign-in form (the second form when the page offers "continue as"). */
export function formFields(body: string): Record<string, string> {
  const forms = body.split('<form').slice(1);
  const form = forms.find((f) => f.includes('name="password"')) ?? forms[0] ?? '';
  const fields: Record<string, string> = {};
  for (const m of form.matchAll(/<input type="hidden" name="([^"]*)" value="([^"]*)"/g)) fields[decode(m[1]!)] = decode(m[2]!);
  return fields;
}
const decode = (s: string) =>
  s
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');

export const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();

/**
 * Opens the authorize URL, signs in on the page with the given credentials, and returns the final
 * response (a redirect to the app, or the page again) and the cookie jar.
 */
export async function signInThroughPage(
  t: TestApp,
  path: string,
  credentials: { username: string; password: string },
  jar: Record<string, string> = {},
) {
  const page = await t.inject({ method: 'GET', url: path, headers: { cookie: cookieHeader(jar) } });
  cookies(page, jar);
  if (page.statusCode !== 200) return { res: page, jar };
  const fields = formFields(page.body);
  const res = await t.inject({
    method: 'POST',
    url: path.split('?')[0]!,
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: cookieHeader(jar) },
    payload: form({ ...fields, username: credentials.username, password: credentials.password }),
  });
  cookies(res, jar);
  return { res, jar };
}

export function authorizeUrl(tenant: string, params: Record<string, string>) {
  return `/${tenant}/oauth2/v2.0/authorize?${new URLSearchParams(params)}`;
}

/** The parameters of a redirect to the app (query or fragment). */
export function redirectParams(res: LightMyRequestResponse): Record<string, string> {
  const location = String(res.headers.location ?? '');
  const u = new URL(location);
  return Object.fromEntries(new URLSearchParams(u.hash ? u.hash.slice(1) : u.search));
}
