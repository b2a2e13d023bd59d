import { describe, expect, it } from 'vitest';
import { activeAlerts } from '../../gateway/engine/evaluate.ts';
import { EngineRig, MIN, T0, site } from '../helpers/site.ts';

const cfg = site(`
site: { id: t, name: 测试村 }
zones: [{ id: b3, name: 3号楼 }, { id: b4, name: 4号楼 }]
sensors:
  - { id: sm1, kind: smoke, zone: b3 }
  - { id: sm2, kind: smoke, zone: b3 }
  - { id: sm3, kind: smoke, zone: b4 }
  - { id: sa1, kind: smoke, zone: b4, mode: analog, alarm_db_m: 0.2 }
`);
const S = 1000;
const [NORMAL, ALARM, DIRTY, REMOVED, LOW_BATTERY, TAMPER] = [0, 1, 2, 3, 4, 5];

describe('smoke: confirmation', () => {
  it('one alarm sample is a yellow pre-alarm for a person to check', () => {
    const rig = new EngineRig(cfg);
    rig.read('sm1', ALARM, T0);
    const t = rig.of('b3/fire');
    expect(t.map((x) => `${x.transition}:${x.level}:${x.rule}`)).toEqual(['raised:yellow:smoke_pre_alarm']);
    expect(t[0]!.textZh).toContain('尚未确认');
    expect(t[0]!.textEn).toContain('send someone to check');
  });

  it('a second consecutive alarm sample confirms the fire (red)', () => {
    const rig = new EngineRig(cfg);
    rig.read('sm1', ALARM, T0);
    rig.read('sm1', ALARM, T0 + 30 * S);
    const t = rig.of('b3/fire');
    expect(t.map((x) => `${x.transition}:${x.level}:${x.rule}`)).toEqual(['raised:yellow:smoke_pre_alarm', 'escalated:red:smoke_two_samples']);
    expect(t[1]!.textZh).toContain('火警已确认');
  });

  it('a second detector in the same zone confirms it', () => {
    const rig = new EngineRig(cfg);
    rig.read('sm1', ALARM, T0);
    rig.read('sm2', ALARM, T0 + 20 * S);
    expect(rig.of('b3/fire').at(-1)!.rule).toBe('smoke_two_detectors');
    expect(rig.of('b3/fire').at(-1)!.values.detectors).toBe('sm1、sm2');
  });

  it('detectors in different zones do not confirm each other', () => {
    const rig = new EngineRig(cfg);
    rig.read('sm1', ALARM, T0);
    rig.read('sm3', ALARM, T0 + 10 * S);
    expect(rig.transitions.map((x) => `${x.zone}:${x.level}`)).toEqual(['b3:yellow', 'b4:yellow']);
  });

  it('a second detector long after the first (beyond confirm_s) does not confirm by itself', () => {
    const rig = new EngineRig(cfg);
    rig.read('sm1', ALARM, T0);
    rig.read('sm2', ALARM, T0 + 5 * MIN);
    expect(rig.of('b3/fire').map((x) => x.level)).toEqual(['yellow']);
  });

  it('an alarm that goes away unconfirmed clears after the clear time', () => {
    const rig = new EngineRig(cfg);
    rig.read('sm1', ALARM, T0);
    for (let s = 30; s <= 300; s += 30) rig.read('sm1', NORMAL, T0 + s * S);
    const t = rig.of('b3/fire');
    expect(t.map((x) => x.transition)).toEqual(['raised', 'cleared']);
    expect(t[1]!.at).toBe(T0 + 150 * S); // normal from 30 s, held 120 s
  });

  it('a confirmed fire holds red while any detector still alarms', () => {
    const rig = new EngineRig(cfg);
    rig.read('sm1', ALARM, T0);
    rig.read('sm1', ALARM, T0 + 30 * S);
    for (let s = 60; s <= 600; s += 30) rig.read('sm1', s % 60 === 0 ? NORMAL : ALARM, T0 + s * S);
    expect(rig.of('b3/fire').map((x) => x.level)).toEqual(['yellow', 'red']);
  });

  it('analog detectors alarm at their dB/m threshold', () => {
    const rig = new EngineRig(cfg);
    rig.read('sa1', 0.19, T0);
    expect(rig.transitions).toEqual([]);
    rig.read('sa1', 0.2, T0 + 10 * S);
    rig.read('sa1', 0.25, T0 + 20 * S);
    expect(rig.of('b4/fire').map((x) => x.level)).toEqual(['yellow', 'red']);
  });
});

