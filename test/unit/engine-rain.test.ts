import { describe, expect, it } from 'vitest';
import { OBSERVATION_WINDOW_MS } from '../../gateway/engine/observation-gate.ts';
import { EngineRig, MIN, RAIN_SITE, T0, site } from '../helpers/site.ts';

const cfg = site(RAIN_SITE);
const flat = (n: number, mm: number): number[] => Array.from({ length: n }, () => mm);

describe('rain: CMA rainstorm levels at and around each threshold', () => {
  // Each case: spread `total` mm evenly over `minutes`, then look at the level.
  const cases: [string, number, number, string | null][] = [
    ['49.9 mm in 12 h is nothing', 720, 49.9, null],
    ['50 mm in 12 h is blue', 720, 50, 'blue'],
    ['49.9 mm in 6 h is nothing (49.9 in 12 h too)', 360, 49.9, null],
    ['50 mm in 6 h is yellow', 360, 50, 'yellow'],
    ['50 mm in 3 h is orange', 180, 50, 'orange'],
    ['99.9 mm in 3 h is orange', 180, 99.9, 'orange'],
    ['100 mm in 3 h is red', 180, 100, 'red'],
  ];
  for (const [name, minutes, total, level] of cases) {
    it(name, () => {
      const rig = new EngineRig(cfg);
      const per = Math.floor((total / minutes) * 1000) / 1000;
      const series = flat(minutes, per);
      series[minutes - 1] = Math.round((total - per * (minutes - 1)) * 1000) / 1000;
      rig.rain('rg1', 100, series);
      const active = rig.of('rg1/rain').at(-1);
      if (level === null) {
        expect(rig.of('rg1/rain').filter((t) => t.transition === 'raised')).toEqual([]);
      } else {
        expect(active?.level).toBe(level);
        expect(active?.transition === 'raised' || active?.transition === 'escalated').toBe(true);
      }
    });
  }

  it('escalates through the levels and says why in both languages', () => {
    const rig = new EngineRig(cfg);
    rig.rain('rg1', 0, flat(180, 104.2 / 180));
    const levels = rig.of('rg1/rain').map((t) => `${t.transition}:${t.level}`);
    expect(levels).toEqual(['raised:orange', 'escalated:red']);
    const red = rig.of('rg1/rain').at(-1)!;
    expect(red.rule).toBe('rain_3h');
    expect(red.values.rain_3h_mm).toBeCloseTo(100, 0);
    expect(red.textZh).toMatch(/3 小时降雨量 \d+\.\d 毫米,达到暴雨红色预警标准/);
    expect(red.textEn).toMatch(/\d+\.\d mm of rain in 3 h at rg1: red rainstorm level/);
    expect(red.previousLevel).toBe('orange');
  });

  it('the highest level reached wins when several rules hold', () => {
    const rig = new EngineRig(cfg);
    rig.read('rg1', 0, T0);
    rig.read('rg1', 110, T0 + 5 * MIN); // 110 mm in 5 min: every window holds it at once
    const t = rig.of('rg1/rain');
    expect(t).toHaveLength(1);
    expect(t[0]!.level).toBe('red');
  });

  it('a site can add a short-duration rule and override thresholds', () => {
    const custom = site(`
site: { id: t, name: 测试村 }
defaults:
  rain: { extra_rules: [{ name: flash_flood_1h, window_h: 1, mm: 30, level: orange }] }
sensors:
  - { id: rg1, kind: rain }
  - { id: rg2, kind: rain, rules: [{ window_h: 1, mm: 10, level: yellow }] }
`);
    const rig = new EngineRig(custom);
    rig.rain('rg1', 0, flat(60, 0.5));
    expect(rig.of('rg1/rain').map((t) => [t.level, t.rule])).toEqual([['orange', 'flash_flood_1h']]);
    rig.rain('rg2', 0, flat(20, 0.5));
    expect(rig.of('rg2/rain').map((t) => [t.level, t.rule])).toEqual([['yellow', 'rain_1h']]);
  });
});

