import { describe, expect, it } from 'vitest';
import { plan } from '../../gateway/planner/plan.ts';
import { createPlannerState } from '../../gateway/planner/state.ts';
import type { Effect } from '../../gateway/planner/types.ts';
import { PlannerRig } from '../helpers/planner-rig.ts';
import { T0, rainTransition, site } from '../helpers/site.ts';

const cfg = site(`
site: { id: t, name: 测试村, name_en: Testville, shelter: { zh: 村委会, en: the village hall }, route: { zh: 北坡路, en: the north path } }
zones: [{ id: river, name: 沿河 }, { id: b3, name: 3号楼 }]
sensors:
  - { id: rg1, kind: rain, sound_zones: [site, river, b3] }
  - { id: sm1, kind: smoke, zone: b3 }
actions:
  patterns: { long_blast: { steps: [500, 10, 500] } }
`);
const S = 1000;

const alert = rainTransition;

class Rig extends PlannerRig {
  constructor() {
    super(cfg);
  }
}

const kinds = (effects: Effect[]): string[] =>
  effects.filter((e) => e.type !== 'indicator').map((e) => `${e.type}:${'zone' in e ? e.zone : ''}${'pattern' in e ? `:${e.pattern}` : ''}${'reason' in e ? `:${e.reason}` : ''}`);

