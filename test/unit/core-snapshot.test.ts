import { describe, expect, it } from 'vitest';
import { createCore, step, type Core, type CoreInput } from '../../gateway/core.ts';
import { parseSnapshot, pristineOf, restorePlanner, restoreSlots, SNAPSHOT_VERSION, takeSnapshot, type CoreSnapshot } from '../../gateway/core-snapshot.ts';
import { activeAlerts } from '../../gateway/engine/evaluate.ts';
import { resumeAfterRestart } from '../../gateway/planner/resume.ts';
import { site, T0 } from '../helpers/site.ts';

const yaml = (clearAfterS: number): string => `
site: { id: t, name: 测试村 }
zones: [{ id: b3, name: 3号楼 }]
sensors:
  - { id: wl1, kind: water_level, stages: { warning: 2.5, guaranteed: 3.0, historical_max: 3.5 }, rise: [], raise_after_s: 30, clear_after_s: ${clearAfterS} }
  - { id: sm1, kind: smoke, zone: b3 }
  - { id: sm2, kind: smoke, zone: b3 }
`;
const cfg = site(yaml(60));

const reading = (sensor: string, value: number, at: number): [CoreInput, number] => [{ type: 'reading', reading: { sensor, value, at, quality: 'good' } }, at];
const command = (c: Extract<CoreInput, { type: 'command' }>['command'], at: number): [CoreInput, number] => [{ type: 'command', command: c }, at];
const tick = (at: number): [CoreInput, number] => [{ type: 'tick' }, at];

/** Through the text the log keeps. */
function saved(core: Core, now: number): CoreSnapshot {
  const body = JSON.stringify(takeSnapshot(core, pristineOf(createCore(core.engine.config, T0)), now, now));
  return parseSnapshot(SNAPSHOT_VERSION, body);
}

function restored(snap: CoreSnapshot, config = cfg): { core: Core; skipped: string[] } {
  const core = createCore(config, T0);
  const skipped = [...restoreSlots(core, snap), ...restorePlanner(core, snap)];
  return { core, skipped };
}

/** A red alarm raised after its duration, silenced and acknowledged; a smoke pre-alarm; a drill; the red falling back (pending). */
function busyCore(): Core {
  const core = createCore(cfg, T0);
  const run = ([input, at]: [CoreInput, number]): void => void step(core, input, at);
  run(reading('wl1', 3.6, T0));
  run(tick(T0 + 31_000));
  run(command({ type: 'silence', by: 'wang' }, T0 + 32_000));
  const id = activeAlerts(core.engine)[0]!.alert;
  run([{ type: 'ack', alert: id, by: 'wang' }, T0 + 33_000]);
  run(reading('sm1', 1, T0 + 34_000));
  run(command({ type: 'drill', by: 'li', zones: ['b3'] }, T0 + 35_000));
  run(reading('wl1', 3.2, T0 + 40_000));
  return core;
}

