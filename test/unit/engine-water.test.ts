import { describe, expect, it } from 'vitest';
import { EngineRig, MIN, T0, site } from '../helpers/site.ts';

const cfg = site(`
site: { id: t, name: 测试村 }
sensors:
  - { id: wl1, kind: water_level, stages: { attention: 2.0, warning: 2.5, guaranteed: 3.2, historical_max: 3.8 } }
`);
const S = 1000;

/** Holds `value` from `from` for `seconds`, one reading every 10 s. */
function hold(rig: EngineRig, value: number, from: number, seconds: number): number {
  for (let s = 0; s < seconds; s += 10) rig.read('wl1', value, from + s * S);
  return from + seconds * S;
}

describe('water level: stages with minimum duration and hysteresis', () => {
  it('defaults: stage levels blue/yellow/orange/red, 60 s to raise, 600 s to clear, 0.05 m band', () => {
    const s = cfg.sensors[0]!;
    expect(s.kind === 'water_level' && s.stages.map((x) => [x.name, x.level])).toEqual([
      ['attention', 'blue'],
      ['warning', 'yellow'],
      ['guaranteed', 'orange'],
      ['historical_max', 'red'],
    ]);
    expect(s.kind === 'water_level' && [s.raiseAfterS, s.clearAfterS, s.hysteresisM]).toEqual([60, 600, 0.05]);
  });

  it('a wave crest over the warning stage for less than a minute raises nothing', () => {
    const rig = new EngineRig(cfg);
    let t = hold(rig, 2.1, T0, 120);
    t = hold(rig, 2.55, t, 50);
    hold(rig, 2.1, t, 120);
    expect(rig.of('wl1/stage').map((x) => x.level)).toEqual(['blue']);
  });

  it('at exactly the threshold for the minimum duration it is raised, with values and words', () => {
    const rig = new EngineRig(cfg);
    let t = hold(rig, 2.49, T0, 120);
    t = hold(rig, 2.5, t, 70);
    const seq = rig.of('wl1/stage');
    expect(seq.map((x) => `${x.transition}:${x.level}`)).toEqual(['raised:blue', 'escalated:yellow']);
    const y = seq[1]!;
    expect(y.at).toBe(T0 + 180 * S); // first 2.5 at 120 s, held 60 s
    expect(y.values).toMatchObject({ water_level_m: 2.5, warning_m: 2.5 });
    expect(y.textZh).toContain('超过警戒水位 2.50 米');
    expect(y.textEn).toContain('above the warning stage 2.50 m');
  });

  it('inside the hysteresis band the level holds; below it, it falls after the clear time', () => {
    const rig = new EngineRig(cfg);
    let t = hold(rig, 2.6, T0, 120);
    t = hold(rig, 2.46, t, 1200); // within 0.05 of 2.5: still yellow
    expect(rig.of('wl1/stage').map((x) => x.transition)).toEqual(['raised']);
    const below = t;
    t = hold(rig, 2.44, t, 700);
    const down = rig.of('wl1/stage').at(-1)!;
    expect(`${down.transition}:${down.level}`).toBe('deescalated:blue');
    expect(down.at).toBe(below + 600 * S);
  });

  it('a dip below the band shorter than the clear time does not lower the alarm', () => {
    const rig = new EngineRig(cfg);
    let t = hold(rig, 2.6, T0, 120);
    t = hold(rig, 2.3, t, 300);
    hold(rig, 2.6, t, 600);
    expect(rig.of('wl1/stage').map((x) => x.transition)).toEqual(['raised']);
  });

  it('escalates to guaranteed and historical maximum and clears when the river falls', () => {
    const rig = new EngineRig(cfg);
    let t = hold(rig, 3.3, T0, 120);
    t = hold(rig, 3.9, t, 120);
    t = hold(rig, 1.5, t, 900);
    expect(rig.of('wl1/stage').map((x) => `${x.transition}:${x.level}`)).toEqual(['raised:orange', 'escalated:red', 'cleared:red']);
    expect(rig.of('wl1/stage').at(-1)!.textZh).toContain('已回落');
  });
});

describe('water level: rate of rise', () => {
  it('0.35 m in 10 min is a yellow rate-of-rise alert; a flat river clears it', () => {
    const rig = new EngineRig(cfg);
    for (let m = 0; m <= 10; m++) rig.read('wl1', 1.0 + 0.035 * m, T0 + m * MIN);
    for (let m = 11; m <= 35; m++) rig.read('wl1', 1.35, T0 + m * MIN);
    const rise = rig.of('wl1/rise');
    expect(rise.map((x) => `${x.transition}:${x.level}`)).toEqual(['raised:yellow', 'cleared:yellow']);
    expect(rise[0]!.values.rise_m).toBeGreaterThanOrEqual(0.3);
    expect(rise[0]!.textZh).toContain('10 分钟上涨');
  });

  it('0.6 m in 10 min is orange; 0.25 m is nothing', () => {
    const fast = new EngineRig(cfg);
    for (let m = 0; m <= 12; m++) fast.read('wl1', 1.0 + 0.06 * m, T0 + m * MIN);
    expect(fast.of('wl1/rise').at(-1)!.level).toBe('orange');
    const slow = new EngineRig(cfg);
    for (let m = 0; m <= 30; m++) slow.read('wl1', 1.0 + 0.025 * m, T0 + m * MIN);
    expect(slow.of('wl1/rise')).toEqual([]);
  });

  it('less than half a window of history says nothing about the rate', () => {
    const rig = new EngineRig(cfg);
    for (let s = 0; s <= 240; s += 10) rig.read('wl1', 1.0 + 0.01 * s, T0 + s * S);
    expect(rig.of('wl1/rise')).toEqual([]);
  });
});

describe('water level: sensor health', () => {
  it('an out-of-range value is a fault and never reaches the stage rules', () => {
    const rig = new EngineRig(cfg);
    hold(rig, 999, T0, 300);
    expect(rig.of('wl1/stage')).toEqual([]);
    expect(rig.of('wl1/range').map((x) => [x.transition, x.kind, x.level])).toEqual([['raised', 'fault', 'info']]);
    rig.read('wl1', 1.0, T0 + 400 * S);
    expect(rig.of('wl1/range').at(-1)!.transition).toBe('cleared');
  });

  it('the same value for 6 h is a stuck sensor; a change clears it', () => {
    const rig = new EngineRig(cfg);
    for (let m = 0; m <= 6 * 60; m++) rig.read('wl1', 1.234, T0 + m * MIN);
    expect(rig.of('wl1/stuck').map((x) => x.transition)).toEqual(['raised']);
    expect(rig.of('wl1/stuck')[0]!.textEn).toContain('stuck');
    rig.read('wl1', 1.236, T0 + 400 * MIN);
    expect(rig.of('wl1/stuck').map((x) => x.transition)).toEqual(['raised', 'cleared']);
  });
});
