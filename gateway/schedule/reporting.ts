/**
 * The daily reporting check (pure): did every sensor report within its interval over the last
 * 24 h? It reads the log's minute rollups (a minute in which the sensor reported at least one
 * value), so each silence is known to a minute; it counts the shortest silence the minutes
 * allow, so a sensor is never blamed for the rollup's resolution:
 *
 * - between two minutes with values, m1 < m2: at least (m2 − m1 − 1) min (the last value at the
 *   end of m1, the next at the start of m2);
 * - from the window's start to the first such minute: at least up to that minute's start;
 * - from the last such minute to now: at least up to now, less the rollup's lag.
 *
 * A sensor fails when its longest silence is over `gapIntervals` × its `interval_s`, or when it
 * sent no value at all in a full day (whatever its interval: a detector silent for a day is a
 * fault even if its stale rule would wait longer). The window starts 24 h ago, or when the box
 * began listening if that is later: a box that was off is not its sensors' fault.
 * A reading without a value (a failed read, `quality: error`) is no report.
 */

export const DAY_MS = 86_400_000;
export const MINUTE_MS = 60_000;
/** The rollup runs every 5 s (store/jobs.ts); its newest minute may lag that much, and the reading batch 200 ms more. */
export const ROLLUP_LAG_MS = 10_000;

export interface ReportingWindow {
  /** Epoch ms: the later of 24 h ago and when the box began listening. */
  fromMs: number;
  toMs: number;
}

export interface Silence {
  /** The shortest this silence can have been, ms. */
  ms: number;
  /** When it began (epoch ms; the window's start for a sensor silent from the start). */
  fromMs: number;
}

/**
 * The longest silence of a sensor whose valued minutes (epoch minute numbers, ascending,
 * within the window) are `minutes`; 0 ms when there is none.
 */
export function longestSilence(minutes: readonly number[], w: ReportingWindow, lagMs = ROLLUP_LAG_MS): Silence {
  if (minutes.length === 0) return { ms: Math.max(0, w.toMs - w.fromMs), fromMs: w.fromMs };
  let best: Silence = { ms: Math.max(0, minutes[0]! * MINUTE_MS - w.fromMs), fromMs: w.fromMs };
  for (let i = 1; i < minutes.length; i++) {
    const ms = (minutes[i]! - minutes[i - 1]! - 1) * MINUTE_MS;
    if (ms > best.ms) best = { ms, fromMs: (minutes[i - 1]! + 1) * MINUTE_MS };
  }
  const lastEnd = (minutes[minutes.length - 1]! + 1) * MINUTE_MS;
  const trailing = w.toMs - lagMs - lastEnd;
  if (trailing > best.ms) best = { ms: trailing, fromMs: lastEnd };
  return best;
}

export interface ReportingVerdict {
  sensor: string;
  ok: boolean;
  /** `silent_day`: no value in a full day; `gap`: a silence longer than allowed. */
  reason: 'silent_day' | 'gap' | null;
  /** The figures, snake_case: they go into the fault alert and the log as they are. */
  values: {
    interval_s: number;
    allowed_s: number;
    longest_silent_s: number;
    /** Minutes with at least one value in the window. */
    reported_minutes: number;
    window_s: number;
  };
  /** When the longest silence began (epoch ms). */
  silentFromMs: number;
}

export function judgeReporting(sensor: string, intervalS: number, minutes: readonly number[], w: ReportingWindow, gapIntervals: number, lagMs = ROLLUP_LAG_MS): ReportingVerdict {
  const s = longestSilence(minutes, w, lagMs);
  const allowedMs = gapIntervals * intervalS * 1000;
  const windowMs = w.toMs - w.fromMs;
  const reason = minutes.length === 0 && windowMs >= DAY_MS ? 'silent_day' : s.ms > allowedMs ? 'gap' : null;
  return {
    sensor,
    ok: reason === null,
    reason,
    values: { interval_s: intervalS, allowed_s: allowedMs / 1000, longest_silent_s: Math.floor(s.ms / 1000), reported_minutes: minutes.length, window_s: Math.floor(windowMs / 1000) },
    silentFromMs: s.fromMs,
  };
}

/** The window for a check at `nowMs` by a box listening since `listeningSinceMs`. */
export function reportingWindow(nowMs: number, listeningSinceMs: number): ReportingWindow {
  return { fromMs: Math.max(nowMs - DAY_MS, listeningSinceMs), toMs: nowMs };
}

/** The minute numbers a window's rollup query asks for: `(after, through]`, as store.sensorRollups takes them. */
export function rollupRange(w: ReportingWindow): { after: number; through: number } {
  return { after: Math.floor(w.fromMs / MINUTE_MS) - 1, through: Math.floor(w.toMs / MINUTE_MS) };
}
