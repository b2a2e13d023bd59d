/**
 * The self-tests in the running box, on real timers, with the simulated MQTT devices: the
 * speaker (an IP speaker here: it fetches the test's audio) and the siren pass; a speaker that
 * is not there fails, and its fault is on the retained alert topic with the reason. The tests
 * are fired as their cron would (`fire`); the cron itself is tested on fake timers
 * (self-tests.test.ts, selftest-cron.test.ts).
 */
import type { MqttClient } from 'mqtt';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ActuatorSim } from '../../simulators/devices/actuator-sim.ts';
import { startBoxRig, type BoxRig } from '../helpers/box-rig.ts';
import { pw } from '../helpers/box-site.ts';
import { until } from '../helpers/until.ts';

const T = 'sb/v1/itest';
const silent = pino({ level: 'silent' });
const selftests = (rig: BoxRig): any[] => rig.box.store.since(0).filter((e) => e.type === 'selftest').map((e) => e.payload);
const outcome = (rig: BoxRig, test: string, o: string) => selftests(rig).find((p) => p.test === test && p.outcome === o);

describe('self-tests in the box', () => {
  let rig: BoxRig;
  let spk: ActuatorSim;
  let siren: ActuatorSim;
  let wang: MqttClient;
  const retained = new Map<string, string>();

  beforeAll(async () => {
    rig = await startBoxRig('ip_speakers: { host: 127.0.0.1, port: 0 }\nself_tests: { done_within_s: 5 }');
    spk = new ActuatorSim({ url: rig.url, site: 'itest', id: 'spk1', password: pw('spk1'), log: silent }, 'speaker', 5);
    siren = new ActuatorSim({ url: rig.url, site: 'itest', id: 'siren1', password: pw('siren1'), log: silent }, 'siren');
    await Promise.all([spk.start(), siren.start()]);
    wang = await rig.connect('wang');
    wang.on('message', (topic, payload) => retained.set(topic, payload.toString()));
    await wang.subscribeAsync(`${T}/alert/#`, { qos: 1 });
  });

  afterAll(async () => {
    await Promise.all([spk?.stop(), siren?.stop()]);
    await rig?.stop();
  });

  it('the weekly speaker test: the IP speaker fetches the test audio, plays it, reports done: passed', async () => {
    rig.box.selfTests.fire('speaker_weekly', 'regular');
    const passed = await until('the speaker test passed', () => outcome(rig, 'speaker_weekly', 'passed'), 30_000);
    expect(passed.actuators).toEqual([expect.objectContaining({ actuator: 'spk1', status: 'passed' })]);
    expect(spk.fetched).toEqual([expect.objectContaining({ status: 200, activity: passed.actuators[0].activity })]);
    expect(spk.received.find((r) => r.command.type === 'broadcast')!.command).toMatchObject({ priority: 'test', by: 'schedule:speaker_weekly', text_zh: '测试村预警设备例行测试,这不是警报。' });
  });

  it('the monthly growl: the MQTT siren says it is sounding the test pattern: passed', async () => {
    rig.box.selfTests.fire('siren_monthly', 'regular');
    const passed = await until('the siren test passed', () => outcome(rig, 'siren_monthly', 'passed'), 30_000);
    expect(passed.actuators).toEqual([expect.objectContaining({ actuator: 'siren1', status: 'passed' })]);
    expect(siren.received.find((r) => r.command.type === 'siren')!.command).toMatchObject({ pattern: 'test', steps: [3], priority: 'test' });
  });

  it('a speaker that is not there: failed, and its fault alert is retained on alert/spk1/selftest with the reason', async () => {
    await spk.stop();
    rig.box.selfTests.fire('speaker_weekly', 'regular');
    const failed = await until('the speaker test failed', () => outcome(rig, 'speaker_weekly', 'failed'), 30_000);
    expect(failed.actuators).toEqual([expect.objectContaining({ actuator: 'spk1', status: 'failed', reason: 'no_done' })]);
    const state = JSON.parse(await until('the retained fault', () => retained.get(`${T}/alert/spk1/selftest`), 10_000));
    expect(state).toMatchObject({ transition: 'raised', kind: 'fault', level: 'info', rule: 'speaker_weekly', values: { reason: 'no_done' }, state: 'active' });
    expect(state.text_zh).toMatch(/^故障:广播 spk1 例行自检未通过:发出测试广播后 \d+ 秒内未报告播放完成/);
  });
});
