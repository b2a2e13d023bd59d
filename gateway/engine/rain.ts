/**
 * Rain from a tipping-bucket gauge's cumulative total: increments that survive counter wraps,
 * device resets, glitches and gaps, kept in one-minute buckets with rolling 1/3/6/12/24 h sums.
 *
 * Sums are kept in integer micrometres so adding and removing buckets never drifts.
 */
import type { RainSensor } from '../config/types.ts';
import { RAIN_WINDOWS_H } from '../config/types.ts';
import type { AlertSlot, Candidate } from './alert-slot.ts';
import { stepSlot } from './alert-slot.ts';
import type { AlertTransition, Level, Observation, RuleFacts } from './types.ts';
import { levelRank } from './types.ts';

const MINUTE = 60_000;
const RING = 1440; // 24 h of minutes
/**
 * A tipping bucket counts whole tips (0.1–0.5 mm in the gauges of hardware/profiles/, 1 mm in
 * the coarsest): a reading right after the one before may carry a tip that the rate alone, over
 * a fraction of a second, would not allow. Unused allowance up to one such tip carries over.
 */
const TIP_SLACK_MM = 1;
const WINDOW_MIN = RAIN_WINDOWS_H.map((h) => h * 60);
const WINDOW_KEYS = RAIN_WINDOWS_H.map((h) => `rain_${h}h_mm`);

export interface RainState {
  cfg: RainSensor;
  slot: AlertSlot;
  /** Last raw counter value accepted as a baseline. */
  lastRaw: number | null;
  lastAt: number;
  /** Allowance (mm) left over from earlier readings, at most TIP_SLACK_MM: see `increment`. */
  creditMm: number;
  /** Rain per minute bucket in whole µm (at most 50 mm a minute passes the glitch check, far inside
   *  Int32: half the memory of Float64 — 5.6 KB a gauge); bucket of minute m is `ring[m % RING]`. */
  ring: Int32Array;
  /** Absolute minute index of the newest bucket. */
  head: number;
  /** Rolling sums in µm, one per window in RAIN_WINDOWS_H. */
  sums: Float64Array;
  /** Rule index by window for quick lookup. */
  ruleWindows: number[];
  /** Each rule's facts (window, label), made once: the sentences are built from them. */
  ruleFacts: RuleFacts[];
}

export function newRainState(cfg: RainSensor, slot: AlertSlot): RainState {
  return {
    cfg,
    slot,
    lastRaw: null,
    lastAt: 0,
    creditMm: TIP_SLACK_MM,
    ring: new Int32Array(RING),
    head: Number.NEGATIVE_INFINITY,
    sums: new Float64Array(WINDOW_MIN.length),
    ruleWindows: cfg.rules.map((r) => RAIN_WINDOWS_H.indexOf(r.windowH)),
    ruleFacts: cfg.rules.map((r) => ({ windowH: r.windowH, label: r.label })),
  };
}

const slotOf = (minute: number): number => ((minute % RING) + RING) % RING;

/** Moves the newest bucket forward to `minute`, dropping what leaves each window. Returns whether a sum changed. */
function advance(s: RainState, minute: number): boolean {
  if (minute <= s.head) return false;
  if (minute - s.head >= RING) {
    const had = s.sums[WINDOW_MIN.length - 1] !== 0;
    s.ring.fill(0);
    s.sums.fill(0);
    s.head = minute;
    return had;
  }
  let changed = false;
  for (let m = s.head + 1; m <= minute; m++) {
    for (let w = 0; w < WINDOW_MIN.length; w++) {
      const leaving = s.ring[slotOf(m - WINDOW_MIN[w]!)]!;
      if (leaving !== 0) {
        s.sums[w]! -= leaving;
        changed = true;
      }
    }
    s.ring[slotOf(m)] = 0;
  }
  s.head = minute;
  return changed;
}

function addToMinute(s: RainState, minute: number, um: number): void {
  if (um === 0 || minute <= s.head - RING) return;
  advance(s, minute);
  s.ring[slotOf(minute)]! += um;
  for (let w = 0; w < WINDOW_MIN.length; w++) if (minute > s.head - WINDOW_MIN[w]!) s.sums[w]! += um;
}

/** Spreads rain evenly over the minutes after `fromMinute` up to `toMinute` (a gap is not a burst). */
function spread(s: RainState, fromMinute: number, toMinute: number, um: number): void {
  const first = Math.max(fromMinute + 1, toMinute - RING + 1);
  const span = toMinute - fromMinute;
  const each = Math.floor(um / span);
  for (let m = first; m < toMinute; m++) addToMinute(s, m, each);
  addToMinute(s, toMinute, um - each * (span - 1));
}

/**
 * The rain (mm, in raw units) between two counter values, or null when the value is no
 * rain at all (a glitch). Emits observations for wraps, resets and jumps.
 *
 * `max_rate_mm_per_min` is per minute of elapsed time: a reading may add the rate times the time
 * since the reading before (so the first after a long gap may add a lot, spread over the gap),
 * plus at most one tip's worth left unused before. Readings a second apart therefore cannot each
 * climb 50 mm, and whatever a glitching counter does, no more than the rate passes.
 */
