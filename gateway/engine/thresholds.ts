/**
 * Threshold overrides: the township changes one rule's threshold of one sensor for a time
 * (issue 16, `set_threshold`), reverted when the time is up (the engine's tick) or by
 * `clear_threshold`. Pure like the rest of the engine: the clock is passed in, the state is
 * updated in place, and every change comes back as a `ThresholdChange` for the shell to log.
 *
 * A threshold is named the way the engine's rules are built from the config:
 *
 * | sensor kind           | name                          | value | e.g.                     |
 * |-----------------------|-------------------------------|-------|--------------------------|
 * | rain                  | `rain_<window>h_<level>`      | mm    | `rain_3h_orange` (50 mm) |
 * | water level, stage    | `stage_<stage>`               | m     | `stage_warning`          |
 * | water level, rise     | `rise_<level>`                | m per `rise_window_min` | `rise_orange` |
 * | smoke (analog mode)   | `alarm_db_m`                  | dB/m  | `alarm_db_m`             |
 *
 * Rain rule names (`name` in the config) are not unique (the CMA's `rain_3h` is both orange and
 * red), so rain is addressed by window and level; two rules of one window and level are
 * ambiguous and refused. A smoke detector in `state` mode reports its alarm itself: nothing to set.
 *
 * Bounds: a value the sensor's readings could never reach (above its plausible range, or for
 * rain more than `max_rate_mm_per_min` over the whole window) would never fire; one every
 * plausible reading reaches (rain 0 mm, a stage at or below the range's minimum) would always
 * fire. Both are refused with the figures, and a stage stays between the stages below and
 * above it (the config's own rule: levels rise with the stages).
 *
 * The override replaces the runtime's copy of the sensor's config (`rain.cfg`, `water.cfg`,
 * `detector.cfg`), rebuilt from the site config and every override on that sensor, so clearing
 * the last one gives back the config's own object. A rain gauge or river level is judged
 * again at once against the new value (a dry gauge's readings change nothing, so waiting for
 * one would not); a river's rise and a smoke detector's analog value are judged at their next
 * reading (within the sensor's `interval_s`), since judging a smoke sample twice would count
 * it as a second, confirming one.
 */
import type { SensorConfig } from '../config/types.ts';
import { rainRejudge } from './rain.ts';
import type { EngineState, SensorRuntime } from './state.ts';
import type { AlertTransition } from './types.ts';
import { waterRejudge } from './water-level.ts';

export type ThresholdUnit = 'mm' | 'm' | 'db_m';

export interface ThresholdOverride {
  sensor: string;
  threshold: string;
  value: number;
  /** The config's value it stands in for. */
  original: number;
  unit: ThresholdUnit;
  /** Engine clock (ms). */
  setAt: number;
  until: number;
  by: string;
}

/** One change, as logged (`threshold` event): set (or renewed), cleared by a command, expired, or dropped at a restart. */
export interface ThresholdChange extends ThresholdOverride {
  change: 'set' | 'cleared' | 'expired' | 'dropped';
  /** Who ended it (`clear_threshold`'s sender; `engine` when it expired). */
  endedBy?: string;
  /** Why a restart dropped it. */
  reason?: string;
  at: number;
}

export type ThresholdResult = { ok: true; change: ThresholdChange; transitions: AlertTransition[] } | { ok: false; error: string };

interface Addressable {
  name: string;
  value: number;
  unit: ThresholdUnit;
}

const key = (sensor: string, threshold: string): string => `${sensor}/${threshold}`;

/** Every threshold of a sensor config that can be overridden, with its value there. Duplicated names are listed twice. */
export function thresholdsOf(cfg: SensorConfig): Addressable[] {
  switch (cfg.kind) {
    case 'rain':
      return cfg.rules.map((r) => ({ name: `rain_${r.windowH}h_${r.level}`, value: r.mm, unit: 'mm' as const }));
    case 'water_level':
      return [...cfg.stages.map((t) => ({ name: `stage_${t.name}`, value: t.value, unit: 'm' as const })), ...cfg.rise.map((t) => ({ name: `rise_${t.level}`, value: t.value, unit: 'm' as const }))];
    case 'smoke':
      return cfg.mode === 'analog' ? [{ name: 'alarm_db_m', value: cfg.alarmDbM, unit: 'db_m' }] : [];
  }
}

