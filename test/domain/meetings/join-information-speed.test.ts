import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  SUPPORTED_LANGUAGES,
  renderJoinInformation,
  type JoinInformationInput,
  type SupportedLanguage,
} from '../../../src/domain/meetings/join-information.js';

/**
 * Issue #6 made renderJoinInformation encode only the inserted values (the static fragment is encoded
 * once per language) with a faster form encoder. These tests hold it to the bytes of the previous
 * implementation, kept verbatim at the end of this file as the oracle.
 */

const BASE: JoinInformationInput = {
  joinWebUrl: 'https://127.0.0.1:8443/l/meetup-join/19%3ameeting_abc%40thread.v2/0?context=%7b%22Tid%22%3a%22t%22%2c%22Oid%22%3a%22o%22%7d',
  meetingOptionsWebUrl:
    'https://127.0.0.1:8443/meetingOptions/?organizerId=o&tenantId=t&threadId=19_meeting_abc%40thread.v2&messageId=0&language=en-US',
  dialinUrl: 'https://127.0.0.1:8443/dialin/t?id=11100000',
  conferenceId: '11100000',
  tollNumbers: ['+14255550100'],
  tollFreeNumbers: ['+18005550199'],
  joinMeetingId: '123456789012',
  passcode: 'Z3GYtQ',
};

function assertSame(input: JoinInformationInput, language: SupportedLanguage): void {
  const expected = referenceRenderJoinInformation(input, language);
  const actual = renderJoinInformation(input, language);
  if (actual.content === expected.content && actual.contentType === expected.contentType) return;
  let at = 0;
  while (actual.content[at] === expected.content[at]) at++;
  assert.fail(
    `differs at ${at} for ${JSON.stringify({ input, language })}:\n` +
      `  expected …${expected.content.slice(Math.max(0, at - 40), at + 40)}\n` +
      `  actual   …${actual.content.slice(Math.max(0, at - 40), at + 40)}`,
  );
}

/** Characters that matter to HTML, to the form encoding, to URL parsing, or to UTF-16. */
const NASTY = [
  ...`&<>"'\`=#%+ ~!*()-._/\\:;,?@[]{}|^$`,
  '\t',
  '\n',
  '\r',
  '\0',
  '\u001f',
  '\u007f',
  '\u0080',
  '\u00a0',
  'é',
  'ß',
  '\u2028',
  '会',
  '\ufeff',
  '\ufffd',
  '\uffff',
  '😀', // astral: a surrogate pair
  '\ud83d', // lone high surrogate
  '\ude00', // lone low surrogate
  '\udbff\udbff',
  '\udc00\ud800', // reversed pair
  '&#35;',
  '%20',
  '%2',
  '%zz',
];
const URL_PREFIXES = [
  '',
  'https://',
  'http://',
  'tel:',
  'HTTPS://',
  ' https://',
  'https:',
  'java\tscript:',
  'javascript:',
  'data:',
  'https://a.b/',
];

const nastyString = fc.string({ unit: fc.oneof(fc.constantFrom(...NASTY), fc.string({ unit: 'binary', maxLength: 2 })), maxLength: 24 });
const urlLike = fc.oneof(
  fc.webUrl({ withQueryParameters: true, withFragments: true }),
  fc.tuple(fc.constantFrom(...URL_PREFIXES), fc.webUrl(), nastyString).map(([p, u, s]) => p + u + s),
  fc.tuple(fc.constantFrom(...URL_PREFIXES), nastyString).map(([p, s]) => p + s),
);
const phone = fc.oneof(fc.stringMatching(/^\+[0-9]{6,15}$/), fc.constantFrom('', '+1 (425) 555-0100', '+1;ext=2'), nastyString);
const digits = fc.oneof(fc.stringMatching(/^[0-9]{0,16}$/), nastyString);
const joinInput: fc.Arbitrary<JoinInformationInput> = fc.record({
  joinWebUrl: urlLike,
  meetingOptionsWebUrl: urlLike,
  dialinUrl: urlLike,
  conferenceId: digits,
  tollNumbers: fc.array(phone, { maxLength: 4 }),
  tollFreeNumbers: fc.array(phone, { maxLength: 4 }),
  joinMeetingId: digits,
  passcode: fc.option(fc.oneof(fc.stringMatching(/^[A-Za-z0-9]{6}$/), nastyString), { nil: null }),
});

