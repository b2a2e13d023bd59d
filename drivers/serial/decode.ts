/**
 * Record → sample rules shared by both wire formats, so an ASCII `SMK` line and a smoke frame
 * with the same content give the same reading.
 */
import { SMOKE_STATES } from '../../gateway/engine/types.ts';
import type { DeviceEntry, SensorSample } from './types.ts';

/** Plain decimal: digits with an optional sign and fraction. No exponent, no hex, no NaN. */
const DECIMAL = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)$/;

export function parseDecimal(text: string): number | null {
  if (!DECIMAL.test(text)) return null;
  const n = Number(text);
  return Number.isFinite(n) ? n : null;
}

/** `alarm` / `ALARM` / `1` → 1; anything else → null. */
export function parseSmokeState(text: string): number | null {
  if (/^\d$/.test(text)) {
    const n = Number(text);
    return n < SMOKE_STATES.length ? n : null;
  }
  const i = (SMOKE_STATES as readonly string[]).indexOf(text.toLowerCase());
  return i >= 0 ? i : null;
}

/** States in which an analog detector's obscuration is no measurement: it is off its base or opened. */
const NOT_MEASURING = new Set<number>([SMOKE_STATES.indexOf('removed'), SMOKE_STATES.indexOf('tamper')]);

/**
 * A smoke detector's record as a sample. State mode: the state index (the panel decides).
 * Analog mode: the obscuration (the box decides against `alarm_db_m`); when the detector
 * sends no obscuration, or says it is removed or tampered with, that is an `error` sample with
 * no value, never a number (a removed head reading 0.00 dB/m is not "clear").
 * `state` must already be a valid index.
 */
export function smokeSample(device: string, entry: DeviceEntry, state: number, dbm: number | null): SensorSample {
  if (entry.mode === 'state') return { sensor: entry.sensor, value: state, quality: 'good', device };
  if (dbm === null || NOT_MEASURING.has(state)) return { sensor: entry.sensor, value: null, quality: 'error', device };
  return { sensor: entry.sensor, value: dbm, quality: 'good', device };
}
