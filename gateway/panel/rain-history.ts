/**
 * A rain gauge's history for the chart (GET /api/sensors/<id>/history): rain per clock hour and
 * rolling 1/3/6/12/24 h sums, from the store's one-minute rollups. Pure.
 *
 * A gauge reports its cumulative total (tips since it was installed), so rain is the difference
 * between totals, taken as the engine takes it (engine/rain.ts), from the `last` total of each
 * rolled-up minute — the same rows the engine rebuilds its windows from at a restart
 * (store/history.ts), so the chart and the alarms agree:
 *
 * - a step backwards is a counter wrap when the total sat in the top half of a known modulus and
 *   the wrapped step is plausible, else a device reset: what it counted since is rain;
 * - a step faster than `max_rate_mm_per_min` over the minutes elapsed (plus one tip, 1 mm) is a
 *   glitch: no rain, and its total the new baseline;
 * - minutes with no row or only failed reads (`last` null) are a gap; the rain across it is
 *   spread evenly over its minutes (a gap is not a burst);
 * - the first total is a baseline, not rain.
 *
 * Amounts are whole µm, as in the engine, so sums never drift. Limits of the minute view: rain
 * counted inside a minute before a reset in that same minute is not seen (the minute's `last` is
 * after the reset), so a reset can lose at most the rain of one minute.
 */
import { RAIN_WINDOWS_H } from '../config/types.ts';

const MIN = 60_000;
const TIP_SLACK_MM = 1;

/** What of a gauge's config the arithmetic needs (config RainSensor, with the profile's wrap point). */
export interface GaugeSpec {
  scale: number;
  counterModulus: number;
  maxRateMmPerMin: number;
}

/** One rolled-up minute: epoch minute, and its last good total (null: only failed reads). */
export interface MinuteTotal {
  minute: number;
  last: number | null;
}

export interface RainWindows {
  /** Epoch minutes: the first and the last minute shown (inclusive). */
  fromMinute: number;
  throughMinute: number;
  /** Minutes between rolling points (a divisor of 60). */
  stepMin: number;
  /** The site's UTC offset in minutes: clock hours and points fall on the site's clock. */
  offsetMin: number;
}

export interface HourRain {
  /** Wall ms of the hour's start on the site's clock. */
  at: number;
  mm: number;
}

export interface RollingSums {
  /** Wall ms of the point: each sum is the rain of the window ending here. */
  at: number;
  sum_1h_mm: number;
  sum_3h_mm: number;
  sum_6h_mm: number;
  sum_12h_mm: number;
  sum_24h_mm: number;
}

/** Minutes of rollups before `fromMinute` the sums need: a full 24 h window, and the total before it as a baseline. */
export const LOOKBACK_MIN = 24 * 60 + 1;

/** Rain (µm) per epoch minute, from the minutes' totals in time order. */
export function rainPerMinute(rows: readonly MinuteTotal[], g: GaugeSpec): Map<number, number> {
  const out = new Map<number, number>();
  const add = (m: number, um: number): void => {
    if (um) out.set(m, (out.get(m) ?? 0) + um);
  };
  let prev: MinuteTotal | null = null;
  for (const r of rows) {
    if (r.last === null || !Number.isFinite(r.last)) continue;
    if (prev === null || r.minute <= prev.minute) {
      if (prev === null) prev = r;
      continue;
    }
    const d = step(prev.last!, r.last, r.minute - prev.minute, g);
    if (d > 0) {
      const um = Math.round((prev.last! + d) * g.scale * 1000) - Math.round(prev.last! * g.scale * 1000);
      const span = r.minute - prev.minute;
      // As engine/rain.ts `spread`: evenly over the gap, the remainder in the last minute.
      const each = Math.floor(um / span);
      for (let m = prev.minute + 1; m < r.minute; m++) add(m, each);
      add(r.minute, um - each * (span - 1));
    }
    prev = r;
  }
  return out;
}

/** The rain (raw units) between two totals `minutes` apart; 0 for a glitch. */
function step(last: number, now: number, minutes: number, g: GaugeSpec): number {
  const plausible = (g.maxRateMmPerMin * minutes + TIP_SLACK_MM) / g.scale;
  const d = now - last;
  if (d >= 0) return d <= plausible ? d : 0;
  if (g.counterModulus > 0 && last >= g.counterModulus / 2) {
    const wrapped = now + g.counterModulus - last;
    if (wrapped <= plausible) return wrapped;
  }
  return now <= plausible ? now : 0; // a reset: what it counted since
}

const mm = (um: number): number => Math.round(um) / 1000;

/**
 * Rain per clock hour over the range, and the rolling sums every `stepMin` on the site's clock
 * (points in (from, through + 1 minute]), the last at through + 1 minute (the sums now) whether
 * or not it falls on the grid.
 */
export function rainWindows(perMinute: ReadonlyMap<number, number>, w: RainWindows): { hourly: HourRain[]; rolling: RollingSums[] } {
  const { fromMinute, throughMinute, stepMin, offsetMin } = w;
  // Prefix sums over [fromMinute - 24 h, throughMinute]: each window is two lookups.
  const start = fromMinute - 24 * 60;
  const n = throughMinute - start + 1;
  const prefix = new Float64Array(Math.max(0, n) + 1);
  for (let i = 0; i < n; i++) prefix[i + 1] = prefix[i]! + (perMinute.get(start + i) ?? 0);
  /** µm in minutes [a, b). */
  const sum = (a: number, b: number): number => {
    const lo = Math.min(Math.max(a - start, 0), n);
    const hi = Math.min(Math.max(b - start, 0), n);
    return prefix[hi]! - prefix[lo]!;
  };
  const hourly: HourRain[] = [];
  const hour0 = Math.floor((fromMinute + offsetMin) / 60) * 60 - offsetMin;
  // Whole clock hours (the lookback has the first one's start), the last one up to now.
  for (let h = hour0; h <= throughMinute; h += 60) hourly.push({ at: h * MIN, mm: mm(sum(h, Math.min(h + 60, throughMinute + 1))) });
  const rolling: RollingSums[] = [];
  const point = (t: number): void => {
    const [h1, h3, h6, h12, h24] = RAIN_WINDOWS_H.map((wh) => mm(sum(t - wh * 60, t)));
    rolling.push({ at: t * MIN, sum_1h_mm: h1!, sum_3h_mm: h3!, sum_6h_mm: h6!, sum_12h_mm: h12!, sum_24h_mm: h24! });
  };
  const first = Math.floor((fromMinute + offsetMin) / stepMin + 1) * stepMin - offsetMin;
  let t = first;
  for (; t <= throughMinute + 1; t += stepMin) point(t);
  // And the sums as of the last minute shown, off the grid if need be: what the engine holds now.
  if (t - stepMin !== throughMinute + 1) point(throughMinute + 1);
  return { hourly, rolling };
}

/** Minutes between rolling points for a range of `hours`: about 150–750 points, whatever the range. */
export function rollingStepMin(hours: number): number {
  if (hours <= 48) return 10;
  if (hours <= 168) return 30;
  return 60;
}
