/**
 * Sensor health: stale (silent too long), out of range, stuck on one value, failing reads.
 * Each is a fault alert of its own, at level `info`: reported, never a silent drop and never
 * a false alarm. A value that fails these checks never reaches the danger rules.
 */
import type { HealthConfig } from '../config/types.ts';
import type { AlertSlot, Candidate } from './alert-slot.ts';
import { stepSlot } from './alert-slot.ts';
import type { AlertTransition } from './types.ts';

export interface HealthState {
  cfg: HealthConfig;
  stale: AlertSlot;
  range: AlertSlot;
  stuck: AlertSlot;
  errors: AlertSlot;
  /** Time of the last reading of any quality (for late/duplicate detection). */
  lastAt: number;
  lastGoodAt: number;
  lastValue: number;
  sameSince: number;
  errBits: Uint8Array;
  errIdx: number;
  errCount: number;
  seen: number;
}

export function newHealth(cfg: HealthConfig, slots: Pick<HealthState, 'stale' | 'range' | 'stuck' | 'errors'>, now: number): HealthState {
  return {
    cfg,
    ...slots,
    lastAt: Number.NEGATIVE_INFINITY,
    lastGoodAt: now,
    lastValue: Number.NaN,
    sameSince: now,
    errBits: new Uint8Array(cfg.errorWindow),
    errIdx: 0,
    errCount: 0,
    seen: 0,
  };
}

const NONE = (rule: string): Candidate => ({ level: null, rule, values: {} });

function countRead(h: HealthState, failed: boolean, now: number, out: AlertTransition[]): void {
  const bit = failed ? 1 : 0;
  h.errCount += bit - h.errBits[h.errIdx]!;
  h.errBits[h.errIdx] = bit;
  h.errIdx = (h.errIdx + 1) % h.errBits.length;
  h.seen++;
  const window = Math.min(h.seen, h.errBits.length);
  // Judge only on a full window; clear at half the ratio so a borderline link does not flap.
  const ratio = h.errCount / window;
  const held = h.errors.active !== null;
  const bad = h.seen >= h.errBits.length && (held ? ratio >= h.cfg.errorRatio / 2 : ratio >= h.cfg.errorRatio);
  if (bad || held) {
    stepSlot(h.errors, bad ? { level: 'info', rule: 'error_rate', values: { errors: h.errCount, window } } : NONE('error_rate'), now, out);
  }
}

/** A failed or missing read. */
export function healthError(h: HealthState, now: number, out: AlertTransition[]): void {
  countRead(h, true, now, out);
}

/**
 * A read with a value. Returns true if the value may feed the danger rules.
 */
export function healthValue(h: HealthState, value: number, now: number, out: AlertTransition[]): boolean {
  countRead(h, false, now, out);
  const { min, max } = h.cfg;
  if (value < min || value > max) {
    stepSlot(h.range, { level: 'info', rule: 'out_of_range', values: { value, min, max } }, now, out);
    return false;
  }
  if (h.range.active) stepSlot(h.range, NONE('out_of_range'), now, out);
  h.lastGoodAt = now;
  if (h.stale.active) stepSlot(h.stale, NONE('stale'), now, out);
  if (value !== h.lastValue) {
    h.lastValue = value;
    h.sameSince = now;
    if (h.stuck.active) stepSlot(h.stuck, NONE('stuck'), now, out);
  } else if (h.cfg.stuckS > 0 && now - h.sameSince >= h.cfg.stuckS * 1000) {
    stepSlot(h.stuck, { level: 'info', rule: 'stuck', values: { value, unchanged_h: Math.round((now - h.sameSince) / 360_000) / 10 } }, now, out);
  }
  return true;
}

/** Clock tick: a sensor with no good value for too long is stale. */
export function healthTick(h: HealthState, now: number, out: AlertTransition[]): void {
  const silentMs = now - h.lastGoodAt;
  if (silentMs > h.cfg.intervalS * h.cfg.staleIntervals * 1000) {
    stepSlot(h.stale, { level: 'info', rule: 'stale', values: { silent_min: Math.floor(silentMs / 60_000) } }, now, out);
  }
}
