import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import { chromium, type Browser } from 'playwright-core';
import { STORES } from '../helpers/stores.js';
import { DEMO, graph, startTestApp, type TestApp } from '../helpers/test-app.js';

const C = DEMO.contoso;
const CHROMIUM = '/usr/bin/chromium';
const CSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
const XSS_SUBJECT = '<script>alert(1)</script> & "quotes"';
const XSS_SUBJECT_ESCAPED = '&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;quotes&quot;';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- parsed JSON under test

/** Asserts an HTML answer with the security headers every page carries, and returns its body. */
function assertHtmlPage(res: LightMyRequestResponse, status: number, label = ''): string {
  assert.equal(res.statusCode, status, `${label} ${res.body.slice(0, 300)}`);
  assert.equal(res.headers['content-type'], 'text/html; charset=utf-8', label);
  assert.equal(res.headers['content-security-policy'], CSP, label);
  assert.equal(res.headers['x-frame-options'], 'DENY', label);
  assert.equal(res.headers['referrer-policy'], 'no-referrer', label);
  assert.equal(res.headers['cache-control'], 'no-store', label);
  assert.match(res.body, /^<!doctype html>/, label);
  return res.body;
}

/** The path and query of an absolute link, for t.inject. */
const pathOf = (url: string) => {
  const u = new URL(url);
  return u.pathname + u.search;
};

