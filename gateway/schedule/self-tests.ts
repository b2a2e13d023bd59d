/**
 * The scheduled self-tests (加强日常维护,确保应急时即时可用), as a module: node-schedule fires
 * each configured test at its cron time in the site's UTC offset; the pure parts decide whether
 * it may run (due.ts), follow a speaker or siren test to each actuator's verdict
 * (audible-run.ts) and judge the sensors' reporting (reporting.ts); the verdicts go to the
 * engine, where a failure is a fault alert with the reason (engine/self-test.ts).
 *
 * Every step is a `selftest` event in the log: `started`, `skipped` (with why and when it is
 * tried again), and the outcome with each actuator's or sensor's verdict, written in the commit
 * of the fault alerts it raises or clears. The sounds themselves go through the planner as a
 * `test` command from `schedule:<test>` (role `system`, via `schedule`), at the `test`
 * priority: any alarm, officer broadcast, township command or drill pre-empts them.
 *
 * A retry waiting when the box stops is not kept: the test runs again at its next regular time.
 */
import type { Logger } from 'pino';
import schedule, { type Job } from 'node-schedule';
import type { ActuatorConfig, SiteConfig } from '../config/types.ts';
import { actuatorTestKey, reportingKey, type SelfTestResult } from '../engine/self-test.ts';
import type { Effect } from '../planner/types.ts';
import type { ActuatorReport } from '../shell/bus.ts';
import type { BoxContext, Module } from '../shell/module.ts';
import { record, type EventSink } from '../shell/record.ts';
import { wallTime } from '../wire.ts';
import { finished, newRun, nextDeadline, onEffect, onReport, onTime, outcome, wantsRetry, type AudibleRun, type AudibleTest } from './audible-run.ts';
import { decide, retryTime, SELF_TESTS, type DueFacts, type SelfTestName } from './due.ts';
import { judgeReporting, reportingWindow, rollupRange, type ReportingVerdict } from './reporting.ts';
import { cronZone, useSiteZone } from './schedule-zone.ts';

/** What the module needs of the engine (EngineRunner). */
export interface SelfTestEngine {
  active(): readonly { alert: string; kind: string }[];
  /** Whether a drill runs; null while the engine is not running. */
  drillRunning(): boolean | null;
  selfTest(results: readonly SelfTestResult[], event: Record<string, unknown>): void;
}

/** What the module needs of the event log (EventStore). */
export interface SelfTestStore {
  /** A sensor's minutes with a value in (after, through], ascending (store/reporting-minutes.ts). */
  reportingMinutes(sensor: string, afterMinute: number, throughMinute: number): number[];
  health(): { degraded: boolean };
}

/** The reporting check reads a sensor's minutes this many at a time (a quarter of a day), yielding between. */
export const PIECE_MINUTES = 360;

/** At most this many failed sensors are listed in one `selftest` event; each has its own fault alert anyway. */
const LISTED_MAX = 100;

const CRON_KEY: Record<SelfTestName, keyof SiteConfig['selfTests']['cron']> = { speaker_weekly: 'speakerWeekly', siren_monthly: 'sirenMonthly', reporting_daily: 'reportingDaily' };

export class SelfTests implements Module {
  readonly name = 'self-tests';
  private readonly log: Logger;
  private readonly jobs = new Map<SelfTestName, Job>();
  private readonly retries = new Map<SelfTestName, NodeJS.Timeout>();
  private readonly audible = new Map<AudibleTest, { run: AudibleRun; timer: NodeJS.Timeout | null; finishing: boolean }>();
  private reporting = false;
  private offs: (() => void)[] = [];
  private runs = 0;
  /** Wall time the box began listening: the reporting window starts no earlier. */
  private listeningSince = 0;
  private stopped = false;

  constructor(
    private readonly ctx: BoxContext,
    private readonly sink: EventSink,
    private readonly engine: SelfTestEngine,
    private readonly store: SelfTestStore,
  ) {
    this.log = ctx.log.child({ module: 'self-tests' });
  }

  async start(): Promise<void> {
    const { config, bus, clock } = this.ctx;
    this.stopped = false;
    this.listeningSince = clock.wall();
    useSiteZone(config.site.utcOffset);
    this.offs.push(
      bus.on('effect', (e) => this.effect(e)),
      bus.on('actuatorReport', (r) => this.report(r)),
    );
    const tz = cronZone(config.site.utcOffset);
    for (const test of SELF_TESTS) {
      const cron = config.selfTests.cron[CRON_KEY[test]];
      if (cron === null) continue;
      if (test !== 'reporting_daily' && this.targets(test).length === 0) {
        this.log.info({ test }, `no ${test === 'speaker_weekly' ? 'speakers' : 'sirens'} configured: ${test} is not scheduled`);
        continue;
      }
      const job = schedule.scheduleJob(`selftest:${test}`, { rule: cron, tz }, () => this.fire(test, 'regular'));
      // The config checked the cron; a null job means node-schedule reads it differently: say so loudly.
      if (!job) this.log.error({ test, cron }, 'self-test not scheduled: node-schedule refused its cron');
      else {
        this.jobs.set(test, job);
        this.log.info({ test, cron, tz, next: this.at(job.nextInvocation()?.getTime() ?? null) }, 'self-test scheduled');
      }
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const job of this.jobs.values()) job.cancel();
    this.jobs.clear();
    for (const t of this.retries.values()) clearTimeout(t);
    this.retries.clear();
    for (const off of this.offs) off();
    this.offs = [];
    for (const [test, a] of this.audible) {
      if (a.timer) clearTimeout(a.timer);
      this.event({ test, outcome: 'abandoned', run: a.run.id, reason: 'box_stopping' });
    }
    this.audible.clear();
  }

