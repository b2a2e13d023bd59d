/**
 * Flapping faults (engine/flap.ts): a sensor whose fault state keeps changing is one `flapping`
 * fault; the changes are counted, not reported; it settles after a quiet period. The danger
 * rules are never held back by it.
 */
import { describe, expect, it } from 'vitest';
import { createCore } from '../../gateway/core.ts';
import { pristineOf, restoreSlots, takeSnapshot } from '../../gateway/core-snapshot.ts';
import { activeAlerts, evaluate, resumeAfterDowntime } from '../../gateway/engine/evaluate.ts';
import { FLAP_QUIET_MS, FLAP_TRANSITIONS, FLAP_WINDOW_MS } from '../../gateway/engine/flap.ts';
import { EngineRig, T0, site } from '../helpers/site.ts';

const cfg = site(`
site: { id: t, name: 测试村 }
zones: [{ id: b3, name: 3号楼 }]
sensors:
  - { id: sm1, kind: smoke, zone: b3, name: 烟感一, name_en: Detector 1 }
  - { id: sm2, kind: smoke, zone: b3 }
  - { id: wl1, kind: water_level, stages: { warning: 2.5, guaranteed: 3.0 }, raise_after_s: 0, clear_after_s: 0 }
`);
const S = 1000;
const [NORMAL, ALARM, DIRTY] = [0, 1, 2];
const shown = (rig: EngineRig, key: string) => rig.of(key).map((t) => `${t.transition}:${t.rule}`);

/** Alternates dirty/normal on sm1, one state every `stepMs` from `from`, `n` states (dirty first). Returns the time of the last. */
function flap(rig: EngineRig, n: number, from = T0, stepMs = S): number {
  let at = from;
  for (let i = 0; i < n; i++) {
    at = from + i * stepMs;
    rig.read('sm1', i % 2 === 0 ? DIRTY : NORMAL, at);
  }
  return at;
}

describe('flapping: detection', () => {
  it(`the first ${FLAP_TRANSITIONS - 1} fault transitions are reported; the next is one flapping fault, and then nothing`, () => {
    const rig = new EngineRig(cfg);
    flap(rig, FLAP_TRANSITIONS - 1);
    expect(shown(rig, 'sm1/fault')).toEqual(['raised:smoke_dirty', 'cleared:smoke_dirty', 'raised:smoke_dirty', 'cleared:smoke_dirty', 'raised:smoke_dirty']);
    expect(rig.of('sm1/flapping')).toEqual([]);
    rig.read('sm1', NORMAL, T0 + (FLAP_TRANSITIONS - 1) * S);
    expect(shown(rig, 'sm1/flapping')).toEqual(['raised:flapping']);
    const before = rig.transitions.length;
    flap(rig, 10_000, T0 + FLAP_TRANSITIONS * S, 10);
    expect(rig.transitions.length).toBe(before);
  });

  it('the flapping fault says what happens, in Chinese and English, with the count and the window', () => {
    const rig = new EngineRig(cfg);
    flap(rig, FLAP_TRANSITIONS, T0, 30 * S);
    const [t] = rig.of('sm1/flapping');
    expect(t).toMatchObject({ kind: 'fault', level: 'info', fault: 'flapping', sensors: ['sm1'], values: { changes: FLAP_TRANSITIONS, window_s: 150 } });
    expect(t!.textZh).toBe('故障:传感器 烟感一 故障状态反复变化(2 分钟内 6 次),此后的变化只计数、不再逐条记录,请派人检查设备');
    expect(t!.textEn).toBe('Fault: sensor Detector 1 keeps changing its fault state (6 times in 2 min); further changes are counted, not logged one by one: have the device checked');
  });

  it(`${FLAP_TRANSITIONS} transitions exactly one window apart are not flapping; 1 ms less is`, () => {
    const step = FLAP_WINDOW_MS / (FLAP_TRANSITIONS - 1);
    const slow = new EngineRig(cfg);
    flap(slow, FLAP_TRANSITIONS, T0, step);
    expect(slow.of('sm1/flapping')).toEqual([]);
    expect(slow.of('sm1/fault')).toHaveLength(FLAP_TRANSITIONS);
    const fast = new EngineRig(cfg);
    flap(fast, FLAP_TRANSITIONS - 1, T0, step);
    fast.read('sm1', NORMAL, T0 + FLAP_WINDOW_MS - 1);
    expect(shown(fast, 'sm1/flapping')).toEqual(['raised:flapping']);
    expect(fast.of('sm1/fault')).toHaveLength(FLAP_TRANSITIONS - 1);
  });

  it('the window slides: a detector flipping every 3 min (slower than the window allows) is never flapping', () => {
    const rig = new EngineRig(cfg);
    flap(rig, 40, T0, 3 * 60 * S);
    expect(rig.of('sm1/flapping')).toEqual([]);
    expect(rig.of('sm1/fault')).toHaveLength(40);
  });

  it('repeats of one state are no change: a detector that stays dirty is one fault, never flapping', () => {
    const rig = new EngineRig(cfg);
    for (let i = 0; i < 1000; i++) rig.read('sm1', DIRTY, T0 + i * S);
    expect(shown(rig, 'sm1/fault')).toEqual(['raised:smoke_dirty']);
    expect(rig.of('sm1/flapping')).toEqual([]);
  });

  it('one sensor flapping leaves the others alone', () => {
    const rig = new EngineRig(cfg);
    const last = flap(rig, 100);
    rig.read('sm2', DIRTY, last + S);
    expect(shown(rig, 'sm2/fault')).toEqual(['raised:smoke_dirty']);
  });
});

