import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { STORES } from '../helpers/stores.js';
import { graph, startTestApp, type TestApp } from '../helpers/test-app.js';

/** The HTML entities the invitation writes inside attribute values. */
const unescapeHtml = (s: string) =>
  s.replace(/&(amp|lt|gt|quot|#39|#35);/g, (_, e: string) => ({ amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'", '#35': '#' })[e]!);

/** The headline link of the invitation: what clients look for to show a "Join" button. */
function joinLink(html: string): string | undefined {
  const m = /<a class="me-email-headline"[^>]*\shref="([^"]*)"/.exec(html);
  return m ? unescapeHtml(m[1]!) : undefined;
}

/**
 * Issue #14: the ways real integrations read joinInformation.content (replayed from their source), which all
 * assume Graph's literal `data:text/html,` prefix followed by the form-encoded HTML.
 */
const CLIENTS: Record<string, (content: string) => string> = {
  // Split on the first comma (a data: URL's header ends there) and form-decode the rest.
  'split on the first comma': (c) => decodeURIComponent(c.slice(c.indexOf(',') + 1).replace(/\+/g, ' ')),
  // Strip the literal prefix, then decode.
  'strip the prefix': (c) => decodeURIComponent(c.replace(/^data:text\/html,/, '').replace(/\+/g, ' ')),
  // Python's urllib.parse.unquote_plus after removing the prefix, as URLSearchParams does it.
  'URLSearchParams on the remainder': (c) => new URLSearchParams(`c=${c.split(',').slice(1).join(',')}`).get('c')!,
};

for (const kind of STORES) {
  describe(`${kind}: joinInformation read as real clients read it`, () => {
    let t: TestApp;
    let meeting: { joinWebUrl: string; joinInformation: { content: string }; joinMeetingIdSettings: { joinMeetingId: string } };
    before(async () => {
      t = await startTestApp(kind);
      const alice = await t.userToken();
      const res = await graph(t, 'POST', '/v1.0/me/onlineMeetings', alice, { subject: 'Parse me' });
      meeting = res.json();
    });
    after(() => t.close());

    test('the content starts with the literal data:text/html, prefix, then lower-case escapes and %0d%0a', () => {
      const c = meeting.joinInformation.content;
      assert.ok(c.startsWith('data:text/html,%3cdiv+style%3d%22width%3a100%25%3bheight%3a+20px%3b%22%3e'), c.slice(0, 80));
      assert.match(c, /%0d%0a/);
      assert.doesNotMatch(c.slice('data:text/html,'.length), /[:/,<>"\s]|%[0-9a-f]?[A-F]/);
    });

    for (const [name, decode] of Object.entries(CLIENTS)) {
      test(`${name}: the HTML has the join link, the meeting id and CRLF line breaks`, () => {
        const html = decode(meeting.joinInformation.content);
        assert.ok(html.startsWith('<div style="width:100%;height: 20px;">'), html.slice(0, 60));
        assert.equal(joinLink(html), meeting.joinWebUrl);
        assert.ok(html.includes(meeting.joinMeetingIdSettings.joinMeetingId.replace(/(\d{3})(?=\d)/g, '$1 ')));
        assert.ok(html.includes('\r\n'));
        assert.doesNotMatch(html, /[^\r]\n/);
      });
    }
  });
}
