/**
 * A flood of observations (engine/observation-gate.ts): the first of a kind from a sensor at
 * once, the rest as one count per window.
 */
import { describe, expect, it } from 'vitest';
import { OBSERVATION_WINDOW_MS as W } from '../../gateway/engine/observation-gate.ts';
import { EngineRig, T0, site } from '../helpers/site.ts';

const cfg = site(`
site: { id: t, name: 测试村 }
sensors:
  - { id: rg1, kind: rain }
  - { id: rg2, kind: rain }
`);
const said = (rig: EngineRig) => rig.observations.map((o) => `${o.sensor}:${o.what}:${o.detail.repeated ?? '-'}:${o.at - T0}`);

/** A baseline, then a jump of 1,000 mm every ms from `from`: each is an implausible jump. */
function glitch(rig: EngineRig, sensor: string, n: number, from: number): number {
  rig.read(sensor, 0, from);
  let at = from;
  for (let i = 1; i <= n; i++) rig.read(sensor, i * 1000, (at = from + i));
  return at;
}

describe('observations: one count per window', () => {
  it('the first goes through at once; the rest are counted and said when the window ends', () => {
    const rig = new EngineRig(cfg);
    glitch(rig, 'rg1', 500, T0);
    expect(said(rig)).toEqual(['rg1:implausible_jump:-:1']);
    rig.tick(T0 + 1 + W - 1);
    expect(rig.observations).toHaveLength(1);
    rig.tick(T0 + 1 + W);
    expect(said(rig)).toEqual(['rg1:implausible_jump:-:1', `rg1:implausible_jump:499:${1 + W}`]);
    // The count keeps the last one's detail beside it.
    expect(rig.observations[1]!.detail).toMatchObject({ from: 499_000, to: 500_000, repeated: 499, window_s: W / 1000 });
  });

  it('a flood that goes on is one summary per window; the first after a quiet window goes through again', () => {
    const rig = new EngineRig(cfg);
    glitch(rig, 'rg1', 10, T0);
    rig.tick(T0 + 1 + W); // 9 counted
    for (let i = 1; i <= 10; i++) rig.read('rg1', (20 + i) * 1000, T0 + 1 + W + i);
    rig.tick(T0 + 1 + 2 * W); // 10 counted in the second window
    rig.tick(T0 + 1 + 3 * W); // nothing in the third: it closes
    expect(said(rig).map((x) => x.split(':')[2])).toEqual(['-', '9', '10']);
    rig.read('rg1', 99_000, T0 + 1 + 3 * W + 1);
    expect(said(rig).at(-1)).toBe(`rg1:implausible_jump:-:${1 + 3 * W + 1}`);
  });

  it('without ticks, the first one after the window says the count and is counted itself', () => {
    const rig = new EngineRig(cfg);
    glitch(rig, 'rg1', 3, T0);
    rig.read('rg1', 50_000, T0 + 1 + W - 1); // still in the window
    rig.read('rg1', 60_000, T0 + 1 + W); // the window is over
    expect(said(rig)).toEqual(['rg1:implausible_jump:-:1', `rg1:implausible_jump:3:${1 + W}`]);
    rig.tick(T0 + 1 + 2 * W);
    expect(said(rig).at(-1)).toBe(`rg1:implausible_jump:1:${1 + 2 * W}`);
  });

  it('each sensor and each kind has its own window', () => {
    const rig = new EngineRig(cfg);
    glitch(rig, 'rg1', 5, T0);
    glitch(rig, 'rg2', 5, T0 + 100);
    rig.read('rg1', 5000, T0 + 200); // the same time again is a duplicate: a kind of its own
    rig.read('rg1', 5000, T0 + 200);
    expect(said(rig)).toEqual(['rg1:implausible_jump:-:1', 'rg2:implausible_jump:-:101', 'rg1:duplicate:-:200']);
  });

  it('readings from sensors the site does not know share one window, whatever ids they carry', () => {
    const rig = new EngineRig(cfg);
    for (let i = 0; i < 1000; i++) rig.read(`x${i}`, 1, T0 + i);
    expect(said(rig)).toEqual(['x0:unknown_sensor:-:0']);
    expect(rig.state.observed.size).toBe(1);
    rig.tick(T0 + W);
    expect(said(rig).at(-1)).toBe(`x999:unknown_sensor:999:${W}`);
  });
});