describe('flapping: settling', () => {
  it('quiet for the quiet period, it clears once with the count; the fault that went away is cleared', () => {
    const rig = new EngineRig(cfg);
    const last = flap(rig, 1000); // ends normal; the frozen fault was raised (5th transition)
    for (let t = last + 10 * S; t < last + FLAP_QUIET_MS; t += 10 * S) rig.read('sm1', NORMAL, t);
    rig.read('sm1', NORMAL, last + FLAP_QUIET_MS - 1);
    expect(shown(rig, 'sm1/flapping')).toEqual(['raised:flapping']);
    rig.read('sm1', NORMAL, last + FLAP_QUIET_MS);
    expect(shown(rig, 'sm1/flapping')).toEqual(['raised:flapping', 'cleared:flapping']);
    const cleared = rig.of('sm1/flapping')[1]!;
    // 1,000 states: 5 reported, the 6th raised the flapping fault, 995 changes counted from it.
    expect(cleared.values).toEqual({ changes: 995, flapping_s: Math.round((last - (T0 + 5 * S)) / 1000 + FLAP_QUIET_MS / 1000), quiet_s: FLAP_QUIET_MS / 1000 });
    expect(cleared.textZh).toContain('故障状态已稳定(10 分钟无变化)');
    expect(cleared.textZh).toContain('共变化 995 次');
    expect(cleared.textEn).toContain('changed 995 times');
    expect(shown(rig, 'sm1/fault').at(-1)).toBe('cleared:smoke_dirty');
    expect(activeAlerts(rig.state)).toEqual([]);
  });

  it('a fault that stays through the flapping is still a fault when it settles (the same alert)', () => {
    const rig = new EngineRig(cfg);
    const last = flap(rig, 999); // ends dirty
    const raised = rig.of('sm1/fault').filter((t) => t.transition === 'raised').at(-1)!;
    for (let t = last + 10 * S; t <= last + FLAP_QUIET_MS; t += 10 * S) rig.read('sm1', DIRTY, t);
    expect(shown(rig, 'sm1/flapping')).toEqual(['raised:flapping', 'cleared:flapping']);
    expect(activeAlerts(rig.state).map((a) => a.alert)).toEqual([raised.alert]);
  });

  it('a fault that began during the flapping is raised when it settles; one that went away is cleared', () => {
    const rig = new EngineRig(cfg);
    const last = flap(rig, 100); // ends normal: the detector's frozen fault went away
    // Then it reads out of its range [0, 20] and stays there: a change, counted.
    for (let t = last + 10 * S; t < last + 10 * S + FLAP_QUIET_MS; t += 10 * S) rig.read('sm1', 50, t);
    expect(rig.of('sm1/range')).toEqual([]);
    rig.read('sm1', 50, last + 10 * S + FLAP_QUIET_MS);
    expect(shown(rig, 'sm1/flapping')).toEqual(['raised:flapping', 'cleared:flapping']);
    expect(shown(rig, 'sm1/fault').at(-1)).toBe('cleared:smoke_dirty');
    expect(shown(rig, 'sm1/range')).toEqual(['raised:out_of_range']);
    expect(activeAlerts(rig.state).map((a) => a.rule)).toEqual(['out_of_range']);
  });

  it('a sensor that falls silent while flapping settles on the tick, and its silence is then a stale fault', () => {
    const rig = new EngineRig(cfg);
    const last = flap(rig, 100);
    rig.tick(last + FLAP_QUIET_MS - 1);
    expect(rig.of('sm1/flapping')).toHaveLength(1);
    rig.tick(last + FLAP_QUIET_MS);
    expect(shown(rig, 'sm1/flapping')).toEqual(['raised:flapping', 'cleared:flapping']);
    expect(shown(rig, 'sm1/stale')).toEqual(['raised:stale']);
  });

  it('after it settles, a new episode needs the full count again', () => {
    const rig = new EngineRig(cfg);
    const last = flap(rig, 100);
    rig.tick(last + FLAP_QUIET_MS);
    const from = last + FLAP_QUIET_MS + S;
    const reported = rig.of('sm1/fault').length;
    flap(rig, FLAP_TRANSITIONS - 1, from);
    expect(rig.of('sm1/fault').length).toBeGreaterThanOrEqual(reported + FLAP_TRANSITIONS - 2);
    expect(rig.of('sm1/flapping')).toHaveLength(2);
    flap(rig, 2, from + FLAP_TRANSITIONS * S);
    expect(shown(rig, 'sm1/flapping')).toEqual(['raised:flapping', 'cleared:flapping', 'raised:flapping']);
  });
});

