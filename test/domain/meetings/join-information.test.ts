import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  SUPPORTED_LANGUAGES,
  escapeHtml,
  negotiateLanguage,
  renderJoinInformation,
  type JoinInformationInput,
  type SupportedLanguage,
} from '../../../src/domain/meetings/join-information.js';

const JOIN_URL =
  'https://127.0.0.1:8443/l/meetup-join/19%3ameeting_abc%40thread.v2/0?context=%7b%22Tid%22%3a%22t%22%2c%22Oid%22%3a%22o%22%7d';

const INPUT: JoinInformationInput = {
  joinWebUrl: JOIN_URL,
  meetingOptionsWebUrl: 'https://127.0.0.1:8443/meetingOptions/?organizerId=o&tenantId=t&threadId=19_meeting_abc%40thread.v2&messageId=0',
  dialinUrl: 'https://127.0.0.1:8443/dialin/t?id=11100000',
  conferenceId: '11100000',
  tollNumbers: ['+14255550100'],
  tollFreeNumbers: ['+18005550199'],
  joinMeetingId: '123456789012',
  passcode: 'Z3GYtQ',
};

/** Undoes the form encoding the way the brief (and a consumer) would. */
const decode = (content: string) => decodeURIComponent(content.replace(/\+/g, ' '));
const render = (overrides: Partial<JoinInformationInput> = {}, language: SupportedLanguage = 'en-US') =>
  renderJoinInformation({ ...INPUT, ...overrides }, language);
const html = (overrides: Partial<JoinInformationInput> = {}, language: SupportedLanguage = 'en-US') =>
  decode(render(overrides, language).content);
const hrefs = (fragment: string) => [...fragment.matchAll(/href="([^"]*)"/g)].map((m) => m[1]);

