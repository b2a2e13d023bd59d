/**
 * The ALSA sink with a real aplay: ALSA's `null` device (no sound card needed) takes the sound
 * as fast as it comes, so the box's own pacing is what keeps aplay alive for the length of the
 * broadcast; an officer's stop kills it at once, and a broadcast heard to its end exits aplay
 * cleanly and reports done.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SpeakerActivity } from '../../drivers/speaker/local-speakers.ts';
import { startSpeakerRig, type SpeakerRig } from '../helpers/speaker-rig.ts';
import { until } from '../helpers/until.ts';

let rig: SpeakerRig;
const find = (activity: string, event: SpeakerActivity['event']): SpeakerActivity | undefined => rig.activities.find((a) => a.activity === activity && a.event === event);
const broadcastOf = (n: number) => rig.effects.filter((x) => x.e.type === 'broadcast')[n];

beforeAll(async () => {
  rig = await startSpeakerRig(`  - { id: spk1, kind: speaker, zones: [site], audio: { sink: alsa, device: 'null', english: false } }`);
});
afterAll(async () => rig?.stop());

describe('aplay on ALSA null', () => {
  it("an officer's stop kills aplay mid-broadcast; the next broadcast plays to its end", async () => {
    expect((await rig.command({ type: 'broadcast', text_zh: '请注意,这是一条较长的测试广播,将在中途被停止。', repeat: 3 })).status).toBe(200);
    const first = await until('the first broadcast', () => broadcastOf(0));
    const a1 = (first.e as { activity: string }).activity;
    await until('it playing', () => find(a1, 'started'));
    await new Promise((r) => setTimeout(r, 1000));
    expect(find(a1, 'done')).toBeUndefined();
    expect((await rig.command({ type: 'stop' })).status).toBe(200);
    const stop = await until('the stop effect', () => rig.effects.find((x) => x.e.type === 'broadcast_stop' && x.e.activity === a1));
    const stopped = await until('aplay killed', () => find(a1, 'stopped'));
    console.log(`officer stop: aplay -D null killed ${(stopped.at - stop.at).toFixed(1)} ms after broadcast_stop`);
    expect(find(a1, 'failed')).toBeUndefined();
    expect((await rig.command({ type: 'broadcast', text_zh: '测试结束。', repeat: 1 })).status).toBe(200);
    const second = await until('the second broadcast', () => broadcastOf(1));
    const a2 = (second.e as { activity: string }).activity;
    const started = await until('it playing', () => find(a2, 'started'));
    const done = await until('it done', () => find(a2, 'done'), 30_000);
    // Chime, pauses and about a second of speech, paced: aplay lived that long.
    expect((done.at - started.at) / 1000).toBeGreaterThan(2.5);
    const st = await rig.state();
    expect(st.actuators.find((a: any) => a.id === 'spk1')).toMatchObject({ doing: [], last_report: { report: 'done', activity: a2 }, last_fault: null });
  }, 60_000);
});