describe('rain: counters', () => {
  const gauge16 = site(`
site: { id: t, name: 测试村 }
sensors:
  - { id: rg1, kind: rain, scale: 0.1, counter_modulus: 65536 }
`);

  it('the first value is a baseline, not rain', () => {
    const rig = new EngineRig(cfg);
    rig.read('rg1', 5000, T0);
    rig.read('rg1', 5000, T0 + MIN);
    expect(rig.transitions).toEqual([]);
  });

  it('a 16-bit wrap is a small increment, not a flood', () => {
    const rig = new EngineRig(gauge16);
    rig.read('rg1', 65530, T0);
    rig.read('rg1', 5, T0 + MIN); // 11 tips = 1.1 mm
    expect(rig.observations.map((o) => o.what)).toEqual(['counter_wrap']);
    const sums = rig.state.sensors.get('rg1')!;
    expect(sums.kind === 'rain' && Math.round(sums.rain.sums[0]!)).toBe(1100);
    expect(rig.transitions).toEqual([]);
  });

  it('a reset is not negative rain: what the device counted since is kept', () => {
    const rig = new EngineRig(gauge16);
    rig.read('rg1', 5000, T0);
    rig.read('rg1', 3, T0 + MIN);
    expect(rig.observations.map((o) => o.what)).toEqual(['counter_reset']);
    const rt = rig.state.sensors.get('rg1')!;
    expect(rt.kind === 'rain' && Math.round(rt.rain.sums[0]!)).toBe(300);
    rig.read('rg1', 13, T0 + 2 * MIN);
    expect(rt.kind === 'rain' && Math.round(rt.rain.sums[0]!)).toBe(1300);
  });

  it('a backwards step of a gauge without a known modulus is a reset', () => {
    const rig = new EngineRig(cfg);
    rig.read('rg1', 1000, T0);
    rig.read('rg1', 0.4, T0 + MIN);
    expect(rig.observations.map((o) => o.what)).toEqual(['counter_reset']);
    expect(rig.transitions).toEqual([]);
  });

  it('an implausible jump is a glitch: no rain, new baseline', () => {
    const rig = new EngineRig(cfg);
    rig.read('rg1', 10, T0);
    rig.read('rg1', 5000, T0 + MIN);
    rig.read('rg1', 5000.5, T0 + 2 * MIN);
    expect(rig.observations.map((o) => o.what)).toEqual(['implausible_jump']);
    expect(rig.transitions).toEqual([]);
    const rt = rig.state.sensors.get('rg1')!;
    expect(rt.kind === 'rain' && Math.round(rt.rain.sums[4]!)).toBe(500);
  });
});

describe('rain: the glitch limit is per minute of elapsed time, not per reading', () => {
  const S = 1000;
  const sumMm = (rig: EngineRig, w: number): number => {
    const rt = rig.state.sensors.get('rg1')!;
    return rt.kind === 'rain' ? rt.rain.sums[w]! / 1000 : Number.NaN;
  };

  it('+45 mm every second is a glitch each time, not a storm', () => {
    const rig = new EngineRig(cfg);
    rig.read('rg1', 0, T0);
    for (let k = 1; k <= 10; k++) rig.read('rg1', 45 * k, T0 + k * S);
    expect(rig.of('rg1/rain')).toEqual([]);
    // The first is said at once, the other nine as a count when the window ends (observation-gate.ts).
    expect(rig.observations.map((o) => o.what)).toEqual(['implausible_jump']);
    rig.tick(T0 + S + OBSERVATION_WINDOW_MS);
    expect(rig.observations.map((o) => [o.what, o.detail.repeated])).toEqual([['implausible_jump', undefined], ['implausible_jump', 9]]);
    expect(sumMm(rig, 0)).toBe(0);
  });

  it('a gauge climbing faster than max_rate_mm_per_min never counts more than that rate allows', () => {
    const rig = new EngineRig(cfg);
    rig.read('rg1', 0, T0);
    // 1.5 mm a second is 90 mm/min: what passes is what 50 mm/min allows in 60 s, plus one tip.
    for (let k = 1; k <= 60; k++) rig.read('rg1', Math.round(1.5 * k * 10) / 10, T0 + k * S);
    expect(sumMm(rig, 0)).toBeGreaterThan(40);
    expect(sumMm(rig, 0)).toBeLessThanOrEqual(50 + 1);
  });

  it('real heavy rain read every second, tip by tip, is all counted', () => {
    const rig = new EngineRig(cfg);
    rig.read('rg1', 0, T0);
    // 0.5 mm tips at 20 mm/min: one every 1.5 s, read every second, for 10 minutes.
    let total = 0;
    for (let k = 1; k <= 600; k++) {
      total = Math.floor((k * 20) / 60 / 0.5) * 0.5;
      rig.read('rg1', total, T0 + k * S);
    }
    expect(rig.observations).toEqual([]);
    expect(sumMm(rig, 0)).toBe(200);
    expect(rig.of('rg1/rain').at(-1)!.level).toBe('red');
  });

  it('after a gap the allowed climb scales with the time elapsed', () => {
    const rig = new EngineRig(cfg);
    rig.read('rg1', 0, T0);
    rig.read('rg1', 400, T0 + 10 * MIN); // 40 mm/min over 10 min: plausible (and spread over the gap)
    expect(rig.observations.map((o) => o.what)).toEqual(['gap_spread']);
    expect(sumMm(rig, 0)).toBe(400);
    rig.read('rg1', 1000, T0 + 20 * MIN); // 60 mm/min over 10 min: a glitch
    expect(rig.observations.filter((o) => o.what !== 'gap_spread').map((o) => [o.what, o.detail.max_mm])).toEqual([['implausible_jump', 501]]);
  });
});

