import { describe, expect, it } from 'vitest';
import { createCore, step, type Core, type CoreOutput } from '../../gateway/core.ts';
import { parseSnapshot, pristineOf, takeSnapshot } from '../../gateway/core-snapshot.ts';
import { activeThresholds, restoreThresholds, setThreshold, thresholdsOf } from '../../gateway/engine/thresholds.ts';
import { createEngineState } from '../../gateway/engine/state.ts';
import { MIN, T0, site } from '../helpers/site.ts';

const yaml = (extra = '') => `
site: { id: t, name: 测试村 }
zones: [{ id: b3, name: 3号楼 }]
sensors:
  - { id: rg1, kind: rain }
  - { id: wl1, kind: water_level, stages: { attention: 2.0, warning: 2.5, guaranteed: 3.2 }, rise: [{ m: 0.3, level: orange }], raise_after_s: 0, clear_after_s: 0 }
  - { id: sm1, kind: smoke, zone: b3, mode: analog, alarm_db_m: 0.15 }
  - { id: sm2, kind: smoke, zone: b3 }
${extra}`;
const cfg = site(yaml());
const S = 1000;

const set = (sensor: string, threshold: string, value: number, forS = 600) => ({ type: 'township' as const, command: { type: 'set_threshold' as const, by: 'town', sensor, threshold, value, forS } });
const clear = (sensor: string, threshold: string) => ({ type: 'township' as const, command: { type: 'clear_threshold' as const, by: 'town', sensor, threshold } });
const read = (sensor: string, value: number, at: number) => ({ type: 'reading' as const, reading: { sensor, value, at, quality: 'good' as const } });

function rainAt40(core: Core): void {
  step(core, read('rg1', 0, T0), T0);
  step(core, read('rg1', 40, T0 + 10 * MIN), T0 + 10 * MIN);
}

describe('threshold overrides: names', () => {
  it('names each kind’s thresholds the way the rules are built, with the config’s values and units', () => {
    const [rg, wl, sm1, sm2] = cfg.sensors;
    expect(thresholdsOf(rg!).map((t) => [t.name, t.value, t.unit])).toEqual([
      ['rain_12h_blue', 50, 'mm'],
      ['rain_6h_yellow', 50, 'mm'],
      ['rain_3h_orange', 50, 'mm'],
      ['rain_3h_red', 100, 'mm'],
    ]);
    expect(thresholdsOf(wl!).map((t) => [t.name, t.value])).toEqual([
      ['stage_attention', 2.0],
      ['stage_warning', 2.5],
      ['stage_guaranteed', 3.2],
      ['rise_orange', 0.3],
    ]);
    expect(thresholdsOf(sm1!).map((t) => [t.name, t.value, t.unit])).toEqual([['alarm_db_m', 0.15, 'db_m']]);
    expect(thresholdsOf(sm2!)).toEqual([]);
  });
});