describe('renderJoinInformation matches the previous implementation byte for byte', () => {
  it('for every language, dial-in shape and passcode', () => {
    const numberSets = [[], ['+14255550100'], ['+14255550100', '+442071234567', '+81 3-1234-5678']];
    for (const language of SUPPORTED_LANGUAGES) {
      for (const tollNumbers of numberSets) {
        for (const tollFreeNumbers of numberSets) {
          for (const passcode of [null, 'Z3GYtQ', '', `<'&">`]) {
            assertSame({ ...BASE, tollNumbers, tollFreeNumbers, passcode }, language);
          }
        }
      }
    }
  });

  it('for hostile values in every field', () => {
    const attack = `"><script>alert('x')</script>&amp;`;
    const values = [
      ...NASTY,
      attack,
      `https://evil.example/${attack}`,
      `tel:+1${attack}`,
      'javascript:alert(1)',
      ' JavaScript:x',
      'java\tscript:x',
    ];
    const fields = ['joinWebUrl', 'meetingOptionsWebUrl', 'dialinUrl', 'conferenceId', 'joinMeetingId', 'passcode'] as const;
    for (const language of SUPPORTED_LANGUAGES) {
      for (const value of values) {
        for (const field of fields) assertSame({ ...BASE, [field]: value }, language);
        for (const prefix of ['', 'https://x.example/', 'tel:+1']) {
          assertSame({ ...BASE, tollNumbers: [prefix + value], tollFreeNumbers: [value + prefix] }, language);
          assertSame(
            { ...BASE, joinWebUrl: prefix + value, dialinUrl: value + prefix, meetingOptionsWebUrl: prefix + value + prefix },
            language,
          );
        }
      }
    }
  });

  it('for every UTF-16 code unit, astral characters and lone surrogates', () => {
    let everyUnit = '';
    for (let unit = 0; unit <= 0xffff; unit++) everyUnit += String.fromCharCode(unit);
    const astral = String.fromCodePoint(0x10000, 0x1f600, 0x10ffff);
    for (const value of [everyUnit, astral, `${astral}\ud800`, `\udc00${astral}`, `x\ud800`, `\udfffx`]) {
      assertSame({ ...BASE, passcode: value, joinWebUrl: `https://x.example/${value}`, tollNumbers: [value] }, 'en-US');
      assertSame({ ...BASE, conferenceId: value, joinMeetingId: value, dialinUrl: `tel:${value}` }, 'ja-JP');
    }
  });

  it('for generated inputs (fast-check, fixed seed)', () => {
    fc.assert(
      fc.property(joinInput, fc.constantFrom(...SUPPORTED_LANGUAGES), (input, language) => assertSame(input, language)),
      { seed: 0x6a01, numRuns: 3000 },
    );
  });

  it('when languages alternate, so no cached template is shared between them', () => {
    const order = [...SUPPORTED_LANGUAGES, ...[...SUPPORTED_LANGUAGES].reverse(), 'ja-JP', 'en-US', 'ja-JP'] as const;
    for (const language of order) assertSame(BASE, language);
  });

  it('for untyped callers: unknown languages, non-string values and sparse arrays', () => {
    for (const language of ['xx-YY', '', '<lang>"', '__proto__', 'constructor', 'toString', 'EN-US', '\ud800'] as string[]) {
      assertSame(BASE, language as SupportedLanguage);
      assertSame(BASE, language as SupportedLanguage); // twice: an uncached language must not become cached wrongly
    }
    assertSame(BASE, undefined as unknown as SupportedLanguage);
    const loose = { ...BASE, conferenceId: 11100000, joinMeetingId: 123456789012, passcode: 42 } as unknown as JoinInformationInput;
    assertSame(loose, 'de-DE');
    assertSame({ ...BASE, passcode: undefined } as unknown as JoinInformationInput, 'fr-FR');
    // eslint-disable-next-line no-sparse-arrays
    const sparse = [, '+14255550100', , '+18005550199', ,] as string[];
    assertSame({ ...BASE, tollNumbers: sparse, tollFreeNumbers: sparse }, 'ko-KR');
    assertSame({ ...BASE, tollNumbers: [null, undefined, 5] as unknown as string[] }, 'nl-NL');
  });
});