describe('rain: irregular, late, duplicated and missing readings', () => {
  it('duplicates and late readings are dropped and observed, not counted', () => {
    const rig = new EngineRig(cfg);
    rig.read('rg1', 0, T0);
    rig.read('rg1', 10, T0 + MIN);
    rig.read('rg1', 10, T0 + MIN);
    rig.read('rg1', 5, T0 + 30_000);
    expect(rig.observations.map((o) => o.what)).toEqual(['duplicate', 'late']);
    const rt = rig.state.sensors.get('rg1')!;
    expect(rt.kind === 'rain' && rt.rain.sums[0]).toBe(10_000);
  });

  it('a gap is not a burst: rain after a silence is spread over it, and the silence is a fault', () => {
    const rig = new EngineRig(cfg);
    rig.read('rg1', 0, T0);
    for (let m = 1; m <= 120; m++) rig.tick(T0 + m * MIN);
    expect(rig.of('rg1/stale').map((t) => t.transition)).toEqual(['raised']);
    // 120 mm over the two silent hours: 60 mm/h, not 120 mm in the last minute.
    rig.read('rg1', 120, T0 + 120 * MIN);
    const rt = rig.state.sensors.get('rg1')!;
    expect(rt.kind === 'rain' && Math.round(rt.rain.sums[0]! / 1000)).toBe(60);
    expect(rig.observations.map((o) => o.what)).toContain('gap_spread');
    expect(rig.of('rg1/stale').map((t) => t.transition)).toEqual(['raised', 'cleared']);
    // 120 mm in 3 h is red all the same.
    expect(rig.of('rg1/rain').at(-1)!.level).toBe('red');
  });

  it('readings every 10 s and every 5 min give the same sums', () => {
    const a = new EngineRig(cfg);
    const b = new EngineRig(cfg);
    for (let s = 0; s <= 3600; s += 10) a.read('rg1', s / 60, T0 + s * 1000);
    for (let s = 0; s <= 3600; s += 300) b.read('rg1', s / 60, T0 + s * 1000);
    const sa = a.state.sensors.get('rg1')!;
    const sb = b.state.sensors.get('rg1')!;
    expect(sa.kind === 'rain' && sb.kind === 'rain' && Math.round(sa.rain.sums[1]!)).toBe(sb.kind === 'rain' ? Math.round(sb.rain.sums[1]!) : -1);
  });

  it('blank values are missing reads: counted as errors, never as zero rain', () => {
    const rig = new EngineRig(cfg);
    rig.read('rg1', 0, T0);
    for (let m = 1; m <= 20; m++) rig.read('rg1', null, T0 + m * MIN);
    expect(rig.of('rg1/errors').map((t) => [t.transition, t.rule])).toEqual([['raised', 'error_rate']]);
    expect(rig.of('rg1/errors')[0]!.textZh).toContain('失败');
    rig.read('rg1', 2, T0 + 21 * MIN);
    const rt = rig.state.sensors.get('rg1')!;
    expect(rt.kind === 'rain' && Math.round(rt.rain.sums[0]!)).toBe(2000);
  });

  it('rain leaving the window lowers the level only after the hold time', () => {
    const rig = new EngineRig(cfg);
    const total = rig.rain('rg1', 0, flat(60, 110 / 60)); // red in the first hour
    expect(rig.of('rg1/rain').at(-1)!.level).toBe('red');
    for (let m = 61; m <= 60 * 26; m++) rig.read('rg1', total, T0 + m * MIN);
    const seq = rig.of('rg1/rain').map((t) => `${t.transition}:${t.level}`);
    // The 3 h sum falls, then the 6 h, then the 12 h: red → yellow (6 h) → blue (12 h) → cleared.
    expect(seq).toEqual(['raised:orange', 'escalated:red', 'deescalated:yellow', 'deescalated:blue', 'cleared:blue']);
    const lowered = rig.of('rg1/rain')[2]!;
    // 1.833 mm/min leaves the 3 h window from minute 181: below 100 mm at minute 186,
    // and the 30 min hold keeps red until minute 216.
    expect(lowered.at).toBe(T0 + 216 * MIN);
    expect(rig.of('rg1/rain')[4]!.textEn).toMatch(/cleared/);
  });
});
