/**
 * Real broadcast audio (drivers/speaker/render.ts): espeak-ng speaks, the chime is made, sox
 * decodes recordings, and sox measures the result as a person listening would check it.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderBroadcast } from '../../drivers/speaker/render.ts';
import { PAUSE_AFTER_CHIME_MS, PAUSE_AT_END_MS, PAUSE_BETWEEN_LANGUAGES_MS, PAUSE_BETWEEN_REPEATS_MS } from '../../drivers/speaker/script.ts';
import { CHIME_LENGTH_S, CHIME_TONES_HZ } from '../../drivers/speaker/chime.ts';
import { normaliseEn } from '../../drivers/speaker/text-en.ts';
import { normaliseZh } from '../../drivers/speaker/text-zh.ts';
import { siteAudio } from '../../gateway/config/audio.ts';
import { BUILTIN_TEMPLATES } from '../../gateway/config/defaults.ts';
import { dominantHz, soxiLength, soxStats } from '../helpers/sox.ts';

const dir = mkdtempSync(join(tmpdir(), 'sb-render-'));
const out = (name: string): string => join(dir, name);
const audio = (raw: Record<string, unknown> = {}) => ({ audio: siteAudio(raw, BUILTIN_TEMPLATES, []) });
/** Below this RMS a broadcast is as good as silent (espeak-ng speech measures about 0.08-0.1). */
const RMS_FLOOR = 0.02;

/** espeak-ng run directly (not through the renderer), measured by soxi: the independent expectation. */
function espeakS(text: string, voice: string): number {
  const f = out(`ref-${Math.random().toString(16).slice(2)}.wav`);
  execFileSync('espeak-ng', ['-v', voice, '-w', f, text]);
  return soxiLength(f);
}

const rain = {
  textZh: '示范社区:暴雨红色预警,3 小时降雨量 104.2 毫米。请沿北坡上山路线前往村委会避难所。',
  textEn: 'Demo village: red rainstorm warning, 104.2 mm in 3 h. Go to the village hall shelter by the north hill path.',
  repeat: 2,
};

describe('renderBroadcast with espeak-ng', () => {
  it('chime, Mandarin, English, twice: the expected length within ±20 %, not silent, the chime at the start', async () => {
    const r = await renderBroadcast(rain, audio(), { path: out('rain.wav') });
    const zh = espeakS(normaliseZh(rain.textZh), 'cmn-latn-pinyin');
    const en = espeakS(normaliseEn(rain.textEn), 'en');
    const expected = CHIME_LENGTH_S + PAUSE_AFTER_CHIME_MS / 1000 + 2 * (zh + PAUSE_BETWEEN_LANGUAGES_MS / 1000 + en) + PAUSE_BETWEEN_REPEATS_MS / 1000 + PAUSE_AT_END_MS / 1000;
    const whole = soxStats(r.path);
    console.log(`rendered ${r.path}: ${whole.lengthS.toFixed(2)} s (expected ${expected.toFixed(2)} s: Mandarin ${zh.toFixed(2)} s, English ${en.toFixed(2)} s), RMS ${whole.rms.toFixed(3)}, peak ${whole.maxAmplitude.toFixed(3)}`);
    expect(soxiLength(r.path)).toBeCloseTo(r.durationS, 2);
    expect(whole.lengthS).toBeGreaterThan(expected * 0.8);
    expect(whole.lengthS).toBeLessThan(expected * 1.2);
    expect(whole.rms).toBeGreaterThan(RMS_FLOOR);
    // 叮 then 咚: the first half second rings at E5, the next at C5.
    const ding = dominantHz(r.path, [0, 0.5]);
    const dong = dominantHz(r.path, [0.65, 0.5]);
    console.log(`chime: ${ding.toFixed(0)} Hz then ${dong.toFixed(0)} Hz; first 0.5 s RMS ${soxStats(r.path, [0, 0.5]).rms.toFixed(3)}`);
    expect(Math.abs(ding - CHIME_TONES_HZ[0]) / CHIME_TONES_HZ[0]).toBeLessThan(0.03);
    expect(Math.abs(dong - CHIME_TONES_HZ[1]) / CHIME_TONES_HZ[1]).toBeLessThan(0.03);
    expect(soxStats(r.path, [0, 0.5]).rms).toBeGreaterThan(RMS_FLOOR);
    // Speech follows the chime (espeak-ng is near full scale; the chime peaks at -6 dBFS).
    expect(soxStats(r.path, [CHIME_LENGTH_S + 0.4, 3]).rms).toBeGreaterThan(RMS_FLOOR);
    expect(soxStats(r.path, [CHIME_LENGTH_S + 0.4, 3]).maxAmplitude).toBeGreaterThan(0.7);
  });

  it('without English the broadcast is the Mandarin alone', async () => {
    const both = await renderBroadcast({ ...rain, repeat: 1 }, audio(), { path: out('both.wav') });
    const zhOnly = await renderBroadcast({ ...rain, repeat: 1 }, audio(), { path: out('zh.wav'), english: false });
    const en = espeakS(normaliseEn(rain.textEn), 'en');
    expect(both.durationS - zhOnly.durationS).toBeGreaterThan((en + PAUSE_BETWEEN_LANGUAGES_MS / 1000) * 0.8);
    expect(both.durationS - zhOnly.durationS).toBeLessThan((en + PAUSE_BETWEEN_LANGUAGES_MS / 1000) * 1.2);
  });

  it('Latin words inside Mandarin are spoken by the English voice, joined into one part', async () => {
    const r = await renderBroadcast({ textZh: '请到 Building B 集合', repeat: 1 }, audio(), { path: out('mixed.wav') });
    const parts = espeakS('请到', 'cmn-latn-pinyin') + espeakS('Building B', 'en') + espeakS('集合', 'cmn-latn-pinyin');
    const expected = CHIME_LENGTH_S + (PAUSE_AFTER_CHIME_MS + PAUSE_AT_END_MS) / 1000 + parts;
    expect(r.durationS).toBeGreaterThan(expected * 0.9);
    expect(r.durationS).toBeLessThan(expected * 1.1);
  });
});

