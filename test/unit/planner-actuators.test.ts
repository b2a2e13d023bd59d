/**
 * One physical actuator, one decision: the planner schedules each configured siren and speaker
 * (not each zone), so a site-wide alarm and a zone alarm that reach the same siren are
 * arbitrated there, and every effect names the one actuator it is for.
 */
import { describe, expect, it } from 'vitest';
import type { AlertTransition, Level } from '../../gateway/engine/types.ts';
import { plan } from '../../gateway/planner/plan.ts';
import { createPlannerState } from '../../gateway/planner/state.ts';
import type { Effect } from '../../gateway/planner/types.ts';
import { PlannerRig, rainAlert } from '../helpers/planner-rig.ts';
import { T0, site } from '../helpers/site.ts';

const cfg = site(`
site: { id: t, name: 测试村 }
zones: [{ id: b3, name: 3号楼 }, { id: river, name: 沿河 }]
sensors:
  - { id: rg1, kind: rain }
  - { id: wl1, kind: water_level, zone: river, sound_zones: [river], stages: { warning: 2.5 } }
  - { id: sm1, kind: smoke, zone: b3 }
actuators:
  - { id: siren1, kind: siren, zones: [site] }
  - { id: siren-b3, kind: siren, zones: [b3] }
  - { id: spk1, kind: speaker, zones: [site] }
`);
const S = 1000;

const rain = rainAlert;
const fire = (transition: AlertTransition['transition']): AlertTransition => rain(transition, 'red', { alert: 'b3/fire/1', kind: 'smoke', sensors: ['sm1'], zone: 'b3', rule: 'smoke_confirmed', textZh: '3号楼火警', textEn: 'fire in building 3' });
const river = (transition: AlertTransition['transition'], level: Level): AlertTransition =>
  rain(transition, level, { alert: 'wl1/stage/1', kind: 'water_level', sensors: ['wl1'], zone: 'river', rule: 'stage_warning' });

class Rig extends PlannerRig {
  constructor() {
    super(cfg);
  }
}

/** `type@actuator:pattern-or-reason` for every siren and speaker effect. */
const sounds = (effects: Effect[]): string[] =>
  effects
    .filter((e) => e.type !== 'indicator')
    .map((e) => `${e.type}@${'actuator' in e ? e.actuator : '?'}${e.type === 'siren' ? `:${e.pattern}` : ''}${'reason' in e ? `:${e.reason}` : ''}`);

