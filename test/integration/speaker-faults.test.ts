/**
 * Speakers that cannot play are faults officers see (GET /api/state `last_fault`, a `fault`
 * event in the log), and a red alarm's siren sounds all the same: an ALSA device that does not
 * exist (aplay -D nonexistent), text-to-speech that fails (a voice espeak-ng does not have), an
 * MQTT speaker that never reports done.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSpeakerRig, type SpeakerRig } from '../helpers/speaker-rig.ts';
import { until } from '../helpers/until.ts';

const sirenSounded = (rig: SpeakerRig): boolean => rig.relay.coilWrites().some((w) => w.source === 'master' && w.action === 'flash_on');
const faultEvents = (rig: SpeakerRig, actuator: string) => rig.box.store.since(0).filter((e) => e.type === 'fault' && (e.payload as { actuator?: string }).actuator === actuator);
/** Like `until`, for a check that must ask over HTTP. */
async function eventually<T>(what: string, get: () => Promise<T | null | undefined | false>, ms = 20_000, everyMs = 100): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await get();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
const actuator = async (rig: SpeakerRig, id: string): Promise<any> => (await rig.state()).actuators.find((a: any) => a.id === id);

describe('an ALSA device that does not exist, and an MQTT speaker that never reports done', () => {
  let rig: SpeakerRig;
  beforeAll(async () => {
    rig = await startSpeakerRig(
      `  - { id: spk1, kind: speaker, name: 村广播, zones: [site], audio: { sink: alsa, device: nonexistent } }
  - { id: spk2, kind: speaker, name: 河边广播, zones: [site] }`,
      'actions: { broadcast_max_s: 10 }',
    );
  });
  afterAll(async () => rig?.stop());

  it('a red alarm: the siren sounds, the local speaker reports its aplay failure, the MQTT one a missing done', async () => {
    rig.level.set('level', 3.2);
    const b = await until('the alarm broadcast on spk1', () => rig.effects.find((x) => x.e.type === 'broadcast' && x.e.actuator === 'spk1'));
    const activity = (b.e as { activity: string }).activity;
    await until('the siren sounding', () => sirenSounded(rig));
    const failed = await until('spk1 failed', () => rig.activities.find((a) => a.activity === activity && a.event === 'failed'));
    expect(failed.error).toMatchObject({ code: 'playback_failed', detail: { device: 'nonexistent', exit_code: 1 } });
    const spk1 = await eventually('spk1 fault in /api/state', async () => {
      const a = await actuator(rig, 'spk1');
      return a.last_fault ? a : null;
    });
    expect(spk1.last_fault).toMatchObject({ reason: 'playback_failed', activity, detail: { device: 'nonexistent', stderr: expect.stringContaining('nonexistent') } });
    // The fault ended the broadcast: the planner's channel for spk1 is free again.
    expect(spk1.doing).toEqual([]);
    const ev = faultEvents(rig, 'spk1');
    expect(ev).toHaveLength(1);
    expect(ev[0]!.payload).toMatchObject({ actuator: 'spk1', actuator_kind: 'speaker', reason: 'playback_failed', activity, text_zh: expect.stringContaining('村广播'), text_en: expect.stringContaining('spk1') });
    // spk2 (MQTT, nobody there) is given min(broadcast_max_s, 2 × expected + 15 s) = 10 s.
    const spk2 = await eventually(
      'spk2 no_done fault',
      async () => {
        const a = await actuator(rig, 'spk2');
        return a.last_fault ? a : null;
      },
      30_000,
      250,
    );
    expect(spk2.last_fault).toMatchObject({ reason: 'no_done', detail: { after_s: 10 } });
    expect(faultEvents(rig, 'spk2')[0]!.payload).toMatchObject({ reason: 'no_done', text_en: 'Speaker spk2 fault: no_done; this broadcast was not heard' });
    // Still the alarm: the siren's pattern runs on.
    expect((await rig.state()).alerts).toEqual([expect.objectContaining({ level: 'red' })]);
  }, 60_000);
});

describe('text-to-speech that fails', () => {
  let rig: SpeakerRig;
  beforeAll(async () => {
    rig = await startSpeakerRig(
      `  - { id: spk1, kind: speaker, name: 村广播, zones: [site], audio: { sink: file, folder: '\${folder}', amp: { bus: net1, unit: 1, profile: waveshare-modbus-rtu-relay, coil: 1 } } }`,
      'audio: { tts: { voice_zh: xx-nonexistent } }',
    );
  });
  afterAll(async () => rig?.stop());

  it('a red alarm: the siren sounds, the broadcast is a tts_failed fault, the amplifier goes off again', async () => {
    rig.level.set('level', 3.2);
    const b = await until('the alarm broadcast', () => rig.effects.find((x) => x.e.type === 'broadcast' && x.e.actuator === 'spk1'));
    const activity = (b.e as { activity: string }).activity;
    await until('the siren sounding', () => sirenSounded(rig));
    const failed = await until('spk1 failed', () => rig.activities.find((a) => a.activity === activity && a.event === 'failed'));
    expect(failed.error).toMatchObject({ code: 'tts_failed', detail: { voice: 'xx-nonexistent' } });
    const spk1 = await actuator(rig, 'spk1');
    expect(spk1.last_fault).toMatchObject({ reason: 'tts_failed', activity, detail: { voice: 'xx-nonexistent', stderr: expect.stringContaining('voice does not exist') } });
    expect(faultEvents(rig, 'spk1').map((e) => (e.payload as { reason: string }).reason)).toEqual(['tts_failed']);
    await until('the amplifier off', () => rig.relay.cell('coil', 1) === 0, 5000);
    expect(sirenSounded(rig)).toBe(true);
  }, 60_000);
});