/** `cfg` with `value` in place of threshold `name` (which thresholdsOf lists once). */
function withValue(cfg: SensorConfig, name: string, value: number): SensorConfig {
  switch (cfg.kind) {
    case 'rain':
      return { ...cfg, rules: cfg.rules.map((r) => (`rain_${r.windowH}h_${r.level}` === name ? { ...r, mm: value } : r)) };
    case 'water_level':
      return {
        ...cfg,
        stages: cfg.stages.map((t) => (`stage_${t.name}` === name ? { ...t, value } : t)),
        rise: cfg.rise.map((t) => (`rise_${t.level}` === name ? { ...t, value } : t)),
      };
    case 'smoke':
      return name === 'alarm_db_m' ? { ...cfg, alarmDbM: value } : cfg;
  }
}

const fmt = (n: number): string => String(Math.round(n * 1e6) / 1e6);

/** Why `value` cannot stand for threshold `name` of `cfg` (the sensor as the other overrides leave it), or null. */
function outOfBounds(cfg: SensorConfig, name: string, value: number): string | null {
  const { min, max } = cfg.health;
  switch (cfg.kind) {
    case 'rain': {
      const windowH = cfg.rules.find((r) => `rain_${r.windowH}h_${r.level}` === name)!.windowH;
      const most = cfg.maxRateMmPerMin * windowH * 60;
      if (value <= 0) return `${fmt(value)} mm would always fire (every window holds 0 mm or more); give more than 0 mm`;
      if (value > most) return `${fmt(value)} mm would never fire: at most ${fmt(most)} mm can be counted in ${windowH} h (max_rate_mm_per_min ${fmt(cfg.maxRateMmPerMin)})`;
      return null;
    }
    case 'water_level': {
      if (name.startsWith('rise_')) {
        if (value <= 0) return `a rise of ${fmt(value)} m would always fire (a level that holds still rises 0 m); give more than 0 m`;
        if (value >= max - min) return `a rise of ${fmt(value)} m in ${cfg.riseWindowMin} min would never fire: the plausible range is ${fmt(min)}–${fmt(max)} m`;
        return null;
      }
      if (value <= min) return `${fmt(value)} m would always fire: every plausible reading is at or above ${fmt(min)} m`;
      if (value > max) return `${fmt(value)} m would never fire: readings above ${fmt(max)} m are range faults`;
      const i = cfg.stages.findIndex((t) => `stage_${t.name}` === name);
      const below = cfg.stages[i - 1];
      const above = cfg.stages[i + 1];
      if (below && value <= below.value) return `${fmt(value)} m is not above stage ${below.name} (${fmt(below.value)} m): stages rise with their levels`;
      if (above && value >= above.value) return `${fmt(value)} m is not below stage ${above.name} (${fmt(above.value)} m): stages rise with their levels`;
      return null;
    }
    case 'smoke':
      if (value <= min) return `${fmt(value)} dB/m would always fire: every plausible reading is at or above ${fmt(min)} dB/m`;
      if (value > max) return `${fmt(value)} dB/m would never fire: readings above ${fmt(max)} dB/m are range faults`;
      return null;
  }
}

/** Finds threshold `name` of sensor `sensor`: its runtime and the site config's value, or why not. */
function find(state: EngineState, sensor: string, name: string): { rt: SensorRuntime; base: Addressable } | { error: string } {
  const rt = state.sensors.get(sensor);
  if (!rt) return { error: `no sensor '${sensor}' in this site's config` };
  const list = thresholdsOf(rt.cfg);
  const hits = list.filter((t) => t.name === name);
  if (hits.length === 0) {
    if (rt.cfg.kind === 'smoke' && rt.cfg.mode === 'state') return { error: `smoke detector '${sensor}' reports its alarm state itself (mode state): it has no threshold to set` };
    return { error: `sensor '${sensor}' has no threshold '${name}' (it has: ${list.map((t) => t.name).join(', ') || 'none'})` };
  }
  if (hits.length > 1) return { error: `threshold '${name}' of sensor '${sensor}' names ${hits.length} rules of the config: ambiguous, not changed` };
  return { rt, base: hits[0]! };
}

/** The sensor's config with every override on it, from the site config's own object. */
function effective(state: EngineState, rt: SensorRuntime, except?: string): SensorConfig {
  let cfg = rt.cfg;
  for (const o of state.thresholds.values()) {
    if (o.sensor === rt.cfg.id && o.threshold !== except) cfg = withValue(cfg, o.threshold, o.value);
  }
  return cfg;
}