describe('core snapshot', () => {
  it('restored into a fresh core, it behaves as the core it was taken from', () => {
    const a = busyCore();
    const { core: b, skipped } = restored(saved(a, T0 + 41_000));
    expect(skipped).toEqual([]);
    expect(activeAlerts(b.engine)).toEqual(activeAlerts(a.engine));
    expect(b.planner.indicators).toEqual(a.planner.indicators);
    expect(b.planner.drill).toEqual(a.planner.drill);
    // The same inputs, the same answers: the red falls to orange after its 60 s (silenced, so no
    // siren), the drill ends, a second alert sounds, the pre-alarm is acknowledged.
    const later: [CoreInput, number][] = [
      tick(T0 + 60_000),
      reading('wl1', 3.21, T0 + 80_000),
      tick(T0 + 101_000),
      command({ type: 'drill_end', by: 'li' }, T0 + 102_000),
      reading('wl1', 3.7, T0 + 103_000),
      tick(T0 + 140_000),
      [{ type: 'ack', alert: activeAlerts(a.engine).find((x) => x.kind === 'smoke')!.alert, by: 'wang' }, T0 + 141_000],
    ];
    for (const [input, at] of later) expect(step(b, input, at)).toEqual(step(a, input, at));
    expect(activeAlerts(b.engine)).toEqual(activeAlerts(a.engine));
  });

  it('holds state, not spec: a duration changed in the config is the new one after the restart', () => {
    const { core } = restored(saved(busyCore(), T0 + 41_000), site(yaml(10)));
    const stage = core.engine.slots.find((s) => s.key === 'wl1/stage')!;
    expect(stage.clearAfterMs).toBe(10_000);
    expect(stage.active).toMatchObject({ level: 'red', acknowledgedBy: 'wang' });
    expect(stage.downSince).toBe(T0 + 40_000);
  });

  it('skips, by name, what the new config has no place for', () => {
    const fewer = site(`
site: { id: t, name: 测试村 }
sensors:
  - { id: wl1, kind: water_level, stages: { warning: 2.5 }, rise: [] }
`);
    const { core, skipped } = restored(saved(busyCore(), T0 + 41_000), fewer);
    expect(skipped).toContain('b3/fire');
    expect(skipped).toContain('planner.channels.b3/siren');
    expect(activeAlerts(core.engine).map((a) => a.alert)).toEqual([`wl1/stage/${T0 + 31_000}`]);
  });

  it('after a restart, the silenced alarm stays silent; an alarm still within its pattern starts again; speech is not repeated', () => {
    const a = busyCore();
    const silencedBack = restored(saved(a, T0 + 41_000)).core;
    const effects = resumeAfterRestart(silencedBack.planner, new Set(activeAlerts(silencedBack.engine).map((x) => x.alert)), T0 + 60_000);
    expect(effects.filter((e) => e.type === 'siren' || e.type === 'broadcast')).toEqual([]);
    expect(effects.filter((e) => e.type === 'indicator').map((e) => e.type === 'indicator' && `${e.indicator}:${e.state}`).sort()).toEqual(['alarm:flash', 'buzzer:on', 'drill:on']);

    const loud = createCore(cfg, T0);
    step(loud, reading('wl1', 3.6, T0)[0], T0);
    step(loud, { type: 'tick' }, T0 + 31_000);
    const back = restored(saved(loud, T0 + 40_000)).core;
    const again = resumeAfterRestart(back.planner, new Set(activeAlerts(back.engine).map((x) => x.alert)), T0 + 70_000);
    expect(again.filter((e) => e.type === 'siren')).toEqual([expect.objectContaining({ pattern: 'air_raid_alarm', priority: 'alarm', alert: `wl1/stage/${T0 + 31_000}` })]);
    expect(again.filter((e) => e.type === 'broadcast')).toEqual([]);
  });

  it('refuses a snapshot of another version or a corrupt one, with a code', () => {
    const body = JSON.stringify(takeSnapshot(busyCore(), pristineOf(createCore(cfg, T0)), T0, T0));
    expect(() => parseSnapshot(SNAPSHOT_VERSION + 1, body)).toThrow(expect.objectContaining({ code: 'unknown_version' }));
    expect(() => parseSnapshot(SNAPSHOT_VERSION, body.replace('"v":1', '"v":7'))).toThrow(expect.objectContaining({ code: 'unknown_version' }));
    expect(() => parseSnapshot(SNAPSHOT_VERSION, body.slice(0, 40))).toThrow(expect.objectContaining({ code: 'corrupt' }));
    expect(() => parseSnapshot(SNAPSHOT_VERSION, '{"v":1,"engineNow":1,"wall":1,"slots":[["k"]],"planner":null}')).toThrow(expect.objectContaining({ code: 'corrupt' }));
    const bad = parseSnapshot(SNAPSHOT_VERSION, '{"v":1,"engineNow":1,"wall":1,"slots":[["wl1/stage",{"$diff":{"active":{"$what":1}}}]],"planner":null}');
    expect(() => restoreSlots(createCore(cfg, T0), bad)).toThrow(expect.objectContaining({ code: 'corrupt' }));
  });

  it('costs little at 1,000 sensors: it is taken in the alarm step', () => {
    const sensors = Array.from({ length: 1000 }, (_, i) => `  - { id: w${i}, kind: water_level, stages: { warning: 2.5 }, raise_after_s: 0 }`).join('\n');
    const big = site(`site: { id: t, name: 测试村 }\nsensors:\n${sensors}\n`);
    const core = createCore(big, T0);
    const pristine = pristineOf(createCore(big, T0));
    for (let i = 0; i < 5; i++) step(core, { type: 'reading', reading: { sensor: `w${i}`, value: 3, at: T0 + 1000, quality: 'good' } }, T0 + 1000);
    const runs: number[] = [];
    for (let i = 0; i < 200; i++) {
      const t = performance.now();
      JSON.stringify(takeSnapshot(core, pristine, T0 + 2000, T0 + 2000));
      runs.push(performance.now() - t);
    }
    runs.sort((x, y) => x - y);
    const p50 = runs[100]!;
    console.log(`core snapshot at 1,000 sensors (6,000 slots, 5 alerts): p50 ${(p50 * 1000).toFixed(0)} µs, p99 ${(runs[198]! * 1000).toFixed(0)} µs`);
    expect(p50).toBeLessThan(2);
  });
});
