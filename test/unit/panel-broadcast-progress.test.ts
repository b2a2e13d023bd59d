/**
 * The panel's broadcast progress per zone (broadcast-progress.ts), driven by the real pure
 * planner: its effects and its channels (liveParts) as the box's bus and the state builder give
 * them, with speakers' reports as a speaker sends them.
 */
import { describe, expect, it } from 'vitest';
import { BroadcastProgress, KEEP_MS, type BroadcastView } from '../../gateway/panel/broadcast-progress.ts';
import { liveParts } from '../../gateway/panel/broadcast-watch.ts';
import type { Command, Effect } from '../../gateway/planner/types.ts';
import { PlannerRig } from '../helpers/planner-rig.ts';
import { T0, site } from '../helpers/site.ts';

const cfg = site(`
site: { id: t, name: 测试村 }
zones: [{ id: river }, { id: b3 }, { id: east }, { id: lonely }]
sensors: [{ id: rg1, kind: rain }]
actuators:
  - { id: spk-river, kind: speaker, zones: [river] }
  - { id: spk-b3, kind: speaker, zones: [b3] }
  - { id: spk-east1, kind: speaker, zones: [east] }
  - { id: spk-east2, kind: speaker, zones: [east] }
actions: { broadcast_max_s: 60 }
`);
const S = 1000;
/** The engine clock and the wall clock of these tests are one. */
const wall = (ms: number): string => new Date(ms).toISOString();

class Box {
  readonly rig = new PlannerRig(cfg);
  readonly progress = new BroadcastProgress();
  now = T0;
  private feed(effects: Effect[]): void {
    for (const e of effects) this.progress.effect(e, this.now);
  }
  cmd(c: Command): string[] {
    const fx = this.rig.c(c, this.now);
    this.feed(fx);
    return fx.filter((e) => e.type === 'broadcast').map((e) => (e as { activity: string }).activity);
  }
  /** A speaker's report, as the box handles it: the router frees the speaker in the planner, the panel hears the report. */
  report(actuator: string, activity: string, report: 'done' | 'fault' = 'done'): void {
    if (report === 'done') this.feed(this.rig.c({ type: 'broadcast_done', actuator, activity }, this.now));
    this.progress.report({ actuator, activity, report }, this.now);
  }
  tick(ms: number): void {
    this.now += ms;
    this.feed(this.rig.tick(this.now));
  }
  view(): BroadcastView[] {
    return this.progress.view(liveParts(this.rig.state, this.now, this.now), this.now, wall);
  }
  states(): Record<string, Record<string, string>> {
    return Object.fromEntries(this.view().map((b) => [b.activity, b.zones_state]));
  }
}

const broadcast = (zones: string[], over: Partial<Extract<Command, { type: 'broadcast' }>> = {}): Command => ({ type: 'broadcast', source: 'officer', by: 'wang', template: 'evacuation', zones, ...over });