describe('recorded announcements', () => {
  it('a WAV recording (44.1 kHz stereo, made here by sox) is played for its template, converted to the box format', async () => {
    const rec = out('evacuation.wav');
    execFileSync('sox', ['-n', '-r', '44100', '-c', '2', '-b', '16', rec, 'synth', '2.0', 'sine', '1000', 'gain', '-12']);
    const r = await renderBroadcast({ textZh: '请立即撤离。', repeat: 1, template: 'evacuation' }, audio({ folder: dir, recordings: { evacuation: 'evacuation.wav' } }), { path: out('evac-out.wav') });
    expect(r.fallbacks).toEqual([]);
    const expected = CHIME_LENGTH_S + (PAUSE_AFTER_CHIME_MS + PAUSE_AT_END_MS) / 1000 + 2.0;
    expect(r.durationS).toBeCloseTo(expected, 1);
    const at = CHIME_LENGTH_S + PAUSE_AFTER_CHIME_MS / 1000;
    expect(dominantHz(r.path, [at + 0.2, 1])).toBeGreaterThan(990);
    expect(dominantHz(r.path, [at + 0.2, 1])).toBeLessThan(1010);
    // Normalised to -3 dBFS whatever it was recorded at (-12 dBFS here).
    expect(soxStats(r.path, [at + 0.2, 1]).maxAmplitude).toBeGreaterThan(0.6);
    expect(soxStats(r.path, [at + 0.2, 1]).maxAmplitude).toBeLessThan(0.75);
  });

  it('the figures of the text follow the recording in TTS; a template without a recording is TTS', async () => {
    const rec = out('flood.wav');
    execFileSync('sox', ['-n', '-r', '22050', '-c', '1', '-b', '16', rec, 'synth', '1.5', 'sine', '800']);
    const site = audio({ folder: dir, recordings: { flood: 'flood.wav' } });
    const text = '洪水红色预警,河道水位 3.5 米。请立即撤离。';
    const r = await renderBroadcast({ textZh: text, repeat: 1, template: 'flood' }, site, { path: out('flood-out.wav') });
    const figures = espeakS(normaliseZh('河道水位 3.5 米'), 'cmn-latn-pinyin');
    const expected = CHIME_LENGTH_S + (PAUSE_AFTER_CHIME_MS + 200 + PAUSE_AT_END_MS) / 1000 + 1.5 + figures;
    expect(r.durationS).toBeGreaterThan(expected * 0.9);
    expect(r.durationS).toBeLessThan(expected * 1.1);
    const tts = await renderBroadcast({ textZh: text, repeat: 1, template: 'rainstorm' }, site, { path: out('no-rec.wav') });
    expect(tts.durationS).toBeCloseTo(CHIME_LENGTH_S + (PAUSE_AFTER_CHIME_MS + PAUSE_AT_END_MS) / 1000 + espeakS(normaliseZh(text), 'cmn-latn-pinyin'), 1);
  });

  it('an Opus recording (made here by opusenc) is decoded by opusdec', async () => {
    const wav = out('fire48.wav');
    execFileSync('sox', ['-n', '-r', '48000', '-c', '1', '-b', '16', wav, 'synth', '1.0', 'sine', '700']);
    execFileSync('opusenc', ['--quiet', wav, out('fire.opus')]);
    const r = await renderBroadcast({ textZh: '火警。', repeat: 1, template: 'fire' }, audio({ folder: dir, recordings: { fire: 'fire.opus' } }), { path: out('fire-out.wav') });
    expect(r.fallbacks).toEqual([]);
    expect(r.durationS).toBeCloseTo(CHIME_LENGTH_S + (PAUSE_AFTER_CHIME_MS + PAUSE_AT_END_MS) / 1000 + 1.0, 1);
    expect(Math.abs(dominantHz(r.path, [CHIME_LENGTH_S + 0.6, 0.5]) - 700)).toBeLessThan(15);
  });

  it('a missing or broken recording falls back to TTS of the text, and says so', async () => {
    const { writeFileSync } = await import('node:fs');
    writeFileSync(out('broken.wav'), 'RIFF nonsense');
    const site = audio({ folder: dir, recordings: { test: 'nowhere.wav', all_clear: 'broken.wav' } });
    const text = '预警设备例行测试,这不是警报。';
    const r = await renderBroadcast({ textZh: text, repeat: 1, template: 'test' }, site, { path: out('fallback.wav') });
    expect(r.fallbacks).toEqual([expect.objectContaining({ template: 'test', file: join(dir, 'nowhere.wav'), code: 'recording_failed' })]);
    expect(r.durationS).toBeCloseTo(CHIME_LENGTH_S + (PAUSE_AFTER_CHIME_MS + PAUSE_AT_END_MS) / 1000 + espeakS(normaliseZh(text), 'cmn-latn-pinyin'), 1);
    const b = await renderBroadcast({ textZh: text, repeat: 1, template: 'all_clear' }, site, { path: out('fallback2.wav') });
    expect(b.fallbacks).toEqual([expect.objectContaining({ template: 'all_clear', code: 'recording_failed' })]);
    expect(soxStats(b.path).rms).toBeGreaterThan(RMS_FLOOR);
  });
});