  /** The configured speakers (speaker test) or sirens (siren test). */
  private targets(test: AudibleTest): ActuatorConfig[] {
    return this.ctx.config.actuators.filter((a) => a.kind === (test === 'speaker_weekly' ? 'speaker' : 'siren'));
  }

  private at(ms: number | null): string | null {
    return ms === null ? null : wallTime(ms, this.ctx.config.site.utcOffset);
  }

  private event(payload: Record<string, unknown>): void {
    record(this.ctx, this.sink, 'selftest', { by: 'schedule', ...payload });
  }

  private facts(test: SelfTestName): DueFacts {
    const { clock } = this.ctx;
    return {
      alarms: this.engine.active().filter((a) => a.kind !== 'fault').map((a) => a.alert),
      drill: this.engine.drillRunning() ?? false,
      clockTrusted: clock.trusted(),
      storageOk: !this.store.health().degraded,
      nextRegularAt: this.jobs.get(test)?.nextInvocation()?.getTime() ?? null,
    };
  }

  /** A test's time came (its cron, or a retry): run it, or say why not and when it is tried again. */
  fire(test: SelfTestName, trigger: 'regular' | 'retry'): void {
    if (this.stopped) return;
    const running = test === 'reporting_daily' ? this.reporting : this.audible.has(test);
    const now = this.ctx.clock.wall();
    const f = this.facts(test);
    const d = decide(test, running, f, now, this.ctx.config.selfTests.retryAfterMin * 60_000);
    if (!d.run) {
      if (d.reason === 'running') return void this.log.info({ test, trigger }, 'self-test still running; this time is covered by it');
      this.event({ test, outcome: 'skipped', trigger, reason: d.reason, alerts: f.alarms.slice(0, 20), retry_at: this.at(d.retryAt), superseded: d.superseded });
      this.log.warn({ test, reason: d.reason, retry_at: this.at(d.retryAt) }, 'self-test skipped');
      this.retryAt(test, d.retryAt);
      return;
    }
    this.retryAt(test, null);
    if (test === 'reporting_daily') void this.runReporting(trigger);
    else this.runAudible(test, trigger);
  }

  private retryAt(test: SelfTestName, at: number | null): void {
    const old = this.retries.get(test);
    if (old) clearTimeout(old);
    this.retries.delete(test);
    if (at === null || this.stopped) return;
    const t = setTimeout(() => {
      this.retries.delete(test);
      this.fire(test, 'retry');
    }, Math.max(0, at - this.ctx.clock.wall()));
    this.retries.set(test, t);
  }

  private runAudible(test: AudibleTest, trigger: 'regular' | 'retry'): void {
    const { config, clock, bus } = this.ctx;
    const st = config.selfTests;
    const id = `st-${++this.runs}`;
    const by = `schedule:${test}`;
    const targets = this.targets(test).map((a) => ({ actuator: a.id, readBack: a.modbus !== null }));
    const run = newRun(id, test, by, targets, clock.mono(), st.doneWithinS, config.actions.broadcastMaxS + st.doneWithinS);
    this.audible.set(test, { run, timer: null, finishing: false });
    this.event({ test, outcome: 'started', trigger, run: id, actuators: targets.map((t) => t.actuator) });
    // The planner's effects come back on the bus (effect()) while this emit runs, or later for
    // an actuator that is busy with something that ranks higher.
    bus.emit('command', { type: 'test', by, targets: test === 'speaker_weekly' ? 'speakers' : 'sirens', commandId: id }, { by, role: 'system', via: 'schedule' });
    this.progress(test);
  }

  private effect(e: Effect): void {
    for (const test of this.audible.keys()) {
      const a = this.audible.get(test)!;
      onEffect(a.run, e, this.ctx.clock.mono());
      this.progress(test);
    }
  }

  private report(r: ActuatorReport): void {
    for (const test of this.audible.keys()) {
      onReport(this.audible.get(test)!.run, r, this.ctx.clock.mono());
      this.progress(test);
    }
  }

