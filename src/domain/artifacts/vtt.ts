import { badRequest } from '../errors.js';

/**
 * WebVTT as Teams writes transcripts (graph-meeting-artifacts-spec.md §2.7): a `WEBVTT` header, cues
 * preceded by an identifier line `{guid}/{n}-{m}`, `HH:MM:SS.mmm` timestamps, and the cue text inside one
 * `<v Speaker Name>…</v>` voice span, HTML-entity escaped. The three views Graph serves are all derived
 * from the stored text: the attributed VTT itself, the speaker-less text, and the JSON metadata cues.
 */
export interface Cue {
  identifier: string | null;
  /** Offsets from the start of transcription, in milliseconds. */
  startMs: number;
  endMs: number;
  /** The voice span's name; null when the cue has no <v> tag. */
  speaker: string | null;
  /** The cue text without voice tags (still entity-escaped, as Teams writes it). */
  text: string;
}

const TIMESTAMP = /^(?:(\d{1,3}):)?(\d{1,2}):(\d{1,2})\.(\d{1,3})$/;
const MAX_CUES = 100_000;

/** Parses `HH:MM:SS.mmm` (hours optional, as WebVTT allows; the lenient `0:0:5.320` of old examples too). */
export function parseTimestamp(text: string): number | undefined {
  const m = TIMESTAMP.exec(text.trim());
  if (!m) return undefined;
  const [, h = '0', mi, s, frac] = m;
  if (Number(mi) > 59 || Number(s) > 59) return undefined;
  return ((Number(h) * 60 + Number(mi)) * 60 + Number(s)) * 1000 + Number(frac!.padEnd(3, '0'));
}

export function formatTimestamp(ms: number): string {
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const s = Math.floor((ms % 60_000) / 1000);
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${pad(h)}:${pad(m)}:${pad(s)}.${pad(ms % 1000, 3)}`;
}

/** Parses WebVTT text; a problem is a 400 naming the line (issue #17: "a VTT that does not parse"). */
export function parseVtt(content: string, property = 'transcript.content'): Cue[] {
  const text = content.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n');
  const lines = text.split('\n');
  const fail = (line: number, problem: string) => badRequest(`'${property}' is not a WebVTT transcript: line ${line}: ${problem}`);
  if (!/^WEBVTT(?:[ \t].*)?$/.test(lines[0] ?? '')) throw fail(1, "the first line must be 'WEBVTT'.");
  const cues: Cue[] = [];
  let i = 1;
  // Header lines until the first blank line.
  while (i < lines.length && lines[i]!.trim() !== '') i++;
  while (i < lines.length) {
    while (i < lines.length && lines[i]!.trim() === '') i++;
    if (i >= lines.length) break;
    const blockStart = i;
    let identifier: string | null = null;
    if (!lines[i]!.includes('-->')) {
      if (/^(NOTE|STYLE|REGION)(?:[ \t]|$)/.test(lines[i]!)) {
        while (i < lines.length && lines[i]!.trim() !== '') i++;
        continue;
      }
      identifier = lines[i]!.trim();
      i++;
      if (i >= lines.length || !lines[i]!.includes('-->'))
        throw fail(blockStart + 1, `expected a timing line ('00:00:01.000 --> 00:00:04.000') after the cue identifier.`);
    }
    const [from, rest = ''] = lines[i]!.split('-->');
    const to = rest.trim().split(/[ \t]+/)[0] ?? '';
    const startMs = parseTimestamp(from!);
    const endMs = parseTimestamp(to);
    if (startMs === undefined || endMs === undefined)
      throw fail(i + 1, `'${lines[i]!.slice(0, 80)}' is not a timing line of the form 00:00:01.000 --> 00:00:04.000.`);
    if (endMs < startMs) throw fail(i + 1, 'the cue ends before it starts.');
    i++;
    const body: string[] = [];
    while (i < lines.length && lines[i]!.trim() !== '') {
      if (lines[i]!.includes('-->')) throw fail(i + 1, 'a timing line inside a cue (separate cues with a blank line).');
      body.push(lines[i]!);
      i++;
    }
    const joined = body.join('\n');
    const voice = /^<v(?:\.[\w.-]+)?[ \t]+([^>]*)>([\s\S]*?)(?:<\/v>)?$/.exec(joined.trim());
    cues.push({
      identifier,
      startMs,
      endMs,
      speaker: voice ? voice[1]!.trim() : null,
      text: voice ? voice[2]! : joined,
    });
    if (cues.length > MAX_CUES) throw fail(i, `more than ${MAX_CUES} cues.`);
  }
  return cues;
}

/** Teams escapes cue text as HTML (§2.7: `&amp;`, `&apos;`). */
export const escapeCueText = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/'/g, '&apos;').replace(/"/g, '&quot;');

const unescapeCueText = (s: string) =>
  s
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&apos;/g, "'")
    .replace(/&quot;/g, '"')
    .replace(/&nbsp;/g, '\u00a0')
    .replace(/&amp;/g, '&');

/**
 * Teams-style VTT from cues given as data (POST /_emulator/sessions `transcript.cues`): each cue gets an
 * identifier `{guid}/{n}-0` and one voice span, as the files integrators' parsers are written against.
 */
export function renderTeamsVtt(cueGuid: string, cues: Array<{ speaker: string; startMs: number; endMs: number; text: string }>): string {
  let out = 'WEBVTT\n';
  cues.forEach((c, n) => {
    // A '>' in a name would end the voice tag; Teams does not write one.
    const speaker = c.speaker.replace(/[<>\n\r]/g, ' ').trim();
    out += `\n${cueGuid}/${n + 10}-0\n${formatTimestamp(c.startMs)} --> ${formatTimestamp(c.endMs)}\n<v ${speaker}>${escapeCueText(c.text)}</v>\n`;
  });
  return out;
}

/**
 * The unattributed format (`application/vnd.microsoft.graph.transcript+text`, §2.7): timestamped cue
 * text without voice tags, no WEBVTT header, blank lines between cues, as the doc examples show.
 */
export function speakerlessText(cues: Cue[]): string {
  return cues.map((c) => `${formatTimestamp(c.startMs)} --> ${formatTimestamp(c.endMs)}\n${c.text}\n`).join('\n');
}

/**
 * metadataContent (§2.4): WebVTT whose cue payloads are JSON objects with absolute times (Teams writes
 * `2023-03-08T08:22:30.0461639+00:00`), the speaker's name, the spoken text and its language.
 */
export function metadataVtt(cues: Cue[], transcriptionStartMs: number, language: string): string {
  const at = (offset: number) => `${new Date(transcriptionStartMs + offset).toISOString().slice(0, 23)}0000+00:00`;
  let out = 'WEBVTT\n';
  for (const c of cues) {
    const payload = {
      startDateTime: at(c.startMs),
      endDateTime: at(c.endMs),
      speakerName: c.speaker === null ? null : unescapeCueText(c.speaker),
      spokenText: unescapeCueText(c.text.replace(/\n/g, ' ')),
      spokenLanguage: language,
    };
    out += `\n${c.identifier ? `${c.identifier}\n` : ''}${formatTimestamp(c.startMs)} --> ${formatTimestamp(c.endMs)}\n${JSON.stringify(payload)}\n`;
  }
  return out;
}
