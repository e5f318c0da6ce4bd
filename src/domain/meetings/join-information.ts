/**
 * Graph's `joinInformation` (the Teams invitation fragment) and the Accept-Language negotiation that
 * picks its language. Graph sends the fragment as one form-encoded `data:text/html,` string.
 */

export const SUPPORTED_LANGUAGES = ['en-US', 'ja-JP', 'de-DE', 'fr-FR', 'es-ES', 'pt-BR', 'zh-CN', 'ko-KR', 'it-IT', 'nl-NL'] as const;
export type SupportedLanguage = (typeof SUPPORTED_LANGUAGES)[number];

const DEFAULT_LANGUAGE: SupportedLanguage = 'en-US';

// Bounds on work per request: the header is attacker-controlled.
const MAX_HEADER_CHARS = 4096;
const MAX_ENTRIES = 50;

/** RFC 4647 language-range (RFC 9110 §12.5.4): `*` or alphanumeric subtags of 1-8 chars, the first alphabetic. */
const LANGUAGE_RANGE = /^(?:\*|[a-z]{1,8}(?:-[a-z0-9]{1,8})*)$/;
/** RFC 9110 §12.4.2 qvalue. */
const QVALUE = /^(?:0(?:\.[0-9]{0,3})?|1(?:\.0{0,3})?)$/;
/** Regions that imply Traditional Chinese when no script subtag is given. */
const TRADITIONAL_CHINESE_REGIONS = new Set(['tw', 'hk', 'mo']);

/** Each supported tag by its primary language subtag (one per language). */
const BY_PRIMARY = new Map<string, SupportedLanguage>(SUPPORTED_LANGUAGES.map((tag) => [tag.split('-')[0]!.toLowerCase(), tag]));

interface LanguageRange {
  range: string; // lower-cased
  q: number;
}

/** Parses the header; malformed entries are dropped, never thrown on. */
function parseAcceptLanguage(header: string): LanguageRange[] {
  const ranges: LanguageRange[] = [];
  for (const entry of header.slice(0, MAX_HEADER_CHARS).split(',', MAX_ENTRIES)) {
    const [rawRange = '', ...params] = entry.split(';');
    const range = rawRange.trim().toLowerCase();
    if (!LANGUAGE_RANGE.test(range)) continue;
    let q: number | undefined;
    let malformed = false;
    for (const param of params) {
      if (param.trim() === '') continue; // tolerate stray `;`
      const m = /^\s*q\s*=\s*(\S+)\s*$/i.exec(param);
      if (!m || q !== undefined || !QVALUE.test(m[1]!)) {
        malformed = true;
        break;
      }
      q = Number(m[1]);
    }
    if (!malformed) ranges.push({ range, q: q ?? 1 });
  }
  // Array.prototype.sort is stable, so equal weights keep header order.
  return ranges.sort((a, b) => b.q - a.q);
}

/**
 * The supported language a (non-wildcard) range selects: exact match, else the same primary language
 * in either direction (`ja` -> ja-JP, `de-AT` -> de-DE, `pt-PT` -> pt-BR). Traditional Chinese
 * (`zh-Hant*`, or `zh-TW` / `zh-HK` / `zh-MO` without a script) has no counterpart here, so it selects nothing.
 */
function matchRange(range: string): SupportedLanguage | undefined {
  const exact = SUPPORTED_LANGUAGES.find((tag) => tag.toLowerCase() === range);
  if (exact) return exact;
  const [primary = '', ...rest] = range.split('-');
  if (primary === 'zh') {
    const script = rest.find((s) => s.length === 4);
    if (script === 'hant') return undefined;
    if (script === undefined && rest.some((s) => TRADITIONAL_CHINESE_REGIONS.has(s))) return undefined;
  }
  return BY_PRIMARY.get(primary);
}

/** RFC 4647 basic filtering: a `q=0` range refuses the tags it is equal to or a prefix of. */
const refuses = (range: string, tag: SupportedLanguage) => {
  const t = tag.toLowerCase();
  return t === range || t.startsWith(`${range}-`);
};

/**
 * RFC 9110 Accept-Language negotiation: the highest-weighted acceptable range we support (ties in
 * header order), with region fallback; en-US when nothing matches or the header is absent/unusable.
 */
export function negotiateLanguage(acceptLanguage: string | undefined): SupportedLanguage {
  if (typeof acceptLanguage !== 'string' || acceptLanguage.trim() === '') return DEFAULT_LANGUAGE;
  const ranges = parseAcceptLanguage(acceptLanguage);
  const refused = ranges.filter((r) => r.q === 0 && r.range !== '*');
  const acceptable = (tag: SupportedLanguage) => !refused.some((r) => refuses(r.range, tag));
  for (const { range, q } of ranges) {
    if (q === 0) break; // sorted: everything after is refused too
    if (range === '*') {
      // Any language will do: prefer English, else whatever the client has not refused.
      const any = [DEFAULT_LANGUAGE, ...SUPPORTED_LANGUAGES].find(acceptable);
      if (any) return any;
      continue;
    }
    const tag = matchRange(range);
    if (tag && acceptable(tag)) return tag;
  }
  return DEFAULT_LANGUAGE;
}

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

