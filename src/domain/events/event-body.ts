import { escapeHtml } from '../meetings/join-information.js';
import type { Meeting } from '../meetings/meeting.js';

/**
 * Event bodies (graph-events-spec.md §3.4, §4.2): Outlook keeps HTML, wraps plain text in an HTML
 * document, appends the Teams invitation block to online meetings, and derives `bodyPreview` (text, 255
 * characters) and the text rendition served with Prefer: outlook.body-content-type="text".
 */
const HEAD = '<html>\r\n<head>\r\n<meta http-equiv="Content-Type" content="text/html; charset=utf-8">\r\n</head>\r\n<body>\r\n';
const TAIL = '\r\n</body>\r\n</html>\r\n';
const SEPARATOR = '_'.repeat(80);
/** Marks the block so a later PATCH can tell whether the client kept it (§3.5). */
export const TEAMS_BLOCK_CLASS = 'me-email-text';

/** The body as Outlook stores it: HTML, a whole document. */
export function htmlBody(body: { contentType: 'text' | 'html'; content: string }): string {
  if (body.contentType === 'text') {
    return `${HEAD}${escapeHtml(body.content).replace(/\r?\n/g, '<br>\r\n')}${TAIL}`;
  }
  return /<html[\s>]/i.test(body.content) ? body.content : `${HEAD}${body.content}${TAIL}`;
}

/** The Teams invitation block Outlook appends (§3.4), for the meeting's join link and dial-in. */
export function teamsBlock(meeting: Meeting): string {
  const a = meeting.audioConferencing;
  const toll = a.tollNumbers[0];
  const grouped = a.conferenceId.replace(/(\d{3})(?=\d)/g, '$1 ');
  const join = meeting.joinMeetingIdSettings;
  const lines = [
    `<div style="width:100%; height:20px"><span style="white-space:nowrap; color:#5F5F5F; opacity:.36">${SEPARATOR}</span></div>`,
    `<div class="${TEAMS_BLOCK_CLASS}" style="color:#252424; font-family:'Segoe UI','Helvetica Neue',Helvetica,Arial,sans-serif">`,
    `<div style="margin-top:24px; margin-bottom:20px"><span style="font-size:24px; color:#252424">Microsoft Teams meeting</span></div>`,
    `<div style="margin-bottom:20px"><a class="me-email-headline" href="${escapeHtml(meeting.joinWebUrl)}" target="_blank" rel="noreferrer noopener" style="font-size:14px; text-decoration:underline; color:#6264a7">Join Microsoft Teams Meeting</a></div>`,
    `<div style="margin-bottom:4px">Meeting ID: ${escapeHtml(join.joinMeetingId.replace(/(\d{3})(?=\d)/g, '$1 '))}</div>`,
    ...(join.passcode ? [`<div style="margin-bottom:20px">Passcode: ${escapeHtml(join.passcode)}</div>`] : []),
    ...(toll
      ? [
          `<div style="margin-bottom:4px"><a href="tel:${escapeHtml(toll)},,${escapeHtml(a.conferenceId)}#" style="color:#252424">${escapeHtml(toll)},,${escapeHtml(a.conferenceId)}#</a> (Toll)</div>`,
          `<div style="margin-bottom:20px">Conference ID: ${escapeHtml(grouped)}#</div>`,
          `<div><a href="${escapeHtml(a.dialinUrl)}" target="_blank" rel="noreferrer noopener">Local numbers</a> | <a href="https://mysettings.lync.com/pstnconferencing" target="_blank" rel="noreferrer noopener">Reset PIN</a> | <a href="https://aka.ms/JoinTeamsMeeting" target="_blank" rel="noreferrer noopener">Learn more about Teams</a> | <a href="${escapeHtml(meeting.meetingOptionsWebUrl)}&amp;language=en-US" target="_blank" rel="noreferrer noopener">Meeting options</a></div>`,
        ]
      : [
          `<div><a href="https://aka.ms/JoinTeamsMeeting" target="_blank" rel="noreferrer noopener">Learn more about Teams</a> | <a href="${escapeHtml(meeting.meetingOptionsWebUrl)}&amp;language=en-US" target="_blank" rel="noreferrer noopener">Meeting options</a></div>`,
        ]),
    '</div>',
    `<div style="font-size:14px; margin-bottom:4px">${SEPARATOR}</div>`,
  ];
  return lines.join('\r\n');
}

/** Appends the block inside the document's body (§3.4: after the caller's content). */
export function withTeamsBlock(html: string, meeting: Meeting): string {
  const block = `\r\n${teamsBlock(meeting)}`;
  const close = html.toLowerCase().lastIndexOf('</body>');
  return close === -1 ? `${html}${block}` : `${html.slice(0, close)}${block}\r\n${html.slice(close)}`;
}

/** Whether a body still carries the meeting's join link (§3.5: a PATCH that drops it). */
export const hasJoinLink = (html: string, meeting: Meeting) =>
  html.includes(escapeHtml(meeting.joinWebUrl)) || html.includes(meeting.joinWebUrl);

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'", nbsp: ' ', '#43': '+' };

/** The text rendition of an HTML body: tags dropped, block ends as line breaks, entities decoded. */
export function textOf(html: string): string {
  const body = /<body[^>]*>([\s\S]*)<\/body>/i.exec(html)?.[1] ?? html;
  return body
    .replace(/<(script|style|head)[\s\S]*?<\/\1>/gi, '')
    .replace(/<br\s*\/?>\r?\n?/gi, '\r\n')
    .replace(/<\/(div|p|li|tr|h[1-6])>\r?\n?/gi, '\r\n')
    .replace(/<[^>]*>/g, '')
    .replace(/&(amp|lt|gt|quot|#39|nbsp|#43);/g, (_, e: string) => ENTITIES[e]!)
    .replace(/[ \t]*\r?\n[ \t]*/g, '\r\n')
    .replace(/(\r\n){3,}/g, '\r\n\r\n')
    .trim();
}

/** §1 bodyPreview: the text rendition cut at 255 characters. */
export const bodyPreview = (html: string) => textOf(html).slice(0, 255);
