/**
 * Water level: stage thresholds (attention, warning 警戒, guaranteed 保证, historical maximum)
 * and rate of rise, each with a hysteresis band here and minimum durations in the alert slot.
 */
import type { Threshold, WaterLevelSensor } from '../config/types.ts';
import type { AlertSlot, Candidate } from './alert-slot.ts';
import { stepSlot } from './alert-slot.ts';
import type { AlertTransition, Level } from './types.ts';
import { levelRank } from './types.ts';

const CAP = 128;
/** Samples kept per rise window: enough for a smooth slope, bounded for 1 Hz sensors. */
const PER_WINDOW = 64;

export interface WaterState {
  cfg: WaterLevelSensor;
  stage: AlertSlot;
  rise: AlertSlot;
  stageValues: Record<string, number>;
  times: Float64Array;
  values: Float64Array;
  start: number;
  count: number;
  windowMs: number;
  /** The last good level (m), to judge the stages again when a threshold override changes them (thresholds.ts). */
  lastLevel: number | null;
}

export function newWaterState(cfg: WaterLevelSensor, stage: AlertSlot, rise: AlertSlot): WaterState {
  return {
    cfg,
    stage,
    rise,
    stageValues: Object.fromEntries(cfg.stages.map((s) => [`${s.name}_m`, s.value])),
    times: new Float64Array(CAP),
    values: new Float64Array(CAP),
    start: 0,
    count: 0,
    windowMs: cfg.riseWindowMin * 60_000,
    lastLevel: null,
  };
}

/**
 * Highest threshold the value supports. A level at or below the one already held keeps its
 * band: it is held down to `threshold − band`, so a value wobbling on a line does not flap.
 */
export function highest(list: Threshold[], value: number, held: Level | null, band: number): Threshold | null {
  const heldRank = held === null ? -1 : levelRank(held);
  for (let i = list.length - 1; i >= 0; i--) {
    const t = list[i]!;
    const limit = levelRank(t.level) <= heldRank ? t.value - band : t.value;
    if (value >= limit) return t;
  }
  return null;
}

function stageCandidate(s: WaterState, value: number): Candidate {
  const t = highest(s.cfg.stages, value, s.stage.active?.level ?? null, s.cfg.hysteresisM);
  const values = { water_level_m: value, ...s.stageValues };
  if (t) return { level: t.level, rule: `stage_${t.name}`, values, facts: { stage: t.name } };
  return { level: null, rule: s.stage.active?.rule ?? '', values, facts: s.stage.active?.facts };
}

const at = (s: WaterState, i: number): number => (s.start + i) % CAP;

function record(s: WaterState, time: number, value: number): void {
  if (s.count > 0 && time - s.times[at(s, s.count - 1)]! < s.windowMs / PER_WINDOW) return;
  if (s.count === CAP) {
    s.start = (s.start + 1) % CAP;
    s.count--;
  }
  const i = at(s, s.count);
  s.times[i] = time;
  s.values[i] = value;
  s.count++;
  // Keep exactly one sample at or before the window's start: it is the reference.
  while (s.count > 1 && s.times[at(s, 1)]! <= time - s.windowMs) {
    s.start = (s.start + 1) % CAP;
    s.count--;
  }
}

/** Rise over the window in m (scaled to the full window), or null without enough history. */
function riseOver(s: WaterState, now: number, value: number): number | null {
  if (s.count < 2) return null;
  const age = now - s.times[s.start]!;
  // Less than half a window of history says nothing reliable about the rate.
  if (age < s.windowMs / 2) return null;
  return ((value - s.values[s.start]!) * s.windowMs) / age;
}

function riseCandidate(s: WaterState, rise: number | null, level: Level | null, value: number): Candidate {
  if (rise === null) return { level: null, rule: 'rise', values: {} };
  return { level, rule: 'rise', values: { rise_m: Math.round(rise * 1000) / 1000, rise_window_min: s.cfg.riseWindowMin, water_level_m: value } };
}

/** Nothing to decide: the evidence supports the level already held and no duration is running. */
function settled(slot: AlertSlot, level: Level | null): boolean {
  return slot.upSince === null && slot.downSince === null && (slot.active?.level ?? null) === level;
}

/** Judges the last level again against the stages as they are now (thresholds.ts); the rise waits for the next reading. */
export function waterRejudge(s: WaterState, now: number, out: AlertTransition[]): void {
  if (s.lastLevel !== null) stepSlot(s.stage, stageCandidate(s, s.lastLevel), now, out);
}

/** Feeds one good, in-range level (m) taken at `now`. */
export function waterReading(s: WaterState, value: number, now: number, out: AlertTransition[]): void {
  s.lastLevel = value;
  // Most readings change nothing: skip building the values for them (a hot path at 1 Hz × 1,000).
  const held = s.stage.active?.level ?? null;
  const t = highest(s.cfg.stages, value, held, s.cfg.hysteresisM);
  if (!settled(s.stage, t ? t.level : null)) stepSlot(s.stage, stageCandidate(s, value), now, out);
  if (s.cfg.rise.length === 0) return;
  record(s, now, value);
  const rise = riseOver(s, now, value);
  const r = rise === null ? null : highest(s.cfg.rise, rise, s.rise.active?.level ?? null, s.cfg.riseHysteresisM);
  const level = r ? r.level : null;
  if (!settled(s.rise, level)) stepSlot(s.rise, riseCandidate(s, rise, level, value), now, out);
}
