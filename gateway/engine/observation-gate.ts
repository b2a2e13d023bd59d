/**
 * Observations (counter resets, implausible jumps, duplicates, late and unknown readings) are
 * facts worth a line in the log, but a glitching gauge makes one per reading: a flood of them
 * committed one event each and ran the box out of memory in about 20 s. This gate lets the first
 * of a kind from a sensor through at once, counts the rest for OBSERVATION_WINDOW_MS, and then
 * says them as one observation of the same kind with `repeated` (how many were not logged one
 * by one) and `window_s` in its detail, the last one's detail beside them.
 *
 * Decisions:
 * - **Per sensor and kind** (`what`): a gauge's resets do not hide its jumps. Readings from
 *   sensors the site does not know share one window per kind (their ids are whatever the sender
 *   chose; a window each would let them grow the map without bound).
 * - **While a flood goes on, one summary per window**: after a summary the next window opens at
 *   once and counts; only a window that ends with nothing counted closes, so the first one after
 *   a quiet window is let through at once again.
 * - **Deterministic**: windows run on the engine's clock (`now` of the readings and ticks it is
 *   fed); a tick closes windows even when the sensor has gone silent.
 * - Windows are not in the snapshot: after a restart the replayed readings rebuild them (their
 *   observations are not logged again, only a count at the window's end).
 */
import type { Observation } from './types.ts';

export const OBSERVATION_WINDOW_MS = 5 * 60_000;

interface Window {
  start: number;
  /** Observations counted in this window, not logged one by one. */
  repeated: number;
  last: Observation;
}

/** Open windows by `<sensor>\n<what>`; at most one per configured sensor and kind, plus one per kind for unknown sensors. */
export type ObservationGate = Map<string, Window>;

export const newObservationGate = (): ObservationGate => new Map();

function summary(w: Window, now: number): Observation {
  return { sensor: w.last.sensor, what: w.last.what, at: now, detail: { ...w.last.detail, repeated: w.repeated, window_s: Math.round((now - w.start) / 1000) } };
}

/** Passes `o` to `out` or counts it. `known`: the sensor is in the site's config. */
export function gateObservation(gate: ObservationGate, o: Observation, known: boolean, now: number, out: Observation[]): void {
  const key = `${known ? o.sensor : '*'}\n${o.what}`;
  const w = gate.get(key);
  if (w && now - w.start < OBSERVATION_WINDOW_MS) {
    w.repeated++;
    w.last = o;
    return;
  }
  if (w && w.repeated > 0) {
    // The flood went on past its window (no tick closed it): say the count, and count this one.
    out.push(summary(w, now));
    gate.set(key, { start: now, repeated: 1, last: o });
    return;
  }
  out.push(o);
  gate.set(key, { start: now, repeated: 0, last: o });
}

/** Clock tick: windows that ran their time say their count, or close if they counted nothing. */
export function gateTick(gate: ObservationGate, now: number, out: Observation[]): void {
  for (const [key, w] of gate) {
    if (now - w.start < OBSERVATION_WINDOW_MS) continue;
    if (w.repeated === 0) {
      gate.delete(key);
      continue;
    }
    out.push(summary(w, now));
    w.start = now;
    w.repeated = 0;
  }
}
