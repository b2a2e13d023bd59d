/**
 * Smoke: a detector's alarm (or an analog value over its threshold) is a pre-alarm for a person
 * to check until it is confirmed by a second consecutive sample or by a second detector in the
 * same zone; then it is a fire (red). Fault states are faults, never fires. The detector's fault
 * goes through the sensor's flapping guard (flap.ts); the fire rule never does: an alarm during
 * flapping is judged at once.
 */
import type { SmokeSensor } from '../config/types.ts';
import type { AlertSlot, Candidate } from './alert-slot.ts';
import { stepSlot } from './alert-slot.ts';
import { stepFault, type FlapGuard } from './flap.ts';
import type { AlertTransition, FaultKind, RuleFacts, SmokeState } from './types.ts';
import { SMOKE_STATES } from './types.ts';

export interface DetectorState {
  cfg: SmokeSensor;
  fault: AlertSlot;
  /** The sensor's flapping guard (shared with its health slots). */
  flap: FlapGuard;
  state: SmokeState;
  /** Alarm samples in a row. */
  streak: number;
  lastAlarmAt: number;
}

export interface ZoneFireState {
  slot: AlertSlot;
  detectors: DetectorState[];
  confirmMs: number;
}

/** Facts of each fault state, made once. */
const FAULT_FACTS = Object.fromEntries((['dirty', 'removed', 'low_battery', 'tamper'] as const).map((f) => [f, { fault: f }])) as Record<string, RuleFacts & { fault: FaultKind }>;

export function newDetector(cfg: SmokeSensor, fault: AlertSlot, flap: FlapGuard): DetectorState {
  return { cfg, fault, flap, state: 'normal', streak: 0, lastAlarmAt: Number.NEGATIVE_INFINITY };
}

/** Maps a reading to a detector state; null if the value is no known state. */
export function smokeState(cfg: SmokeSensor, value: number): SmokeState | null {
  if (cfg.mode === 'analog') return value >= cfg.alarmDbM ? 'alarm' : 'normal';
  return Number.isInteger(value) ? (SMOKE_STATES[value] ?? null) : null;
}

function zoneCandidate(z: ZoneFireState, now: number): Candidate {
  const alarming = z.detectors.filter((d) => d.state === 'alarm');
  if (alarming.length === 0) return { level: null, rule: 'smoke', values: {} };
  const recent = alarming.filter((d) => now - d.lastAlarmAt <= z.confirmMs);
  const byStreak = alarming.find((d) => d.streak >= 2);
  const heldRed = z.slot.active?.level === 'red';
  const detectors = alarming.map((d) => d.cfg.name).join('、');
  if (byStreak || recent.length >= 2 || heldRed) {
    const rule = recent.length >= 2 ? 'smoke_two_detectors' : byStreak ? 'smoke_two_samples' : z.slot.active!.rule;
    return { level: 'red', rule, values: { detectors, alarming: alarming.length } };
  }
  return { level: 'yellow', rule: 'smoke_pre_alarm', values: { detectors, alarming: alarming.length } };
}

/** Feeds one detector's good value taken at `now`; returns false if the value is no known state. */
export function smokeReading(z: ZoneFireState, d: DetectorState, value: number, now: number, out: AlertTransition[]): boolean {
  const state = smokeState(d.cfg, value);
  if (state === null) return false;
  d.state = state;
  if (state === 'alarm') {
    d.streak++;
    d.lastAlarmAt = now;
  } else d.streak = 0;
  const isFault = state !== 'alarm' && state !== 'normal';
  if (isFault) stepFault(d.flap, d.fault, { level: 'info', rule: `smoke_${state}`, values: { state }, facts: FAULT_FACTS[state] }, now, out);
  // Cleared with the state it is in now (normal or alarm), not the fault it was.
  else stepFault(d.flap, d.fault, { level: null, rule: d.fault.last.rule, values: { state } }, now, out);
  stepSlot(z.slot, zoneCandidate(z, now), now, out);
  return true;
}
