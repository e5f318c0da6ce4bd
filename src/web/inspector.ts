/**
 * The inspector at /_emulator/: a page for a person to see what the emulator holds (tenants, users, apps
 * without secrets, policies, meetings with their JSON) and to reset it. The page is static and carries no
 * data; its script asks for the admin key, keeps it in sessionStorage (this tab only) and calls the
 * control API. Everything is put into the page with textContent, never as HTML, and the CSP allows only
 * this origin's own script and style.
 */
export const INSPECTOR_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
} as const;

export function inspectorPage(): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>graph-meetings inspector</title>
<link rel="stylesheet" href="/_emulator/inspector.css">
<script src="/_emulator/inspector.js" defer></script>
</head>
<body>
<header><span>graph-meetings inspector</span><span id="status"></span></header>
<main>
<form id="login">
  <label for="key">Admin key</label>
  <input id="key" type="password" autocomplete="off" placeholder="ADMIN_KEY, or the contents of DATA_DIR/admin-key">
  <button type="submit">Open</button>
  <p id="login-error" class="error" role="alert"></p>
</form>
<div id="content" hidden>
  <div class="toolbar"><button id="refresh" type="button">Refresh</button><button id="reset" type="button" class="danger">Reset to seed</button><button id="logout" type="button">Forget key</button></div>
  <section><h2>Tenants</h2><div id="tenants"></div></section>
  <section><h2>Meetings</h2><div id="meetings"></div></section>
</div>
</main>
</body>
</html>
`;
}

export const INSPECTOR_CSS = `
:root { color-scheme: light; }
body { margin: 0; background: #f5f5f5; color: #252424; font: 14px/1.5 'Segoe UI', 'Helvetica Neue', Helvetica, Arial, sans-serif; }
header { background: #464775; color: #fff; padding: 12px 24px; font-weight: 600; display: flex; justify-content: space-between; }
main { max-width: 1100px; margin: 24px auto; padding: 0 16px; }
section, form { background: #fff; padding: 16px 24px; border-radius: 6px; box-shadow: 0 1px 3px rgba(0,0,0,.15); margin-bottom: 16px; }
h2 { font-size: 18px; margin: 0 0 12px; }
h3 { font-size: 15px; margin: 16px 0 8px; }
table { border-collapse: collapse; width: 100%; margin-bottom: 8px; }
th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid #e0e0e0; vertical-align: top; overflow-wrap: anywhere; }
th { color: #616161; font-weight: 600; }
pre { background: #f0f0f0; padding: 8px; overflow: auto; max-height: 360px; font-size: 12px; }
button { background: #5b5fc7; color: #fff; border: 0; border-radius: 4px; padding: 6px 14px; cursor: pointer; margin-right: 8px; }
button.danger { background: #c4314b; }
input { padding: 6px; width: 360px; margin: 0 8px; }
.toolbar { margin-bottom: 16px; }
.error { color: #c4314b; }
.muted { color: #616161; }
`;

/** Plain browser JavaScript (no build step), served as a file so the CSP needs no 'unsafe-inline'. */
export const INSPECTOR_JS = `'use strict';
(function () {
  var KEY = 'graph-meetings-admin-key';
  var $ = function (id) { return document.getElementById(id); };
  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = String(text);
    if (cls) e.className = cls;
    return e;
  }
  function table(headers, rows) {
    var t = el('table');
    var tr = el('tr');
    headers.forEach(function (h) { tr.appendChild(el('th', h)); });
    t.appendChild(tr);
    rows.forEach(function (r) {
      var row = el('tr');
      r.forEach(function (c) { row.appendChild(el('td', c)); });
      t.appendChild(row);
    });
    if (rows.length === 0) { var none = el('tr'); var td = el('td', 'none', 'muted'); td.colSpan = headers.length; none.appendChild(td); t.appendChild(none); }
    return t;
  }
  function api(method, path) {
    return fetch(path, { method: method, headers: { authorization: 'Bearer ' + sessionStorage.getItem(KEY) } }).then(function (res) {
      if (res.status === 401) { sessionStorage.removeItem(KEY); throw new Error('The admin key was refused.'); }
      if (!res.ok) throw new Error(method + ' ' + path + ' answered ' + res.status);
      return res.status === 204 ? null : res.json();
    });
  }
  function render(dir, meetings) {
    var tenants = $('tenants');
    tenants.replaceChildren();
    dir.tenants.forEach(function (t) {
      tenants.appendChild(el('h3', t.displayName + ' (' + t.domains.join(', ') + ') ' + t.id));
      tenants.appendChild(el('h4', 'Users'));
      tenants.appendChild(table(['display name', 'user principal name', 'id'], t.users.map(function (u) { return [u.displayName, u.userPrincipalName, u.id]; })));
      tenants.appendChild(el('h4', 'Applications'));
      tenants.appendChild(table(['display name', 'client id', 'permissions', 'consented scopes', 'secrets'], t.applications.map(function (a) {
        return [a.displayName + (a.publicClient ? ' (public client)' : ''), a.clientId, a.permissions.join(', '), a.consentedScopes.join(', '),
          a.secrets.map(function (s) { return s.hint + '\u2026'; }).join(', ')];
      })));
      tenants.appendChild(el('h4', 'Application access policies'));
      tenants.appendChild(table(['name', 'apps', 'granted to'], t.policies.map(function (p) { return [p.name, p.appIds.join(', '), p.grantedTo.join(', ')]; })));
    });
    var list = $('meetings');
    list.replaceChildren();
    list.appendChild(table(['subject', 'organizer', 'start', 'id'], meetings.value.map(function (m) {
      return [m.meeting.subject || '', m.organizerId, m.meeting.startDateTime, m.meeting.id];
    })));
    meetings.value.forEach(function (m) {
      var d = el('details');
      d.appendChild(el('summary', (m.meeting.subject || '(no subject)') + ' \u2014 JSON'));
      d.appendChild(el('pre', JSON.stringify(m.meeting, null, 2)));
      list.appendChild(d);
    });
  }
  function load() {
    $('status').textContent = 'loading\u2026';
    return Promise.all([api('GET', '/_emulator/directory'), api('GET', '/_emulator/meetings')]).then(function (r) {
      render(r[0], r[1]);
      $('login').hidden = true;
      $('content').hidden = false;
      $('status').textContent = r[1].value.length + ' meeting(s)';
    }).catch(function (err) {
      $('content').hidden = true;
      $('login').hidden = false;
      $('login-error').textContent = err.message;
      $('status').textContent = '';
    });
  }
  document.addEventListener('DOMContentLoaded', function () {
    $('login').addEventListener('submit', function (e) {
      e.preventDefault();
      sessionStorage.setItem(KEY, $('key').value.trim());
      $('key').value = '';
      load();
    });
    $('refresh').addEventListener('click', load);
    $('logout').addEventListener('click', function () { sessionStorage.removeItem(KEY); $('content').hidden = true; $('login').hidden = false; });
    $('reset').addEventListener('click', function () {
      if (!window.confirm('Delete every meeting and return the directory to its seed?')) return;
      api('POST', '/_emulator/reset').then(load).catch(function (err) { $('status').textContent = err.message; });
    });
    if (sessionStorage.getItem(KEY)) load();
  });
})();
`;