// ---------------------------------------------------------------------------------------------------
// The oracle: renderJoinInformation as it was before issue #6 (one URLSearchParams pass over the whole
// fragment), copied verbatim. The fast renderer must produce exactly these bytes; do not "fix" it.

const DEFAULT_LANGUAGE: SupportedLanguage = 'en-US';

interface InvitationStrings {
  headline: string;
  toll: string;
  tollFree: string;
  phoneConferenceId: string;
  meetingId: string;
  passcode: string;
  findLocalNumber: string;
  resetPin: string;
  learnMore: string;
  meetingOptions: string;
}

/** Every localized string, one entry per language; the Record type makes a missing language a compile error. */
const STRINGS: Record<SupportedLanguage, InvitationStrings> = {
  'en-US': {
    headline: 'Join Microsoft Teams meeting',
    toll: '(toll)',
    tollFree: '(toll-free)',
    phoneConferenceId: 'Phone conference ID:',
    meetingId: 'Meeting ID:',
    passcode: 'Passcode:',
    findLocalNumber: 'Find a local number',
    resetPin: 'Reset PIN',
    learnMore: 'Learn more about Teams',
    meetingOptions: 'Meeting options',
  },
  'ja-JP': {
    headline: 'Microsoft Teams 会議に参加',
    toll: '(有料)',
    tollFree: '(フリーダイヤル)',
    phoneConferenceId: '電話会議 ID:',
    meetingId: '会議 ID:',
    passcode: 'パスコード:',
    findLocalNumber: '最寄りの電話番号を検索',
    resetPin: 'PIN をリセット',
    learnMore: 'Teams の詳細',
    meetingOptions: '会議のオプション',
  },
  'de-DE': {
    headline: 'An Microsoft Teams-Besprechung teilnehmen',
    toll: '(gebührenpflichtig)',
    tollFree: '(gebührenfrei)',
    phoneConferenceId: 'Telefonkonferenz-ID:',
    meetingId: 'Besprechungs-ID:',
    passcode: 'Kenncode:',
    findLocalNumber: 'Lokale Nummer suchen',
    resetPin: 'PIN zurücksetzen',
    learnMore: 'Weitere Informationen zu Teams',
    meetingOptions: 'Besprechungsoptionen',
  },
  'fr-FR': {
    headline: 'Rejoindre la réunion Microsoft Teams',
    toll: '(payant)',
    tollFree: '(numéro gratuit)',
    phoneConferenceId: 'ID de conférence téléphonique :',
    meetingId: 'ID de réunion :',
    passcode: 'Code secret :',
    findLocalNumber: 'Trouver un numéro local',
    resetPin: 'Réinitialiser le code PIN',
    learnMore: 'En savoir plus sur Teams',
    meetingOptions: 'Options de réunion',
  },
  'es-ES': {
    headline: 'Unirse a la reunión de Microsoft Teams',
    toll: '(de pago)',
    tollFree: '(gratuito)',
    phoneConferenceId: 'Id. de conferencia telefónica:',
    meetingId: 'Id. de reunión:',
    passcode: 'Código de acceso:',
    findLocalNumber: 'Buscar un número local',
    resetPin: 'Restablecer PIN',
    learnMore: 'Más información sobre Teams',
    meetingOptions: 'Opciones de reunión',
  },
  'pt-BR': {
    headline: 'Participar da reunião do Microsoft Teams',
    toll: '(tarifado)',
    tollFree: '(gratuito)',
    phoneConferenceId: 'ID da conferência telefônica:',
    meetingId: 'ID da reunião:',
    passcode: 'Senha:',
    findLocalNumber: 'Encontrar um número local',
    resetPin: 'Redefinir PIN',
    learnMore: 'Saiba mais sobre o Teams',
    meetingOptions: 'Opções de reunião',
  },
  'zh-CN': {
    headline: '加入 Microsoft Teams 会议',
    toll: '（收费）',
    tollFree: '（免费）',
    phoneConferenceId: '电话会议 ID：',
    meetingId: '会议 ID：',
    passcode: '密码：',
    findLocalNumber: '查找本地号码',
    resetPin: '重置 PIN',
    learnMore: '详细了解 Teams',
    meetingOptions: '会议选项',
  },
  'ko-KR': {
    headline: 'Microsoft Teams 모임 참가',
    toll: '(유료)',
    tollFree: '(수신자 부담)',
    phoneConferenceId: '전화 회의 ID:',
    meetingId: '모임 ID:',
    passcode: '암호:',
    findLocalNumber: '현지 번호 찾기',
    resetPin: 'PIN 재설정',
    learnMore: 'Teams에 대해 자세히 알아보기',
    meetingOptions: '모임 옵션',
  },
  'it-IT': {
    headline: 'Partecipa alla riunione di Microsoft Teams',
    toll: '(a pagamento)',
    tollFree: '(numero verde)',
    phoneConferenceId: 'ID conferenza telefonica:',
    meetingId: 'ID riunione:',
    passcode: 'Passcode:',
    findLocalNumber: 'Trova un numero locale',
    resetPin: 'Reimposta PIN',
    learnMore: 'Altre informazioni su Teams',
    meetingOptions: 'Opzioni riunione',
  },
  'nl-NL': {
    headline: 'Deelnemen aan Microsoft Teams-vergadering',
    toll: '(betaald)',
    tollFree: '(gratis)',
    phoneConferenceId: 'Telefonische vergader-id:',
    meetingId: 'Vergader-id:',
    passcode: 'Wachtwoordcode:',
    findLocalNumber: 'Een lokaal nummer zoeken',
    resetPin: 'Pincode opnieuw instellen',
    learnMore: 'Meer informatie over Teams',
    meetingOptions: 'Vergaderopties',
  },
};