describe('flapping never holds back a danger', () => {
  it('a real fire during dirty/normal flapping raises the pre-alarm and the fire at once', () => {
    const rig = new EngineRig(cfg);
    const last = flap(rig, 1000, T0, 10);
    expect(rig.of('sm1/flapping')).toHaveLength(1);
    const pre = rig.read('sm1', ALARM, last + 1);
    expect(pre.map((t) => `${t.alert.split('/')[1]}:${t.transition}:${t.level}`)).toEqual(['fire:raised:yellow']);
    expect(pre[0]!.at).toBe(last + 1);
    const red = rig.read('sm1', ALARM, last + 2);
    expect(red.map((t) => `${t.transition}:${t.level}:${t.rule}`)).toEqual(['escalated:red:smoke_two_samples']);
  });

  it('a detector flapping alarm/normal raises the pre-alarm on its first alarm and holds it', () => {
    const rig = new EngineRig(cfg);
    // Never two alarm samples in a row: a pre-alarm for a person to check, as without flapping.
    for (let i = 0; i < 1000; i++) rig.read('sm1', i % 2 === 0 ? ALARM : NORMAL, T0 + i * 10);
    expect(rig.of('b3/fire').map((t) => `${t.transition}:${t.level}`)).toEqual(['raised:yellow']);
    expect(rig.of('b3/fire')[0]!.at).toBe(T0);
    rig.read('sm1', ALARM, T0 + 10_000);
    rig.read('sm1', ALARM, T0 + 10_010);
    expect(rig.of('b3/fire').map((t) => `${t.transition}:${t.level}`)).toEqual(['raised:yellow', 'escalated:red']);
  });

  it('a second detector confirms a fire while the first flaps', () => {
    const rig = new EngineRig(cfg);
    const last = flap(rig, 500, T0, 10);
    rig.read('sm2', ALARM, last + 1);
    rig.read('sm1', ALARM, last + 2);
    expect(rig.of('b3/fire').map((t) => `${t.transition}:${t.level}:${t.rule}`)).toEqual(['raised:yellow:smoke_pre_alarm', 'escalated:red:smoke_two_detectors']);
  });

  it('a river probe flapping in and out of range still raises the stage alarm from its good readings at once', () => {
    const rig = new EngineRig(cfg);
    for (let i = 0; i < 100; i++) rig.read('wl1', i % 2 === 0 ? 999 : 1.0, T0 + i * S);
    expect(shown(rig, 'wl1/flapping')).toEqual(['raised:flapping']);
    expect(rig.of('wl1/stage')).toEqual([]);
    const t = rig.read('wl1', 3.2, T0 + 100 * S);
    expect(t.map((x) => `${x.alert.split('/')[1]}:${x.transition}:${x.level}`)).toEqual(['stage:raised:orange']);
    // Out of range again: still no danger figure from it, and the alarm holds.
    rig.read('wl1', 999, T0 + 101 * S);
    expect(activeAlerts(rig.state).find((a) => a.kind === 'water_level')).toMatchObject({ level: 'orange' });
  });

  it('the same flood of inputs gives the same outputs (deterministic)', () => {
    const run = (): string[] => {
      const rig = new EngineRig(cfg);
      const last = flap(rig, 300, T0, 7);
      rig.read('sm1', ALARM, last + 1);
      rig.tick(last + FLAP_QUIET_MS + 1);
      return rig.transitions.map((t) => `${t.alert}:${t.transition}:${t.at}`);
    };
    expect(run()).toEqual(run());
  });
});

