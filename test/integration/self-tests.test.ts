/**
 * The scheduled self-tests as the box runs them (gateway/schedule/self-tests.ts), on fake
 * timers: node-schedule fires them at their cron times in the site's offset; the real engine,
 * planner, actuator router and event log (SQLite) do the rest. The speakers and sirens are
 * played by test devices on the bus: they see the box's effects and report as the broker hands
 * a device's `actuator/<id>/report` to the box.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import schedule from 'node-schedule';
import pino from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { SiteConfig } from '../../gateway/config/types.ts';
import type { Effect } from '../../gateway/planner/types.ts';
import { SelfTests } from '../../gateway/schedule/self-tests.ts';
import { ActuatorRouter } from '../../gateway/shell/actuators.ts';
import { Bus } from '../../gateway/shell/bus.ts';
import type { Clock } from '../../gateway/shell/clock.ts';
import { EngineRunner } from '../../gateway/shell/engine-runner.ts';
import type { BoxContext } from '../../gateway/shell/module.ts';
import { EventStore } from '../../gateway/store/event-store.ts';
import { site } from '../helpers/site.ts';
import { tempDir } from '../helpers/store-rig.ts';

const S = 1000;
const MIN = 60 * S;
/** Monday 2026-07-20, 09:59 at the site (+08:00); the machine's own zone does not matter. */
const MONDAY_0959 = Date.parse('2026-07-20T09:59:00+08:00');

const config = (selfTests = ''): SiteConfig =>
  site(`
site: { id: st, name: 测试村, name_en: Testville }
zones: [{ id: b3, name: 3号楼 }]
buses: [{ id: f1, type: tcp, host: 127.0.0.1 }]
sensors:
  - { id: rg1, kind: rain, name: 雨量计, interval_s: 60 }
  - { id: wl1, kind: water_level, stages: { warning: 2.5 }, raise_after_s: 0, clear_after_s: 0, interval_s: 60 }
  - { id: sm1, kind: smoke, zone: b3, name: 一层烟感, name_en: ground floor detector, interval_s: 30 }
actuators:
  - { id: spk1, kind: speaker, name: 村广播, zones: [site] }
  - { id: siren1, kind: siren, name: 村口警报器, zones: [site] }
  - { id: siren2, kind: siren, name: 楼道警报器, zones: [b3], modbus: { bus: f1, unit: 1, profile: waveshare-modbus-rtu-relay } }
self_tests: { retry_after_min: 30, done_within_s: 60${selfTests} }
`);

interface Rig {
  ctx: BoxContext;
  store: EventStore;
  engine: EngineRunner;
  clock: Clock & { trustedNow: boolean };
  /** What each test device does with an effect addressed to it. */
  devices: Map<string, (e: Effect) => void>;
  effects: Effect[];
  /** The seqs of the bus's `logged` events, in the order the bus told them. */
  loggedSeqs: number[];
  events(type?: string): { type: string; payload: any }[];
  reading(sensor: string, value: number): void;
  stop(): Promise<void>;
}

let dir: string | null = null;
let running: Rig | null = null;
afterEach(async () => {
  await running?.stop();
  running = null;
  vi.useRealTimers();
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = null;
});

/**
 * `storeJobs`: the store's own jobs (the rollup every 5 s), which the reporting check reads;
 * off elsewhere, so a week of fake time is not 120,960 rollups.
 */