function increment(s: RainState, raw: number, at: number, obs: Observation[]): number | null {
  const allowMm = (s.cfg.maxRateMmPerMin * (at - s.lastAt)) / MINUTE + s.creditMm;
  const d = plausibleStep(s, raw, at, allowMm, obs);
  s.creditMm = Math.min(TIP_SLACK_MM, allowMm - (d ?? 0) * s.cfg.scale);
  return d;
}

function plausibleStep(s: RainState, raw: number, at: number, allowMm: number, obs: Observation[]): number | null {
  const { cfg } = s;
  const last = s.lastRaw!;
  const plausibleRaw = allowMm / cfg.scale;
  const d = raw - last;
  if (d >= 0) {
    if (d <= plausibleRaw) return d;
    obs.push({ sensor: cfg.id, what: 'implausible_jump', at, detail: { from: last, to: raw, max_mm: Math.round(allowMm * 1000) / 1000 } });
    return null;
  }
  // Backwards: a wrap only if we were in the top half of the counter and the wrapped step is plausible.
  if (cfg.counterModulus > 0 && last >= cfg.counterModulus / 2) {
    const wrapped = raw + cfg.counterModulus - last;
    if (wrapped <= plausibleRaw) {
      obs.push({ sensor: cfg.id, what: 'counter_wrap', at, detail: { from: last, to: raw, modulus: cfg.counterModulus } });
      return wrapped;
    }
  }
  // A reset (device rebooted): the new count is what fell since, if plausible.
  obs.push({ sensor: cfg.id, what: 'counter_reset', at, detail: { from: last, to: raw } });
  return raw <= plausibleRaw ? raw : null;
}

function candidate(s: RainState): Candidate {
  const values: Record<string, number> = {};
  for (let w = 0; w < WINDOW_KEYS.length; w++) values[WINDOW_KEYS[w]!] = Math.round(s.sums[w]!) / 1000;
  let best: Level | null = null;
  let at = -1;
  const rules = s.cfg.rules;
  for (let i = 0; i < rules.length; i++) {
    const r = rules[i]!;
    if (s.sums[s.ruleWindows[i]!]! >= r.mm * 1000 && (best === null || levelRank(r.level) > levelRank(best))) {
      best = r.level;
      at = i;
    }
  }
  if (at < 0) return { level: null, rule: s.slot.active?.rule ?? '', values, facts: s.slot.active?.facts };
  return { level: best, rule: rules[at]!.name, values, facts: s.ruleFacts[at] };
}

/** Feeds one good, in-range cumulative value (raw units) taken at `at`. */
export function rainReading(s: RainState, raw: number, at: number, out: AlertTransition[], obs: Observation[]): void {
  const minute = Math.floor(at / MINUTE);
  let changed = false;
  if (s.lastRaw === null) {
    // First value is only a baseline: a total since installation is not rain now.
    s.lastRaw = raw;
    s.lastAt = at;
    changed = advance(s, minute);
  } else {
    const last = s.lastRaw;
    const d = increment(s, raw, at, obs);
    const lastMinute = Math.floor(s.lastAt / MINUTE);
    s.lastRaw = raw;
    s.lastAt = at;
    if (d !== null && d > 0) {
      // From rounded totals, so rounding never accumulates over many small increments.
      const um = Math.round((last + d) * s.cfg.scale * 1000) - Math.round(last * s.cfg.scale * 1000);
      if (minute - lastMinute > 1) {
        spread(s, lastMinute, minute, um);
        if ((minute - lastMinute) * MINUTE > s.cfg.health.intervalS * 1000 * s.cfg.health.staleIntervals) {
          obs.push({ sensor: s.cfg.id, what: 'gap_spread', at, detail: { mm: um / 1000, minutes: minute - lastMinute } });
        }
      } else addToMinute(s, minute, um);
      changed = true;
    } else changed = advance(s, minute);
  }
  // Dry minutes with nothing leaving the windows change nothing (most of a year); pending
  // durations are the tick's business.
  if (!changed && s.slot.upSince === null && s.slot.downSince === null) return;
  stepSlot(s.slot, candidate(s), at, out);
}

/**
 * Judges the sums again against the rules as they are now (a threshold override was set or
 * ended, thresholds.ts): a dry gauge sends readings that change nothing, so the next reading
 * would not. Nothing before the first reading (no baseline, no sums).
 */
export function rainRejudge(s: RainState, now: number, out: AlertTransition[]): void {
  if (s.lastRaw !== null) stepSlot(s.slot, candidate(s), now, out);
}

/** Current rolling sums in mm, for status displays and tests. */
export function rainSums(s: RainState): Record<string, number> {
  return candidate(s).values as Record<string, number>;
}