export interface JoinInformationInput {
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
const HTML_SPECIAL = /[&<>"']/;
const HTML_SPECIAL_ALL = /[&<>"']/g;

/** Escapes text for HTML element content and (single- or double-quoted) attribute values. */
export function escapeHtml(value: string): string {
  const text = String(value);
  // Most values (URLs, digits) have nothing to escape, and test() is cheaper than a no-op replace().
  return HTML_SPECIAL.test(text) ? text.replace(HTML_SPECIAL_ALL, (c) => HTML_ESCAPES[c]!) : text;
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

// encodeURIComponent keeps `!'()~` and writes a space as %20; the form encoding does neither.
const NOT_FORM = /%20|[!'()~]/;
const NOT_FORM_ALL = /%20|[!'()~]/g;
const FORM_FIXES: Record<string, string> = { '%20': '+', '!': '%21', "'": '%27', '(': '%28', ')': '%29', '~': '%7E' };
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

const NEWLINE_ALL = /\n/g;
const UPPER_ESCAPE = /%[0-9A-F][A-F]|%[A-F][0-9]/;
const ESCAPE_ALL = /%[0-9A-F]{2}/g;
const lowerEscape = (e: string) => e.toLowerCase();

/**
 * application/x-www-form-urlencoded, as Graph encodes the fragment (issue #14: three captures of real
 * responses agree): spaces as `+`, hex escapes in lower case, every line break as CRLF (`%0d%0a`). Byte
 * for byte what `new URLSearchParams({ c: text.replace(/\n/g, '\r\n') }).toString().slice(2)` writes
 * with its escapes lower-cased (lone surrogates as U+FFFD), but on the native encoder, which is several
 * times faster (issue #6). A `%` in its output always starts an escape, so neither `%20` nor an escape
 * can match across escapes, and encoding pieces apart gives the bytes of encoding the whole.
 */
function formEncode(text: string): string {
  if (text.includes('\n')) text = text.replace(NEWLINE_ALL, '\r\n');
  let encoded: string;
  try {
    encoded = encodeURIComponent(text);
  } catch {
    encoded = encodeURIComponent(text.replace(LONE_SURROGATE, '\ufffd')); // URIError: a lone surrogate
  }
  if (NOT_FORM.test(encoded)) encoded = encoded.replace(NOT_FORM_ALL, (c) => FORM_FIXES[c]!);
  return UPPER_ESCAPE.test(encoded) ? encoded.replace(ESCAPE_ALL, lowerEscape) : encoded;
}

/**
 * Graph's prefix, sent literally: clients strip up to the first comma (or the prefix) and decode the rest.
 * The docs' Japanese example encodes the prefix too; the captured responses do not.
 */
export const JOIN_INFORMATION_PREFIX = 'data:text/html,';

const SEPARATOR =
  '<div style="width:100%;height: 20px;"><span style="white-space:nowrap;color:gray;opacity:.36;">' + '_'.repeat(80) + '</span></div>';
const FONT_STACK = "'Segoe UI','Helvetica Neue',Helvetica,Arial,sans-serif";
const NEW_TAB = 'target="_blank" rel="noreferrer noopener"';
const RESET_PIN_URL = 'https://mysettings.lync.com/pstnconferencing';
const LEARN_MORE_URL = 'https://aka.ms/JoinTeamsMeeting';
const linkOpen = (size: number) => `<a class="me-email-link" style="font-size: ${size}px;text-decoration: none;color: #6264a7;" href="`;
const linkClose = (text: string) => `" ${NEW_TAB}>${text}</a>`;
const lineOpen = (label: string) =>
  `\n  <div style="margin-bottom: 10px;"><span style="font-size: 12px;">${escapeHtml(label)} </span><span style="font-size: 14px;">`;
const LINE_CLOSE = '</span></div>';
const numberClose = (label: string) => `</a><span style="font-size: 12px;">&nbsp; ${escapeHtml(label)}</span></div>`;

/**
 * One language's fragment minus the inserted values, as form-encoded pieces. The encoding maps each
 * code point on its own and every piece meets an inserted value at an ASCII character (so no
 * surrogate pair is split), hence encoding the pieces apart gives the bytes of encoding the whole.
 */
interface EncodedTemplate {
  /** From the prefix to the headline's href. */
  head: string;
  /** After the headline href, to the first dial-in line. */
  afterJoinHref: string;
  /** Opens a dial-in line, up to its tel: href. */
  numberOpen: string;
  /** Between a dial-in href and its displayed number. */
  numberMid: string;
  tollClose: string;
  tollFreeClose: string;
  conferenceIdOpen: string;
  meetingIdOpen: string;
  passcodeOpen: string;
  lineClose: string;
  /** Opens the footer, up to the dial-in page href. */
  footerOpen: string;
  /** Between the dial-in page href and the meeting-options href. */
  footerMid: string;
  tail: string;
}

function encodeTemplate(t: InvitationStrings, language: string): EncodedTemplate {
  return {
    head:
      JOIN_INFORMATION_PREFIX +
      formEncode(
        `${SEPARATOR}\n` +
          `<div class="me-email-text" lang="${escapeHtml(language)}" style="color:#252424;font-family:${FONT_STACK};">\n` +
          '  <div style="margin-top: 24px; margin-bottom: 10px;">\n' +
          `    <a class="me-email-headline" style="font-size: 18px;font-family:'Segoe UI Semibold',${FONT_STACK};text-decoration: underline;color: #6264a7;" href="`,
      ),
    afterJoinHref: formEncode(`${linkClose(escapeHtml(t.headline))}\n  </div>\n  <div style="margin-bottom: 10px;">`),
    numberOpen: formEncode(`\n    <div>${linkOpen(14)}`),
    numberMid: formEncode(`" ${NEW_TAB}>`),
    tollClose: formEncode(numberClose(t.toll)),
    tollFreeClose: formEncode(numberClose(t.tollFree)),
    conferenceIdOpen: formEncode(`\n  </div>${lineOpen(t.phoneConferenceId)}`),
    meetingIdOpen: formEncode(lineOpen(t.meetingId)),
    passcodeOpen: formEncode(lineOpen(t.passcode)),
    lineClose: formEncode(LINE_CLOSE),
    footerOpen: formEncode(`\n  <div style="margin-top: 14px; margin-bottom: 24px;">${linkOpen(12)}`),
    footerMid: formEncode(
      `${linkClose(escapeHtml(t.findLocalNumber))} | ` +
        `${linkOpen(12)}${safeHref(RESET_PIN_URL)}${linkClose(escapeHtml(t.resetPin))} | ` +
        `${linkOpen(12)}${safeHref(LEARN_MORE_URL)}${linkClose(escapeHtml(t.learnMore))} | ${linkOpen(12)}`,
    ),
    tail: formEncode(`${linkClose(escapeHtml(t.meetingOptions))}</div>\n</div>\n${SEPARATOR}`),
  };
}

/** Encoded once per supported language: the static ~2 KB need not be encoded per meeting (issue #6). */
const TEMPLATES = new Map<string, EncodedTemplate>();

function templateFor(language: string): EncodedTemplate {
  let template = TEMPLATES.get(language);
  if (template) return template;
  template = encodeTemplate(STRINGS[language as SupportedLanguage] ?? STRINGS[DEFAULT_LANGUAGE], language);
  // Only the ten supported tags are kept, so untyped callers cannot grow the map.
  if (Object.hasOwn(STRINGS, language)) TEMPLATES.set(language, template);
  return template;
}

/** Graph's joinInformation itemBody: `data:text/html,` and the form-encoded invitation fragment. */
export function renderJoinInformation(input: JoinInformationInput, language: SupportedLanguage): { content: string; contentType: 'html' } {
  const template = templateFor(language);
  const conferenceId = String(input.conferenceId);
  let content = template.head + formEncode(safeHref(input.joinWebUrl)) + template.afterJoinHref;
  const dialIn = (numbers: string[], close: string) => {
    for (let i = 0; i < numbers.length; i++) {
      // A hole in a sparse array is an empty line, as when the lines were joined with '\n'.
      if (!(i in numbers)) {
        content += '%0d%0a';
        continue;
      }
      const number = numbers[i]!;
      const href = safeHref(`tel:${number},,${conferenceId}`);
      // Teams writes the DTMF terminator as a character reference inside the href.
      const tel = href === '#' ? href : `${href}&#35;`;
      content += template.numberOpen + formEncode(tel) + template.numberMid + formEncode(escapeHtml(number)) + close;
    }
  };
  dialIn(input.tollNumbers, template.tollClose);
  dialIn(input.tollFreeNumbers, template.tollFreeClose);
  content +=
    template.conferenceIdOpen +
    formEncode(escapeHtml(`${groupInThrees(conferenceId)}#`)) +
    template.lineClose +
    template.meetingIdOpen +
    formEncode(escapeHtml(groupInThrees(String(input.joinMeetingId)))) +
    template.lineClose;
  if (input.passcode !== null && input.passcode !== undefined) {
    content += template.passcodeOpen + formEncode(escapeHtml(String(input.passcode))) + template.lineClose;
  }
  content +=
    template.footerOpen +
    formEncode(safeHref(input.dialinUrl)) +
    template.footerMid +
    formEncode(safeHref(input.meetingOptionsWebUrl)) +
    template.tail;
  return { content, contentType: 'html' };
}
