/**
 * The log's readings as a restart needs them (EngineRunner.restore, shell/restore.ts): rain
 * gauges over a day, to rebuild their rain windows, and the other sensors' raw readings over the
 * last minutes, to rebuild rise windows, smoke confirmations, health counters and the durations
 * their alerts were waiting out.
 */
import type { Database } from 'better-sqlite3';

/** A reading from the log, as historyRows() streams it. `value` is null for a failed read. */
export interface HistoryRow {
  sensor: string;
  atWall: number;
  value: number | null;
  quality: string;
}

export interface HistoryQuery {
  /** Rain gauges, and since when (wall ms): thinned to one value a rolled-up minute. */
  rain: readonly string[];
  rainSince: number;
  /** Other sensors, and since when: every raw reading, failed reads included. */
  raw: readonly string[];
  rawSince: number;
}

/**
 * What the sensors reported, oldest first. Rain gauges: the last value of each rolled-up minute
 * plus the raw readings not rolled up yet, valued readings only — enough for rain windows
 * without reading a day of raw rows. Other sensors: their raw readings (kept 7 days), each one,
 * because a smoke confirmation counts consecutive samples and a duration counts seconds.
 *
 * Rows are streamed, one at a time: a day for 1,000 rain gauges is 1.44 M rows, and as one
 * array it ran the box out of its 96 MB heap at start (measured), a crash loop. The connection
 * is busy until the iteration ends; read it to the end (or `return()` it) before other queries.
 */
export function historyRows(db: Database, q: HistoryQuery): IterableIterator<HistoryRow> {
  const parts: string[] = [];
  const args: (string | number)[] = [];
  if (q.rain.length) {
    const marks = q.rain.map(() => '?').join(', ');
    const rolledTo = (db.prepare(`SELECT max(minute) AS m FROM readings_1m WHERE sensor IN (${marks})`).get(...q.rain) as { m: number | null }).m;
    const tailFrom = rolledTo === null ? q.rainSince : Math.max(q.rainSince, (rolledTo + 1) * 60_000);
    parts.push(
      `SELECT sensor, last_at AS atWall, last AS value, 'good' AS quality FROM readings_1m
         WHERE sensor IN (${marks}) AND minute >= ? AND last IS NOT NULL AND last_at IS NOT NULL AND last_at < ?`,
      `SELECT sensor, at_wall AS atWall, value, quality FROM readings WHERE sensor IN (${marks}) AND at_wall >= ? AND value IS NOT NULL`,
    );
    args.push(...q.rain, Math.floor(q.rainSince / 60_000), tailFrom, ...q.rain, tailFrom);
  }
  if (q.raw.length) {
    parts.push(`SELECT sensor, at_wall AS atWall, value, quality FROM readings WHERE sensor IN (${q.raw.map(() => '?').join(', ')}) AND at_wall >= ?`);
    args.push(...q.raw, q.rawSince);
  }
  if (parts.length === 0) return ([] as HistoryRow[])[Symbol.iterator]();
  return db.prepare(`SELECT sensor, atWall, value, quality FROM (${parts.join(' UNION ALL ')}) ORDER BY atWall`).iterate(...args) as IterableIterator<HistoryRow>;
}
