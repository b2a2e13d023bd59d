/**
 * The one-minute rollups (rollup.ts) as the uplink reads them: every row of the minutes in
 * (after, through], minute then sensor order. Minutes are epoch minutes (floor(at_wall / 60 000)),
 * the table's own key. The caller bounds the range (the uplink takes at most a few hours at a
 * time; uplink/rollup-out.ts), so the result stays small: 60 minutes × 1,000 sensors = 60,000 rows.
 */
import type { Database } from 'better-sqlite3';

/** One sensor's minute. The figures are null when the minute had only failed reads (n = 0). */
export interface RollupRow {
  sensor: string;
  minute: number;
  n: number;
  errors: number;
  min: number | null;
  max: number | null;
  mean: number | null;
  last: number | null;
}

export function rollupRows(db: Database, afterMinute: number, throughMinute: number): RollupRow[] {
  if (!Number.isInteger(afterMinute) || !Number.isInteger(throughMinute)) throw new RangeError(`rollup minutes must be integers, got (${afterMinute}, ${throughMinute}]`);
  if (throughMinute <= afterMinute) return [];
  // readings_1m_minute serves the range; the sort is over that range only.
  return db
    .prepare('SELECT sensor, minute, n, errors, min, max, mean, last FROM readings_1m WHERE minute > ? AND minute <= ? ORDER BY minute, sensor')
    .all(afterMinute, throughMinute) as RollupRow[];
}

/**
 * One sensor's minutes in (after, through], oldest first (the panel's history chart): the
 * primary key (sensor, minute) serves it; a day is at most 1,440 rows.
 */
export function sensorRollupRows(db: Database, sensor: string, afterMinute: number, throughMinute: number): RollupRow[] {
  if (!Number.isInteger(afterMinute) || !Number.isInteger(throughMinute)) throw new RangeError(`rollup minutes must be integers, got (${afterMinute}, ${throughMinute}]`);
  if (throughMinute <= afterMinute) return [];
  return db
    .prepare('SELECT sensor, minute, n, errors, min, max, mean, last FROM readings_1m WHERE sensor = ? AND minute > ? AND minute <= ? ORDER BY minute')
    .all(sensor, afterMinute, throughMinute) as RollupRow[];
}
