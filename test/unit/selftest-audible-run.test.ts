/**
 * schedule/audible-run.ts, fed by the real planner (PlannerRig): the self-test's `test` command,
 * the effects it makes, what the actuators report and the clock, to each actuator's verdict.
 * Also the planner side: a test for the speakers only speaks, one for the sirens only growls,
 * and an alarm pre-empts either.
 */
import { describe, expect, it } from 'vitest';
import type { Effect } from '../../gateway/planner/types.ts';
import { finished, newRun, nextDeadline, onEffect, onReport, onTime, outcome, wantsRetry, type AudibleRun, type AudibleTest } from '../../gateway/schedule/audible-run.ts';
import { PlannerRig } from '../helpers/planner-rig.ts';
import { T0, rainTransition, site } from '../helpers/site.ts';

const S = 1000;
const cfg = site(`
site: { id: t, name: 测试村, name_en: Testville }
zones: [{ id: b3, name: 3号楼 }]
sensors: [{ id: rg1, kind: rain }]
actuators:
  - { id: spk1, kind: speaker, zones: [site] }
  - { id: spk2, kind: speaker, zones: [b3] }
  - { id: siren1, kind: siren, zones: [site] }
  - { id: siren2, kind: siren, zones: [b3] }
`);

/** A run of `test` started at T0 through the real planner; `feed` gives it every effect so far. */
function started(test: AudibleTest, readBack: Record<string, boolean> = {}): { rig: PlannerRig; run: AudibleRun; feed: (effects: Effect[], at?: number) => void } {
  const rig = new PlannerRig(cfg);
  const ids = test === 'speaker_weekly' ? ['spk1', 'spk2'] : ['siren1', 'siren2'];
  const run = newRun('st-1', test, `schedule:${test}`, ids.map((actuator) => ({ actuator, readBack: readBack[actuator] ?? false })), T0, 60, 360);
  const feed = (effects: Effect[], at = T0): void => {
    for (const e of effects) onEffect(run, e, at);
  };
  feed(rig.c({ type: 'test', by: run.by, targets: test === 'speaker_weekly' ? 'speakers' : 'sirens' }));
  return { rig, run, feed };
}

const status = (run: AudibleRun): Record<string, string> => Object.fromEntries([...run.targets.values()].map((t) => [t.actuator, t.reason ? `${t.status}:${t.reason}` : t.status]));

describe('the planner plays a narrowed test', () => {
  it('speakers only: a broadcast on each speaker with the chime and the test sentence, no siren', () => {
    const rig = new PlannerRig(cfg);
    const e = rig.c({ type: 'test', by: 'schedule:speaker_weekly', targets: 'speakers' });
    expect(e.filter((x) => x.type === 'siren')).toEqual([]);
    const b = e.filter((x) => x.type === 'broadcast');
    expect(b.map((x) => x.actuator)).toEqual(['spk1', 'spk2']);
    expect(b[0]).toMatchObject({ chime: true, repeat: 1, priority: 'test', source: 'schedule', by: 'schedule:speaker_weekly', drill: false, textZh: '测试村预警设备例行测试,这不是警报。' });
  });

  it('sirens only: the 3 s test pattern on each siren, no speech', () => {
    const rig = new PlannerRig(cfg);
    const e = rig.c({ type: 'test', by: 'schedule:siren_monthly', targets: 'sirens' });
    expect(e.filter((x) => x.type === 'broadcast')).toEqual([]);
    expect(e.filter((x) => x.type === 'siren').map((x) => x.type === 'siren' && [x.actuator, x.pattern, x.steps, x.priority])).toEqual([
      ['siren1', 'test', [3], 'test'],
      ['siren2', 'test', [3], 'test'],
    ]);
  });

  it('without targets, both (the officer\'s `test` command, as before)', () => {
    const e = new PlannerRig(cfg).c({ type: 'test', by: 'wang' });
    expect(e.filter((x) => x.type !== 'indicator').map((x) => `${x.type}:${'actuator' in x ? x.actuator : ''}`).sort()).toEqual(['broadcast:spk1', 'broadcast:spk2', 'siren:siren1', 'siren:siren2']);
  });
});