describe('smoke: faults are faults, never fires', () => {
  for (const [state, name, zh] of [
    [DIRTY, 'dirty', '脏污'],
    [REMOVED, 'removed', '拆除'],
    [LOW_BATTERY, 'low_battery', '电池'],
    [TAMPER, 'tamper', '防拆'],
  ] as const) {
    it(`${name} raises a fault for the detector and no fire`, () => {
      const rig = new EngineRig(cfg);
      rig.read('sm1', state, T0);
      rig.read('sm1', state, T0 + 30 * S);
      expect(rig.of('b3/fire')).toEqual([]);
      const f = rig.of('sm1/fault');
      expect(f.map((x) => `${x.transition}:${x.kind}:${x.rule}`)).toEqual([`raised:fault:smoke_${name}`]);
      expect(f[0]!.textZh).toContain(zh);
      rig.read('sm1', NORMAL, T0 + 60 * S);
      expect(rig.of('sm1/fault').at(-1)!.transition).toBe('cleared');
    });
  }

  it('an unknown state code is a read error, not a fire', () => {
    const rig = new EngineRig(cfg);
    for (let i = 0; i < 20; i++) rig.read('sm1', 9, T0 + i * 30 * S);
    expect(rig.of('b3/fire')).toEqual([]);
    expect(rig.of('sm1/errors').map((x) => x.rule)).toEqual(['error_rate']);
  });
});