describe('negotiateLanguage', () => {
  const cases: [string | undefined, SupportedLanguage][] = [
    // exact and region fallback, both directions, case-insensitive
    ['ja-JP', 'ja-JP'],
    ['ja', 'ja-JP'],
    ['JA-jp', 'ja-JP'],
    ['de-CH', 'de-DE'],
    ['de-AT', 'de-DE'],
    ['pt', 'pt-BR'],
    ['pt-PT', 'pt-BR'],
    ['en-GB', 'en-US'],
    ['fr-CA', 'fr-FR'],
    ['ko', 'ko-KR'],
    ['nl-BE', 'nl-NL'],
    ['it', 'it-IT'],
    ['es-MX', 'es-ES'],
    ['zh', 'zh-CN'],
    ['zh-Hans', 'zh-CN'],
    ['zh-Hans-CN', 'zh-CN'],
    ['zh-SG', 'zh-CN'],
    // We have no Traditional Chinese: zh-Hant* (and zh-TW/HK/MO without a script) match nothing, so the
    // next acceptable range wins, else English.
    ['zh-Hant-TW', 'en-US'],
    ['zh-TW', 'en-US'],
    ['zh-Hant-TW, zh;q=0.1', 'zh-CN'],
    ['zh-Hant-TW, ja;q=0.5', 'ja-JP'],
    // q-values order the ranges; ties keep header order
    ['fr;q=0.5, ja;q=0.9, de;q=0.7', 'ja-JP'],
    ['de;q=0.8, ja;q=0.8', 'de-DE'],
    ['ja;q=0.8, de;q=0.8', 'ja-JP'],
    ['ko;q=0.2, xx-YY, nl;q=0.3', 'nl-NL'],
    ['it;q=1.000, fr;q=0.999', 'it-IT'],
    ['en-US;q=0.1, ja', 'ja-JP'],
    [' ja ; q = 0.4 , fr ; q=0.3', 'ja-JP'],
    ['ja;Q=0.4, fr;q=0.3', 'ja-JP'],
    // q=0 means "not acceptable"
    ['ja;q=0', 'en-US'],
    ['ja;q=0, de;q=0.1', 'de-DE'],
    ['ja;q=0.000, ko;q=0.001', 'ko-KR'],
    ['ja-JP;q=0, ja', 'en-US'],
    ['pt;q=0, pt-PT', 'en-US'],
    // wildcard
    ['*', 'en-US'],
    ['*;q=0.5, ja;q=0.1', 'en-US'],
    ['xx, *', 'en-US'],
    ['en;q=0, *', 'ja-JP'],
    ['*;q=0', 'en-US'],
    ['en;q=0, *;q=0', 'en-US'], // nothing acceptable: English regardless
    // absent, empty, garbage
    [undefined, 'en-US'],
    ['', 'en-US'],
    ['   ', 'en-US'],
    [';;;', 'en-US'],
    ['q=abc', 'en-US'],
    [',,,', 'en-US'],
    ['klingon-123456789', 'en-US'],
    ['<script>', 'en-US'],
    // malformed entries are skipped, not fatal
    ['ja;q=abc, de;q=0.5', 'de-DE'],
    ['ja;q=1.5, de;q=0.5', 'de-DE'],
    ['ja;q=0.1234, de;q=0.5', 'de-DE'],
    ['ja;foo=bar, de;q=0.5', 'de-DE'],
    ['ja;q=0.5;q=0.9, de;q=0.1', 'de-DE'],
    ['ja_JP, de;q=0.1', 'de-DE'],
    ['ja-JP!, de;q=0.1', 'de-DE'],
    ['ja-, de;q=0.1', 'de-DE'],
    ['ja-abcdefghi, de;q=0.1', 'de-DE'],
    ['*-JP, de;q=0.1', 'de-DE'],
    ['ja;, de;q=0.5', 'ja-JP'],
  ];
  for (const [header, expected] of cases) {
    it(`${JSON.stringify(header)} -> ${expected}`, () => {
      assert.equal(negotiateLanguage(header), expected);
    });
  }

  it('only looks at the first 50 entries', () => {
    const header = [...Array(50).fill('xx'), 'ja'].join(', ');
    assert.equal(negotiateLanguage(header), 'en-US');
    assert.equal(negotiateLanguage([...Array(49).fill('xx'), 'ja'].join(', ')), 'ja-JP');
  });

  it('only reads the first 4096 characters', () => {
    // Whitespace around a range is legal, so this is one entry: only the cap can hide `ja`.
    assert.equal(negotiateLanguage(`${' '.repeat(4094)}ja`), 'ja-JP');
    assert.equal(negotiateLanguage(`${' '.repeat(4095)}ja`), 'en-US');
    assert.equal(negotiateLanguage(`${' '.repeat(10_000)}ja`), 'en-US');
  });

  it('survives absurd headers quickly and without throwing', () => {
    const headers = [
      'a'.repeat(1_000_000),
      ','.repeat(1_000_000),
      ';q='.repeat(300_000),
      `${'ja-'.repeat(100_000)}JP`,
      'ja;q=' + '0'.repeat(100_000),
      '\u0000\uffff\ud800, ja',
      Array.from({ length: 100_000 }, (_, i) => `x${i % 10};q=0.${i % 10}`).join(','),
    ];
    const started = performance.now();
    for (const header of headers) assert.doesNotThrow(() => negotiateLanguage(header));
    assert.equal(negotiateLanguage(headers[0]), 'en-US');
    assert.ok(performance.now() - started < 500, 'negotiation should be bounded');
  });

  it('tolerates non-string input from untyped callers', () => {
    assert.equal(negotiateLanguage(['ja'] as unknown as string), 'en-US');
    assert.equal(negotiateLanguage(null as unknown as string), 'en-US');
  });
});

describe('escapeHtml', () => {
  it('escapes the five HTML-significant characters', () => {
    assert.equal(escapeHtml(`<a href="x" title='y'>&</a>`), '&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;');
    assert.equal(escapeHtml('plain 123'), 'plain 123');
  });
});

