import { escapeHtml } from '../domain/meetings/join-information.js';

/**
 * A fragment of markup that is already safe to emit. Only `html` (below) makes one, so a plain string
 * can never reach a page unescaped by accident.
 */
export class Html {
  constructor(readonly markup: string) {}
  toString(): string {
    return this.markup;
  }
}

/** What a template may interpolate: text (escaped), numbers, or fragments built by `html`. No null/undefined: they would print. */
export type Interpolation = Html | string | number | readonly Html[];

const render = (value: Interpolation): string => {
  if (value instanceof Html) return value.markup;
  if (Array.isArray(value)) return value.map((v: Html) => v.markup).join('');
  return escapeHtml(String(value));
};

/**
 * Tagged template for markup: every interpolated string goes through escapeHtml (element content and
 * double-quoted attribute values alike), so templates stay injection-safe without per-call care.
 */
export function html(strings: TemplateStringsArray, ...values: Interpolation[]): Html {
  let out = strings[0] ?? '';
  values.forEach((value, i) => {
    out += render(value) + (strings[i + 1] ?? '');
  });
  return new Html(out);
}

/**
 * Headers for every HTML response. The pages carry no script and load nothing: the inline <style> below
 * is the one thing the CSP allows. They show meeting details, so they must not be cached, framed or leak
 * their URL (which names the meeting) through Referer.
 */
export const HTML_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
} as const;

const STYLE = `
  :root { color-scheme: light; }
  body { margin: 0; background: #f5f5f5; color: #252424; font: 15px/1.5 'Segoe UI', 'Helvetica Neue', Helvetica, Arial, sans-serif; }
  header { background: #464775; color: #fff; padding: 12px 24px; font-weight: 600; }
  header a { color: #fff; text-decoration: none; }
  main { max-width: 640px; margin: 32px auto; background: #fff; padding: 24px 32px; border-radius: 6px;
    box-shadow: 0 1px 3px rgba(0,0,0,.15); }
  h1 { font-size: 22px; margin: 0 0 16px; }
  h2 { font-size: 18px; margin: 0 0 12px; overflow-wrap: anywhere; }
  dl { display: grid; grid-template-columns: max-content 1fr; gap: 6px 16px; margin: 16px 0; }
  dt { color: #616161; }
  dd { margin: 0; overflow-wrap: anywhere; }
  code { background: #f0f0f0; padding: 1px 4px; border-radius: 3px; overflow-wrap: anywhere; }
  a { color: #6264a7; }
  .note { border-left: 4px solid #6264a7; background: #f3f2f8; padding: 8px 12px; margin-top: 20px; }
  footer { text-align: center; color: #616161; font-size: 12px; margin-bottom: 32px; }
`;

/** The one page shell: `title` is text (escaped), `content` is markup built with `html`. */
export function layout(title: string, content: Html): string {
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="referrer" content="no-referrer" />
        <meta name="robots" content="noindex, nofollow" />
        <title>graph-meetings — ${title}</title>
        <style>
          ${new Html(STYLE)}
        </style>
      </head>
      <body>
        <header><a href="/">graph-meetings</a></header>
        <main>${content}</main>
        <footer>graph-meetings emulates Microsoft Graph and Microsoft Entra ID. It is not a Microsoft service.</footer>
      </body>
    </html> `.markup;
}
