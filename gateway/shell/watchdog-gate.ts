/**
 * Whether the box may tell systemd it is alive (WATCHDOG=1). Pure: the watchdog (watchdog.ts)
 * samples, this judges. A ping withheld is not a restart: systemd restarts the box only after
 * WatchdogSec without any ping, and the watchdog checks four times in that time, so only a
 * problem that lasts (a wedged loop, a write that never returns, an engine that stopped
 * ticking) restarts it; one slow moment costs one ping.
 *
 * What is not a reason to withhold: a degraded store (full disk, read-only card). Then the box
 * holds its events in memory and keeps acting (store/event-store.ts); a restart would lose
 * those events and fix nothing. Only a write the disk has not answered for minutes is.
 */

export type WatchdogProblem = 'event_loop' | 'store' | 'engine';

export interface WatchdogSample {
  /** The longest the event loop was held since the last check (ms). */
  loopLagMs: number;
  /** How long the store's oldest write has waited for the disk (ms; 0 when none waits). */
  storeStallMs: number;
  /** Since the engine's last completed tick (ms); null when the engine is not running. */
  tickAgeMs: number | null;
}

export interface WatchdogLimits {
  /**
   * Loop held longer than this: a siren command would have waited as long. The box's own
   * worst moments are tens of ms (README, Benchmarks); seconds mean a GC thrashing at the heap
   * limit, or a synchronous call that does not return.
   */
  maxLoopLagMs: number;
  /**
   * An fdatasync outstanding longer than this. A worn SD card can hold one for seconds (the
   * store warns past 1 s); a minute is a disk that does not answer.
   */
  maxStoreStallMs: number;
  /** The engine ticks every second; ten seconds without a completed tick is an engine that stopped. */
  maxTickAgeMs: number;
}

export const WATCHDOG_LIMITS: WatchdogLimits = { maxLoopLagMs: 2000, maxStoreStallMs: 60_000, maxTickAgeMs: 10_000 };

/** The problems in `s`, in a fixed order; none: ping. */
export function judge(s: WatchdogSample, limits: WatchdogLimits = WATCHDOG_LIMITS): WatchdogProblem[] {
  const problems: WatchdogProblem[] = [];
  if (!(s.loopLagMs <= limits.maxLoopLagMs)) problems.push('event_loop');
  if (!(s.storeStallMs <= limits.maxStoreStallMs)) problems.push('store');
  if (s.tickAgeMs === null || !(s.tickAgeMs <= limits.maxTickAgeMs)) problems.push('engine');
  return problems;
}

/** One line for `systemctl status` (STATUS=) and the journal. */
export function describe(problems: readonly WatchdogProblem[], s: WatchdogSample): string {
  if (problems.length === 0) return 'running';
  const parts = problems.map((p) => {
    if (p === 'event_loop') return `event loop held ${Math.round(s.loopLagMs)} ms`;
    if (p === 'store') return `a log write waiting for the disk ${Math.round(s.storeStallMs / 1000)} s`;
    return s.tickAgeMs === null ? 'engine not running' : `engine has not ticked for ${Math.round(s.tickAgeMs / 1000)} s`;
  });
  return `unhealthy, not pinging the watchdog: ${parts.join('; ')}`;
}