describe('planner: alerts to effects', () => {
  it('by default a rain alert sounds on the site zone, which every actuator serves', () => {
    const plain = site(`
site: { id: t, name: t }
zones: [{ id: river }]
sensors: [{ id: rg1, kind: rain }]
`);
    const st = createPlannerState(plain);
    const e = plan(st, { type: 'transition', transition: alert('raised', 'red') }, T0).effects;
    expect(kinds(e)).toEqual(['siren:site:air_raid_alarm', 'broadcast:site']);
  });

  it('a red rain alert sounds the air-raid alarm and speaks on each of its sound zones', () => {
    const rig = new Rig();
    const e = rig.t(alert('raised', 'red'));
    expect(kinds(e)).toEqual(['siren:site:air_raid_alarm', 'broadcast:site', 'siren:river:air_raid_alarm', 'broadcast:river', 'siren:b3:air_raid_alarm', 'broadcast:b3']);
    const b = e.find((x) => x.type === 'broadcast')!;
    expect(b.type === 'broadcast' && [b.priority, b.repeat, b.chime, b.drill]).toEqual(['alarm', 3, true, false]);
    expect(b.type === 'broadcast' && b.textZh).toBe('测试村:3 小时降雨量 104.2 毫米,达到暴雨红色预警标准。请沿北坡路前往村委会。');
    expect(b.type === 'broadcast' && b.textEn).toBe('Testville: 104.2 mm of rain in 3 h: red rainstorm level. Go to the village hall by the north path.');
    const s = e.find((x) => x.type === 'siren')!;
    expect(s.type === 'siren' && s.steps.length).toBe(29); // 6 on / 6 off × 15, last off dropped
  });

  it('orange sounds the pre-alert; yellow only speaks (advisory); blue does nothing audible', () => {
    const rig = new Rig();
    expect(kinds(rig.t(alert('raised', 'orange'))).filter((k) => k.startsWith('siren'))).toEqual(['siren:site:air_raid_pre_alert', 'siren:river:air_raid_pre_alert', 'siren:b3:air_raid_pre_alert']);
    const y = new Rig();
    const ye = y.t(alert('raised', 'yellow'));
    expect(kinds(ye)).toEqual(['broadcast:site', 'broadcast:river', 'broadcast:b3']);
    expect(ye.every((x) => x.type !== 'broadcast' || x.priority === 'advisory')).toBe(true);
    expect(kinds(new Rig().t(alert('raised', 'blue')))).toEqual([]);
  });

  it('a smoke pre-alarm only lights the panel; a confirmed fire sounds the fire pattern in its zone', () => {
    const rig = new Rig();
    const pre = rig.t(alert('raised', 'yellow', { alert: 'b3/fire/1', kind: 'smoke', sensors: ['sm1'], zone: 'b3', rule: 'smoke_pre_alarm' }));
    expect(kinds(pre)).toEqual([]);
    expect(pre).toContainEqual({ type: 'indicator', at: T0, indicator: 'alarm', state: 'flash' });
    expect(pre).toContainEqual({ type: 'indicator', at: T0, indicator: 'buzzer', state: 'on' });
    const fire = rig.t(alert('escalated', 'red', { alert: 'b3/fire/1', kind: 'smoke', sensors: ['sm1'], zone: 'b3' }));
    expect(kinds(fire)).toEqual(['siren:b3:fire_alarm', 'broadcast:b3']);
  });

  it('faults light the fault indicator and never sound', () => {
    const rig = new Rig();
    const e = rig.t(alert('raised', 'info', { alert: 'rg1/stale/1', kind: 'fault', rule: 'stale' }));
    expect(kinds(e)).toEqual([]);
    expect(e).toEqual([{ type: 'indicator', at: T0, indicator: 'fault', state: 'on' }]);
  });

  it('acknowledging stops the flashing and the buzzer; clearing turns the light off', () => {
    const rig = new Rig();
    rig.t(alert('raised', 'red'));
    const ack = rig.t(alert('acknowledged', 'red', { acknowledgedBy: 'wang' }), T0 + 5 * S);
    expect(ack.filter((e) => e.type === 'indicator')).toEqual([
      { type: 'indicator', at: T0 + 5 * S, indicator: 'alarm', state: 'on' },
      { type: 'indicator', at: T0 + 5 * S, indicator: 'buzzer', state: 'off' },
    ]);
    const clear = rig.t(alert('cleared', 'red'), T0 + 600 * S);
    expect(clear).toContainEqual({ type: 'indicator', at: T0 + 600 * S, indicator: 'alarm', state: 'off' });
  });

  it('clearing an alert that sounded plays the all-clear and speaks the clear message', () => {
    const rig = new Rig();
    rig.t(alert('raised', 'red'));
    const e = rig.t(alert('cleared', 'red', { textZh: '暴雨红色预警解除', textEn: 'Rainstorm red alert cleared' }), T0 + 3600 * S);
    expect(kinds(e).filter((k) => k.startsWith('siren:site'))).toEqual(['siren:site:all_clear']);
    expect(e.some((x) => x.type === 'broadcast' && x.textZh.includes('解除'))).toBe(true);
  });

  it('an escalation goes straight to the louder pattern: no siren_off between the two (no relay blip)', () => {
    const rig = new Rig();
    const orange = rig.t(alert('raised', 'orange'));
    const pre = orange.find((x) => x.type === 'siren' && x.zone === 'river')!;
    const e = rig.t(alert('escalated', 'red', { previousLevel: 'orange' }), T0 + 20 * S);
    expect(kinds(e).filter((k) => k.startsWith('siren'))).toEqual(['siren:site:air_raid_alarm', 'siren:river:air_raid_alarm', 'siren:b3:air_raid_alarm']);
    const red = e.find((x) => x.type === 'siren' && x.zone === 'river')!;
    // The log still says what the new pattern ended, and why.
    expect(red.type === 'siren' && red.replaces).toEqual({ activity: 'activity' in pre ? pre.activity : '', reason: 'replaced' });
  });

  it('a pre-empting siren also replaces the one playing without an off in between', () => {
    const rig = new Rig();
    const test = rig.c({ type: 'test', by: 'schedule', zones: ['river'] }).find((x) => x.type === 'siren')!;
    const e = rig.c({ type: 'siren', source: 'officer', by: 'wang', pattern: 'fire_alarm', zones: ['river'] }, T0 + S);
    expect(kinds(e)).toEqual(['siren:river:fire_alarm']);
    const s = e[0]!;
    expect(s.type === 'siren' && s.replaces).toEqual({ activity: 'activity' in test ? test.activity : '', reason: 'preempted' });
  });

  it('de-escalation stops the louder siren and speaks the change', () => {
    const rig = new Rig();
    rig.t(alert('raised', 'red'));
    const e = rig.t(alert('deescalated', 'yellow', { previousLevel: 'red' }), T0 + 30 * S);
    expect(kinds(e).filter((k) => k.startsWith('siren'))).toEqual(['siren_off:site:replaced', 'siren_off:river:replaced', 'siren_off:b3:replaced']);
    expect(kinds(e).filter((k) => k.startsWith('broadcast:'))).toHaveLength(3);
  });

  it('a flapping sensor builds no backlog: a new alert on the same subject replaces its stale all-clear', () => {
    const rig = new Rig();
    const speaker = rig.state.channels.get('site/speaker')!;
    let at = T0;
    for (let i = 0; i < 200; i++) {
      const id = `rg1/rain/${at}`;
      rig.t(alert('raised', 'red', { alert: id }), at);
      at += S;
      rig.t(alert('cleared', 'red', { alert: id, textZh: '解除', textEn: 'cleared' }), at);
      at += S;
      expect(speaker.queue.length).toBeLessThanOrEqual(1);
    }
    // The next raise stops the all-clear that is playing (replaced), and nothing stale waits.
    const e = rig.t(alert('raised', 'red', { alert: `rg1/rain/${at}` }), at);
    expect(kinds(e)).toContain('broadcast_stop:site:replaced');
    expect(speaker.queue.filter((q) => q.clears !== undefined)).toEqual([]);
    expect(speaker.current?.alert).toBe(`rg1/rain/${at}`);
  });

  it('an all-clear of one subject does not displace another alert or its all-clear', () => {
    const rig = new Rig();
    const speaker = rig.state.channels.get('b3/speaker')!;
    rig.t(alert('raised', 'red', { alert: 'rg1/rain/1' }));
    rig.t(alert('escalated', 'red', { alert: 'b3/fire/1', kind: 'smoke', sensors: ['sm1'], zone: 'b3' }));
    rig.t(alert('cleared', 'red', { alert: 'rg1/rain/1' }), T0 + S);
    rig.t(alert('cleared', 'red', { alert: 'b3/fire/1', kind: 'smoke', sensors: ['sm1'], zone: 'b3' }), T0 + 2 * S);
    const waiting = [speaker.current, ...speaker.queue].map((q) => q?.clears).filter(Boolean).sort();
    expect(waiting).toEqual(['b3/fire', 'rg1/rain']);
  });
});

