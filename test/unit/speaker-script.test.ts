/** What a broadcast sounds like, part by part (drivers/speaker/script.ts), and the PCM helpers. */
import { describe, expect, it } from 'vitest';
import { CHIME_LENGTH_S, chimePcm } from '../../drivers/speaker/chime.ts';
import { bytesFor, durationS, parseWav, RATE, rms, silence, wavHeader } from '../../drivers/speaker/pcm.ts';
import { estimateS, figureClauses, hasEnglish, script, voiceRuns, type Part } from '../../drivers/speaker/script.ts';

const none = { english: true, recordings: {} };
const rain = { textZh: '示范社区:暴雨红色预警,3 小时降雨量 104.2 毫米。请前往避难所。', textEn: 'Demo village: red rainstorm warning, 104.2 mm in 3 h.', repeat: 2 };
const brief = (parts: Part[]): string[] => parts.map((p) => (p.kind === 'pause' ? `pause ${p.ms}` : p.kind === 'tts' ? `tts ${p.voice}` : p.kind === 'recording' ? `recording ${p.file}` : p.kind));

describe('script', () => {
  it('chime, then Mandarin and English repeated, with pauses between', () => {
    expect(brief(script(rain, none))).toEqual(['chime', 'pause 400', 'tts zh', 'pause 700', 'tts en', 'pause 1500', 'tts zh', 'pause 700', 'tts en', 'pause 300']);
  });

  it('speaks normalised text', () => {
    const [, , zh, , en] = script(rain, none);
    expect(zh).toEqual({ kind: 'tts', voice: 'zh', text: '示范社区:暴雨红色预警,三小时降雨量一百零四点二毫米。请前往避难所。' });
    expect(en).toEqual({ kind: 'tts', voice: 'en', text: 'Demo village: red rainstorm warning, 104.2 millimetres in 3 hours.' });
  });

  it('no English when the speaker does not speak it, or the broadcast has none of its own', () => {
    expect(brief(script({ ...rain, repeat: 1 }, { ...none, english: false }))).toEqual(['chime', 'pause 400', 'tts zh', 'pause 300']);
    expect(brief(script({ textZh: '通知', textEn: '通知', repeat: 1 }, none))).toEqual(['chime', 'pause 400', 'tts zh', 'pause 300']);
    expect(brief(script({ textZh: '通知', repeat: 1 }, none))).toEqual(['chime', 'pause 400', 'tts zh', 'pause 300']);
    expect(brief(script({ textZh: '通知', textEn: '注意 notice', repeat: 1 }, none))).toEqual(['chime', 'pause 400', 'tts zh', 'pause 300']);
  });

  it('repeats between 1 and 10 times, whatever is asked', () => {
    const count = (repeat: number): number => script({ textZh: '通知', repeat }, none).filter((p) => p.kind === 'tts').length;
    expect([count(0), count(-1), count(1.7), count(3), count(99), count(Number.NaN)]).toEqual([1, 1, 1, 3, 10, 1]);
  });

  it('a template with a recording plays it, then the figures of the text in TTS', () => {
    const recordings = { rainstorm: { zh: 'audio/rainstorm.wav', en: null, figures: true } };
    const parts = script({ ...rain, repeat: 1, template: 'rainstorm' }, { english: true, recordings });
    expect(brief(parts)).toEqual(['chime', 'pause 400', 'recording audio/rainstorm.wav', 'pause 200', 'tts zh', 'pause 700', 'tts en', 'pause 300']);
    expect(parts[4]).toEqual({ kind: 'tts', voice: 'zh', text: '三小时降雨量一百零四点二毫米' });
    expect(parts[2]).toMatchObject({ template: 'rainstorm', fallback: { voice: 'zh', text: expect.stringContaining('一百零四点二毫米') } });
  });

  it('a recording without figures, an English recording, a template without a recording', () => {
    const recordings = { evacuation: { zh: 'e.wav', en: 'e-en.opus', figures: false } };
    expect(brief(script({ ...rain, repeat: 1, template: 'evacuation' }, { english: true, recordings }))).toEqual(['chime', 'pause 400', 'recording e.wav', 'pause 700', 'recording e-en.opus', 'pause 300']);
    expect(brief(script({ ...rain, repeat: 1, template: 'flood' }, { english: true, recordings }))).toEqual(['chime', 'pause 400', 'tts zh', 'pause 700', 'tts en', 'pause 300']);
    // No figures in the text: nothing after the recording.
    const fig = { evacuation: { zh: 'e.wav', en: null, figures: true } };
    expect(brief(script({ textZh: '请立即撤离。', repeat: 1, template: 'evacuation' }, { english: true, recordings: fig }))).toEqual(['chime', 'pause 400', 'recording e.wav', 'pause 300']);
  });
});