describe('flapping across a restart', () => {
  it('a flapping fault restored from the snapshot (its counters are not in it) settles a quiet period after the first input', () => {
    const before = createCore(cfg, T0);
    for (let i = 0; i < 100; i++) evaluate(before.engine, { type: 'reading', reading: { sensor: 'sm1', value: i % 2 ? NORMAL : DIRTY, at: T0 + i * S, quality: 'good' } }, T0 + i * S);
    const snap = takeSnapshot(before, pristineOf(createCore(cfg, T0)), T0 + 100 * S, T0 + 100 * S);
    const after = createCore(cfg, T0);
    restoreSlots(after, snap);
    expect(activeAlerts(after.engine).map((a) => a.rule).sort()).toEqual(['flapping', 'smoke_dirty']);
    const t0 = T0 + 200 * S;
    resumeAfterDowntime(after.engine, t0); // as restore.ts does: no sensor is stale for the downtime
    // The sensors are silent after the restart (stale, which is not under the guard): only sm1's fault and flapping matter here.
    const out = (at: number) =>
      evaluate(after.engine, { type: 'tick' }, at)
        .transitions.filter((t) => /^sm1\/(flapping|fault)\//.test(t.alert))
        .map((t) => `${t.alert.split('/')[1]}:${t.transition}`);
    expect(out(t0)).toEqual([]);
    expect(out(t0 + FLAP_QUIET_MS - 1)).toEqual([]);
    // Nothing was seen since the restart: the detector's fault stays as it was restored.
    expect(out(t0 + FLAP_QUIET_MS)).toEqual(['flapping:cleared']);
    expect(activeAlerts(after.engine).filter((a) => a.kind === 'fault' && a.rule !== 'stale').map((a) => a.rule)).toEqual(['smoke_dirty']);
  });
});
