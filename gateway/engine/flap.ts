/**
 * Flapping faults: a sensor whose fault state keeps changing (a smoke detector's chamber on the
 * edge of `dirty`, a loose probe in and out of range) is one `flapping` fault, not a fault event
 * and a log line per change (issue 15: 20,000 alternating states made 40,004 events and 24 MB;
 * with this guard, the observation gate and the reading cap: 16 events, 14 log lines, 0.2–0.4 MB,
 * measured on a loaded 2-core machine).
 *
 * Decisions:
 * - **Per sensor, over its fault slots** (range, stuck, errors and the detector's own; not
 *   stale, which the clock raises at most once per stale period: health.ts). The danger rules
 *   (rain, water, fire) are never guarded: a detector's `alarm` during flapping reaches the
 *   fire rule at once, as ever.
 * - **The FLAP_TRANSITIONS-th fault transition within FLAP_WINDOW_MS** is not made; the
 *   `flapping` fault is raised instead (so at most FLAP_TRANSITIONS − 1 ordinary ones come
 *   before it). While it holds, the guarded slots are **frozen**: they keep what the outside
 *   was last told, the newest evidence for each is kept, and each change of it is counted.
 * - **Settled after FLAP_QUIET_MS without a change** (checked on readings and ticks): the
 *   flapping fault clears with the count, then each frozen slot is given its newest evidence,
 *   so a fault that stayed (a detector that ended up dirty) is raised or kept, one that went
 *   away is cleared. Alert ids stay consistent: a frozen slot never raised an alert nobody saw.
 * - **Deterministic**: only the times of the readings and ticks it is fed (the engine's
 *   monotonic clock); no timers. Fault slots have no minimum durations (state.ts), so whether a
 *   candidate makes a transition is known before stepping it.
 * - The guard's counters are windows, like the health counters: not in the snapshot, rebuilt
 *   from the replayed readings. A flapping fault restored from a snapshot without them starts
 *   its quiet period at the first input after the restart.
 */
import type { AlertSlot, Candidate } from './alert-slot.ts';
import { stepSlot } from './alert-slot.ts';
import type { AlertTransition, RuleFacts } from './types.ts';

const MINUTE = 60_000;
/** Fault transitions within FLAP_WINDOW_MS that make a sensor flapping (3 fault/clear cycles). */
export const FLAP_TRANSITIONS = 6;
export const FLAP_WINDOW_MS = 10 * MINUTE;
/** A flapping sensor settles after this long without a change of its fault state. */
export const FLAP_QUIET_MS = 10 * MINUTE;

const FLAPPING: RuleFacts = { fault: 'flapping' };

export interface FlapGuard {
  /** The sensor's fault slots, and the newest evidence for each while frozen (null: none since). */
  guarded: AlertSlot[];
  latest: (Candidate | null)[];
  /** The `flapping` fault. While it holds an alert the guarded slots are frozen. */
  slot: AlertSlot;
  /** Times of the last FLAP_TRANSITIONS − 1 fault transitions (a ring; −∞ = none). */
  times: Float64Array;
  next: number;
  /** Changes counted since the flapping fault was raised, and when the last one came. */
  changes: number;
  lastChangeAt: number;
}

export function newFlapGuard(slot: AlertSlot): FlapGuard {
  return { guarded: [], latest: [], slot, times: new Float64Array(FLAP_TRANSITIONS - 1).fill(Number.NEGATIVE_INFINITY), next: 0, changes: 0, lastChangeAt: Number.NEGATIVE_INFINITY };
}

/** Puts a fault slot under the guard (state.ts, once per slot). */
export function guard(g: FlapGuard, slot: AlertSlot): AlertSlot {
  g.guarded.push(slot);
  g.latest.push(null);
  return slot;
}

export const isFlapping = (g: FlapGuard): boolean => g.slot.active !== null;

/**
 * Does the fault hold, as the rules should see it? Frozen, it is what the newest evidence says
 * (the slot itself keeps what the outside was told); otherwise the slot's own state.
 */
export function faultHeld(g: FlapGuard, slot: AlertSlot): boolean {
  if (isFlapping(g)) {
    const c = g.latest[g.guarded.indexOf(slot)];
    if (c) return c.level !== null;
  }
  return slot.active !== null;
}

/** Fault slots have no minimum durations: the candidate changes the slot iff its level differs. */
const changes = (slot: AlertSlot, c: Candidate): boolean => (slot.active?.level ?? null) !== c.level;

/** `stepSlot` for a guarded fault slot. */
export function stepFault(g: FlapGuard, slot: AlertSlot, c: Candidate, now: number, out: AlertTransition[]): void {
  const i = g.guarded.indexOf(slot);
  if (isFlapping(g)) {
    const before = g.latest[i];
    if (before ? (before.level === null) !== (c.level === null) : changes(slot, c)) {
      g.changes++;
      g.lastChangeAt = now;
    }
    g.latest[i] = c;
    return;
  }
  if (!changes(slot, c)) {
    stepSlot(slot, c, now, out);
    return;
  }
  const oldest = g.times[g.next]!;
  if (now - oldest < FLAP_WINDOW_MS) {
    // The FLAP_TRANSITIONS-th within the window: the flapping fault says it instead.
    g.latest.fill(null);
    g.latest[i] = c;
    g.changes = 1;
    g.lastChangeAt = now;
    const values = { changes: FLAP_TRANSITIONS, window_s: Math.max(1, Math.round((now - oldest) / 1000)) };
    stepSlot(g.slot, { level: 'info', rule: 'flapping', values, facts: FLAPPING }, now, out);
    return;
  }
  g.times[g.next] = now;
  g.next = (g.next + 1) % g.times.length;
  stepSlot(slot, c, now, out);
}

/**
 * Called on every reading of the sensor (before it is judged) and every tick: a flapping sensor
 * quiet for FLAP_QUIET_MS settles. One `cleared` with the count, then the frozen slots catch up.
 */
export function settleFlap(g: FlapGuard, now: number, out: AlertTransition[]): void {
  if (!isFlapping(g)) return;
  // Restored from a snapshot without the counters: the quiet period starts now.
  if (g.lastChangeAt === Number.NEGATIVE_INFINITY) g.lastChangeAt = now;
  if (now - g.lastChangeAt < FLAP_QUIET_MS) return;
  const since = g.slot.lastRaisedAt;
  const values = { changes: g.changes, flapping_s: Math.round((now - since) / 1000), quiet_s: Math.round((now - g.lastChangeAt) / 1000) };
  stepSlot(g.slot, { level: null, rule: 'flapping', values, facts: FLAPPING }, now, out);
  g.changes = 0;
  g.lastChangeAt = Number.NEGATIVE_INFINITY;
  // A fresh start: the catch-up transitions below and the next ones count from zero.
  g.times.fill(Number.NEGATIVE_INFINITY);
  for (let i = 0; i < g.guarded.length; i++) {
    const c = g.latest[i];
    g.latest[i] = null;
    if (c) stepSlot(g.guarded[i]!, c, now, out);
  }
}