for (const kind of STORES) {
  describe(`${kind}: web pages behind a meeting's links`, () => {
    let t: TestApp;
    let meeting: Json;
    before(async () => {
      t = await startTestApp(kind);
      const alice = await t.userToken();
      const res = await graph(t, 'POST', '/v1.0/me/onlineMeetings', alice, {
        subject: XSS_SUBJECT,
        startDateTime: '2030-01-01T10:00:00Z',
        endDateTime: '2030-01-01T11:30:00Z',
        joinMeetingIdSettings: { isPasscodeRequired: true },
      });
      assert.equal(res.statusCode, 201, res.body);
      meeting = res.json();
      assert.ok(meeting.joinMeetingIdSettings.passcode, 'the meeting has a passcode the page must not show');
    });
    after(() => t.close());
    const get = (url: string) => t.inject({ method: 'GET', url });

    test('joinWebUrl: the meeting, every value escaped, no passcode', async () => {
      const body = assertHtmlPage(await get(pathOf(meeting.joinWebUrl)), 200);
      assert.match(body, /<title>graph-meetings — Join meeting<\/title>/);
      assert.ok(body.includes(XSS_SUBJECT_ESCAPED), body);
      assert.ok(!body.includes('<script>alert(1)'));
      assert.ok(!/<script/i.test(body), 'pages carry no script at all');
      assert.ok(body.includes(C.alice.displayName));
      assert.ok(body.includes('2030-01-01 10:00 UTC') && body.includes('2030-01-01 11:30 UTC'));
      const id: string = meeting.joinMeetingIdSettings.joinMeetingId;
      assert.ok(body.includes(id.replace(/(\d{3})(?=\d)/g, '$1 ')), 'the join meeting id, grouped in threes');
      assert.ok(!body.includes(meeting.joinMeetingIdSettings.passcode), 'the passcode is never shown');
      assert.match(body, /emulator page/);
    });

    test('joinWebUrl: also when the thread is still percent-encoded, or in upper-case escapes', async () => {
      const thread: string = meeting.chatInfo.threadId;
      for (const segment of [encodeURIComponent(encodeURIComponent(thread)), encodeURIComponent(thread)]) {
        assertHtmlPage(await get(`/l/meetup-join/${segment}/0`), 200, segment);
      }
    });

    test('unknown, malformed or oversized thread: 404 HTML page, never JSON or a 500', async () => {
      const unknownThread = `19:meeting_${Buffer.from('no-such-meeting-here').toString('base64')}@thread.v2`;
      for (const url of [
        `/l/meetup-join/${encodeURIComponent(unknownThread)}/0`,
        '/l/meetup-join/nope/0',
        `/l/meetup-join/${'a'.repeat(5000)}/0`,
        `/l/meetup-join/${encodeURIComponent(meeting.chatInfo.threadId)}/not-a-number`,
        `/l/meetup-join/${encodeURIComponent(meeting.chatInfo.threadId)}/0/extra`,
        '/l/meetup-join/',
        '/l/meetup-join',
      ]) {
        const body = assertHtmlPage(await get(url), 404, url.slice(0, 80));
        assert.match(body, /not found/);
      }
    });

    test('dialinUrl: the tenant toll / toll-free numbers and the conference id', async () => {
      const conferenceId: string = meeting.audioConferencing.conferenceId;
      const body = assertHtmlPage(await get(pathOf(meeting.audioConferencing.dialinUrl)), 200);
      assert.ok(body.includes('+14255550100') && body.includes('+18005550100'), body);
      assert.ok(body.includes(conferenceId), 'in the tel: links');
      assert.ok(body.includes(`${conferenceId.replace(/(\d{3})(?=\d)/g, '$1 ')}#`), 'displayed as in the invitation');
      // By domain too; a non-numeric id is not echoed back.
      const byDomain = assertHtmlPage(await get(`/dialin/${C.domain}?id=%3Cb%3E`), 200);
      assert.ok(byDomain.includes('+14255550100') && !byDomain.includes('<b>') && !byDomain.includes('&lt;b&gt;'));
    });

    test('dialinUrl: unknown or oversized tenant: 404 HTML page', async () => {
      for (const url of [
        '/dialin/00000000-0000-0000-0000-000000000000?id=1',
        '/dialin/nowhere.test',
        '/dialin/',
        `/dialin/${'b'.repeat(5000)}?id=1`,
      ]) {
        assertHtmlPage(await get(url), 404, url.slice(0, 80));
      }
    });

    test('meetingOptionsWebUrl: the current options, read-only, escaped; no join secrets; follows a PATCH', async () => {
      const body = assertHtmlPage(await get(pathOf(meeting.meetingOptionsWebUrl)), 200);
      assert.ok(body.includes('PATCH /v1.0/me/onlineMeetings/{id}'));
      assert.ok(body.includes(XSS_SUBJECT_ESCAPED) && !body.includes(XSS_SUBJECT));
      assert.ok(!body.includes(meeting.joinMeetingIdSettings.joinMeetingId) && !body.includes(meeting.joinMeetingIdSettings.passcode));
      assert.match(body, /<code>allowedPresenters<\/code><\/th>\s*<td>everyone<\/td>/);
      const alice = await t.userToken();
      const patched = await graph(t, 'PATCH', `/v1.0/me/onlineMeetings/${meeting.id}`, alice, {
        allowedPresenters: 'organizer',
        lobbyBypassSettings: { scope: 'invited', isDialInBypassEnabled: true },
      });
      assert.equal(patched.statusCode, 200, patched.body);
      const after = assertHtmlPage(await get(pathOf(meeting.meetingOptionsWebUrl)), 200);
      assert.match(after, /<code>allowedPresenters<\/code><\/th>\s*<td>organizer<\/td>/);
      assert.match(after, /<code>lobbyBypassSettings<\/code><\/th>\s*<td>scope: invited; isDialInBypassEnabled: Yes<\/td>/);
      // Another organizer or tenant in the link, or no such thread: not found.
      const u = new URL(meeting.meetingOptionsWebUrl);
      for (const [k, v] of [
        ['organizerId', C.bob.id],
        ['tenantId', DEMO.fabrikam.tenantId],
        ['threadId', '19_meeting_bm9uZXhpc3RlbnQ=@thread.v2'],
        ['threadId', 'x'.repeat(5000)],
      ] as const) {
        const forged = new URL(u);
        forged.searchParams.set(k, v);
        assertHtmlPage(await get(forged.pathname + forged.search), 404, k);
      }
      assert.ok(assertHtmlPage(await get('/meetingOptions/'), 200).includes('PATCH'));
    });

    test('getVirtualAppointmentJoinWebUrl: the link opens a page of this service', async () => {
      const alice = await t.userToken();
      const res = await graph(t, 'GET', `/v1.0/me/onlineMeetings/${meeting.id}/getVirtualAppointmentJoinWebUrl`, alice);
      assert.equal(res.statusCode, 200, res.body);
      const body = assertHtmlPage(await get(pathOf(res.json().value)), 200);
      assert.match(body, /<title>graph-meetings — Virtual appointment<\/title>/);
      assert.ok(body.includes(XSS_SUBJECT_ESCAPED));
      assertHtmlPage(await get('/webrtc-svc/api/route?tid=x&convId=y'), 404);
      assertHtmlPage(await get('/webrtc-svc/api/route'), 404);
    });

    test('/: the landing page, with the demo tenant discovery URL and the /v1.0 hint', async () => {
      const body = assertHtmlPage(await get('/'), 200);
      assert.ok(body.includes(`/${C.domain}/v2.0/.well-known/openid-configuration`));
      assert.ok(body.includes('/v1.0'));
      assert.equal((await get(`/${C.domain}/v2.0/.well-known/openid-configuration`)).statusCode, 200, 'the link leads somewhere');
    });

    test('a failure while rendering is an HTML 500 page without details', async () => {
      const db = t.testStore.store.db;
      const { settings } = await db.selectFrom('tenants').select('settings').where('id', '=', C.tenantId).executeTakeFirstOrThrow();
      await db.updateTable('tenants').set({ settings: '{not json' }).where('id', '=', C.tenantId).execute();
      try {
        const body = assertHtmlPage(await get(`/dialin/${C.tenantId}?id=1`), 500);
        assert.match(body, /Something went wrong/);
        assert.ok(!/JSON|SyntaxError|at \//.test(body), body);
      } finally {
        await db.updateTable('tenants').set({ settings }).where('id', '=', C.tenantId).execute();
      }
    });

    test('Graph routes keep their JSON errors', async () => {
      const res = await get('/v1.0/nothing-here');
      assert.match(String(res.headers['content-type']), /^application\/json/);
    });
  });

  describe(`${kind}: the join page in a real browser`, () => {
    test('a hostile subject is shown as text and runs nothing', { timeout: 120_000 }, async (tc) => {
      if (!fs.existsSync(CHROMIUM)) {
        tc.skip(`Chromium not installed at ${CHROMIUM} (apt-get install -y chromium)`);
        return;
      }
      const subject = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>';
      const t = await startTestApp(kind, { listen: true });
      let browser: Browser | undefined;
      try {
        const created = await graph(t, 'POST', '/v1.0/me/onlineMeetings', await t.userToken(), { subject });
        assert.equal(created.statusCode, 201, created.body);
        const joinWebUrl: string = created.json().joinWebUrl;
        assert.ok(joinWebUrl.startsWith(t.origin), joinWebUrl);

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
        const context = await browser.newContext({ ignoreHTTPSErrors: true });
        const page = await context.newPage();
        const dialogs: string[] = [];
        page.on('dialog', (dialog) => {
          dialogs.push(`${dialog.type()}: ${dialog.message()}`);
          void dialog.dismiss();
        });
        const cspViolations: string[] = [];
        page.on('console', (msg) => {
          if (/Content Security Policy/i.test(msg.text())) cspViolations.push(msg.text());
        });

        const response = await page.goto(joinWebUrl, { waitUntil: 'load' });
        assert.equal(response?.status(), 200);
        assert.equal(response?.headers()['content-security-policy'], CSP);

        assert.equal(await page.evaluate(() => (globalThis as { __pwned?: unknown }).__pwned), undefined);
        assert.deepEqual(dialogs, []);
        assert.equal(await page.title(), 'graph-meetings — Join meeting');
        assert.equal((await page.locator('h2').innerText()).trim(), subject, 'the subject, literally, as visible text');
        assert.ok((await page.locator('body').innerText()).includes(subject));
        assert.equal(await page.locator('img').count(), 0, 'no element came from the subject');
        assert.equal(await page.locator('script').count(), 0);
        // The inline stylesheet is the one thing the CSP allows: it must apply, and nothing else be refused.
        assert.equal(await page.evaluate("getComputedStyle(document.querySelector('header')).backgroundColor"), 'rgb(70, 71, 117)');
        assert.deepEqual(cspViolations, []);

        const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'graph-meetings-web-'));
        const screenshot = path.join(dir, `join-page-${kind}.png`);
        await page.screenshot({ path: screenshot, fullPage: true });
        const png = fs.readFileSync(screenshot);
        assert.ok(png.length > 0, 'screenshot is non-empty');
        assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'a PNG');
        tc.diagnostic(`screenshot: ${screenshot}`);
      } finally {
        await browser?.close();
        await t.close();
      }
    });
  });
}
