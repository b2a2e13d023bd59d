/**
 * A speaker the box plays itself, end to end: an officer's broadcast and a red alarm's, rendered
 * with espeak-ng, written by the file sink in real time, the amplifier relay (coil 1 of a
 * simulated Waveshare board on Modbus TCP) on while it plays and off after, `done` freeing the
 * speaker in the planner; a template's recording (made here with sox) played in its place; a
 * drill broadcast pre-empted by a red alarm's (timing printed).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHIME_TONES_HZ } from '../../drivers/speaker/chime.ts';
import type { SpeakerActivity } from '../../drivers/speaker/local-speakers.ts';
import { dominantHz, soxStats } from '../helpers/sox.ts';
import { startSpeakerRig, type SpeakerRig } from '../helpers/speaker-rig.ts';
import { until } from '../helpers/until.ts';

let rig: SpeakerRig;
const amp = (): number | undefined => rig.relay.cell('coil', 1);
const find = (activity: string, event: SpeakerActivity['event']): SpeakerActivity | undefined => rig.activities.find((a) => a.activity === activity && a.event === event);

beforeAll(async () => {
  rig = await startSpeakerRig(
    `  - { id: spk1, kind: speaker, name: 村广播, zones: [site], audio: { sink: file, folder: '\${folder}', keep: 2, amp: { bus: net1, unit: 1, profile: waveshare-modbus-rtu-relay, coil: 1 } } }`,
    "broadcasts: { templates: { evacuation: { audio: evacuation-zh.wav } } }\naudio: { folder: '${dir}' }",
    // The site's recorded 紧急撤离 announcement, made here: 2 s of a 1 kHz tone, 44.1 kHz stereo.
    (dir) => execFileSync('sox', ['-n', '-r', '44100', '-c', '2', '-b', '16', join(dir, 'evacuation-zh.wav'), 'synth', '2.0', 'sine', '1000']),
  );
});

afterAll(async () => {
  await rig?.stop();
});

describe('a local speaker on the file sink', () => {
  it("plays an officer's broadcast in real time with its amplifier on, then reports done and switches the amplifier off", async () => {
    expect(amp() ?? 0).toBe(0);
    const r = await rig.command({ type: 'broadcast', text_zh: '请注意:3号楼 14:05 停水,预计 2 小时。', text_en: 'Notice: no water in Building 3 from 14:05 for 2 h.', repeat: 1 });
    expect(r.status).toBe(200);
    const effect = await until('the broadcast effect', () => rig.effects.find((x) => x.e.type === 'broadcast' && x.e.actuator === 'spk1'));
    const activity = (effect.e as { activity: string }).activity;
    const started = await until('the speaker started', () => find(activity, 'started'));
    // The amplifier was switched on before the chime, and stays on while it plays.
    expect(amp()).toBe(1);
    const busy = await rig.state();
    expect(busy.actuators.find((a: any) => a.id === 'spk1').doing).toEqual([expect.objectContaining({ activity, kind: 'speaker', by: 'wang' })]);
    const done = await until('the speaker done', () => find(activity, 'done'), 60_000);
    expect(amp()).toBe(1); // at the last word; off a moment after (AMP_HOLD_MS)
    await until('the amplifier off', () => amp() === 0, 5000);
    const stats = soxStats(done.path!);
    console.log(`officer broadcast: ${done.path}: ${stats.lengthS.toFixed(2)} s, RMS ${stats.rms.toFixed(3)}; heard for ${((done.at - started.at) / 1000).toFixed(2)} s; started ${(started.at - effect.at).toFixed(1)} ms after its effect`);
    // Paced like a loudspeaker: done no sooner than the sound could have been heard.
    expect((done.at - started.at) / 1000).toBeGreaterThan(stats.lengthS * 0.9);
    expect(stats.lengthS).toBeGreaterThan(8);
    expect(stats.rms).toBeGreaterThan(0.02);
    expect(Math.abs(dominantHz(done.path!, [0, 0.5]) - CHIME_TONES_HZ[0])).toBeLessThan(20);
    // The relay saw on, then off, for the amplifier's coil; the siren's coil was never touched.
    const ampWrites = rig.relay.coilWrites().filter((w) => w.source === 'master' && w.address === 1);
    expect(ampWrites[0]!.value).toBe(true);
    expect(ampWrites.at(-1)!.value).toBe(false);
    expect(rig.relay.coilWrites().some((w) => w.address === 0 || w.address === 0x0200)).toBe(false);
    // Done freed the speaker; the panel shows the report with the file.
    const st = await rig.state();
    const spk = st.actuators.find((a: any) => a.id === 'spk1');
    expect(spk.doing).toEqual([]);
    expect(spk.last_report).toMatchObject({ report: 'done', activity, detail: { path: done.path } });
    expect(spk.last_fault).toBeNull();
  }, 90_000);

  it("an officer's broadcast of a template with a recording plays the recording, then the English in TTS", async () => {
    const from = rig.effects.length;
    expect((await rig.command({ type: 'broadcast', template: 'evacuation', repeat: 1 })).status).toBe(200);
    const effect = await until('the template broadcast', () => rig.effects.slice(from).find((x) => x.e.type === 'broadcast'));
    expect(effect.e).toMatchObject({ template: 'evacuation' });
    const activity = (effect.e as { activity: string }).activity;
    const done = await until('it done', () => find(activity, 'done'), 60_000);
    // After the chime and its pause: the recording's 1 kHz, converted to the box's format.
    expect(Math.abs(dominantHz(done.path!, [2.2, 1.5]) - 1000)).toBeLessThan(10);
    const stats = soxStats(done.path!);
    console.log(`template broadcast with its recording: ${stats.lengthS.toFixed(2)} s, RMS ${stats.rms.toFixed(3)}`);
    expect(stats.lengthS).toBeGreaterThan(1.6 + 0.4 + 2.0 + 0.7 + 2);
    expect((await rig.state()).actuators.find((a: any) => a.id === 'spk1').last_fault).toBeNull();
  }, 90_000);

  it("a drill broadcast is replaced by a red alarm's broadcast: the old one stops, the new one starts (timing printed)", async () => {
    expect((await rig.command({ type: 'drill', kind: 'water_level', level: 'red' })).status).toBe(200);
    const drill = await until('the drill broadcast', () => rig.effects.find((x) => x.e.type === 'broadcast' && x.e.drill));
    const drillActivity = (drill.e as { activity: string }).activity;
    await until('the drill playing', () => find(drillActivity, 'started'));
    // Let the drill be heard for a moment, then the river goes over its historical maximum: red.
    await new Promise((r) => setTimeout(r, 1500));
    const ampOffsBefore = rig.relay.coilWrites().filter((w) => w.address === 1 && w.value === false).length;
    rig.level.set('level', 3.2);
    const stop = await until('the drill broadcast stopped', () => rig.effects.find((x) => x.e.type === 'broadcast_stop' && x.e.activity === drillActivity), 20_000);
    expect(stop.e).toMatchObject({ reason: 'preempted' });
    const alarm = await until('the alarm broadcast', () => rig.effects.find((x) => x.e.type === 'broadcast' && x.e.priority === 'alarm'));
    const alarmActivity = (alarm.e as { activity: string }).activity;
    const stopped = await until('the drill sound stopped', () => find(drillActivity, 'stopped'));
    const started = await until('the alarm sound started', () => find(alarmActivity, 'started'));
    const stopMs = stopped.at - stop.at;
    const startMs = started.at - stop.at;
    console.log(`pre-emption: drill ${drillActivity} stopped ${stopMs.toFixed(1)} ms and red alarm ${alarmActivity} started ${startMs.toFixed(1)} ms after the planner's broadcast_stop (target 200 ms)`);
    expect(find(drillActivity, 'done')).toBeUndefined();
    // The drill's WAV holds what was heard up to the stop; the alarm's starts with the chime.
    const drillWav = soxStats(stopped.path!);
    expect(drillWav.lengthS).toBeGreaterThan(1);
    expect(drillWav.lengthS).toBeLessThan(10);
    await until('a second of the alarm', () => performance.now() - started.at > 1200);
    expect(existsSync(started.path!)).toBe(true);
    expect(Math.abs(dominantHz(started.path!, [0, 0.5]) - CHIME_TONES_HZ[0])).toBeLessThan(20);
    // The amplifier stayed on from one to the other: no off write in between.
    expect(rig.relay.coilWrites().filter((w) => w.address === 1 && w.value === false).length).toBe(ampOffsBefore);
    expect(amp()).toBe(1);
    // The red alarm sounds the siren too (relay 1, timed flash-on writes).
    await until('the siren flashing', () => rig.relay.coilWrites().some((w) => w.source === 'master' && w.action === 'flash_on'));
  }, 90_000);

  it('keeps only the newest `keep` WAVs (2 here): the older ones went as new ones were made', async () => {
    const files = await until('the folder pruned', () => {
      const f = readdirSync(rig.folder).sort();
      return f.length === 2 && f;
    });
    expect(files.map((f) => f.replace(/^\d{8}-\d{6}\.\d{3}-/, ''))).toEqual(['spk1-act-3.wav', 'spk1-act-4.wav']);
  });
});
