import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { metadataVtt, parseTimestamp, parseVtt, renderTeamsVtt, speakerlessText } from '../../../src/domain/artifacts/vtt.js';

describe('WebVTT as Teams writes it (artifacts spec §2.7)', () => {
  test('cue identifiers, NOTE blocks, multi-line voice spans, lenient old timestamps, CRLF and BOM', () => {
    const cues = parseVtt(
      '\uFEFFWEBVTT\r\n\r\nNOTE written by Teams\r\n\r\n5fd7f1de-6442-4b37-a79a-7f43656096ca/13-0\r\n00:00:16.246 --> 00:00:17.726\r\n<v User Name>This is\r\na test.</v>\r\n\r\n0:0:0.0 --> 0:0:5.320\r\nno speaker here\r\n',
    );
    assert.deepEqual(cues, [
      {
        identifier: '5fd7f1de-6442-4b37-a79a-7f43656096ca/13-0',
        startMs: 16246,
        endMs: 17726,
        speaker: 'User Name',
        text: 'This is\na test.',
      },
      { identifier: null, startMs: 0, endMs: 5320, speaker: null, text: 'no speaker here' },
    ]);
  });

  test('errors name the line', () => {
    assert.throws(() => parseVtt('WEBVT\n'), /line 1: the first line must be 'WEBVTT'/);
    assert.throws(() => parseVtt('WEBVTT\n\nid-only\n\n'), /line 3: expected a timing line/);
    assert.throws(
      () => parseVtt('WEBVTT\n\n00:00:01.000 --> 00:00:02.000\na\n00:00:03.000 --> 00:00:04.000\n'),
      /line 5: a timing line inside a cue/,
    );
    assert.equal(parseTimestamp('00:61:00.000'), undefined);
  });

  test('rendered cues, speaker-less text and metadata', () => {
    const vtt = renderTeamsVtt('11111111-2222-4333-8444-555555555555', [
      { speaker: 'Alice <Adams>', startMs: 1000, endMs: 4000, text: "It's <b> & more" },
    ]);
    assert.equal(
      vtt,
      'WEBVTT\n\n11111111-2222-4333-8444-555555555555/10-0\n00:00:01.000 --> 00:00:04.000\n<v Alice  Adams>It&apos;s &lt;b&gt; &amp; more</v>\n',
    );
    const cues = parseVtt(vtt);
    assert.equal(speakerlessText(cues), '00:00:01.000 --> 00:00:04.000\nIt&apos;s &lt;b&gt; &amp; more\n');
    const meta = metadataVtt(cues, Date.parse('2030-01-02T10:00:00Z'), 'en-us').split('\n');
    assert.deepEqual(JSON.parse(meta[4]!), {
      startDateTime: '2030-01-02T10:00:01.0000000+00:00',
      endDateTime: '2030-01-02T10:00:04.0000000+00:00',
      speakerName: 'Alice  Adams',
      spokenText: "It's <b> & more",
      spokenLanguage: 'en-us',
    });
  });
});