describe('threshold overrides: set, judged at once, expire in the tick, clear', () => {
  it('a lowered rain threshold raises the alert from the sums already counted, without waiting for rain', () => {
    const core = createCore(cfg, T0);
    rainAt40(core);
    expect(core.engine.slots.find((s) => s.key === 'rg1/rain')!.active).toBeNull();
    const out = step(core, set('rg1', 'rain_3h_orange', 30), T0 + 11 * MIN);
    expect(out.refused).toBeUndefined();
    expect(out.thresholds).toMatchObject([{ change: 'set', sensor: 'rg1', threshold: 'rain_3h_orange', value: 30, original: 50, unit: 'mm', by: 'town', setAt: T0 + 11 * MIN, until: T0 + 21 * MIN }]);
    expect(out.transitions.map((t) => [t.transition, t.level, t.rule])).toEqual([['raised', 'orange', 'rain_3h']]);
    // The alert is planned like any: the siren and the spoken warning come with the same step.
    expect(out.effects.some((e) => e.type === 'siren')).toBe(true);
    // The site config itself is untouched; only the gauge's runtime copy changed.
    expect(cfg.sensors[0]!.kind === 'rain' && cfg.sensors[0]!.rules[2]!.mm).toBe(50);
  });

  it('expires in the tick at its time (not a millisecond before), back to the config’s own object', () => {
    const core = createCore(cfg, T0);
    rainAt40(core);
    step(core, set('rg1', 'rain_3h_orange', 30, 60), T0 + 11 * MIN);
    const rt = core.engine.sensors.get('rg1')!;
    expect(rt.kind === 'rain' && rt.rain.cfg).not.toBe(cfg.sensors[0]);
    expect(step(core, { type: 'tick' }, T0 + 12 * MIN - 1).thresholds).toEqual([]);
    const out = step(core, { type: 'tick' }, T0 + 12 * MIN);
    expect(out.thresholds).toMatchObject([{ change: 'expired', endedBy: 'engine', threshold: 'rain_3h_orange', value: 30, original: 50 }]);
    expect(rt.kind === 'rain' && rt.rain.cfg).toBe(cfg.sensors[0]);
    expect(activeThresholds(core.engine)).toEqual([]);
    // 40 mm is below 50 again: the alert steps down after the rain rule's clear time (1,800 s).
    // (The stale faults of the silent sensors come with that tick too.)
    const rain = step(core, { type: 'tick' }, T0 + 12 * MIN + 1800 * S).transitions.filter((t) => t.kind === 'rain');
    expect(rain.map((t) => t.transition)).toEqual(['cleared']);
  });

  it('clear_threshold ends it before its time; a second clear is refused', () => {
    const core = createCore(cfg, T0);
    step(core, set('wl1', 'stage_warning', 2.3), T0);
    const out = step(core, clear('wl1', 'stage_warning'), T0 + S);
    expect(out.thresholds).toMatchObject([{ change: 'cleared', endedBy: 'town', value: 2.3, original: 2.5 }]);
    expect(step(core, clear('wl1', 'stage_warning'), T0 + 2 * S).refused).toBe("no override of threshold 'stage_warning' of sensor 'wl1' is in force");
  });

  it('a water stage override judges the last level at once; a renewal replaces the one before', () => {
    const core = createCore(cfg, T0);
    step(core, read('wl1', 2.4, T0), T0);
    expect(core.engine.slots.find((s) => s.key === 'wl1/stage')!.active?.level).toBe('blue');
    const out = step(core, set('wl1', 'stage_warning', 2.35), T0 + S);
    expect(out.transitions.map((t) => [t.transition, t.level, t.values.warning_m])).toEqual([['escalated', 'yellow', 2.35]]);
    step(core, set('wl1', 'stage_warning', 2.3, 30), T0 + 2 * S);
    expect(activeThresholds(core.engine)).toMatchObject([{ threshold: 'stage_warning', value: 2.3, until: T0 + 32 * S }]);
    // Two overrides on one sensor both hold: each is applied over the other.
    step(core, set('wl1', 'stage_guaranteed', 2.9), T0 + 3 * S);
    const rt = core.engine.sensors.get('wl1')!;
    expect(rt.kind === 'water_level' && rt.water.cfg.stages.map((t) => t.value)).toEqual([2.0, 2.3, 2.9]);
  });

  it('a smoke analog threshold judges the next sample', () => {
    const core = createCore(cfg, T0);
    step(core, read('sm1', 0.1, T0), T0);
    expect(step(core, set('sm1', 'alarm_db_m', 0.08), T0 + S).transitions).toEqual([]);
    const out = step(core, read('sm1', 0.1, T0 + 30 * S), T0 + 30 * S);
    expect(out.transitions.map((t) => [t.transition, t.level, t.rule])).toEqual([['raised', 'yellow', 'smoke_pre_alarm']]);
  });
});

