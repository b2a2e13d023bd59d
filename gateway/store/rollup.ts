/**
 * One-minute rollups of raw readings: per sensor and minute, n / errors / min / max / mean /
 * last. Only complete minutes (minute < floor(now / 60 000)) are rolled.
 *
 * Readings without a value (quality `missing` / `error`) are not numbers (an error is a flag): they
 * count in `errors`, never in n/min/max/mean/last, and a minute with only errors still gets a
 * row (n = 0, the figures NULL) so the history shows the sensor was failing, not absent.
 *
 * Incremental: each run aggregates only the readings inserted since the last run (a rowid mark
 * in meta) and merges them into the rows already there (counts add, min/max widen, means
 * weigh, `last` is the newest by time). Every reading is aggregated exactly once, so a run
 * costs what arrived since the last one, not a re-aggregation of whole minutes. A reading that
 * arrives late (its minute already rolled) is merged into its minute's row.
 *
 * Chunked: a minute completes all at once, so the run after it has the whole minute to merge
 * (60,000 rows at 1,000 sensors × 1 Hz). Merging costs about 3–4 µs a row (an upsert into
 * readings_1m per sensor and minute), so one transaction for all of it would hold the event
 * loop for about 54 ms. Each transaction takes at most ROLLUP_CHUNK rows (about 1.7 ms), and the
 * scheduled job yields to the event loop between chunks (`rollupSteps`), so an alarm waits for
 * one chunk at most; after a long downtime the backlog is worked off the same way instead of
 * freezing the box. Small chunks cost more in total (about 0.45 s a minute at 1,000 sensors
 * against 0.24 s in chunks of 2,000); a siren that waits less is worth it.
 */
import type { Database } from 'better-sqlite3';

export const MINUTE_MS = 60_000;
/** Raw readings merged per transaction. */
export const ROLLUP_CHUNK = 250;
const MARK = 'rollup_rowid';

const MERGE = `
  WITH fresh AS (
    SELECT sensor, at_wall / ${MINUTE_MS} AS minute, at_wall, value FROM readings WHERE rowid > @after AND rowid <= @upto
  ), agg AS (
    SELECT sensor, minute, count(value) AS n, sum(value IS NULL) AS errors, min(value) AS mn, max(value) AS mx, sum(value) AS total
    FROM fresh GROUP BY sensor, minute
  ), newest AS (
    -- With a single max(), SQLite takes the bare column from that row: the newest value.
    SELECT sensor, minute, value AS last, max(at_wall) AS last_at FROM fresh WHERE value IS NOT NULL GROUP BY sensor, minute
  )
  INSERT INTO readings_1m (sensor, minute, n, errors, min, max, mean, last, last_at)
  SELECT agg.sensor, agg.minute, agg.n, agg.errors, agg.mn, agg.mx, CASE WHEN agg.n > 0 THEN agg.total / agg.n END, newest.last, newest.last_at
  FROM agg LEFT JOIN newest ON newest.sensor = agg.sensor AND newest.minute = agg.minute
  WHERE true
  ON CONFLICT (sensor, minute) DO UPDATE SET
    n = n + excluded.n,
    errors = errors + excluded.errors,
    min = CASE WHEN min IS NULL OR excluded.min < min THEN excluded.min ELSE min END,
    max = CASE WHEN max IS NULL OR excluded.max > max THEN excluded.max ELSE max END,
    mean = CASE WHEN n + excluded.n > 0 THEN (coalesce(mean, 0) * n + coalesce(excluded.mean, 0) * excluded.n) / (n + excluded.n) END,
    last = CASE WHEN excluded.last_at IS NOT NULL AND (last_at IS NULL OR excluded.last_at >= last_at) THEN excluded.last ELSE last END,
    last_at = CASE WHEN excluded.last_at IS NOT NULL AND (last_at IS NULL OR excluded.last_at >= last_at) THEN excluded.last_at ELSE last_at END`;

/**
 * Rolls the readings of complete minutes inserted since the last run, one chunk (transaction)
 * per step; returns rollup rows written. `db` is asked for at each step. What to roll is fixed
 * when the run starts (`rollupRange`) and the merge is prepared once per run: finding where the
 * minute still filling begins scans the rows since the mark, and preparing the merge took as
 * long as merging 100 rows; doing both for every chunk would add 1.5–2 ms to each.
 */
export function* rollupSteps(db: () => Database, nowWall: number, chunk = ROLLUP_CHUNK): Generator<void, number> {
  const range = rollupRange(db(), nowWall);
  let rows = 0;
  let after = range.after;
  let merge: ((after: number, upto: number) => number) | null = null;
  let prepared: Database | null = null;
  while (after < range.end) {
    const upto = Math.min(range.end, after + chunk);
    // Again only if the store reopened its connection in between.
    if (prepared !== db()) {
      prepared = db();
      merge = chunkMerger(prepared);
    }
    rows += merge!(after, upto);
    after = upto;
    if (after < range.end) yield;
  }
  return rows;
}

/** Rowids to roll: above the mark, up to the last one before the first reading of the minute still filling. */
function rollupRange(db: Database, nowWall: number): { after: number; end: number } {
  const currentStart = Math.floor(nowWall / MINUTE_MS) * MINUTE_MS;
  const row = db.prepare('SELECT value FROM meta WHERE key = ?').get(MARK) as { value: number } | undefined;
  const maxRowid = (db.prepare('SELECT coalesce(max(rowid), 0) AS m FROM readings').get() as { m: number }).m;
  // Retention only removes the oldest rows; a max below the mark means the table was emptied,
  // and every row in it now is new.
  const after = row === undefined || row.value > maxRowid ? 0 : row.value;
  // Stop before the first new reading of the minute still filling: it waits for the next run.
  const firstOpen = db.prepare('SELECT min(rowid) AS r FROM readings WHERE rowid > ? AND at_wall >= ?').get(after, currentStart) as { r: number | null };
  const end = firstOpen.r === null ? maxRowid : firstOpen.r - 1;
  return { after, end: Math.max(after, end) };
}

/** Merges the raw readings with rowid in (after, upto] and moves the mark to `upto`, in one transaction. */
function chunkMerger(db: Database): (after: number, upto: number) => number {
  const merge = db.prepare(MERGE);
  const setMark = db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value');
  return db.transaction((after: number, upto: number) => {
    const { changes } = merge.run({ after, upto });
    setMark.run(MARK, upto);
    return changes;
  });
}
