/**
 * Whether a self-test that is due now may run, or waits (pure; the shell, self-tests.ts, asks
 * at each cron time and each retry). An emergency comes first: while any alarm is active, or a
 * drill runs, no self-test runs (a "this is not an alarm" message in the middle of a flood
 * warning would tell people the opposite of the truth, and a test growl would be taken for a
 * signal); it is tried again `retry_after_min` later, and again, until it runs or its next
 * regular time comes first (then that one takes over: a weekly test never runs twice in a row).
 * A test never runs while the wall clock is untrusted (the cron time would be a wrong hour: a
 * growl at 3 a.m.), nor the reporting check while the log drops readings (every sensor would
 * look silent).
 */

export const SELF_TESTS = ['speaker_weekly', 'siren_monthly', 'reporting_daily'] as const;
export type SelfTestName = (typeof SELF_TESTS)[number];

/** The tests that sound: the planner plays them at the `test` priority. */
export function isAudible(test: SelfTestName): boolean {
  return test !== 'reporting_daily';
}

export interface DueFacts {
  /** Ids of active alerts that are not faults (any level: a blue notice is an alarm in progress). */
  alarms: readonly string[];
  /** A drill is running. */
  drill: boolean;
  clockTrusted: boolean;
  /** The log is storing readings (not degraded). */
  storageOk: boolean;
  /** When the test's cron fires next (epoch ms), null if it never does. */
  nextRegularAt: number | null;
}

export type SkipReason = 'alarm_active' | 'drill_running' | 'clock_untrusted' | 'storage_degraded' | 'running';

export type Decision =
  | { run: true }
  | {
      run: false;
      reason: SkipReason;
      /** When to try again; null when the next regular time comes first, or a run is already going. */
      retryAt: number | null;
      /** True when no retry is set because the next regular time comes first. */
      superseded: boolean;
    };

/** What stops `test` from running now, first reason first; null when nothing does. */
export function blocker(test: SelfTestName, f: DueFacts): Exclude<SkipReason, 'running'> | null {
  if (!f.clockTrusted) return 'clock_untrusted';
  if (f.alarms.length > 0) return 'alarm_active';
  if (f.drill) return 'drill_running';
  if (!isAudible(test) && !f.storageOk) return 'storage_degraded';
  return null;
}

/** When a test that could not run (or was interrupted) is tried again: `retryAfterMs` on, unless its next regular time comes first. */
export function retryTime(now: number, retryAfterMs: number, nextRegularAt: number | null): { retryAt: number | null; superseded: boolean } {
  const retryAt = now + retryAfterMs;
  return nextRegularAt !== null && nextRegularAt <= retryAt ? { retryAt: null, superseded: true } : { retryAt, superseded: false };
}

/**
 * `running`: a run of this test is still going (its speakers have not all answered): the new
 * time is not a second run and sets no retry; the run going on is the test.
 */
export function decide(test: SelfTestName, running: boolean, f: DueFacts, now: number, retryAfterMs: number): Decision {
  if (running) return { run: false, reason: 'running', retryAt: null, superseded: false };
  const reason = blocker(test, f);
  if (reason === null) return { run: true };
  return { run: false, reason, ...retryTime(now, retryAfterMs, f.nextRegularAt) };
}