describe('renderJoinInformation', () => {
  it('is a form-encoded data:text/html fragment with contentType html', () => {
    const result = render();
    assert.equal(result.contentType, 'html');
    // Issue #14: the prefix is literal, as in captured Graph responses; only the HTML is encoded.
    assert.ok(result.content.startsWith('data:text/html,%3cdiv+'), result.content.slice(0, 40));
    assert.doesNotMatch(result.content, /[ <>"\n]/, 'raw characters must be encoded');
    assert.match(result.content, /\+/, 'spaces are written as +');
    assert.match(result.content, /%0d%0a/, 'line breaks are written as %0d%0a');
    assert.doesNotMatch(result.content, /%[0-9a-f]?[A-F]/, 'hex escapes are lower case');
    // Exactly what URLSearchParams (application/x-www-form-urlencoded) produces for the decoded text,
    // with lower-case escapes.
    const decoded = decode(result.content);
    const prefix = 'data:text/html,';
    assert.equal(
      prefix +
        new URLSearchParams({ c: decoded.slice(prefix.length) })
          .toString()
          .slice(2)
          .replace(/%[0-9A-F]{2}/g, (e) => e.toLowerCase()),
      result.content,
    );
  });

  it('has the separators, the headline link to joinWebUrl, and lang on the text block', () => {
    const fragment = html();
    assert.ok(fragment.startsWith('data:text/html,<div style="width:100%;height: 20px;">'));
    const separator = `<span style="white-space:nowrap;color:gray;opacity:.36;">${'_'.repeat(80)}</span></div>`;
    assert.equal(fragment.split(separator).length, 3, 'opening and closing separator');
    assert.ok(fragment.endsWith(separator));
    assert.match(fragment, /<div class="me-email-text" lang="en-US"/);
    assert.match(fragment, /class="me-email-headline"[^>]*target="_blank" rel="noreferrer noopener">Join Microsoft Teams meeting<\/a>/);
    // The join URL appears as an (escaped) href; the headline is the first link.
    assert.ok(fragment.includes(`href="${escapeHtml(JOIN_URL)}"`));
    assert.equal(hrefs(fragment)[0], escapeHtml(JOIN_URL));
  });

  it('lists tel: links for toll then toll-free numbers with labels', () => {
    const fragment = html({ tollNumbers: ['+14255550100', '+442071234567'], tollFreeNumbers: ['+18005550199'] });
    const tel = hrefs(fragment).filter((h) => h!.startsWith('tel:'));
    assert.deepEqual(tel, ['tel:+14255550100,,11100000&#35;', 'tel:+442071234567,,11100000&#35;', 'tel:+18005550199,,11100000&#35;']);
    assert.match(fragment, />\+14255550100<\/a><span[^>]*>&nbsp; \(toll\)<\/span>/);
    assert.match(fragment, />\+18005550199<\/a><span[^>]*>&nbsp; \(toll-free\)<\/span>/);
    const none = html({ tollNumbers: [], tollFreeNumbers: [] });
    assert.equal(hrefs(none).filter((h) => h!.startsWith('tel:')).length, 0);
  });

  it('groups the conference id and the meeting id in threes', () => {
    const fragment = html();
    assert.match(fragment, /Phone conference ID: <\/span><span[^>]*>111 000 00#<\/span>/);
    assert.match(fragment, /Meeting ID: <\/span><span[^>]*>123 456 789 012<\/span>/);
    assert.match(html({ joinMeetingId: '12345678901234' }), />123 456 789 012 34</);
  });

  it('shows the passcode only when it is non-null', () => {
    assert.match(html(), /Passcode: <\/span><span[^>]*>Z3GYtQ<\/span>/);
    const without = html({ passcode: null });
    assert.doesNotMatch(without, /Passcode/);
    assert.doesNotMatch(without, /Z3GYtQ/);
  });

  it('has the footer links in order, separated by " | "', () => {
    const fragment = html();
    const all = hrefs(fragment);
    assert.deepEqual(all.slice(-4), [
      escapeHtml(INPUT.dialinUrl),
      'https://mysettings.lync.com/pstnconferencing',
      'https://aka.ms/JoinTeamsMeeting',
      escapeHtml(INPUT.meetingOptionsWebUrl),
    ]);
    assert.match(
      fragment,
      />Find a local number<\/a> \| <a[^>]*>Reset PIN<\/a> \| <a[^>]*>Learn more about Teams<\/a> \| <a[^>]*>Meeting options<\/a>/,
    );
  });

  it('localizes every language differently, with lang set', () => {
    const headlines = new Set<string>();
    for (const language of SUPPORTED_LANGUAGES) {
      const fragment = html({}, language);
      assert.match(fragment, new RegExp(`<div class="me-email-text" lang="${language}"`));
      const headline = /class="me-email-headline"[^>]*>([^<]+)<\/a>/.exec(fragment)?.[1];
      assert.ok(headline, language);
      headlines.add(headline);
      if (language !== 'en-US') assert.doesNotMatch(fragment, /Find a local number|Meeting options|Phone conference ID/, language);
    }
    assert.equal(headlines.size, SUPPORTED_LANGUAGES.length);
    const ja = html({}, 'ja-JP');
    assert.match(ja, /参加/);
    assert.match(ja, /会議 ID/);
    assert.match(html({}, 'de-DE'), /Besprechung/);
  });

  it('escapes every inserted value', () => {
    const attack = '"><script>alert(1)</script>';
    const fragment = html({
      joinWebUrl: `https://evil.example/${attack}`,
      meetingOptionsWebUrl: `https://evil.example/?a=1&b='${attack}`,
      dialinUrl: `https://evil.example/${attack}`,
      conferenceId: `123${attack}`,
      tollNumbers: [`+1${attack}`],
      tollFreeNumbers: [`+1'onmouseover='alert(1)`],
      joinMeetingId: attack,
      passcode: attack,
    });
    assert.doesNotMatch(fragment, /<script/i);
    assert.ok(!fragment.includes(attack));
    assert.doesNotMatch(fragment, /'onmouseover/);
    assert.ok(fragment.includes(`href="https://evil.example/&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"`));
    assert.ok(fragment.includes('&amp;b=&#39;'));
    // Every attribute value stays inside its quotes.
    for (const h of hrefs(fragment)) assert.doesNotMatch(h!, /[<>"']/);
    assert.equal((fragment.match(/<a /g) ?? []).length, 7);
    assert.equal((fragment.match(/<\/a>/g) ?? []).length, 7);
  });

  it('replaces non-http(s)/tel hrefs with #', () => {
    const fragment = html({
      joinWebUrl: 'javascript:alert(1)',
      dialinUrl: ' JavaScript:alert(document.cookie)',
      meetingOptionsWebUrl: 'java\tscript:alert(1)',
    });
    assert.doesNotMatch(fragment, /javascript/i);
    assert.match(fragment, /class="me-email-headline"[^>]*href="#"/);
    assert.deepEqual(hrefs(fragment).slice(-4), [
      '#',
      'https://mysettings.lync.com/pstnconferencing',
      'https://aka.ms/JoinTeamsMeeting',
      '#',
    ]);
    for (const url of ['data:text/html,<b>x</b>', 'vbscript:msgbox(1)', 'file:///etc/passwd', '//evil.example/x', '/relative']) {
      assert.equal(hrefs(html({ joinWebUrl: url }))[0], '#', url);
    }
    assert.equal(hrefs(html({ joinWebUrl: 'http://example.com/a?b=1&c=2' }))[0], 'http://example.com/a?b=1&amp;c=2');
  });
});