describe('planner: priorities and pre-emption', () => {
  it('an automatic alarm pre-empts a routine notice, which resumes afterwards', () => {
    const rig = new Rig();
    rig.c({ type: 'broadcast', source: 'officer', by: 'li', textZh: '明天停水', zones: ['river'] });
    const e = rig.t(alert('raised', 'red', { sensors: ['rg1'] }), T0 + 5 * S);
    expect(kinds(e).filter((k) => k.includes('river'))).toEqual(['siren:river:air_raid_alarm', 'broadcast_stop:river:preempted', 'broadcast:river']);
    // No speaker reports done on this site: the alarm's broadcast deadline (300 s) frees it.
    const done = rig.tick(T0 + 305 * S);
    expect(done.filter((x) => 'zone' in x && x.zone === 'river').map((x) => x.type === 'broadcast' && x.textZh)).toEqual(['明天停水']);
  });

  it('a lower priority waits while a higher one plays, then starts', () => {
    const rig = new Rig();
    rig.t(alert('raised', 'red'));
    const w = rig.c({ type: 'broadcast', source: 'township', by: 'township', textZh: '乡镇通知', zones: ['river'] }, T0 + 5 * S);
    expect(w).toEqual([]);
    // The speaker never reports done: the broadcast deadline (300 s) frees the channel.
    const later = rig.tick(T0 + 301 * S);
    expect(later.filter((x) => x.type === 'broadcast').map((x) => x.type === 'broadcast' && [x.zone, x.textZh, x.priority])).toEqual([['river', '乡镇通知', 'township']]);
  });

  it('an officer emergency broadcast pre-empts a township command but not an alarm', () => {
    const rig = new Rig();
    rig.c({ type: 'broadcast', source: 'township', by: 'town', textZh: '乡镇', zones: ['b3'] });
    const e = rig.c({ type: 'broadcast', source: 'officer', by: 'wang', emergency: true, textZh: '紧急', zones: ['b3'] }, T0 + S);
    expect(kinds(e)).toEqual(['broadcast_stop:b3:preempted', 'broadcast:b3']);
    const a = rig.t(alert('raised', 'red', { alert: 'b3/fire/1', kind: 'smoke', sensors: ['sm1'], zone: 'b3' }), T0 + 2 * S);
    expect(kinds(a)).toEqual(['siren:b3:fire_alarm', 'broadcast_stop:b3:preempted', 'broadcast:b3']);
  });

  it('a drill is pre-empted by a real alarm and not resumed; its effects are marked drill', () => {
    const rig = new Rig();
    const d = rig.c({ type: 'drill', by: 'wang', kind: 'water_level', level: 'red', zones: ['river'] });
    expect(d.filter((x) => x.type === 'siren' || x.type === 'broadcast').every((x) => 'drill' in x && x.drill)).toBe(true);
    const b = d.find((x) => x.type === 'broadcast')!;
    expect(b.type === 'broadcast' && b.textZh.startsWith('【演练】')).toBe(true);
    expect(b.type === 'broadcast' && b.textEn.startsWith('[DRILL] ')).toBe(true);
    expect(d).toContainEqual({ type: 'indicator', at: T0, indicator: 'drill', state: 'on' });
    rig.t(alert('raised', 'red'), T0 + 10 * S);
    const after = rig.tick(T0 + 400 * S);
    expect(after.filter((x) => 'drill' in x && x.drill)).toEqual([]);
    const end = rig.c({ type: 'drill_end', by: 'wang' }, T0 + 401 * S);
    expect(end).toContainEqual({ type: 'indicator', at: T0 + 401 * S, indicator: 'drill', state: 'off' });
  });

  it('the scheduled test is a short blip and a spoken notice that it is not an alarm', () => {
    const rig = new Rig();
    const e = rig.c({ type: 'test', by: 'schedule', zones: ['river'] });
    const s = e.find((x) => x.type === 'siren')!;
    expect(s.type === 'siren' && [s.pattern, s.steps, s.priority]).toEqual(['test', [3], 'test']);
    expect(e.some((x) => x.type === 'broadcast' && x.textZh.includes('不是警报'))).toBe(true);
  });
});

