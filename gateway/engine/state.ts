/**
 * Builds the engine's state for a site: one runtime per sensor with its alert slots.
 */
import type { SensorConfig, SiteConfig } from '../config/types.ts';
import type { AlertSlot, Describe, SlotSpec } from './alert-slot.ts';
import { newSlot } from './alert-slot.ts';
import { guard, newFlapGuard } from './flap.ts';
import type { HealthState } from './health.ts';
import { newHealth } from './health.ts';
import { newObservationGate, type ObservationGate } from './observation-gate.ts';
import type { RainState } from './rain.ts';
import { newRainState } from './rain.ts';
import type { DetectorState, ZoneFireState } from './smoke.ts';
import { newDetector } from './smoke.ts';
import { faultText, fireText, rainText, riseText, stageText, type Names } from './text.ts';
import type { ThresholdOverride } from './thresholds.ts';
import { selfTestSlotSpecs } from './self-test.ts';
import type { WaterState } from './water-level.ts';
import { newWaterState } from './water-level.ts';

export type SensorRuntime =
  | { kind: 'rain'; cfg: SensorConfig; health: HealthState; rain: RainState }
  | { kind: 'water_level'; cfg: SensorConfig; health: HealthState; water: WaterState }
  | { kind: 'smoke'; cfg: SensorConfig; health: HealthState; zone: ZoneFireState; detector: DetectorState };

/**
 * The engine's state. It is owned, not shared: `evaluate` updates it in place and returns it,
 * because copying a day of rain buckets per reading would cost more than the rules themselves.
 * Callers keep only the returned state; it holds no I/O, timers or clock of its own, so the
 * same config and inputs always give the same outputs.
 */
export interface EngineState {
  config: SiteConfig;
  sensors: Map<string, SensorRuntime>;
  zones: Map<string, ZoneFireState>;
  /** Every alert slot, for ticks and acknowledgements. */
  slots: AlertSlot[];
  /** Open observation windows: a flood of them is logged as counts (observation-gate.ts). */
  observed: ObservationGate;
  /** Threshold overrides in force, by `<sensor>/<threshold>` (thresholds.ts). */
  thresholds: Map<string, ThresholdOverride>;
  /** The self-test fault slots by key (self-test.ts); also in `slots`. */
  selfTests: Map<string, AlertSlot>;
}

export function createEngineState(config: SiteConfig, now: number): EngineState {
  const slots: AlertSlot[] = [];
  const slot = (spec: SlotSpec): AlertSlot => {
    const s = newSlot(spec);
    slots.push(s);
    return s;
  };
  const zoneName = (id: string): Names => {
    const z = config.zones.find((x) => x.id === id);
    return { zh: z?.name ?? id, en: z?.nameEn ?? id };
  };
  const fault = (c: SensorConfig, family: string, describe: Describe): AlertSlot =>
    slot({ key: `${c.id}/${family}`, kind: 'fault', zone: c.zone, sensors: [c.id], raiseAfterS: 0, clearAfterS: 0, describe });

  const zones = new Map<string, ZoneFireState>();
  const sensors = new Map<string, SensorRuntime>();
  for (const c of config.sensors) {
    const names: Names = { zh: c.name, en: c.nameEn };
    const describeFault = faultText(names);
    // The sensor's fault slots go through one flapping guard (flap.ts), all but stale (health.ts).
    const flap = newFlapGuard(fault(c, 'flapping', describeFault));
    const guarded = (family: string): AlertSlot => guard(flap, fault(c, family, describeFault));
    const health = newHealth(c.health, { stale: fault(c, 'stale', describeFault), range: guarded('range'), stuck: guarded('stuck'), errors: guarded('errors'), flap }, now);
    const base = { key: '', zone: c.zone, sensors: [c.id] };
    if (c.kind === 'rain') {
      const s = slot({ ...base, key: `${c.id}/rain`, kind: 'rain', raiseAfterS: 0, clearAfterS: c.clearAfterS, describe: rainText(names) });
      sensors.set(c.id, { kind: 'rain', cfg: c, health, rain: newRainState(c, s) });
    } else if (c.kind === 'water_level') {
      const durations = { raiseAfterS: c.raiseAfterS, clearAfterS: c.clearAfterS };
      const stage = slot({ ...base, ...durations, key: `${c.id}/stage`, kind: 'water_level', describe: stageText(names, c.stages[0]?.name ?? 'attention', c.hysteresisM) });
      const rise = slot({ ...base, ...durations, key: `${c.id}/rise`, kind: 'water_level', describe: riseText(names) });
      sensors.set(c.id, { kind: 'water_level', cfg: c, health, water: newWaterState(c, stage, rise) });
    } else {
      let zone = zones.get(c.zone);
      if (!zone) {
        const s = slot({ key: `${c.zone}/fire`, kind: 'smoke', zone: c.zone, sensors: [], raiseAfterS: 0, clearAfterS: c.clearAfterS, describe: fireText(zoneName(c.zone)) });
        zone = { slot: s, detectors: [], confirmMs: c.confirmS * 1000 };
        zones.set(c.zone, zone);
      }
      const detector = newDetector(c, guarded('fault'), flap);
      zone.detectors.push(detector);
      zone.slot.sensors.push(c.id);
      sensors.set(c.id, { kind: 'smoke', cfg: c, health, zone, detector });
    }
  }
  // Last, so the slots above keep their places whether or not a site has actuators.
  const selfTests = new Map(selfTestSlotSpecs(config.actuators, config.sensors).map((spec) => [spec.key, slot(spec)]));
  return { config, sensors, zones, slots, observed: newObservationGate(), thresholds: new Map(), selfTests };
}