async function start(cfg: SiteConfig, now = MONDAY_0959, storeJobs = false): Promise<Rig> {
  vi.useFakeTimers({ now });
  dir = tempDir('sb-selftest-');
  const t0 = Date.now();
  const clock = { trustedNow: true, boot: 'b', wall: () => Date.now(), mono: () => Date.now() - t0, trusted: () => clock.trustedNow };
  const log = pino({ level: process.env.SELFTEST_LOG ?? 'silent' });
  const ctx: BoxContext = { config: cfg, bus: new Bus(log), log, clock };
  const store = new EventStore(ctx, { path: join(dir, 'box.db'), schedule: storeJobs });
  // A tick a minute: a week of fake time is 10,080 ticks, not 604,800.
  const engine = new EngineRunner(ctx, store, MIN);
  const router = new ActuatorRouter(ctx, async () => undefined);
  const selfTests = new SelfTests(ctx, store, { active: () => engine.active(), drillRunning: () => engine.read((c) => c.planner.drill !== null), selfTest: (r, e) => engine.selfTest(r, e) }, store);
  const modules = [store, engine, router, selfTests];
  for (const m of modules) await m.start();
  const effects: Effect[] = [];
  const loggedSeqs: number[] = [];
  ctx.bus.on('logged', (e) => loggedSeqs.push(e.seq));
  const devices = new Map<string, (e: Effect) => void>();
  ctx.bus.on('effect', (e) => {
    effects.push(e);
    if ('actuator' in e && e.actuator) devices.get(e.actuator)?.(e);
  });
  const rig: Rig = {
    ctx,
    store,
    engine,
    clock,
    devices,
    effects,
    loggedSeqs,
    events: (type) => store.since(0, 100_000).filter((e) => !type || e.type === type) as { type: string; payload: any }[],
    reading: (sensor, value) => ctx.bus.emit('reading', { sensor, value, at: clock.mono(), quality: 'good' }),
    async stop() {
      for (const m of [...modules].reverse()) await m.stop();
    },
  };
  running = rig;
  return rig;
}

/** A speaker that plays for `ms` and reports done, as the demo's simulated speaker does. */
function speaker(rig: Rig, id: string, ms = 3 * S): void {
  rig.devices.set(id, (e) => {
    if (e.type === 'broadcast') setTimeout(() => rig.ctx.bus.emit('actuatorReport', { actuator: id, report: 'done', activity: e.activity }), ms);
  });
}

/**
 * A job due at a time runs a millisecond after it on the fake clock (node-schedule re-arms with
 * a 0 ms timeout, which the fake timers run at +1 ms): the checks below look a second after.
 */
