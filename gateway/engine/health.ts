/**
 * Sensor health: stale (silent too long), out of range, stuck on one value, failing reads.
 * Each is a fault alert of its own, at level `info`: reported, never a silent drop and never
 * a false alarm. A value that fails these checks never reaches the danger rules.
 */
import type { HealthConfig } from '../config/types.ts';
import type { AlertSlot, Candidate } from './alert-slot.ts';
import { stepSlot } from './alert-slot.ts';
import { faultHeld, settleFlap, stepFault, type FlapGuard } from './flap.ts';
import type { AlertTransition, FaultKind, RuleFacts } from './types.ts';

export interface HealthState {
  cfg: HealthConfig;
  stale: AlertSlot;
  range: AlertSlot;
  stuck: AlertSlot;
  errors: AlertSlot;
  /**
   * The sensor's flapping guard over range, stuck, errors and a detector's own fault (flap.ts).
   * Not over stale: silence is no babble, and a stale fault can change at most once per stale
   * period (it is raised by the clock), so it is reported as ever, flapping or not.
   */
  flap: FlapGuard;
  /** Time of the last reading of any quality (for late/duplicate detection). */
  lastAt: number;
  lastGoodAt: number;
  lastValue: number;
  sameSince: number;
  errBits: Uint8Array;
  errIdx: number;
  errCount: number;
  /** Failed reads in a row, up to now. */
  streak: number;
  seen: number;
}

export function newHealth(cfg: HealthConfig, slots: Pick<HealthState, 'stale' | 'range' | 'stuck' | 'errors' | 'flap'>, now: number): HealthState {
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
    streak: 0,
    seen: 0,
  };
}

const facts = (fault: FaultKind): RuleFacts => ({ fault });
const STALE = facts('stale');
const RANGE = facts('out_of_range');
const STUCK = facts('stuck');
const ERRORS = facts('error_rate');

/** Whole seconds: the sentence picks the unit (seconds, minutes, hours) a person would say. */
const silentS = (ms: number): number => Math.floor(ms / 1000);

/** No fault, with the figures as they are now: a cleared fault says how the sensor is, not how it was. */
const NONE = (rule: string, values: Candidate['values']): Candidate => ({ level: null, rule, values });

function countRead(h: HealthState, failed: boolean, now: number, out: AlertTransition[]): void {
  const bit = failed ? 1 : 0;
  h.errCount += bit - h.errBits[h.errIdx]!;
  h.errBits[h.errIdx] = bit;
  h.errIdx = (h.errIdx + 1) % h.errBits.length;
  h.seen++;
  h.streak = failed ? h.streak + 1 : 0;
  const window = Math.min(h.seen, h.errBits.length);
  // Judge the ratio only on a full window; clear at half the ratio so a borderline link does not
  // flap. A unit that stopped answering fails every read, but a poller backing off from it
  // (drivers/modbus/poller.ts) makes a full window take many minutes: failed reads in a row are
  // a fault at once.
  const ratio = h.errCount / window;
  const held = faultHeld(h.flap, h.errors);
  const inRow = h.cfg.errorStreak > 0 && h.streak >= h.cfg.errorStreak;
  const bad = inRow || (h.seen >= h.errBits.length && (held ? ratio >= h.cfg.errorRatio / 2 : ratio >= h.cfg.errorRatio));
  if (bad || held) {
    const values = { errors: h.errCount, window, failed_in_row: h.streak };
    stepFault(h.flap, h.errors, bad ? { level: 'info', rule: 'error_rate', values, facts: ERRORS } : NONE('error_rate', values), now, out);
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
    stepFault(h.flap, h.range, { level: 'info', rule: 'out_of_range', values: { value, min, max }, facts: RANGE }, now, out);
    return false;
  }
  if (faultHeld(h.flap, h.range)) stepFault(h.flap, h.range, NONE('out_of_range', { value, min, max }), now, out);
  if (h.stale.active) stepSlot(h.stale, NONE('stale', { silent_s: silentS(now - h.lastGoodAt), value }), now, out);
  h.lastGoodAt = now;
  if (value !== h.lastValue) {
    h.lastValue = value;
    h.sameSince = now;
    if (faultHeld(h.flap, h.stuck)) stepFault(h.flap, h.stuck, NONE('stuck', { value }), now, out);
  } else if (h.cfg.stuckS > 0 && now - h.sameSince >= h.cfg.stuckS * 1000) {
    stepFault(h.flap, h.stuck, { level: 'info', rule: 'stuck', values: { value, unchanged_s: silentS(now - h.sameSince) }, facts: STUCK }, now, out);
  }
  return true;
}

/** Clock tick: a flapping sensor may have settled; a sensor with no good value for too long is stale. */
export function healthTick(h: HealthState, now: number, out: AlertTransition[]): void {
  settleFlap(h.flap, now, out);
  const silentMs = now - h.lastGoodAt;
  if (silentMs > h.cfg.intervalS * h.cfg.staleIntervals * 1000) {
    stepSlot(h.stale, { level: 'info', rule: 'stale', values: { silent_s: silentS(silentMs) }, facts: STALE }, now, out);
  }
}
