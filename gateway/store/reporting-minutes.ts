/**
 * The minutes in which a sensor reported a value (rollups with `n > 0`), for the daily reporting
 * check (schedule/reporting.ts). Only the minute numbers, through the (sensor, minute) primary
 * key, with one prepared statement per connection: the check asks for every sensor in turn and
 * each answer is a piece of main-thread work between two yields (test/bench/selftest.bench.ts).
 */
import type { Database, Statement } from 'better-sqlite3';

const statements = new WeakMap<Database, Statement>();

export function reportingMinutes(db: Database, sensor: string, afterMinute: number, throughMinute: number): number[] {
  let st = statements.get(db);
  if (!st) {
    st = db.prepare('SELECT minute FROM readings_1m WHERE sensor = ? AND minute > ? AND minute <= ? AND n > 0 ORDER BY minute').pluck();
    statements.set(db, st);
  }
  return st.all(sensor, afterMinute, throughMinute) as number[];
}