describe('speaker test verdicts', () => {
  it('every speaker reports done for its activity: passed', () => {
    const { run } = started('speaker_weekly');
    expect(status(run)).toEqual({ spk1: 'playing', spk2: 'playing' });
    const activity = run.targets.get('spk1')!.activity!;
    onReport(run, { actuator: 'spk1', report: 'done', activity }, T0);
    expect(finished(run)).toBe(false);
    onReport(run, { actuator: 'spk2', report: 'done', activity }, T0);
    expect(finished(run)).toBe(true);
    expect([outcome(run), wantsRetry(run)]).toEqual(['passed', false]);
  });

  it('a speaker that never reports done fails at the deadline, with how long it waited', () => {
    const { run } = started('speaker_weekly');
    onReport(run, { actuator: 'spk1', report: 'done', activity: run.targets.get('spk1')!.activity! }, T0);
    expect(nextDeadline(run)).toBe(T0 + 60 * S);
    onTime(run, T0 + 59 * S);
    expect(status(run).spk2).toBe('playing');
    onTime(run, T0 + 60 * S);
    expect(status(run)).toEqual({ spk1: 'passed', spk2: 'failed:no_done' });
    expect(run.targets.get('spk2')!.detail).toEqual({ waited_s: 60 });
    expect([finished(run), outcome(run), wantsRetry(run), nextDeadline(run)]).toEqual([true, 'failed', false, null]);
  });

  it('done for another activity, a state report, or a report from another actuator do not count', () => {
    const { run } = started('speaker_weekly');
    onReport(run, { actuator: 'spk2', report: 'done', activity: 'act-999' }, T0);
    onReport(run, { actuator: 'spk2', report: 'state', activity: run.targets.get('spk2')!.activity! }, T0);
    onReport(run, { actuator: 'siren1', report: 'done', activity: run.targets.get('spk2')!.activity! }, T0);
    expect(status(run).spk2).toBe('playing');
  });

  it("the router's own no_done (an MQTT speaker silent past its broadcast's length) is the speaker's no_done, at that time", () => {
    const { run } = started('speaker_weekly');
    onReport(run, { actuator: 'spk1', report: 'fault', activity: 'act-999', detail: { reason: 'no_done', after_s: 31 } }, T0 + 31 * S);
    expect(status(run).spk1).toBe('playing'); // another broadcast's
    onReport(run, { actuator: 'spk1', report: 'fault', activity: run.targets.get('spk1')!.activity!, detail: { reason: 'no_done', after_s: 31 } }, T0 + 31 * S);
    expect(status(run).spk1).toBe('failed:no_done');
    expect(run.targets.get('spk1')!.detail).toEqual({ waited_s: 31 });
  });

  it('a fault report fails the speaker at once, with what the device said', () => {
    const { run } = started('speaker_weekly');
    onReport(run, { actuator: 'spk1', report: 'fault', detail: { reason: 'amplifier_overheat' } }, T0);
    expect(status(run).spk1).toBe('failed:device_fault');
    expect(run.targets.get('spk1')!.detail).toEqual({ reason: 'amplifier_overheat' });
  });

  it('a settled speaker stays settled: a late done or a second report change nothing', () => {
    const { run } = started('speaker_weekly');
    onTime(run, T0 + 60 * S);
    onReport(run, { actuator: 'spk1', report: 'done', activity: run.targets.get('spk1')!.activity! }, T0);
    expect(status(run)).toEqual({ spk1: 'failed:no_done', spk2: 'failed:no_done' });
  });

  it('an alarm pre-empts the test: interrupted (not a fault), and the run asks for a retry', () => {
    const { rig, run, feed } = started('speaker_weekly');
    feed(rig.t(rainTransition('raised', 'red'), T0 + 2 * S), T0 + 2 * S);
    expect(status(run)).toEqual({ spk1: 'interrupted', spk2: 'interrupted' });
    expect(run.targets.get('spk1')!.detail).toEqual({ reason: 'preempted', by: 'planner' });
    expect([finished(run), outcome(run), wantsRetry(run)]).toEqual([true, 'interrupted', true]);
  });

  it('an officer stops it: stopped, no fault and no retry', () => {
    const { rig, run, feed } = started('speaker_weekly');
    feed(rig.c({ type: 'stop', by: 'wang' }, T0 + S), T0 + S);
    expect(status(run)).toEqual({ spk1: 'stopped', spk2: 'stopped' });
    expect(run.targets.get('spk1')!.detail).toEqual({ reason: 'stopped', by: 'wang' });
    expect([outcome(run), wantsRetry(run)]).toEqual(['stopped', false]);
  });

  it('a speaker busy with something that ranks higher gets the test later: its clock starts then', () => {
    const rig = new PlannerRig(cfg);
    const notice = rig.c({ type: 'broadcast', source: 'township', by: 'town', textZh: '通知', zones: ['b3'] }).find((e) => e.type === 'broadcast')!;
    const run = newRun('st-1', 'speaker_weekly', 'schedule:speaker_weekly', [{ actuator: 'spk1', readBack: false }, { actuator: 'spk2', readBack: false }], T0, 60, 360);
    const feed = (effects: Effect[], at: number): void => effects.forEach((e) => onEffect(run, e, at));
    feed(rig.c({ type: 'test', by: run.by, targets: 'speakers' }, T0), T0);
    expect(status(run)).toEqual({ spk1: 'waiting', spk2: 'waiting' }); // the notice for b3 plays on both (spk1 serves the whole site)
    feed(rig.c({ type: 'broadcast_done', actuator: 'spk2', activity: notice.activity }, T0 + 10 * S), T0 + 10 * S);
    expect(status(run)).toEqual({ spk1: 'waiting', spk2: 'playing' });
    expect(run.targets.get('spk2')!.deadline).toBe(T0 + 70 * S);
    expect(nextDeadline(run)).toBe(T0 + 70 * S);
  });

  it('one still waiting for its turn when the wait is over: interrupted (never started)', () => {
    const rig = new PlannerRig(cfg);
    rig.c({ type: 'broadcast', source: 'township', by: 'town', textZh: '通知', zones: ['site'] });
    const run = newRun('st-1', 'speaker_weekly', 'schedule:speaker_weekly', [{ actuator: 'spk1', readBack: false }], T0, 60, 360);
    for (const e of rig.c({ type: 'test', by: run.by, targets: 'speakers' }, T0)) onEffect(run, e, T0);
    expect(status(run)).toEqual({ spk1: 'waiting' });
    expect(nextDeadline(run)).toBe(T0 + 360 * S);
    onTime(run, T0 + 360 * S);
    expect(status(run)).toEqual({ spk1: 'interrupted' });
    expect(run.targets.get('spk1')!.detail).toEqual({ reason: 'never_started' });
    expect(wantsRetry(run)).toBe(true);
  });

  it("another source's broadcast on the speaker is not the test's", () => {
    const run = newRun('st-1', 'speaker_weekly', 'schedule:speaker_weekly', [{ actuator: 'spk1', readBack: false }], T0, 60, 360);
    for (const e of new PlannerRig(cfg).c({ type: 'test', by: 'wang', targets: 'speakers' })) onEffect(run, e, T0);
    expect(status(run)).toEqual({ spk1: 'waiting' });
  });
});

