import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { inflateSync } from 'node:zlib';
import { chromium, type Browser } from 'playwright-core';
import { STORES } from '../helpers/stores.js';
import { DEMO, graph, startTestApp } from '../helpers/test-app.js';

const CHROMIUM = '/usr/bin/chromium';
const KEY = 'inspector-admin-key-0123456789';

/** Width, height and the share of pixels that are not (near) white, from a PNG (8-bit RGB/RGBA, no interlace). */
function pngStats(png: Buffer): { width: number; height: number; inked: number } {
  assert.equal(png.subarray(1, 4).toString('latin1'), 'PNG');
  const width = png.readUInt32BE(16);
  const height = png.readUInt32BE(20);
  const colorType = png[25]!;
  const channels = colorType === 6 ? 4 : 3;
  const chunks: Buffer[] = [];
  for (let at = 8; at < png.length;) {
    const len = png.readUInt32BE(at);
    if (png.subarray(at + 4, at + 8).toString('latin1') === 'IDAT') chunks.push(png.subarray(at + 8, at + 8 + len));
    at += 12 + len;
  }
  const raw = inflateSync(Buffer.concat(chunks));
  const stride = width * channels;
  const prev = Buffer.alloc(stride);
  const line = Buffer.alloc(stride);
  let inked = 0;
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)]!;
    for (let x = 0; x < stride; x++) {
      const v = raw[y * (stride + 1) + 1 + x]!;
      const a = x >= channels ? line[x - channels]! : 0;
      const b = prev[x]!;
      const c = x >= channels ? prev[x - channels]! : 0;
      const p = a + b - c;
      const pa = Math.abs(p - a);
      const pb = Math.abs(p - b);
      const pc = Math.abs(p - c);
      const paeth = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      line[x] = (v + [0, a, b, (a + b) >> 1, paeth][filter]!) & 0xff;
    }
    for (let x = 0; x < width; x++) if (line[x * channels]! < 200 || line[x * channels + 2]! < 200) inked++;
    line.copy(prev);
  }
  return { width, height, inked: inked / (width * height) };
}

for (const kind of STORES) {
  describe(`${kind}: the inspector at /_emulator/ in a real browser`, () => {
    test('asks for the admin key, shows the directory and meetings as text, resets', { timeout: 180_000 }, async (tc) => {
      if (!fs.existsSync(CHROMIUM)) {
        tc.skip(`Chromium not installed at ${CHROMIUM} (apt-get install -y chromium)`);
        return;
      }
      const t = await startTestApp(kind, { listen: true, env: { ADMIN_KEY: KEY } });
      let browser: Browser | undefined;
      try {
        const subject = '<img src=x onerror="window.__pwned=1">Quarterly';
        const created = await graph(t, 'POST', '/v1.0/me/onlineMeetings', await t.userToken(), { subject });
        assert.equal(created.statusCode, 201);
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
        const context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1200, height: 900 } });
        const page = await context.newPage();
        const cspViolations: string[] = [];
        page.on('console', (msg) => {
          if (/Content Security Policy/i.test(msg.text())) cspViolations.push(msg.text());
        });
        page.on('dialog', (d) => void d.accept());
        const response = await page.goto(`${t.origin}/_emulator/`, { waitUntil: 'load' });
        assert.equal(response?.status(), 200);
        assert.match(String(response?.headers()['content-security-policy']), /default-src 'none'; script-src 'self'; style-src 'self'/);
        assert.equal(await page.locator('#content').isHidden(), true);
        // Nothing without the key; a wrong key is refused with a message.
        await page.fill('#key', 'wrong-key-wrong-key');
        await page.click('button[type=submit]');
        await page.locator('#login-error').filter({ hasText: 'refused' }).waitFor();

        await page.fill('#key', KEY);
        await page.click('button[type=submit]');
        await page.locator('#tenants h3').first().waitFor();
        const text = await page.locator('body').innerText();
        for (const shown of ['Contoso', DEMO.contoso.alice.upn, DEMO.contoso.scheduler.clientId, 'Scheduler', subject])
          assert.ok(text.includes(shown), shown);
        for (const secret of [DEMO.contoso.scheduler.secret, DEMO.password]) assert.ok(!text.includes(secret), secret);
        assert.equal(await page.evaluate(() => (globalThis as { __pwned?: unknown }).__pwned), undefined);
        assert.equal(await page.locator('#meetings img').count(), 0);
        await page.locator('#meetings summary').first().click();
        assert.match(await page.locator('#meetings pre').first().innerText(), /"joinWebUrl": "https:/);

        const shot = await page.screenshot({ fullPage: true });
        const shotPath = path.join(os.tmpdir(), `graph-meetings-inspector-${kind}.png`);
        fs.writeFileSync(shotPath, shot);
        const stats = pngStats(shot);
        assert.equal(stats.width, 1200);
        assert.ok(stats.height >= 900);
        // The page rendered styled content (header bar, tables, text), not a blank or unstyled page.
        assert.ok(stats.inked > 0.03 && stats.inked < 0.8, `share of non-white pixels ${stats.inked.toFixed(3)} (${shotPath})`);
        assert.equal(await page.evaluate("getComputedStyle(document.querySelector('header')).backgroundColor"), 'rgb(70, 71, 117)');

        await page.click('#reset');
        await page.locator('#status').filter({ hasText: '0 meeting(s)' }).waitFor();
        const list = await t.inject({ method: 'GET', url: '/_emulator/meetings', headers: { authorization: `Bearer ${KEY}` } });
        assert.deepEqual(list.json().value, []);
        assert.deepEqual(cspViolations, []);
      } finally {
        await browser?.close();
        await t.close();
      }
    });
  });
}
