/**
 * The running box end to end with real parts: Aedes on a loopback port, a real SQLite file,
 * mqtt.js clients as devices and officers.
 */
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Box } from '../../gateway/box.ts';
import { startBoxRig, type BoxRig } from '../helpers/box-rig.ts';

let rig: BoxRig;
let box: Box;
const connect = (user: string): Promise<MqttClient> => rig.connect(user);

/** Resolves with the first message on `topic` (JSON) that satisfies `pred`. */
function next(c: MqttClient, topic: string, pred: (m: any) => boolean = () => true, ms = 10_000): Promise<any> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no message on ${topic} in ${ms} ms`)), ms);
    const on = (tp: string, payload: Buffer): void => {
      if (tp !== topic) return;
      const m = JSON.parse(payload.toString());
      if (!pred(m)) return;
      clearTimeout(t);
      c.off('message', on);
      resolve(m);
    };
    c.on('message', on);
  });
}

beforeAll(async () => {
  rig = await startBoxRig();
  box = rig.box;
});

afterAll(async () => rig?.stop());

describe('the running box', () => {
  it('a reading over MQTT becomes an alert, a logged event and a siren command to the relay', async () => {
    const siren = await connect('siren1');
    await siren.subscribeAsync('sb/v1/itest/cmd/siren1', { qos: 1 });
    const officer = await connect('wang');
    await officer.subscribeAsync(['sb/v1/itest/alert/#', 'sb/v1/itest/event'], { qos: 1 });
    const gotSiren = next(siren, 'sb/v1/itest/cmd/siren1', (m) => m.type === 'siren');
    const gotAlert = next(officer, 'sb/v1/itest/alert/wl1/stage', (m) => m.state === 'active');
    const gotEvent = next(officer, 'sb/v1/itest/event', (m) => m.type === 'transition');
    const wl = await connect('wl1');
    await wl.publishAsync('sb/v1/itest/sensor/wl1/reading', JSON.stringify({ value: 3.2, unit: 'm' }), { qos: 1 });
    const cmd = await gotSiren;
    expect(cmd).toMatchObject({ type: 'siren', zone: 'site', priority: 'alarm', pattern: 'air_raid_pre_alert', by: 'engine' });
    const alert = await gotAlert;
    expect(alert).toMatchObject({ level: 'orange', rule: 'stage_guaranteed', transition: 'raised', state: 'active' });
    expect(alert.text_zh).toContain('超过保证水位');
    const ev = await gotEvent;
    expect(ev.seq).toBeGreaterThan(0);
    expect(ev.payload).toMatchObject({ transition: 'raised', level: 'orange' });
    // The log has it, durably, before anyone acted on it.
    const logged = box.store.since(0).filter((e) => e.type === 'transition');
    expect(logged.at(-1)!.payload).toMatchObject({ alert: alert.alert });
  });

  it('the box status is retained for late subscribers', async () => {
    const viewer = await connect('viewer');
    const status = next(viewer, 'sb/v1/itest/status');
    await viewer.subscribeAsync('sb/v1/itest/status', { qos: 1 });
    expect(await status).toMatchObject({ state: 'online', problems: [] });
  });

  it('an officer silences the sirens: the relay is told, and the command is on record with who', async () => {
    const siren = await connect('siren1');
    await siren.subscribeAsync('sb/v1/itest/cmd/siren1', { qos: 1 });
    const sm1 = await connect('sm1');
    const sm2 = await connect('sm2');
    const fire = next(siren, 'sb/v1/itest/cmd/siren1', (m) => m.type === 'siren' && m.pattern === 'fire_alarm');
    await sm1.publishAsync('sb/v1/itest/sensor/sm1/reading', JSON.stringify({ value: 'alarm' }), { qos: 1 });
    await sm2.publishAsync('sb/v1/itest/sensor/sm2/reading', JSON.stringify({ value: 'alarm' }), { qos: 1 });
    expect(await fire).toMatchObject({ zone: 'b3', priority: 'alarm' });
    const off = next(siren, 'sb/v1/itest/cmd/siren1', (m) => m.type === 'siren_off' && m.reason === 'silenced');
    const officer = await connect('wang');
    await officer.publishAsync('sb/v1/itest/cmd/box', JSON.stringify({ type: 'silence' }), { qos: 1 });
    expect(await off).toMatchObject({ by: 'wang' });
    const cmd = box.store.since(0).filter((e) => e.type === 'command').at(-1)!;
    expect(cmd.payload).toMatchObject({ by: 'wang', role: 'officer', command: { type: 'silence' } });
  });

  it('a speaker that reports done frees its zone for the next broadcast', async () => {
    const spk = await connect('spk1');
    await spk.subscribeAsync('sb/v1/itest/cmd/spk1', { qos: 1 });
    const officer = await connect('wang');
    // Clear the site's speakers (the orange water alarm still holds them), as an officer would.
    await officer.publishAsync('sb/v1/itest/cmd/box', JSON.stringify({ type: 'stop', zones: ['site'] }), { qos: 1 });
    const first = next(spk, 'sb/v1/itest/cmd/spk1', (m) => m.type === 'broadcast' && m.text_zh === '第一条');
    await officer.publishAsync('sb/v1/itest/cmd/box', JSON.stringify({ type: 'broadcast', emergency: true, textZh: '第一条', zones: ['site'] }), { qos: 1 });
    const f = await first;
    expect(f).toMatchObject({ priority: 'emergency', by: 'wang', source: 'officer' });
    let early = false;
    const second = next(spk, 'sb/v1/itest/cmd/spk1', (m) => m.type === 'broadcast' && m.text_zh === '第二条').then((m) => {
      early = !reported;
      return m;
    });
    let reported = false;
    await officer.publishAsync('sb/v1/itest/cmd/box', JSON.stringify({ type: 'broadcast', emergency: true, textZh: '第二条', zones: ['site'] }), { qos: 1 });
    await new Promise((r) => setTimeout(r, 300));
    reported = true;
    await spk.publishAsync('sb/v1/itest/actuator/spk1/report', JSON.stringify({ report: 'done', activity: f.activity, zone: f.zone }), { qos: 1 });
    expect(await second).toMatchObject({ zone: 'site', by: 'wang' });
    expect(early).toBe(false); // it waited for the first to finish
  });
});