describe('threshold overrides: refused with words', () => {
  const cases: [string, string, number, string][] = [
    ['nope', 'rain_3h_orange', 30, "no sensor 'nope' in this site's config"],
    ['rg1', 'rain_1h_orange', 30, "sensor 'rg1' has no threshold 'rain_1h_orange' (it has: rain_12h_blue, rain_6h_yellow, rain_3h_orange, rain_3h_red)"],
    ['rg1', 'rain_3h_orange', 0, 'threshold rain_3h_orange of rg1: 0 mm would always fire (every window holds 0 mm or more); give more than 0 mm'],
    ['rg1', 'rain_3h_orange', -5, 'threshold rain_3h_orange of rg1: -5 mm would always fire (every window holds 0 mm or more); give more than 0 mm'],
    ['rg1', 'rain_3h_orange', 9001, 'threshold rain_3h_orange of rg1: 9001 mm would never fire: at most 9000 mm can be counted in 3 h (max_rate_mm_per_min 50)'],
    ['wl1', 'stage_attention', -10, 'threshold stage_attention of wl1: -10 m would always fire: every plausible reading is at or above -10 m'],
    ['wl1', 'stage_guaranteed', 200.5, 'threshold stage_guaranteed of wl1: 200.5 m would never fire: readings above 200 m are range faults'],
    ['wl1', 'stage_warning', 2.0, 'threshold stage_warning of wl1: 2 m is not above stage attention (2 m): stages rise with their levels'],
    ['wl1', 'stage_warning', 3.2, 'threshold stage_warning of wl1: 3.2 m is not below stage guaranteed (3.2 m): stages rise with their levels'],
    ['wl1', 'rise_orange', 0, 'threshold rise_orange of wl1: a rise of 0 m would always fire (a level that holds still rises 0 m); give more than 0 m'],
    ['wl1', 'rise_orange', 210, 'threshold rise_orange of wl1: a rise of 210 m in 10 min would never fire: the plausible range is -10–200 m'],
    ['sm1', 'alarm_db_m', 0, 'threshold alarm_db_m of sm1: 0 dB/m would always fire: every plausible reading is at or above 0 dB/m'],
    ['sm1', 'alarm_db_m', 20.1, 'threshold alarm_db_m of sm1: 20.1 dB/m would never fire: readings above 20 dB/m are range faults'],
    ['sm2', 'alarm_db_m', 0.1, "smoke detector 'sm2' reports its alarm state itself (mode state): it has no threshold to set"],
  ];
  it.each(cases)('%s %s = %s', (sensor, threshold, value, error) => {
    const core = createCore(cfg, T0);
    const out = step(core, set(sensor, threshold, value), T0);
    expect(out.refused).toBe(error);
    expect(out.thresholds).toEqual([]);
    expect(activeThresholds(core.engine)).toEqual([]);
  });

  it('the edges that can fire are accepted: the gauge’s most in the window, the range’s top', () => {
    for (const [sensor, threshold, value] of [['rg1', 'rain_3h_orange', 9000], ['wl1', 'stage_guaranteed', 200], ['sm1', 'alarm_db_m', 20], ['wl1', 'rise_orange', 209.99]] as const) {
      expect(step(createCore(cfg, T0), set(sensor, threshold, value), T0).refused).toBeUndefined();
    }
  });

  it('stage order is judged against the other overrides in force', () => {
    const core = createCore(cfg, T0);
    step(core, set('wl1', 'stage_guaranteed', 2.7), T0);
    expect(step(core, set('wl1', 'stage_warning', 2.8), T0).refused).toBe('threshold stage_warning of wl1: 2.8 m is not below stage guaranteed (2.7 m): stages rise with their levels');
  });

  it('two rain rules of one window and level are ambiguous', () => {
    const dup = site(yaml().replace('{ id: rg1, kind: rain }', '{ id: rg1, kind: rain, rules: [{ name: a, window_h: 1, mm: 20, level: yellow }, { name: b, window_h: 1, mm: 30, level: yellow }] }'));
    expect(step(createCore(dup, T0), set('rg1', 'rain_1h_yellow', 25), T0).refused).toBe("threshold 'rain_1h_yellow' of sensor 'rg1' names 2 rules of the config: ambiguous, not changed");
  });
});

