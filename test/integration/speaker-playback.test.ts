/**
 * Playback to the sinks (drivers/speaker/playback.ts, sinks.ts) with real aplay and real files:
 * the demo's file-plus-monitor pair, a monitor that fails without failing the broadcast, a stop
 * that leaves the WAV holding what was heard, a part that cannot be made.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { chimePcm } from '../../drivers/speaker/chime.ts';
import { SpeakerError } from '../../drivers/speaker/errors.ts';
import { silence } from '../../drivers/speaker/pcm.ts';
import { Playback, type Writer } from '../../drivers/speaker/playback.ts';
import { AplayWriter, FileWriter, hasSoundCard } from '../../drivers/speaker/sinks.ts';
import { soxiLength, soxStats } from '../helpers/sox.ts';

const dir = mkdtempSync(join(tmpdir(), 'sb-playback-'));

describe('Playback', () => {
  it('a file and a monitor on ALSA null both get the whole broadcast, paced in real time', async () => {
    const file = new FileWriter(join(dir, 'both.wav'));
    await file.ready();
    const pb = new Playback([file, new AplayWriter('null', false)]);
    const t0 = performance.now();
    const r = await pb.play([Promise.resolve(chimePcm()), Promise.resolve(silence(400))]);
    expect(r).toEqual({ stopped: false, playedS: expect.closeTo(2.0, 2) });
    expect((performance.now() - t0) / 1000).toBeGreaterThan(1.9);
    expect(soxiLength(join(dir, 'both.wav'))).toBeCloseTo(2.0, 2);
  });

  it('a monitor that cannot play is noted, and the WAV goes on to the end', async () => {
    const notes: string[] = [];
    const file = new FileWriter(join(dir, 'monitor-fails.wav'));
    const pb = new Playback([file, new AplayWriter('nonexistent', false)], (w, err) => notes.push(`${w.name}: ${err.code}`));
    const r = await pb.play([Promise.resolve(chimePcm())]);
    expect(r.stopped).toBe(false);
    expect(notes).toEqual(['aplay -D nonexistent: playback_failed']);
    expect(soxiLength(join(dir, 'monitor-fails.wav'))).toBeCloseTo(1.6, 2);
  });

  it('a required aplay that cannot play fails the broadcast with its reason', async () => {
    const pb = new Playback([new AplayWriter('nonexistent')]);
    await expect(pb.play([Promise.resolve(chimePcm())])).rejects.toMatchObject({ code: 'playback_failed', detail: { device: 'nonexistent', exit_code: 1 } });
  });

  it('a missing aplay program is a playback failure too', async () => {
    const pb = new Playback([new AplayWriter('null', true, join(dir, 'no-aplay'))]);
    await expect(pb.play([Promise.resolve(chimePcm())])).rejects.toMatchObject({ code: 'playback_failed', detail: { errno: 'ENOENT' } });
  });

  it('a stop leaves the WAV holding what was heard, with correct sizes', async () => {
    const path = join(dir, 'stopped.wav');
    const pb = new Playback([new FileWriter(path)]);
    const playing = pb.play([Promise.resolve(chimePcm()), Promise.resolve(silence(5000))]);
    await pb.started();
    await new Promise((r) => setTimeout(r, 1200));
    await pb.stop();
    expect(await playing).toMatchObject({ stopped: true });
    const heard = soxiLength(path);
    expect(heard).toBeGreaterThan(1.1);
    expect(heard).toBeLessThan(2.5);
    expect(soxStats(path).lengthS).toBeCloseTo(heard, 3);
  });

  it('a part that cannot be made stops what was playing and rejects with its error', async () => {
    const path = join(dir, 'tts-failed.wav');
    const failing = new Promise<Buffer>((_, reject) => setTimeout(() => reject(new SpeakerError('tts_failed', 'no voice')), 200));
    const pb = new Playback([new FileWriter(path)]);
    await expect(pb.play([Promise.resolve(chimePcm()), failing, Promise.resolve(silence(100))])).rejects.toMatchObject({ code: 'tts_failed' });
    // What was heard of the chime stays in the file.
    expect(soxiLength(path)).toBeLessThan(1.6);
  });

  it('a writer whose finish hangs is a playback_overrun', async () => {
    const hung: Writer = { name: 'hung', required: true, write: async () => undefined, finish: () => new Promise(() => undefined), abort: async () => undefined, onFail: () => undefined };
    const pb = new Playback([hung]);
    await expect(pb.play([Promise.resolve(silence(100))])).rejects.toMatchObject({ code: 'playback_overrun' });
  }, 15_000);
});

describe('hasSoundCard', () => {
  it('reads ALSA’s card list', () => {
    const none = join(dir, 'cards-none');
    writeFileSync(none, '--- no soundcards ---\n');
    const one = join(dir, 'cards-one');
    writeFileSync(one, ' 0 [PCH            ]: HDA-Intel - HDA Intel PCH\n                      HDA Intel PCH at 0xf7f10000 irq 32\n');
    expect(hasSoundCard(none)).toBe(false);
    expect(hasSoundCard(one)).toBe(true);
    expect(hasSoundCard(join(dir, 'no-such-file'))).toBe(false);
  });
});
