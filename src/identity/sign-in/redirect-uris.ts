import type { RedirectPlatform } from '../../storage/tables.js';

export const REDIRECT_PLATFORMS: readonly RedirectPlatform[] = ['web', 'spa', 'public'];
const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

export interface RegisteredRedirect {
  uri: string;
  platform: RedirectPlatform;
}

/**
 * The registered redirect URI a requested one matches, or undefined. Matching is exact, as in Entra,
 * except that an `http` loopback URI (localhost, 127.0.0.1) matches any port (RFC 8252 §7.3; Entra's
 * "Redirect URI restrictions": the port is ignored for localhost), so desktop apps can listen on a
 * free port. Scheme, host, path and query must still be the registered ones.
 */
export function matchRedirectUri(registered: readonly RegisteredRedirect[], requested: string): RegisteredRedirect | undefined {
  const exact = registered.find((r) => r.uri === requested);
  if (exact) return exact;
  const req = parse(requested);
  if (!req || req.protocol !== 'http:' || !LOOPBACK.has(req.hostname)) return undefined;
  return registered.find((r) => {
    const reg = parse(r.uri);
    return (
      reg !== undefined &&
      reg.protocol === 'http:' &&
      reg.hostname === req.hostname &&
      normalPath(reg) === normalPath(req) &&
      reg.search === req.search &&
      req.username === '' &&
      req.password === '' &&
      req.hash === ''
    );
  });
}

/** `http://localhost` and `http://localhost/` are one URI (the URL parser gives both the path `/`). */
const normalPath = (u: URL) => u.pathname;

function parse(uri: string): URL | undefined {
  try {
    return new URL(uri);
  } catch {
    return undefined;
  }
}

/** Checks a URI an admin registers: absolute; https, or http only for loopback (as Entra requires); no fragment. */
export function redirectUriProblem(uri: string, platform: RedirectPlatform): string | undefined {
  const u = parse(uri);
  if (!u) return `'${uri}' is not an absolute URI.`;
  if (u.hash) return 'A redirect URI cannot contain a fragment.';
  if (uri.length > 256) return 'A redirect URI can have at most 256 characters.';
  if (u.protocol === 'https:') return undefined;
  if (u.protocol === 'http:')
    return LOOPBACK.has(u.hostname) ? undefined : 'http redirect URIs are allowed only for localhost and 127.0.0.1.';
  // Mobile and desktop apps may use custom schemes (msal{client-id}://auth); web and spa must use https.
  if (platform === 'public' && /^[a-z][a-z0-9+.-]*:$/.test(u.protocol) && u.protocol !== 'javascript:' && u.protocol !== 'data:')
    return undefined;
  return `The scheme '${u.protocol}' is not allowed for a ${platform} redirect URI.`;
}