describe('threshold overrides: across a restart', () => {
  it('are in the snapshot, and put back on a fresh core; an expired one expires at the first tick', () => {
    const core = createCore(cfg, T0);
    const pristine = pristineOf(createCore(cfg, T0));
    step(core, set('rg1', 'rain_3h_orange', 30, 60), T0);
    step(core, set('wl1', 'stage_warning', 2.3, 3600), T0);
    const snap = parseSnapshot(1, JSON.stringify(takeSnapshot(core, pristine, T0 + S, T0 + S)));
    expect(snap.thresholds?.map((o) => o.threshold)).toEqual(['rain_3h_orange', 'stage_warning']);

    const after = createCore(cfg, T0 + 2 * MIN);
    expect(restoreThresholds(after.engine, snap.thresholds!, T0 + 2 * MIN)).toEqual([]);
    const rt = after.engine.sensors.get('wl1')!;
    expect(rt.kind === 'water_level' && rt.water.cfg.stages[1]!.value).toBe(2.3);
    const out: CoreOutput = step(after, { type: 'tick' }, T0 + 2 * MIN);
    expect(out.thresholds.map((c) => [c.change, c.threshold])).toEqual([['expired', 'rain_3h_orange']]);
    expect(activeThresholds(after.engine).map((o) => o.threshold)).toEqual(['stage_warning']);
  });

  it('a snapshot without overrides (older boxes) has none; one the config has no place for is dropped, with why', () => {
    const core = createCore(cfg, T0);
    expect(takeSnapshot(core, pristineOf(createCore(cfg, T0)), T0, T0)).not.toHaveProperty('thresholds');
    step(core, set('wl1', 'stage_warning', 2.3), T0);
    step(core, set('sm1', 'alarm_db_m', 0.1), T0);
    const saved = activeThresholds(core.engine);
    const changed = site(yaml().replace('stages: { attention: 2.0, warning: 2.5, guaranteed: 3.2 }', 'stages: { attention: 2.4, warning: 2.5 }').replace('  - { id: sm1, kind: smoke, zone: b3, mode: analog, alarm_db_m: 0.15 }\n', ''));
    const fresh = createEngineState(changed, T0);
    expect(restoreThresholds(fresh, saved, T0).map((d) => [d.change, d.sensor, d.reason])).toEqual([
      ['dropped', 'wl1', '2.3 m is not above stage attention (2.4 m): stages rise with their levels'],
      ['dropped', 'sm1', "no sensor 'sm1' in this site's config"],
    ]);
    expect(fresh.thresholds.size).toBe(0);
  });

  it('a snapshot with a malformed override is corrupt, not half applied', () => {
    const body = JSON.stringify({ v: 1, engineNow: T0, wall: T0, slots: [], planner: null, thresholds: [{ sensor: 'rg1', threshold: 'rain_3h_orange', value: 'x' }] });
    expect(() => parseSnapshot(1, body)).toThrow(/thresholds are not overrides/);
  });

  it('setThreshold refuses a non-finite value or a duration that is no whole second (the payload check also does)', () => {
    const st = createEngineState(cfg, T0);
    expect(setThreshold(st, { sensor: 'rg1', threshold: 'rain_3h_orange', value: Number.NaN, forS: 60, by: "x" }, T0)).toEqual({ ok: false, error: 'the value must be a finite number' });
    expect(setThreshold(st, { sensor: 'rg1', threshold: 'rain_3h_orange', value: 30, forS: 0.5, by: "x" }, T0)).toEqual({ ok: false, error: 'for_s must be a whole number of seconds above 0' });
  });
});
