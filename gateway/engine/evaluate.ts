/**
 * The threshold engine: `evaluate(state, input, now) → {state, transitions, observations}`.
 * No I/O, no timers, no clock of its own: the shell passes `now` (ms, monotonic in the box,
 * the recorded time in a replay). See state.ts for why the state is updated in place.
 */
import { acknowledge, stepSlot } from './alert-slot.ts';
import { settleFlap } from './flap.ts';
import { healthError, healthTick, healthValue } from './health.ts';
import { gateObservation, gateTick } from './observation-gate.ts';
import { rainReading } from './rain.ts';
import { applySelfTests } from './self-test.ts';
import { smokeReading } from './smoke.ts';
import type { EngineState } from './state.ts';
import type { AlertTransition, EngineInput, EvalResult, Observation, Reading } from './types.ts';
import { waterReading } from './water-level.ts';

function reading(state: EngineState, r: Reading, out: AlertTransition[], obs: Observation[]): void {
  const rt = state.sensors.get(r.sensor);
  if (!rt) {
    obs.push({ sensor: r.sensor, what: 'unknown_sensor', at: r.at, detail: {} });
    return;
  }
  const h = rt.health;
  // Cumulative and state readings make an older one redundant; a repeat adds nothing.
  if (r.at <= h.lastAt) {
    obs.push({ sensor: r.sensor, what: r.at === h.lastAt ? 'duplicate' : 'late', at: r.at, detail: { last_at: h.lastAt } });
    return;
  }
  h.lastAt = r.at;
  // A flapping sensor quiet long enough settles before this reading is judged (flap.ts).
  settleFlap(h.flap, r.at, out);
  const value = r.value;
  if (r.quality !== 'good' || value === null || !Number.isFinite(value)) {
    healthError(h, r.at, out);
    return;
  }
  if (rt.kind === 'rain') {
    // Range applies to the total in mm, the unit the config speaks.
    if (healthValue(h, value * rt.rain.cfg.scale, r.at, out)) rainReading(rt.rain, value, r.at, out, obs);
  } else if (rt.kind === 'water_level') {
    if (healthValue(h, value, r.at, out)) waterReading(rt.water, value, r.at, out);
  } else if (healthValue(h, value, r.at, out) && !smokeReading(rt.zone, rt.detector, value, r.at, out)) {
    // Not a known detector state: a read error, not a fire.
    healthError(h, r.at, out);
  }
}

function tick(state: EngineState, now: number, out: AlertTransition[], obs: Observation[]): void {
  gateTick(state.observed, now, obs);
  for (const rt of state.sensors.values()) healthTick(rt.health, now, out);
  // Let minimum durations expire while readings are quiet.
  for (const slot of state.slots) {
    if (slot.upSince !== null || slot.downSince !== null) stepSlot(slot, slot.last, now, out);
  }
}

export function evaluate(state: EngineState, input: EngineInput, now: number): EvalResult<EngineState> {
  const transitions: AlertTransition[] = [];
  const observations: Observation[] = [];
  switch (input.type) {
    case 'reading': {
      // Most readings observe nothing; those that do go through the gate (observation-gate.ts).
      const seen: Observation[] = [];
      reading(state, input.reading, transitions, seen);
      if (seen.length) {
        const known = state.sensors.has(input.reading.sensor);
        for (const o of seen) gateObservation(state.observed, o, known, now, observations);
      }
      break;
    }
    case 'tick':
      tick(state, now, transitions, observations);
      break;
    case 'ack':
      for (const slot of state.slots) {
        const t = acknowledge(slot, input.alert, input.by, now);
        if (t) transitions.push(t);
      }
      break;
    case 'selftest':
      // The shell builds results from the config it runs with, so every key is known here.
      applySelfTests(state.selfTests, input.results, now, transitions);
      break;
  }
  return { state, transitions, observations };
}

/**
 * The box was down until `now` (a restart): no sensor is stale for the time nobody listened, so
 * each one's silence counts from now, as for a box that just started. A stale fault raised
 * before the downtime stays until a good value clears it.
 */
export function resumeAfterDowntime(state: EngineState, now: number): void {
  for (const rt of state.sensors.values()) rt.health.lastGoodAt = Math.max(rt.health.lastGoodAt, now);
}

/** Active alerts, highest level first: what the panel and the status topic show. */
export function activeAlerts(state: EngineState): { alert: string; kind: string; level: string; rule: string; zone: string; acknowledgedBy: string | null }[] {
  return state.slots
    .filter((s) => s.active)
    .map((s) => ({ alert: s.active!.id, kind: s.kind, level: s.active!.level, rule: s.active!.rule, zone: s.zone, acknowledgedBy: s.active!.acknowledgedBy }));
}