describe('planner: one decision per physical actuator', () => {
  it('a site-wide alarm sends each actuator one effect, addressed to it', () => {
    const e = new Rig().t(rain('raised', 'red'));
    expect(sounds(e)).toEqual(['siren@siren1:air_raid_alarm', 'siren@siren-b3:air_raid_alarm', 'broadcast@spk1']);
    expect(e.filter((x) => x.type !== 'indicator').every((x) => 'zone' in x && x.zone === 'site')).toBe(true);
  });

  it('an alarm on several zones that one actuator serves sounds there once', () => {
    const rig = new Rig();
    const e = rig.c({ type: 'siren', source: 'officer', by: 'wang', pattern: 'air_raid_alarm', zones: ['b3', 'river'] });
    expect(sounds(e)).toEqual(['siren@siren1:air_raid_alarm', 'siren@siren-b3:air_raid_alarm']);
    // The effect says which of the requested zones the actuator serves it for: the first.
    expect(e.map((x) => 'zone' in x && x.zone)).toEqual(['b3', 'b3']);
  });

  it('a building-3 fire on the site-wide siren pre-empts the equal-priority rain alarm, which resumes when the fire clears', () => {
    const rig = new Rig();
    rig.t(rain('raised', 'red'));
    const f = rig.t(fire('raised'), T0 + 20 * S);
    // Fire is local and immediate: at the same priority and level it outranks rain on every
    // actuator both reach; the rain alarm waits (it is resumable), it is not lost.
    expect(sounds(f)).toEqual([
      'siren_off@siren1:preempted',
      'siren@siren1:fire_alarm',
      'siren_off@siren-b3:preempted',
      'siren@siren-b3:fire_alarm',
      'broadcast_stop@spk1:preempted',
      'broadcast@spk1',
    ]);
    const siren1 = rig.state.channels.get('siren1')!;
    expect([siren1.current?.alert, siren1.queue.map((q) => q.alert)]).toEqual(['b3/fire/1', ['rg1/rain/1']]);
    const cl = rig.t(fire('cleared'), T0 + 40 * S);
    // The rain alarm starts again on both sirens; no all-clear sounds while it is active (the
    // fire's all-clear is spoken only: 解除警报 would be heard as clearing the rainstorm too).
    expect(sounds(cl).filter((s) => s.startsWith('siren'))).toEqual(['siren_off@siren1:cleared', 'siren@siren1:air_raid_alarm', 'siren_off@siren-b3:cleared', 'siren@siren-b3:air_raid_alarm']);
    expect(cl.filter((x) => x.type === 'siren').every((x) => x.type === 'siren' && x.alert === 'rg1/rain/1')).toBe(true);
  });

  it('when the fire pattern runs its course, the rain alarm resumes on the shared siren', () => {
    const rig = new Rig();
    rig.t(rain('raised', 'red'));
    rig.t(fire('raised'), T0 + 10 * S);
    expect(sounds(rig.tick(T0 + 98 * S)).filter((s) => s.startsWith('siren'))).toEqual([]); // fire_alarm lasts 89 s
    expect(sounds(rig.tick(T0 + 99 * S)).filter((s) => s.startsWith('siren'))).toEqual(['siren@siren1:air_raid_alarm', 'siren@siren-b3:air_raid_alarm']);
  });

  it('the rain alarm arriving during a fire waits on the shared siren instead of cutting in', () => {
    const rig = new Rig();
    rig.t(fire('raised'));
    const r = rig.t(rain('raised', 'red'), T0 + 5 * S);
    expect(sounds(r).filter((s) => s.startsWith('siren'))).toEqual([]);
    expect(rig.state.channels.get('siren1')!.queue.map((q) => q.alert)).toEqual(['rg1/rain/1']);
  });

  it('within alarms a higher level pre-empts a lower one; the lower resumes after it', () => {
    const rig = new Rig();
    const o = rig.t(river('raised', 'orange'));
    expect(sounds(o).filter((s) => s.startsWith('siren'))).toEqual(['siren@siren1:air_raid_pre_alert']); // siren-b3 does not serve the river
    const r = rig.t(rain('raised', 'red'), T0 + 10 * S);
    expect(sounds(r).filter((s) => s.startsWith('siren'))).toEqual(['siren_off@siren1:preempted', 'siren@siren1:air_raid_alarm', 'siren@siren-b3:air_raid_alarm']);
    // air_raid_alarm lasts 174 s; then the orange river pre-alert sounds again.
    expect(sounds(rig.tick(T0 + 184 * S)).filter((s) => s.startsWith('siren'))).toEqual(['siren@siren1:air_raid_pre_alert']);
  });

  it('equal priority, level and kind: the first keeps the siren and the second waits its turn', () => {
    const rig = new Rig();
    rig.t(river('raised', 'orange'));
    const r = rig.t(rain('raised', 'orange'), T0 + 10 * S);
    expect(sounds(r).filter((s) => s.includes('siren1'))).toEqual([]);
    expect(rig.state.channels.get('siren1')!.queue.map((q) => q.alert)).toEqual(['rg1/rain/1']);
  });

  it('a new alarm on a siren replaces a waiting or playing all-clear of another subject', () => {
    const rig = new Rig();
    rig.t(river('raised', 'red'));
    rig.t(river('cleared', 'red'), T0 + 200 * S); // the all-clear plays on siren1
    expect(rig.state.channels.get('siren1')!.current?.clears).toBe('wl1/stage');
    const r = rig.t(rain('raised', 'red'), T0 + 210 * S);
    expect(sounds(r).filter((s) => s.includes('siren1'))).toEqual(['siren_off@siren1:replaced', 'siren@siren1:air_raid_alarm']);
    expect(rig.state.channels.get('siren1')!.queue).toEqual([]);
  });

  it('silencing building 3 stops the site-wide siren too (it is heard there), and the planner knows it', () => {
    const rig = new Rig();
    rig.t(rain('raised', 'red'));
    rig.t(fire('raised'), T0 + 5 * S);
    const e = rig.c({ type: 'silence', by: 'wang', zones: ['b3'] }, T0 + 10 * S);
    expect(sounds(e)).toEqual(['siren_off@siren1:silenced', 'siren_off@siren-b3:silenced']);
    expect(rig.state.channels.get('siren1')!.current).toBeNull();
    expect(rig.state.channels.get('siren1')!.queue).toEqual([]);
  });

  it('a speaker that reports done frees its own channel', () => {
    const rig = new Rig();
    const a = rig.c({ type: 'broadcast', source: 'officer', by: 'li', textZh: '第一条' });
    rig.c({ type: 'broadcast', source: 'officer', by: 'li', textZh: '第二条' }, T0 + S);
    const activity = a.find((x) => x.type === 'broadcast')!.activity;
    const done = rig.c({ type: 'broadcast_done', actuator: 'spk1', activity }, T0 + 5 * S);
    expect(done.map((x) => x.type === 'broadcast' && [x.actuator, x.textZh])).toEqual([['spk1', '第二条']]);
  });

  it('a zone no actuator of a kind serves keeps a channel of its own, addressed to nobody', () => {
    const lone = site(`
site: { id: t, name: t }
zones: [{ id: b3 }, { id: river }]
sensors: [{ id: sm1, kind: smoke, zone: b3 }, { id: sm2, kind: smoke, zone: river }]
actuators: [{ id: siren-b3, kind: siren, zones: [b3] }]
`);
    const e = plan(createPlannerState(lone), { type: 'transition', transition: fire('raised') }, T0).effects;
    expect(sounds(e)).toEqual(['siren@siren-b3:fire_alarm', 'broadcast@null']);
    const r = plan(createPlannerState(lone), { type: 'transition', transition: rain('raised', 'red', { zone: 'river', sensors: ['sm2'], kind: 'smoke', alert: 'river/fire/1' }) }, T0).effects;
    expect(r.filter((x) => x.type === 'siren').map((x) => 'actuator' in x && [x.actuator, x.zone])).toEqual([[null, 'river']]);
  });

  it('an alert that grows to a second detector stops on every actuator it reached when it clears', () => {
    const two = site(`
site: { id: t, name: t }
zones: [{ id: b3 }, { id: river }]
sensors: [{ id: sm1, kind: smoke, zone: b3 }, { id: sm2, kind: smoke, zone: b3, sound_zones: [b3, river] }]
actuators: [{ id: siren-b3, kind: siren, zones: [b3] }, { id: siren-river, kind: siren, zones: [river] }]
`);
    const st = createPlannerState(two);
    const at = (tr: AlertTransition, t: number): Effect[] => plan(st, { type: 'transition', transition: tr }, t).effects;
    at({ ...fire('raised'), level: 'yellow' }, T0); // one detector: a pre-alarm, nothing sounds
    expect(sounds(at({ ...fire('escalated'), sensors: ['sm1', 'sm2'] }, T0 + S)).filter((x) => x.startsWith('siren'))).toEqual(['siren@siren-b3:fire_alarm', 'siren@siren-river:fire_alarm']);
    expect(sounds(at({ ...fire('cleared'), sensors: ['sm1', 'sm2'] }, T0 + 30 * S)).filter((x) => x.startsWith('siren_off'))).toEqual(['siren_off@siren-b3:cleared', 'siren_off@siren-river:cleared']);
  });
});