interface ReferenceInput {
  joinWebUrl: string;
  /** Link to the meeting-options page, used as given. */
  meetingOptionsWebUrl: string;
  /** The "find a local number" page. */
  dialinUrl: string;
  /** Audio conference id (digits). */
  conferenceId: string;
  tollNumbers: string[];
  tollFreeNumbers: string[];
  /** Digits, displayed grouped in threes. */
  joinMeetingId: string;
  /** Shown only when non-null. */
  passcode: string | null;
}

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes text for HTML element content and (single- or double-quoted) attribute values. */
function escapeHtml(value: string): string {
  return String(value).replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]!);
}

const SAFE_SCHEMES = new Set(['http:', 'https:', 'tel:']);

/**
 * An escaped href: the URL as given when it is absolute http(s)/tel, else `#`. The WHATWG parser sees
 * the scheme as a browser will (it drops tabs/newlines and leading controls, so `java\tscript:` is caught).
 */
function safeHref(url: string): string {
  let protocol: string;
  try {
    protocol = new URL(url).protocol;
  } catch {
    return '#';
  }
  return SAFE_SCHEMES.has(protocol) ? escapeHtml(url) : '#';
}

/** `123456789012` -> `123 456 789 012`. */
const groupInThrees = (digits: string) => digits.replace(/(.{3})(?=.)/gsu, '$1 ');

