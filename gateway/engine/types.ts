/**
 * The engine's vocabulary: what goes in (readings, ticks, acknowledgements) and what comes
 * out (alert transitions and observations). Everything here is plain data so it can be
 * logged, sent over MQTT as JSON and replayed.
 */

import type { SelfTestResult } from './self-test.ts';

/** Warning levels, lowest first. China's four warning colours sit above `info`. */
export const LEVELS = ['info', 'blue', 'yellow', 'orange', 'red'] as const;
export type Level = (typeof LEVELS)[number];

export type SensorKind = 'rain' | 'water_level' | 'smoke';

/**
 * How good a reading is. `good` carries a value; the others carry none and count as errors
 * for the health rules (a failed read is a quality flag, never a number: a busy slave logged as
 * 0 °C is a false reading).
 */
export type Quality = 'good' | 'missing' | 'error';

/** Smoke detector states, as drivers normalise them (0–5 on the wire). */
export const SMOKE_STATES = ['normal', 'alarm', 'dirty', 'removed', 'low_battery', 'tamper'] as const;
export type SmokeState = (typeof SMOKE_STATES)[number];

/**
 * One normalised reading, however it arrived (Modbus, serial, MQTT, CSV replay).
 * `value` is in the sensor's engineering unit: rain = cumulative total in mm, water level in m,
 * smoke = a `SmokeState` index (state detectors) or obscuration in dB/m (analog detectors).
 */
export interface Reading {
  sensor: string;
  value: number | null;
  /** Time the reading was taken, in the engine's clock (ms). */
  at: number;
  quality: Quality;
}

export type EngineInput =
  | { type: 'reading'; reading: Reading }
  | { type: 'tick' }
  | { type: 'ack'; alert: string; by: string }
  /** Verdicts of the scheduled self-tests (self-test.ts). */
  | { type: 'selftest'; results: readonly SelfTestResult[] };

export type AlertKind = 'rain' | 'water_level' | 'smoke' | 'fault';

export type TransitionType = 'raised' | 'escalated' | 'deescalated' | 'cleared' | 'acknowledged';

/**
 * Sensor faults: the health rules' four, the smoke detector's own fault states, and `flapping`
 * (a sensor whose fault state keeps changing; flap.ts). `self_test` (a speaker or siren failed
 * its scheduled test) and `not_reporting` (a sensor failed the daily reporting check) come from
 * the scheduled self-tests (self-test.ts).
 */
export type FaultKind = 'stale' | 'out_of_range' | 'stuck' | 'error_rate' | 'dirty' | 'removed' | 'low_battery' | 'tamper' | 'flapping' | 'self_test' | 'not_reporting';

/** A name for people, in both languages. */
export interface Label {
  zh: string;
  en: string;
}

/**
 * What a rule is about, as data. The sentences are built from these and never from the rule's
 * name, which a site may choose freely (`flash_flood` says nothing about its window).
 */
export interface RuleFacts {
  /** Rain: the window the rule sums over (h). */
  windowH?: number;
  /** Rain: what the rule warns of (`暴雨` for the CMA signals, the rule's own `label` otherwise). */
  label?: Label;
  /** Water level: the stage crossed. */
  stage?: string;
  /** Faults: which one. */
  fault?: FaultKind;
}

/**
 * One change in an alert's life. `values` are the figures that proved it, snake_case with unit;
 * the `RuleFacts` fields say what the rule is about (on the wire: `window_h`, `label`, `stage`, `fault`).
 */
export interface AlertTransition extends RuleFacts {
  transition: TransitionType;
  /** Stable for one occurrence of an alert: `<sensor or zone>/<family>/<n>`. */
  alert: string;
  kind: AlertKind;
  sensors: string[];
  zone: string;
  rule: string;
  level: Level;
  previousLevel: Level | null;
  values: Record<string, number | string>;
  textZh: string;
  textEn: string;
  at: number;
  acknowledgedBy?: string;
}

/** Facts worth logging that are not alerts: counter resets and wraps, dropped readings. */
export interface Observation {
  sensor: string;
  what: 'counter_reset' | 'counter_wrap' | 'implausible_jump' | 'duplicate' | 'late' | 'unknown_sensor' | 'gap_spread';
  at: number;
  detail: Record<string, number | string>;
}

export interface EvalResult<S> {
  state: S;
  transitions: AlertTransition[];
  observations: Observation[];
}

export function levelRank(level: Level): number {
  return LEVELS.indexOf(level);
}

export function maxLevel(a: Level | null, b: Level | null): Level | null {
  if (a === null) return b;
  if (b === null) return a;
  return levelRank(a) >= levelRank(b) ? a : b;
}