describe('siren test verdicts', () => {
  it('a Modbus relay siren (read back by its driver) passes when no fault came by the end of the pattern plus the wait', () => {
    const { run } = started('siren_monthly', { siren1: true, siren2: true });
    expect(nextDeadline(run)).toBe(T0 + 3 * S + 60 * S);
    onTime(run, T0 + 62 * S);
    expect(status(run)).toEqual({ siren1: 'playing', siren2: 'playing' });
    onTime(run, T0 + 63 * S);
    expect([status(run), outcome(run)]).toEqual([{ siren1: 'passed', siren2: 'passed' }, 'passed']);
  });

  it('a relay fault report (the driver: write failed, did not follow) fails that siren, whatever its activity', () => {
    const { run } = started('siren_monthly', { siren1: true, siren2: true });
    onReport(run, { actuator: 'siren2', report: 'fault', detail: { reason: 'relay_did_not_follow', wanted: true, read_back: false } }, T0);
    onTime(run, T0 + 63 * S);
    expect(status(run)).toEqual({ siren1: 'passed', siren2: 'failed:device_fault' });
    expect(run.targets.get('siren2')!.detail).toEqual({ reason: 'relay_did_not_follow', wanted: true, read_back: false });
  });

  it('an MQTT siren must report done or state for the activity; silence is a failure (no_report)', () => {
    const { run } = started('siren_monthly');
    const activity = run.targets.get('siren1')!.activity!;
    onReport(run, { actuator: 'siren1', report: 'state', activity }, T0);
    onTime(run, T0 + 63 * S);
    expect(status(run)).toEqual({ siren1: 'passed', siren2: 'failed:no_report' });
    expect(run.targets.get('siren2')!.detail).toEqual({ waited_s: 63 });
  });

  it('an alarm pattern taking over the siren (no siren_off between: `replaces`) interrupts the test', () => {
    const { rig, run, feed } = started('siren_monthly', { siren1: true, siren2: true });
    const alarm = rig.t(rainTransition('raised', 'red'), T0 + S);
    expect(alarm.find((e) => e.type === 'siren' && e.actuator === 'siren1')).toMatchObject({ replaces: { reason: 'preempted' } });
    feed(alarm, T0 + S);
    expect(status(run)).toEqual({ siren1: 'interrupted', siren2: 'interrupted' });
    expect(wantsRetry(run)).toBe(true);
  });

  it('silenced by an officer: stopped, not retried', () => {
    const { rig, run, feed } = started('siren_monthly', { siren1: true, siren2: true });
    feed(rig.c({ type: 'silence', by: 'wang' }, T0 + S), T0 + S);
    expect(status(run)).toEqual({ siren1: 'stopped', siren2: 'stopped' });
    expect([outcome(run), wantsRetry(run)]).toEqual(['stopped', false]);
  });

  it('outcome: any failure wins over an interruption, which still asks for a retry; a stop asks for none', () => {
    const run = newRun('st-1', 'siren_monthly', 'schedule:siren_monthly', [{ actuator: 'a', readBack: true }, { actuator: 'b', readBack: true }, { actuator: 'c', readBack: true }], T0, 60, 360);
    const [a, b, c] = [...run.targets.values()];
    Object.assign(a!, { status: 'failed', reason: 'device_fault' });
    Object.assign(b!, { status: 'interrupted' });
    Object.assign(c!, { status: 'passed' });
    expect([outcome(run), wantsRetry(run)]).toEqual(['failed', true]);
    Object.assign(c!, { status: 'stopped' });
    expect([outcome(run), wantsRetry(run)]).toEqual(['failed', false]);
  });
});