/**
 * application/x-www-form-urlencoded, as Graph encodes the fragment (spaces as `+`). Issue #14: line
 * breaks are CRLF and hex escapes lower case, as in captured Graph responses.
 */
const formEncode = (text: string) =>
  new URLSearchParams({ c: text.replace(/\n/g, '\r\n') })
    .toString()
    .slice(2)
    .replace(/%[0-9A-F]{2}/g, (e) => e.toLowerCase());

const SEPARATOR =
  '<div style="width:100%;height: 20px;"><span style="white-space:nowrap;color:gray;opacity:.36;">' + '_'.repeat(80) + '</span></div>';
const FONT_STACK = "'Segoe UI','Helvetica Neue',Helvetica,Arial,sans-serif";
const NEW_TAB = 'target="_blank" rel="noreferrer noopener"';
const link = (href: string, text: string, size: number) =>
  `<a class="me-email-link" style="font-size: ${size}px;text-decoration: none;color: #6264a7;" href="${href}" ${NEW_TAB}>${text}</a>`;

/** Graph's joinInformation itemBody: the form-encoded `data:text/html,` invitation fragment. */
function referenceRenderJoinInformation(input: ReferenceInput, language: SupportedLanguage): { content: string; contentType: 'html' } {
  const t = STRINGS[language] ?? STRINGS[DEFAULT_LANGUAGE];
  const conferenceId = String(input.conferenceId);
  const dialIn = (number: string, label: string) => {
    const href = safeHref(`tel:${number},,${conferenceId}`);
    // Teams writes the DTMF terminator as a character reference inside the href.
    const tel = href === '#' ? href : `${href}&#35;`;
    return `    <div>${link(tel, escapeHtml(number), 14)}<span style="font-size: 12px;">&nbsp; ${escapeHtml(label)}</span></div>`;
  };
  const line = (label: string, value: string) =>
    `  <div style="margin-bottom: 10px;"><span style="font-size: 12px;">${escapeHtml(label)} </span>` +
    `<span style="font-size: 14px;">${escapeHtml(value)}</span></div>`;
  const footer = [
    link(safeHref(input.dialinUrl), escapeHtml(t.findLocalNumber), 12),
    link(safeHref('https://mysettings.lync.com/pstnconferencing'), escapeHtml(t.resetPin), 12),
    link(safeHref('https://aka.ms/JoinTeamsMeeting'), escapeHtml(t.learnMore), 12),
    link(safeHref(input.meetingOptionsWebUrl), escapeHtml(t.meetingOptions), 12),
  ].join(' | ');

  const html = [
    SEPARATOR,
    `<div class="me-email-text" lang="${escapeHtml(language)}" style="color:#252424;font-family:${FONT_STACK};">`,
    '  <div style="margin-top: 24px; margin-bottom: 10px;">',
    `    <a class="me-email-headline" style="font-size: 18px;font-family:'Segoe UI Semibold',${FONT_STACK};text-decoration: underline;color: #6264a7;"` +
      ` href="${safeHref(input.joinWebUrl)}" ${NEW_TAB}>${escapeHtml(t.headline)}</a>`,
    '  </div>',
    '  <div style="margin-bottom: 10px;">',
    ...input.tollNumbers.map((n) => dialIn(n, t.toll)),
    ...input.tollFreeNumbers.map((n) => dialIn(n, t.tollFree)),
    '  </div>',
    line(t.phoneConferenceId, `${groupInThrees(conferenceId)}#`),
    line(t.meetingId, groupInThrees(String(input.joinMeetingId))),
    ...(input.passcode !== null && input.passcode !== undefined ? [line(t.passcode, String(input.passcode))] : []),
    `  <div style="margin-top: 14px; margin-bottom: 24px;">${footer}</div>`,
    '</div>',
    SEPARATOR,
  ].join('\n');

  // Issue #14: the prefix is sent literally, only the HTML is encoded.
  return { content: `data:text/html,${formEncode(html)}`, contentType: 'html' };
}
