/**
 * The log's readings as a restart needs them to rebuild rain windows (EngineRunner.restore).
 */
import type { Database } from 'better-sqlite3';

/** A reading from the log, as historyRows() streams it. */
export interface HistoryRow {
  sensor: string;
  atWall: number;
  value: number;
}

/**
 * What the given sensors reported since `sinceWall`, oldest first, thinned to the last value
 * of each rolled-up minute plus the raw readings not rolled up yet: enough to rebuild rain
 * windows after a restart without reading a day of raw rows. Valued readings only.
 *
 * Rows are streamed, one at a time: a day for 1,000 rain gauges is 1.44 M rows, and as one
 * array it ran the box out of its 96 MB heap at start (measured), a crash loop. The connection
 * is busy until the iteration ends; read it to the end (or `return()` it) before other queries.
 */
export function historyRows(db: Database, sensors: readonly string[], sinceWall: number): IterableIterator<HistoryRow> {
  const marks = sensors.map(() => '?').join(', ');
  const rolledTo = (db.prepare(`SELECT max(minute) AS m FROM readings_1m WHERE sensor IN (${marks})`).get(...sensors) as { m: number | null }).m;
  const tailFrom = rolledTo === null ? sinceWall : Math.max(sinceWall, (rolledTo + 1) * 60_000);
  return db
    .prepare(
      `SELECT sensor, atWall, value FROM (
         SELECT sensor, last_at AS atWall, last AS value FROM readings_1m
         WHERE sensor IN (${marks}) AND minute >= ? AND last IS NOT NULL AND last_at IS NOT NULL AND last_at < ?
         UNION ALL
         SELECT sensor, at_wall AS atWall, value FROM readings
         WHERE sensor IN (${marks}) AND at_wall >= ? AND value IS NOT NULL
       ) ORDER BY atWall`,
    )
    .iterate(...sensors, Math.floor(sinceWall / 60_000), tailFrom, ...sensors, tailFrom) as IterableIterator<HistoryRow>;
}