describe('panel: broadcast progress per zone', () => {
  it('plays on each zone, then done zone by zone as each speaker reports; kept a minute after the last, then gone', () => {
    const b = new Box();
    const [a] = b.cmd(broadcast(['river', 'b3']));
    const [v] = b.view();
    expect(v).toMatchObject({ activity: a, template: 'evacuation', zones: ['river', 'b3'], repeat: 1, by: 'wang', drill: false, started_at: wall(T0), zones_state: { river: 'playing', b3: 'playing' } });
    expect(v!.text_zh).toContain('撤离');
    b.now += 5 * S;
    b.report('spk-river', a!);
    expect(b.states()[a!]).toEqual({ river: 'done', b3: 'playing' });
    b.report('spk-b3', a!);
    expect(b.states()[a!]).toEqual({ river: 'done', b3: 'done' });
    b.now += KEEP_MS - 1;
    expect(b.view()).toHaveLength(1);
    b.now += 1;
    expect(b.view()).toEqual([]);
  });

  it('a broadcast waiting behind another is queued, with no start time, and plays once the speaker is free', () => {
    const b = new Box();
    const [first] = b.cmd(broadcast(['river']));
    b.now += S;
    const [second] = b.cmd(broadcast(['river'], { template: 'flood' }));
    expect(second).toBeUndefined(); // no effect yet: it waits
    const v = b.view();
    expect(v.map((x) => [x.template, x.zones_state.river, x.started_at])).toEqual([
      ['evacuation', 'playing', wall(T0)],
      ['flood', 'queued', null],
    ]);
    b.now += S;
    b.report('spk-river', first!);
    expect(b.view().map((x) => [x.template, x.zones_state.river, x.started_at])).toEqual([
      ['evacuation', 'done', wall(T0)],
      ['flood', 'playing', wall(T0 + 2 * S)],
    ]);
  });

  it('stop: stopped; a pre-empted broadcast waits again (queued) and plays after; a pre-empted drill is dropped (stopped)', () => {
    const b = new Box();
    const [a] = b.cmd(broadcast(['b3']));
    b.cmd({ type: 'stop', by: 'wang', zones: ['b3'] });
    expect(b.states()[a!]).toEqual({ b3: 'stopped' });

    const [routine] = b.cmd(broadcast(['river'], { template: 'rainstorm' }));
    const [urgent] = b.cmd(broadcast(['river'], { emergency: true }));
    expect(b.states()).toMatchObject({ [routine!]: { river: 'queued' }, [urgent!]: { river: 'playing' } });
    b.report('spk-river', urgent!);
    expect(b.states()).toMatchObject({ [routine!]: { river: 'playing' }, [urgent!]: { river: 'done' } });

    const [drill] = b.cmd(broadcast(['east'], { drill: true }));
    expect(b.states()[drill!]).toEqual({ east: 'playing' });
    b.cmd(broadcast(['east'], { emergency: true }));
    expect(b.states()[drill!]).toEqual({ east: 'stopped' });
  });

  it('failed: a zone no speaker serves, a speaker fault, and a speaker freed at broadcast_max_s without a done', () => {
    const noSpeaker = site(`
site: { id: t, name: t }
zones: [{ id: river }, { id: b3 }]
sensors: [{ id: rg1, kind: rain }]
actuators: [{ id: spk-river, kind: speaker, zones: [river] }]
`);
    const rig = new PlannerRig(noSpeaker);
    const progress = new BroadcastProgress();
    const fx = rig.c(broadcast(['river', 'b3']), T0);
    for (const e of fx) progress.effect(e, T0);
    const [v] = progress.view(liveParts(rig.state, T0, T0), T0, wall);
    expect(v!.zones_state).toEqual({ river: 'playing', b3: 'failed' });

    const b = new Box();
    const [a] = b.cmd(broadcast(['river', 'b3']));
    b.report('spk-b3', a!, 'fault');
    expect(b.states()[a!]).toEqual({ river: 'playing', b3: 'failed' });
    b.tick(61 * S); // broadcast_max_s 60: the planner frees spk-river without a word
    expect(b.states()[a!]).toEqual({ river: 'failed', b3: 'failed' });
  });

  it('two speakers in one zone: the zone shows what still needs watching (playing over done, failed over done)', () => {
    const b = new Box();
    const [a] = b.cmd(broadcast(['east']));
    b.report('spk-east1', a!);
    expect(b.states()[a!]).toEqual({ east: 'playing' });
    b.report('spk-east2', a!, 'fault');
    expect(b.states()[a!]).toEqual({ east: 'failed' });
  });

  it('a site-wide speaker plays once for every zone asked: each of them shows its state', () => {
    const wide = site(`
site: { id: t, name: t }
zones: [{ id: river }, { id: b3 }]
sensors: [{ id: rg1, kind: rain }]
actuators: [{ id: spk-site, kind: speaker, zones: [site] }, { id: spk-b3, kind: speaker, zones: [b3] }]
`);
    const rig = new PlannerRig(wide);
    const progress = new BroadcastProgress();
    for (const e of rig.c(broadcast(['river', 'b3']), T0)) progress.effect(e, T0);
    progress.report({ actuator: 'spk-b3', activity: 'act-1', report: 'done' }, T0);
    rig.c({ type: 'broadcast_done', actuator: 'spk-b3', activity: 'act-1' }, T0);
    const [v] = progress.view(liveParts(rig.state, T0, T0), T0, wall);
    // spk-site plays it for river and b3 alike: b3 is still being spoken to.
    expect(v).toMatchObject({ zones: ['river', 'b3'], zones_state: { river: 'playing', b3: 'playing' } });
  });

  it('a report for another speaker, an unknown activity, or a resent done changes nothing', () => {
    const b = new Box();
    const [a] = b.cmd(broadcast(['river']));
    b.progress.report({ actuator: 'spk-b3', activity: a!, report: 'done' }, b.now);
    b.progress.report({ actuator: 'spk-river', activity: 'act-999', report: 'done' }, b.now);
    b.progress.report({ actuator: 'spk-river', activity: a!, report: 'state' }, b.now);
    expect(b.states()[a!]).toEqual({ river: 'playing' });
    b.report('spk-river', a!);
    b.now += KEEP_MS / 2;
    b.progress.report({ actuator: 'spk-river', activity: a!, report: 'done' }, b.now);
    b.now += KEEP_MS / 2;
    expect(b.view()).toEqual([]); // the resent done did not restart the minute
  });

  it('remembers at most MAX finished broadcasts', () => {
    const progress = new BroadcastProgress(KEEP_MS, 3);
    for (let i = 1; i <= 5; i++) {
      progress.effect({ type: 'broadcast', at: T0, actuator: 'spk1', zone: 'site', activity: `act-${i}`, priority: 'routine', source: 'officer', by: 'wang', alert: null, drill: false, chime: true, repeat: 1, textZh: `第${i}`, textEn: `${i}` }, T0);
      progress.report({ actuator: 'spk1', activity: `act-${i}`, report: 'done' }, T0);
    }
    expect(progress.view([], T0, wall).map((v) => v.activity)).toEqual(['act-3', 'act-4', 'act-5']);
  });
});