/** Puts the sensor's effective config on its runtime and judges what can be judged now (unless `out` is null). */
function install(state: EngineState, rt: SensorRuntime, now: number, out: AlertTransition[] | null): void {
  const cfg = effective(state, rt);
  if (rt.kind === 'rain' && cfg.kind === 'rain') {
    rt.rain.cfg = cfg;
    if (out) rainRejudge(rt.rain, now, out);
  } else if (rt.kind === 'water_level' && cfg.kind === 'water_level') {
    rt.water.cfg = cfg;
    rt.water.stageValues = Object.fromEntries(cfg.stages.map((s) => [`${s.name}_m`, s.value]));
    if (out) waterRejudge(rt.water, now, out);
  } else if (rt.kind === 'smoke' && cfg.kind === 'smoke') {
    rt.detector.cfg = cfg;
  }
}

export interface SetThreshold {
  sensor: string;
  threshold: string;
  value: number;
  forS: number;
  by: string;
}

/** Sets (or renews) an override; refused with words when the threshold is unknown or the value out of bounds. */
export function setThreshold(state: EngineState, req: SetThreshold, now: number): ThresholdResult {
  const f = find(state, req.sensor, req.threshold);
  if ('error' in f) return { ok: false, error: f.error };
  if (!Number.isFinite(req.value)) return { ok: false, error: 'the value must be a finite number' };
  if (!(Number.isInteger(req.forS) && req.forS > 0)) return { ok: false, error: 'for_s must be a whole number of seconds above 0' };
  const why = outOfBounds(effective(state, f.rt, req.threshold), req.threshold, req.value);
  if (why) return { ok: false, error: `threshold ${req.threshold} of ${req.sensor}: ${why}` };
  const o: ThresholdOverride = { sensor: req.sensor, threshold: req.threshold, value: req.value, original: f.base.value, unit: f.base.unit, setAt: now, until: now + req.forS * 1000, by: req.by };
  state.thresholds.set(key(o.sensor, o.threshold), o);
  const transitions: AlertTransition[] = [];
  install(state, f.rt, now, transitions);
  return { ok: true, change: { ...o, change: 'set', at: now }, transitions };
}

/** Ends an override before its time; refused when there is none. */
export function clearThreshold(state: EngineState, req: { sensor: string; threshold: string; by: string }, now: number): ThresholdResult {
  const o = state.thresholds.get(key(req.sensor, req.threshold));
  if (!o) return { ok: false, error: `no override of threshold '${req.threshold}' of sensor '${req.sensor}' is in force` };
  state.thresholds.delete(key(req.sensor, req.threshold));
  const transitions: AlertTransition[] = [];
  install(state, state.sensors.get(o.sensor)!, now, transitions);
  return { ok: true, change: { ...o, change: 'cleared', endedBy: req.by, at: now }, transitions };
}

/** The tick: every override whose time is up goes back to the config's value. */
export function expireThresholds(state: EngineState, now: number, changes: ThresholdChange[], out: AlertTransition[]): void {
  if (state.thresholds.size === 0) return;
  for (const [k, o] of state.thresholds) {
    if (o.until > now) continue;
    state.thresholds.delete(k);
    install(state, state.sensors.get(o.sensor)!, now, out);
    changes.push({ ...o, change: 'expired', endedBy: 'engine', at: now });
  }
}

/** Overrides in force, soonest to expire first: for the snapshot and the status report. */
export function activeThresholds(state: EngineState): ThresholdOverride[] {
  return [...state.thresholds.values()].sort((a, b) => a.until - b.until);
}

/**
 * After a restart: the snapshot's overrides are put back (an expired one is kept for the first
 * tick to expire and log). One the config has no place for any more (sensor or threshold gone,
 * or the value now out of bounds) is dropped, and its change says why.
 */
export function restoreThresholds(state: EngineState, saved: readonly ThresholdOverride[], now: number): ThresholdChange[] {
  const dropped: ThresholdChange[] = [];
  for (const o of saved) {
    const f = find(state, o.sensor, o.threshold);
    if ('error' in f) {
      dropped.push({ ...o, change: 'dropped', reason: f.error, at: now });
      continue;
    }
    const why = outOfBounds(effective(state, f.rt, o.threshold), o.threshold, o.value);
    if (why) {
      dropped.push({ ...o, change: 'dropped', reason: why, at: now });
      continue;
    }
    state.thresholds.set(key(o.sensor, o.threshold), { ...o, original: f.base.value });
    // No judging here: the readings replayed after the boundary judge against it (restore.ts).
    install(state, f.rt, now, null);
  }
  return dropped;
}
