/**
 * The demo scenario, as a pure function of scenario minutes: a rainstorm that reaches red,
 * a river rising past its warning stage, and a stairwell fire confirmed by two detectors.
 * It loops every `LOOP_MIN` minutes; counters keep counting up across loops like real gauges.
 */

export const LOOP_MIN = 240;

export interface ScenarioReading {
  sensor: string;
  value: number;
}

/** Rain rate in mm/min at scenario minute m within a loop. */
function rainRate(m: number): number {
  if (m < 10 || m >= 110) return 0;
  return m < 30 ? ((m - 10) / 20) * 1.5 : 1.5;
}

/** Cumulative rain in mm from the start of the scenario (all loops). */
export function rainTotal(minute: number): number {
  const loops = Math.floor(minute / LOOP_MIN);
  let perLoop = 0;
  for (let m = 0; m < LOOP_MIN; m++) perLoop += rainRate(m);
  let total = loops * perLoop;
  for (let m = 0; m < minute % LOOP_MIN; m++) total += rainRate(m);
  return Math.round(total * 10) / 10;
}

function riverStage(m: number): number {
  if (m < 30) return 1.8;
  if (m < 120) return 1.8 + ((m - 30) / 90) * 1.1;
  if (m < 220) return 2.9 - ((m - 120) / 100) * 1.1;
  return 1.8;
}

function smoke(m: number, detector: 1 | 2): number {
  const alarm = detector === 1 ? m >= 150 && m < 170 : m >= 152 && m < 170;
  return alarm ? 1 : 0;
}

/** Every sensor's reading at scenario minute `minute` (0, 1, 2, …). */
export function demoReadings(minute: number): ScenarioReading[] {
  const m = minute % LOOP_MIN;
  return [
    { sensor: 'rg1', value: rainTotal(minute) },
    { sensor: 'wl1', value: Math.round(riverStage(m) * 1000) / 1000 },
    { sensor: 'sm1', value: smoke(m, 1) },
    { sensor: 'sm2', value: smoke(m, 2) },
  ];
}