const selftests = (rig: Rig): any[] => rig.events('selftest').map((e) => e.payload);
const outcomes = (rig: Rig): string[] => selftests(rig).map((p) => `${p.test}:${p.outcome}${p.reason ? `:${p.reason}` : ''}`);
/** The self-tests' fault alerts (the sensors here send nothing unless told, so they go stale too: those faults block no test). */
const faults = (rig: Rig): any[] => rig.events('fault').map((e) => e.payload).filter((p) => p.fault === 'self_test' || p.fault === 'not_reporting');
const activeSelfTest = (rig: Rig) => rig.engine.active().filter((a) => /\/(selftest|reporting)\//.test(a.alert));

describe('the weekly speaker test', () => {
  it('runs at 10:00 on Monday at the site: the chime and the test sentence at the test priority, attributed to the schedule; the speaker reports done: passed', async () => {
    const rig = await start(config(", siren_monthly: false, reporting_daily: false"));
    speaker(rig, 'spk1');
    await vi.advanceTimersByTimeAsync(59 * S);
    expect(selftests(rig)).toEqual([]);
    await vi.advanceTimersByTimeAsync(2 * S);
    const command = rig.events('command').map((e) => e.payload)[0];
    expect(command).toMatchObject({ command: { type: 'test', by: 'schedule:speaker_weekly', targets: 'speakers' }, by: 'schedule:speaker_weekly', role: 'system', via: 'schedule', result: { ok: true } });
    const b = rig.events('effect').map((e) => e.payload).find((p) => p.type === 'broadcast');
    expect(b).toMatchObject({ actuator: 'spk1', priority: 'test', source: 'schedule', by: 'schedule:speaker_weekly', chime: true, textZh: '测试村预警设备例行测试,这不是警报。' });
    expect(rig.effects.filter((e) => e.type === 'siren')).toEqual([]);
    await vi.advanceTimersByTimeAsync(3 * S);
    expect(outcomes(rig)).toEqual(['speaker_weekly:started', 'speaker_weekly:passed']);
    expect(selftests(rig)[1]).toMatchObject({ by: 'schedule', run: 'st-1', actuators: [{ actuator: 'spk1', status: 'passed', activity: b.activity }], retry_at: null });
    expect(faults(rig)).toEqual([]);
    expect(rig.events('selftest')[0]!).toMatchObject({ type: 'selftest' });
  });

  it('a speaker that does not report done: a fault alert with the reason; next week it passes and the fault clears', async () => {
    const rig = await start(config(", siren_monthly: false, reporting_daily: false"));
    // The router gives an MQTT speaker twice the broadcast's expected length and 15 s (shell/actuators.ts), less than done_within_s.
    await vi.advanceTimersByTimeAsync(MIN + 2 * S);
    expect(outcomes(rig)).toEqual(['speaker_weekly:started']);
    await vi.advanceTimersByTimeAsync(59 * S);
    expect(outcomes(rig)).toEqual(['speaker_weekly:started', 'speaker_weekly:failed']);
    const waited = selftests(rig)[1].actuators[0].detail.waited_s;
    expect(waited).toBeGreaterThan(15);
    expect(waited).toBeLessThanOrEqual(60);
    expect(selftests(rig)[1].actuators).toEqual([expect.objectContaining({ actuator: 'spk1', status: 'failed', reason: 'no_done', detail: { waited_s: waited } })]);
    const [raised] = faults(rig);
    expect(raised).toMatchObject({ transition: 'raised', kind: 'fault', fault: 'self_test', rule: 'speaker_weekly', values: { reason: 'no_done', waited_s: waited }, textZh: expect.stringContaining(`广播 村广播 例行自检未通过:发出测试广播后 ${waited} 秒内未报告播放完成`) });
    expect(activeSelfTest(rig)).toEqual([expect.objectContaining({ alert: raised.alert, kind: 'fault' })]);
    // The verdict and the fault it raised are one commit, the verdict first.
    const all = rig.events();
    const verdict = all.findIndex((e) => e.type === 'selftest' && e.payload.outcome === 'failed');
    expect(all[verdict + 1]).toMatchObject({ type: 'fault', payload: { alert: raised.alert } });
    // Fixed by next Monday.
    speaker(rig, 'spk1');
    await vi.advanceTimersByTimeAsync(7 * 24 * 60 * MIN);
    expect(outcomes(rig).slice(2)).toEqual(['speaker_weekly:started', 'speaker_weekly:passed']);
    expect(faults(rig)[1]).toMatchObject({ transition: 'cleared', alert: raised.alert, textZh: '故障已恢复:广播 村广播 例行自检通过' });
    expect(activeSelfTest(rig)).toEqual([]);
  });

  it('skipped while an alarm is active, run afterwards: tried every 30 min, runs once the alarm is over', async () => {
    const rig = await start(config(", siren_monthly: false, reporting_daily: false"));
    speaker(rig, 'spk1');
    rig.reading('wl1', 2.8); // over the warning stage: a yellow flood notice (it also speaks)
    const alarm = rig.engine.active().find((a) => a.kind === 'water_level')!;
    expect(alarm).toBeDefined();
    await vi.advanceTimersByTimeAsync(MIN + S);
    expect(outcomes(rig)).toEqual(['speaker_weekly:skipped:alarm_active']);
    expect(selftests(rig)[0]).toMatchObject({ trigger: 'regular', alerts: [alarm.alert], retry_at: '2026-07-20T10:30:00+08:00', superseded: false });
    expect(rig.effects.filter((e) => 'by' in e && e.by === 'schedule:speaker_weekly')).toEqual([]);
    await vi.advanceTimersByTimeAsync(30 * MIN);
    expect(outcomes(rig)).toEqual(['speaker_weekly:skipped:alarm_active', 'speaker_weekly:skipped:alarm_active']);
    expect(selftests(rig)[1]).toMatchObject({ trigger: 'retry', retry_at: '2026-07-20T11:00:00+08:00' });
    rig.reading('wl1', 1.0); // the river falls: the notice clears
    expect(rig.engine.active().filter((a) => a.kind !== 'fault')).toEqual([]);
    await vi.advanceTimersByTimeAsync(30 * MIN);
    expect(outcomes(rig)).toEqual(['speaker_weekly:skipped:alarm_active', 'speaker_weekly:skipped:alarm_active', 'speaker_weekly:started']);
    expect(selftests(rig)[2]).toMatchObject({ trigger: 'retry' });
    await vi.advanceTimersByTimeAsync(5 * S);
    expect(outcomes(rig).at(-1)).toBe('speaker_weekly:passed');
    expect(faults(rig)).toEqual([]);
  });

  it('an alarm raised during the test pre-empts it: interrupted (no fault), tried again 30 min later', async () => {
    const rig = await start(config(", siren_monthly: false, reporting_daily: false"));
    speaker(rig, 'spk1', 20 * S);
    await vi.advanceTimersByTimeAsync(MIN + 2 * S);
    expect(outcomes(rig)).toEqual(['speaker_weekly:started']);
    rig.reading('wl1', 2.8);
    expect(rig.effects).toContainEqual(expect.objectContaining({ type: 'broadcast_stop', actuator: 'spk1', reason: 'preempted' }));
    await vi.advanceTimersByTimeAsync(0); // the verdict follows the alarm's step, not inside it
    // ...so the bus (the local `event` topic, the panel's live stream) hears every event in seq order.
    expect(rig.loggedSeqs).toEqual([...rig.loggedSeqs].sort((a, b) => a - b));
    expect(outcomes(rig)).toEqual(['speaker_weekly:started', 'speaker_weekly:interrupted']);
    expect(selftests(rig)[1]).toMatchObject({ actuators: [expect.objectContaining({ status: 'interrupted', detail: { reason: 'preempted', by: 'planner' } })], retry_at: '2026-07-20T10:30:02+08:00' });
    await vi.advanceTimersByTimeAsync(S);
    rig.reading('wl1', 1.0); // the notice is over before the retry
    await vi.advanceTimersByTimeAsync(30 * MIN + 30 * S);
    expect(outcomes(rig).slice(2)).toEqual(['speaker_weekly:started', 'speaker_weekly:passed']);
    expect(faults(rig)).toEqual([]);
  });

  it('not while the wall clock is untrusted (the hour would be wrong)', async () => {
    const rig = await start(config(", siren_monthly: false, reporting_daily: false"));
    rig.clock.trustedNow = false;
    await vi.advanceTimersByTimeAsync(MIN + S);
    expect(outcomes(rig)).toEqual(['speaker_weekly:skipped:clock_untrusted']);
    expect(rig.effects.filter((e) => e.type === 'broadcast')).toEqual([]);
  });
});

describe('the monthly siren growl', () => {
  it('3 s on each siren at 10:05 on the 1st: the relay siren passes without a fault, the MQTT siren that reports nothing fails', async () => {
    const rig = await start(config(", speaker_weekly: false, reporting_daily: false"), Date.parse('2026-08-01T10:04:00+08:00'));
    await vi.advanceTimersByTimeAsync(MIN + S);
    const sirens = rig.effects.filter((e) => e.type === 'siren');
    expect(sirens.map((e) => e.type === 'siren' && [e.actuator, e.pattern, e.steps, e.priority, e.by])).toEqual([
      ['siren1', 'test', [3], 'test', 'schedule:siren_monthly'],
      ['siren2', 'test', [3], 'test', 'schedule:siren_monthly'],
    ]);
    expect(rig.effects.filter((e) => e.type === 'broadcast')).toEqual([]);
    await vi.advanceTimersByTimeAsync(63 * S);
    expect(outcomes(rig)).toEqual(['siren_monthly:started', 'siren_monthly:failed']);
    expect(selftests(rig)[1].actuators).toEqual([
      expect.objectContaining({ actuator: 'siren1', status: 'failed', reason: 'no_report' }),
      expect.objectContaining({ actuator: 'siren2', status: 'passed' }),
    ]);
    expect(faults(rig).map((f) => [f.alert.split('/').slice(0, 2).join('/'), f.transition, f.values.reason])).toEqual([['siren1/selftest', 'raised', 'no_report']]);
  });

  it('a relay that does not follow (its driver reports a fault) fails with the driver\'s words', async () => {
    const rig = await start(config(", speaker_weekly: false, reporting_daily: false"), Date.parse('2026-08-01T10:04:00+08:00'));
    rig.devices.set('siren1', (e) => e.type === 'siren' && rig.ctx.bus.emit('actuatorReport', { actuator: 'siren1', report: 'done', activity: e.activity }));
    rig.devices.set('siren2', (e) => e.type === 'siren' && rig.ctx.bus.emit('actuatorReport', { actuator: 'siren2', report: 'fault', detail: { reason: 'relay_did_not_follow', wanted: true, read_back: false } }));
    await vi.advanceTimersByTimeAsync(MIN + 65 * S);
    expect(outcomes(rig)).toEqual(['siren_monthly:started', 'siren_monthly:failed']);
    expect(faults(rig)).toEqual([expect.objectContaining({ transition: 'raised', values: { reason: 'device_fault', detail: 'relay_did_not_follow wanted=true read_back=false' }, textZh: '故障:警报器 楼道警报器 例行试鸣未通过:继电器没有按指令动作' })]);
  });
});

describe('the daily reporting check', () => {
  it('at 08:00: a gauge that reported every minute passes, a smoke detector silent since the box started fails with its silence', async () => {
    const rig = await start(config(", speaker_weekly: false, siren_monthly: false"), Date.parse('2026-07-20T06:00:00+08:00'), true);
    let total = 0;
    for (let m = 0; m < 120; m++) {
      rig.reading('rg1', (total += 0.2));
      rig.reading('wl1', 1.0);
      await vi.advanceTimersByTimeAsync(MIN);
    }
    await vi.advanceTimersByTimeAsync(S); // the check yields between sensors
    expect(outcomes(rig)).toEqual(['reporting_daily:failed']);
    const verdict = selftests(rig)[0];
    expect(verdict).toMatchObject({ trigger: 'regular', window_from: '2026-07-20T06:00:00+08:00', window_to: '2026-07-20T08:00:00+08:00', checked: 3, failed_count: 1 });
    expect(verdict.failed).toEqual([expect.objectContaining({ sensor: 'sm1', reason: 'gap', interval_s: 30, allowed_s: 90, longest_silent_s: 7200, reported_minutes: 0, silent_from: '2026-07-20T06:00:00+08:00' })]);
    expect(faults(rig)).toEqual([
      expect.objectContaining({ transition: 'raised', alert: expect.stringMatching(/^sm1\/reporting\//), fault: 'not_reporting', sensors: ['sm1'], textEn: 'Fault: sensor ground floor detector failed the daily reporting check: silent for 2.0 h in the last 2.0 h (it reports every 30 s; 90 s allowed)' }),
    ]);
  });

  it('waits while the log is degraded (it would find every sensor silent)', async () => {
    const rig = await start(config(", speaker_weekly: false, siren_monthly: false"), Date.parse('2026-07-20T07:59:00+08:00'), true);
    vi.spyOn(rig.store, 'health').mockReturnValue({ ...rig.store.health(), degraded: true });
    await vi.advanceTimersByTimeAsync(MIN + S);
    expect(outcomes(rig)).toEqual(['reporting_daily:skipped:storage_degraded']);
    expect(faults(rig)).toEqual([]);
  });
});

describe('scheduling', () => {
  it('a test that is off, or has nothing to test, is not scheduled; stop cancels the rest', async () => {
    const cfg = config(', speaker_weekly: false');
    const before = Object.keys(schedule.scheduledJobs).filter((k) => k.startsWith('selftest:'));
    const rig = await start({ ...cfg, actuators: cfg.actuators.filter((a) => a.kind !== 'siren') }, Date.parse('2026-08-01T10:04:00+08:00'));
    expect(Object.keys(schedule.scheduledJobs).filter((k) => k.startsWith('selftest:'))).toEqual([...before, 'selftest:reporting_daily']);
    await vi.advanceTimersByTimeAsync(3 * MIN); // the siren time passes in silence
    expect(rig.effects.filter((e) => e.type === 'broadcast' || e.type === 'siren')).toEqual([]);
    expect(selftests(rig)).toEqual([]);
    await rig.stop();
    running = null;
    expect(Object.keys(schedule.scheduledJobs).filter((k) => k.startsWith('selftest:'))).toEqual(before);
  });
});