describe('TTS failures', () => {
  it('a voice that does not exist, a failing program, a missing program: tts_failed, no file', async () => {
    const b = { textZh: '测试', repeat: 1 };
    await expect(renderBroadcast(b, audio({ tts: { voice_zh: 'xx-nonexistent' } }), { path: out('bad1.wav') })).rejects.toMatchObject({ code: 'tts_failed', detail: { voice: 'xx-nonexistent', exit_code: 1 } });
    await expect(renderBroadcast(b, audio({ tts: { command: '/bin/false' } }), { path: out('bad2.wav') })).rejects.toMatchObject({ code: 'tts_failed', detail: { exit_code: 1 } });
    await expect(renderBroadcast(b, audio({ tts: { command: join(dir, 'no-such-espeak') } }), { path: out('bad3.wav') })).rejects.toMatchObject({ code: 'tts_failed', detail: { errno: 'ENOENT' } });
    // A program that succeeds but says nothing is no better.
    await expect(renderBroadcast(b, audio({ tts: { command: '/bin/true' } }), { path: out('bad4.wav') })).rejects.toMatchObject({ code: 'tts_failed' });
    const { existsSync } = await import('node:fs');
    expect([1, 2, 3, 4].some((i) => existsSync(out(`bad${i}.wav`)))).toBe(false);
  });
});