describe('figureClauses', () => {
  it('keeps the clauses with digits', () => {
    expect(figureClauses('示范社区:暴雨红色预警,3 小时降雨量 104.2 毫米。请沿北坡上山路线前往村委会避难所。')).toBe('3 小时降雨量 104.2 毫米');
    expect(figureClauses('水位 2.5 米,10 分钟上涨 0.35 米;请撤离')).toBe('水位 2.5 米,10 分钟上涨 0.35 米');
    expect(figureClauses('请立即撤离。')).toBe('');
    expect(figureClauses('Red flood warning. River at 2.5 m. Leave now.')).toBe('River at 2.5 m');
  });
});

describe('hasEnglish', () => {
  it('English of its own only', () => {
    expect(hasEnglish({ textZh: '通知', textEn: 'Notice' })).toBe(true);
    expect(hasEnglish({ textZh: '通知', textEn: ' 通知 ' })).toBe(false);
    expect(hasEnglish({ textZh: '通知', textEn: '' })).toBe(false);
    expect(hasEnglish({ textZh: '通知', textEn: '123' })).toBe(false);
    expect(hasEnglish({ textZh: '通知' })).toBe(false);
  });
});

describe('voiceRuns', () => {
  it('Latin words in Mandarin go to the English voice', () => {
    expect(voiceRuns('请到 Building B 集合,三号楼', 'zh')).toEqual([
      { voice: 'zh', text: '请到' },
      { voice: 'en', text: 'Building B' },
      { voice: 'zh', text: '集合,三号楼' },
    ]);
    expect(voiceRuns('B三栋', 'zh')).toEqual([
      { voice: 'en', text: 'B' },
      { voice: 'zh', text: '三栋' },
    ]);
    expect(voiceRuns('全是中文。', 'zh')).toEqual([{ voice: 'zh', text: '全是中文。' }]);
    expect(voiceRuns(' 。,', 'zh')).toEqual([]);
    expect(voiceRuns('All English 3', 'en')).toEqual([{ voice: 'en', text: 'All English 3' }]);
  });
});

describe('estimateS', () => {
  it('grows with text, repeats and English', () => {
    const one = estimateS({ textZh: '一二三四五六七八九十', repeat: 1 }, true);
    expect(one).toBeGreaterThan(CHIME_LENGTH_S + 10 / 3.7);
    expect(estimateS({ textZh: '一二三四五六七八九十', repeat: 3 }, true)).toBeGreaterThan(3 * (one - CHIME_LENGTH_S));
    expect(estimateS(rain, true)).toBeGreaterThan(estimateS(rain, false));
  });
});

describe('PCM', () => {
  it('a WAV header round-trips, and a streamed WAV (placeholder sizes) reads to its end', () => {
    const data = Buffer.from([1, 0, 2, 0, 3, 0]);
    const w = parseWav(Buffer.concat([wavHeader(data.length), data]));
    expect(w).toEqual({ rate: RATE, channels: 1, bits: 16, data });
    const streamed = wavHeader(0x7ffff000);
    expect(parseWav(Buffer.concat([streamed, data, Buffer.from([9])])).data).toEqual(data);
    expect(() => parseWav(Buffer.from('not a wav at all'))).toThrow(expect.objectContaining({ code: 'bad_audio' }));
  });

  it('silence, durations and whole samples', () => {
    expect(bytesFor(1000)).toBe(RATE * 2);
    expect(bytesFor(0.01) % 2).toBe(0);
    expect(durationS(silence(250))).toBeCloseTo(0.25, 3);
    expect(rms(silence(100))).toBe(0);
  });

  it('the chime: 1.6 s, peak about -6 dBFS, fading to silence', () => {
    const c = chimePcm();
    expect(durationS(c)).toBeCloseTo(CHIME_LENGTH_S, 3);
    let peak = 0;
    for (let i = 0; i < c.length; i += 2) peak = Math.max(peak, Math.abs(c.readInt16LE(i)));
    expect(peak / 32767).toBeCloseTo(0.5, 2);
    expect(c.readInt16LE(c.length - 2)).toBe(0);
    expect(rms(c)).toBeGreaterThan(0.05);
  });
});