  /** After anything that may settle a target: finish the run, or wait for its next deadline. */
  private progress(test: AudibleTest): void {
    const a = this.audible.get(test);
    if (!a) return;
    const { run } = a;
    if (finished(run)) {
      // Not from inside the effect or report that settled it: that may be the middle of another
      // step's commit (an alarm's pre-emption), whose events must reach the bus before the
      // verdict's, in seq order. A microtask runs once that step has returned.
      if (!a.finishing) queueMicrotask(() => this.audible.get(test) === a && this.finish(test, run));
      a.finishing = true;
      return;
    }
    if (a.timer) clearTimeout(a.timer);
    const next = nextDeadline(run);
    a.timer =
      next === null
        ? null
        : setTimeout(() => {
            a.timer = null;
            onTime(run, this.ctx.clock.mono());
            this.progress(test);
          }, Math.max(0, next - this.ctx.clock.mono()));
  }

  private finish(test: AudibleTest, run: AudibleRun): void {
    const a = this.audible.get(test);
    if (a?.timer) clearTimeout(a.timer);
    this.audible.delete(test);
    const results: SelfTestResult[] = [];
    const actuators = [...run.targets.values()].map((t) => {
      if (t.status === 'passed' || t.status === 'failed') {
        const values: Record<string, number | string> = t.status === 'failed' ? { reason: t.reason!, ...waited(t.detail), ...faultDetail(t.detail) } : {};
        results.push({ key: actuatorTestKey(t.actuator), ok: t.status === 'passed', rule: test, values });
      }
      return { actuator: t.actuator, status: t.status, activity: t.activity, ...(t.reason ? { reason: t.reason } : {}), ...(t.detail ? { detail: t.detail } : {}) };
    });
    const o = outcome(run);
    const retry = wantsRetry(run) ? retryTime(this.ctx.clock.wall(), this.ctx.config.selfTests.retryAfterMin * 60_000, this.facts(test).nextRegularAt).retryAt : null;
    this.log[o === 'failed' ? 'error' : 'info']({ test, run: run.id, outcome: o, actuators }, `self-test ${o}`);
    this.engine.selfTest(results, { by: 'schedule', test, outcome: o, run: run.id, actuators, retry_at: this.at(retry) });
    this.retryAt(test, retry);
  }

  /** The daily reporting check: each sensor's minutes with a value over the window, judged; one sensor at a time, yielding between. */
  private async runReporting(trigger: 'regular' | 'retry'): Promise<void> {
    this.reporting = true;
    try {
      const { config, clock } = this.ctx;
      const w = reportingWindow(clock.wall(), this.listeningSince);
      const range = rollupRange(w);
      const verdicts: ReportingVerdict[] = [];
      for (const s of config.sensors) {
        if (this.stopped) return;
        const minutes: number[] = [];
        // A quarter of a day at a time, the event loop free between: about 0.5 ms each (test/bench/selftest.bench.ts).
        for (let after = range.after; after < range.through; after += PIECE_MINUTES) {
          minutes.push(...this.store.reportingMinutes(s.id, after, Math.min(range.through, after + PIECE_MINUTES)));
          await new Promise<void>((res) => setImmediate(res));
        }
        verdicts.push(judgeReporting(s.id, s.health.intervalS, minutes, w, config.selfTests.reportingGapIntervals));
      }
      if (this.stopped) return;
      const failed = verdicts.filter((v) => !v.ok);
      const results = verdicts.map((v) => ({ key: reportingKey(v.sensor), ok: v.ok, rule: 'reporting_daily', values: v.ok ? v.values : { reason: v.reason!, ...v.values, silent_from: this.at(v.silentFromMs)! } }));
      const listed = failed.slice(0, LISTED_MAX).map((v) => ({ sensor: v.sensor, reason: v.reason, ...v.values, silent_from: this.at(v.silentFromMs) }));
      const o = failed.length ? 'failed' : 'passed';
      this.log[failed.length ? 'warn' : 'info']({ test: 'reporting_daily', checked: verdicts.length, failed: failed.length }, `reporting check ${o}`);
      this.engine.selfTest(results, { by: 'schedule', test: 'reporting_daily', outcome: o, trigger, window_from: this.at(w.fromMs), window_to: this.at(w.toMs), checked: verdicts.length, failed_count: failed.length, failed: listed });
    } catch (err) {
      this.log.error({ err }, 'reporting check failed');
      this.event({ test: 'reporting_daily', outcome: 'error', trigger, error: String((err as Error).message ?? err) });
    } finally {
      this.reporting = false;
    }
  }
}

function waited(detail: Record<string, unknown> | null): Record<string, number> {
  return typeof detail?.waited_s === 'number' ? { waited_s: detail.waited_s } : {};
}

/** A device's fault report, in a few words for the alert (its values hold numbers and strings only). */
function faultDetail(detail: Record<string, unknown> | null): Record<string, string> {
  if (!detail || typeof detail.waited_s === 'number') return {};
  const text = typeof detail.reason === 'string' ? [detail.reason, ...Object.entries(detail).filter(([k]) => k !== 'reason' && k !== 'activity').map(([k, v]) => `${k}=${JSON.stringify(v)}`)].join(' ') : JSON.stringify(detail);
  return { detail: text.slice(0, 200) };
}
