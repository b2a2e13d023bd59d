/**
 * One-minute rollups of raw readings: per sensor and minute, n / errors / min / max / mean /
 * last. Only complete minutes (minute < floor(now / 60 000)) are rolled, so a rollup never
 * changes because the minute was still filling.
 *
 * Readings without a value (quality `missing` / `error`) are not numbers (peer lesson 7): they
 * count in `errors`, never in n/min/max/mean/last, and a minute with only errors still gets a
 * row (n = 0, the figures NULL) so the history shows the sensor was failing, not absent.
 *
 * The last rolled minute is kept in meta (`rollup_minute`). Each run re-rolls a short
 * lookback before it, so readings that arrive late (a batch flushed after the minute closed)
 * are folded in; a row is only replaced when the new aggregate covers more readings than the
 * stored one, so re-running is idempotent (returns 0) and raw retention, which removes
 * readings, never overwrites a good rollup with a partial one. If the wall clock steps back
 * behind the mark, the mark follows it.
 */
import type { Database } from 'better-sqlite3';

export const MINUTE_MS = 60_000;
/** Minutes before the mark that each run looks at again for late readings. */
export const ROLLUP_LOOKBACK_MIN = 2;
const MARK = 'rollup_minute';

const UPSERT = `
  INSERT INTO readings_1m (sensor, minute, n, errors, min, max, mean, last)
  SELECT sensor, minute, count(value), sum(value IS NULL), min(value), max(value), avg(value), max(last_value)
  FROM (
    SELECT sensor, at_wall / ${MINUTE_MS} AS minute, value,
           first_value(value) OVER (
             PARTITION BY sensor, at_wall / ${MINUTE_MS}
             ORDER BY value IS NULL, at_wall DESC, rowid DESC
           ) AS last_value
    FROM readings
    WHERE at_wall >= @from AND at_wall < @to
  )
  WHERE true
  GROUP BY sensor, minute
  ON CONFLICT (sensor, minute) DO UPDATE SET
    n = excluded.n, errors = excluded.errors, min = excluded.min, max = excluded.max,
    mean = excluded.mean, last = excluded.last
  WHERE excluded.n + excluded.errors > readings_1m.n + readings_1m.errors`;

/** Rolls every complete minute not yet rolled; returns the rollup rows written. */
export function rollupReadings(db: Database, nowWall: number): number {
  const current = Math.floor(nowWall / MINUTE_MS);
  const mark = db.prepare('SELECT value FROM meta WHERE key = ?').get(MARK) as { value: number } | undefined;
  let from: number;
  if (mark === undefined) {
    const first = db.prepare('SELECT min(at_wall) AS t FROM readings').get() as { t: number | null };
    if (first.t === null) return 0;
    from = Math.floor(first.t / MINUTE_MS);
  } else {
    from = Math.min(mark.value + 1, current) - ROLLUP_LOOKBACK_MIN;
  }
  if (from >= current) return 0;
  const upsert = db.prepare(UPSERT);
  const setMark = db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value');
  return db.transaction(() => {
    const { changes } = upsert.run({ from: from * MINUTE_MS, to: current * MINUTE_MS });
    setMark.run(MARK, current - 1);
    return changes;
  })();
}