describe('planner: siren safety', () => {
  it('no command can exceed the maximum on-time', () => {
    const rig = new Rig();
    const e = rig.c({ type: 'siren', source: 'officer', by: 'wang', pattern: 'long_blast', zones: ['river'] });
    const s = e.find((x) => x.type === 'siren')!;
    expect(s.type === 'siren' && [s.steps, s.clamped]).toEqual([[180, 10, 180], true]);
  });

  it('a pattern that follows a sounding one without a pause only gets what is left, or a rest first', () => {
    const rig = new Rig();
    rig.t(alert('raised', 'red', { alert: 'a/1' }));
    // The all-clear (180 s on) follows the alarm pattern ending in an on-step: 6 s already on.
    rig.t(alert('cleared', 'red', { alert: 'a/1' }), T0 + 174 * S); // alarm ends at 174 s
    const clear = rig.effects.filter((x) => x.type === 'siren' && x.pattern === 'all_clear' && x.zone === 'river')[0]!;
    expect(clear.type === 'siren' && [clear.steps, clear.clamped]).toEqual([[174], true]);
    // A 180 s blast followed straight by another: the second starts with the 10 s rest.
    const r2 = new Rig();
    r2.c({ type: 'siren', source: 'officer', by: 'wang', pattern: 'all_clear', zones: ['b3'] });
    const again = r2.c({ type: 'siren', source: 'township', by: 'town', pattern: 'all_clear', zones: ['b3'] }, T0 + 180 * S);
    const s = again.find((x) => x.type === 'siren')!;
    expect(s.type === 'siren' && s.steps).toEqual([0, 10, 180]);
  });

  it('silence stops sirens (logged with who), keeps speech, and the same level does not re-sound', () => {
    const rig = new Rig();
    rig.t(alert('raised', 'orange'));
    const e = rig.c({ type: 'silence', by: 'wang' }, T0 + 20 * S);
    expect(kinds(e)).toEqual(['siren_off:site:silenced', 'siren_off:river:silenced', 'siren_off:b3:silenced']);
    expect(e.every((x) => x.type !== 'siren_off' || x.by === 'wang')).toBe(true);
    expect(e).toContainEqual({ type: 'indicator', at: T0 + 20 * S, indicator: 'buzzer', state: 'off' });
    expect(e).not.toContainEqual(expect.objectContaining({ indicator: 'alarm', state: 'off' }));
    // Escalation sounds again: a higher level is news.
    const red = rig.t(alert('escalated', 'red', { previousLevel: 'orange' }), T0 + 60 * S);
    expect(kinds(red).filter((k) => k.startsWith('siren:'))).toHaveLength(3);
    // Clearing a silenced alert plays no all-clear.
    rig.c({ type: 'silence', by: 'wang' }, T0 + 70 * S);
    const cl = rig.t(alert('cleared', 'red'), T0 + 3000 * S);
    expect(kinds(cl).filter((k) => k.startsWith('siren:'))).toEqual([]);
  });

  it('stop ends speech and sirens in the named zones only', () => {
    const rig = new Rig();
    rig.t(alert('raised', 'red'));
    const e = rig.c({ type: 'stop', by: 'wang', zones: ['river'] }, T0 + 5 * S);
    expect(kinds(e)).toEqual(['siren_off:river:stopped', 'broadcast_stop:river:stopped']);
  });

  it('unknown patterns and zones are notes, not crashes', () => {
    const rig = new Rig();
    rig.c({ type: 'siren', source: 'officer', by: 'wang', pattern: 'nope', zones: ['river', 'mars'] });
    expect(rig.notes).toEqual([
      { at: T0, note: 'unknown_pattern', detail: { pattern: 'nope', activity: 'act-1' } },
      { at: T0, note: 'unknown_zone', detail: { zone: 'mars', activity: 'act-1' } },
    ]);
  });
});
