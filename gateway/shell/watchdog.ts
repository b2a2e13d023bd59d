/**
 * The systemd watchdog (WatchdogSec= in hardware/systemd/shaobing.service): every quarter of
 * the timeout it samples the event loop, the store and the engine, and sends WATCHDOG=1 only
 * if watchdog-gate.ts finds them healthy. A frozen process sends nothing (the timer runs on
 * the main thread, like everything that sounds a siren), so systemd restarts it after
 * WatchdogSec; an unhealthy one stops sending and says why in the journal and in STATUS=.
 */
import type { Logger } from 'pino';
import { describe, judge, WATCHDOG_LIMITS, type WatchdogLimits, type WatchdogProblem, type WatchdogSample } from './watchdog-gate.ts';
import type { Notifier } from './sd-notify.ts';

export interface WatchdogSources {
  /** How long the store's oldest write has waited for the disk, ms (EventStore.syncStallMs). */
  storeStallMs(): number;
  /** The monotonic ms of the engine's last completed tick, null when not running (EngineRunner.lastTickAt). */
  lastTickAt(): number | null;
}

export interface WatchdogOptions {
  notifier: Notifier;
  /** systemd's WatchdogSec in ms: the watchdog checks every quarter of it. */
  timeoutMs: number;
  sources: WatchdogSources;
  log: Logger;
  /** The monotonic clock the engine's tick times are on (ms). */
  mono: () => number;
  limits?: Partial<WatchdogLimits>;
  /** STATUS= once healthy again (what READY=1 said); default 'running'. */
  status?: string;
}

export interface WatchdogVerdict {
  at: number;
  problems: WatchdogProblem[];
  sample: WatchdogSample;
  /** 0 when the ping (or nothing, if unhealthy) was sent; else the errno of the send. */
  sendErrno: number;
}

/**
 * The event loop's longest stall between two reads: a timer every `periodMs` notes how late it
 * ran. Not perf_hooks' monitorEventLoopDelay: its reset() forgets the timestamp of its last
 * sample, so a stall that begins right after a reset is never recorded (measured: 700 ms
 * blocked right after reset() read back as a 20 ms maximum).
 */
export class LoopLag {
  private timer: NodeJS.Timeout | null = null;
  private last = 0;
  private max = 0;

  constructor(private readonly periodMs = 200) {}

  start(): void {
    if (this.timer) return;
    this.last = performance.now();
    this.timer = setInterval(() => this.sample(), this.periodMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** The longest stall since the last call (ms), including the one still going on now. */
  takeMax(now = performance.now()): number {
    const ongoing = this.timer ? Math.max(0, now - this.last - this.periodMs) : 0;
    const max = Math.max(this.max, ongoing);
    this.max = 0;
    return max;
  }

  private sample(): void {
    const now = performance.now();
    this.max = Math.max(this.max, now - this.last - this.periodMs);
    this.last = now;
  }
}

/** Send failures are logged at most this often (systemd restarting, a full queue). */
const SEND_WARN_EVERY_MS = 60_000;

export class Watchdog {
  private timer: NodeJS.Timeout | null = null;
  private readonly lag = new LoopLag();
  private lastCheck = 0;
  private lastProblems = '';
  private lastSendWarn = Number.NEGATIVE_INFINITY;
  private readonly limits: WatchdogLimits;
  private readonly log: Logger;
  /** The last verdicts (tests and the journal line); at most 20. */
  readonly verdicts: WatchdogVerdict[] = [];
  pings = 0;

  constructor(private readonly o: WatchdogOptions) {
    this.limits = { ...WATCHDOG_LIMITS, ...o.limits };
    this.log = o.log.child({ module: 'watchdog' });
  }

  get intervalMs(): number {
    return Math.max(10, Math.floor(this.o.timeoutMs / 4));
  }

  start(): void {
    if (this.timer) return;
    this.lag.start();
    this.lastCheck = performance.now();
    this.log.info({ timeout_ms: this.o.timeoutMs, check_every_ms: this.intervalMs, limits: this.limits }, 'systemd watchdog on');
    this.check(); // the first ping at once: the start may have taken a good part of the timeout
    this.timer = setInterval(() => this.check(), this.intervalMs);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.lag.stop();
  }

  /** One check: sample, judge, ping if healthy. */
  check(): WatchdogVerdict {
    const now = performance.now();
    // A stall shows in the lag sampler and, if it outlasted our interval, in this timer's
    // lateness too; a stopped process (SIGSTOP) shows in both once it runs again.
    const drift = this.timer ? Math.max(0, now - this.lastCheck - this.intervalMs) : 0;
    const lagMax = this.lag.takeMax(now);
    this.lastCheck = now;
    const tick = this.o.sources.lastTickAt();
    const sample: WatchdogSample = {
      loopLagMs: Math.max(drift, lagMax),
      storeStallMs: this.o.sources.storeStallMs(),
      tickAgeMs: tick === null ? null : Math.max(0, this.o.mono() - tick),
    };
    const problems = judge(sample, this.limits);
    const text = problems.length === 0 && this.o.status ? this.o.status : describe(problems, sample);
    const changed = problems.join(',') !== this.lastProblems;
    let message = problems.length === 0 ? 'WATCHDOG=1' : '';
    if (changed) message += `${message ? '\n' : ''}STATUS=${text}`;
    const sendErrno = message ? this.o.notifier.send(message) : 0;
    if (sendErrno === 0 && problems.length === 0) this.pings++;
    if (sendErrno !== 0 && now - this.lastSendWarn >= SEND_WARN_EVERY_MS) {
      this.lastSendWarn = now;
      this.log.warn({ errno: sendErrno, socket: this.o.notifier.socket }, 'watchdog: the notification to systemd could not be sent; trying again at the next check');
    }
    if (changed) {
      const fields = { problems, loop_lag_ms: Math.round(sample.loopLagMs), store_stall_ms: Math.round(sample.storeStallMs), tick_age_ms: sample.tickAgeMs === null ? null : Math.round(sample.tickAgeMs) };
      if (problems.length) this.log.error(fields, `watchdog: ${text}; systemd restarts the box if this lasts ${Math.round(this.o.timeoutMs / 1000)} s`);
      else if (this.lastProblems) this.log.warn(fields, 'watchdog: healthy again, pinging');
      this.lastProblems = problems.join(',');
    }
    const verdict = { at: now, problems, sample, sendErrno };
    this.verdicts.push(verdict);
    if (this.verdicts.length > 20) this.verdicts.shift();
    return verdict;
  }
}