describe('health', () => {
  it('a sensor silent for 5 intervals is stale; its next reading clears it', () => {
    const rig = new EngineRig(cfg);
    rig.read('sm1', NORMAL, T0);
    rig.tick(T0 + 150 * S); // 5 × 30 s: not yet
    expect(rig.of('sm1/stale')).toEqual([]);
    rig.tick(T0 + 151 * S);
    expect(rig.of('sm1/stale').map((x) => x.transition)).toEqual(['raised']);
    expect(rig.of('sm1/stale')[0]!.textZh).toContain('无数据');
    rig.tick(T0 + 200 * S);
    expect(rig.of('sm1/stale')).toHaveLength(1);
    rig.read('sm1', NORMAL, T0 + 210 * S);
    expect(rig.of('sm1/stale').map((x) => x.transition)).toEqual(['raised', 'cleared']);
  });

  it('a sensor that never reported goes stale from the engine start', () => {
    const rig = new EngineRig(cfg);
    rig.tick(T0 + 151 * S);
    expect(rig.transitions.filter((t) => t.rule === 'stale').map((t) => t.sensors[0])).toEqual(['sm1', 'sm2', 'sm3', 'sa1']);
  });

  it('half of the last 20 reads failing is a fault; it clears below a quarter', () => {
    const rig = new EngineRig(cfg);
    let t = T0;
    for (let i = 0; i < 20; i++) (i % 2 ? rig.fail('sm1', (t += 10 * S)) : rig.read('sm1', NORMAL, (t += 10 * S)));
    expect(rig.of('sm1/errors').map((x) => x.transition)).toEqual(['raised']);
    for (let i = 0; i < 10; i++) rig.read('sm1', NORMAL, (t += 10 * S));
    expect(rig.of('sm1/errors').map((x) => x.transition)).toEqual(['raised']); // 5 of 20 = 25 %: held
    rig.read('sm1', NORMAL, (t += 10 * S));
    rig.read('sm1', NORMAL, (t += 10 * S));
    expect(rig.of('sm1/errors').map((x) => x.transition)).toEqual(['raised', 'cleared']);
  });

  it('failed reads in a row are a fault at once: a dead unit the poller backs off from never fills the window', () => {
    const rig = new EngineRig(cfg);
    let t = T0;
    for (let i = 0; i < 5; i++) rig.read('sm1', NORMAL, (t += S));
    // Failed reads at uneven gaps (a unit the poller has marked down is asked only every down_poll_s).
    for (const gap of [1, 1]) rig.fail('sm1', (t += gap * S));
    expect(rig.of('sm1/errors')).toEqual([]);
    rig.fail('sm1', (t += S));
    const f = rig.of('sm1/errors');
    expect(f.map((x) => [x.transition, x.rule, x.values.failed_in_row])).toEqual([['raised', 'error_rate', 3]]);
    for (const gap of [2, 4, 8]) rig.fail('sm1', (t += gap * S));
    expect(rig.of('sm1/errors')).toHaveLength(1);
    // It answers again: with less than a full window behind it, the fault clears at once.
    rig.read('sm1', NORMAL, (t += S));
    expect(rig.of('sm1/errors').map((x) => x.transition)).toEqual(['raised', 'cleared']);
  });

  it('error_streak: 0 turns the in-a-row rule off', () => {
    const off = site(`
site: { id: t, name: 测试村 }
sensors: [{ id: sm1, kind: smoke, error_streak: 0 }]
`);
    const rig = new EngineRig(off);
    for (let i = 1; i <= 10; i++) rig.fail('sm1', T0 + i * S);
    expect(rig.of('sm1/errors')).toEqual([]);
  });

  it('a sensor polled every second that falls silent says for how many seconds, not "0 min"', () => {
    const polled = site(`
site: { id: t, name: 测试村 }
buses: [{ id: b1, type: tcp, host: 127.0.0.1 }]
sensors: [{ id: wl1, kind: water_level, stages: { warning: 2 }, modbus: { bus: b1, unit: 1, profile: qdy30a, poll_s: 1 } }]
`);
    const rig = new EngineRig(polled);
    rig.read('wl1', 1, T0);
    rig.tick(T0 + 3 * S);
    expect(rig.of('wl1/stale')).toEqual([]);
    rig.tick(T0 + 4 * S);
    expect(rig.of('wl1/stale').map((x) => [x.textZh, x.textEn])).toEqual([['故障:传感器 wl1 已 4 秒无数据', 'Fault: sensor wl1 has sent no data for 4 s']]);
  });

  it('stale and failing sensors never raise a danger alert', () => {
    const rig = new EngineRig(cfg);
    for (let i = 1; i <= 40; i++) rig.fail('sm1', T0 + i * 10 * S);
    rig.tick(T0 + 1000 * S);
    expect(rig.transitions.every((t) => t.kind === 'fault')).toBe(true);
  });

  it('unknown sensors are observed, not crashed on', () => {
    const rig = new EngineRig(cfg);
    rig.read('nope', 1, T0);
    expect(rig.observations.map((o) => o.what)).toEqual(['unknown_sensor']);
  });
});

describe('acknowledgement', () => {
  it('records who acknowledged, once, without clearing the alert', () => {
    const rig = new EngineRig(cfg);
    rig.read('sm1', ALARM, T0);
    const id = rig.of('b3/fire')[0]!.alert;
    const t = rig.ack(id, 'officer-wang', T0 + 10 * S);
    expect(t.map((x) => [x.transition, x.acknowledgedBy, x.level])).toEqual([['acknowledged', 'officer-wang', 'yellow']]);
    expect(rig.ack(id, 'officer-li', T0 + 20 * S)).toEqual([]);
    expect(rig.ack('b3/fire/123', 'officer-li', T0 + 20 * S)).toEqual([]);
    expect(activeAlerts(rig.state).map((a) => [a.alert, a.acknowledgedBy])).toEqual([[id, 'officer-wang']]);
    // Later transitions of the same alert carry who acknowledged it.
    rig.read('sm1', ALARM, T0 + 30 * S);
    expect(rig.of('b3/fire').at(-1)!.acknowledgedBy).toBe('officer-wang');
  });
});
