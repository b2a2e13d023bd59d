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
 * weigh, `last` is the newest by time). Every reading is aggregated exactly once: the merged
 * rows and the mark are written in one transaction. A reading that arrives late (its minute
 * already rolled) is merged into its minute's row.
 *
 * **Read in chunks, written once** (SD card wear, README "SD card wear"). The rollup table's key
 * is (sensor, minute), so in a log older than an hour each sensor's newest rows sit on a B-tree
 * page of their own, and a transaction that touches every sensor writes one WAL frame (a whole
 * 4 KiB page) per sensor. The merge used to run a transaction per 250 raw rows: at 1,000
 * sensors × 1 Hz each covered a quarter of a second of every sensor, so a minute was 240
 * transactions rewriting up to 250 pages each (the sd-wear bench on a log aged 24 h: 2.6 GB/h
 * written at the full site; 159 MB/h at the realistic site, over its 100 MB/h budget). Now a run
 * reads the new raw rows READ_CHUNK at a time (reads write nothing; the scheduled job yields to
 * the event loop between chunks, so an alarm waits for one chunk's read at most), aggregates
 * them in memory, and writes all its (sensor, minute) rows in one transaction: each page once.
 * That transaction holds the write lock for about 2.5 µs a row (2.5 ms at 1,000 sensors); a run
 * stops reading before it would hold more than ROLLUP_WRITE_MAX rows, and the next run (5 s
 * later) goes on from there, so a backlog after a long outage never becomes one long write.
 */
import type { Database } from 'better-sqlite3';

export const MINUTE_MS = 60_000;
/** Raw readings read per step (one read statement, about 0.5 ms here); the job yields between steps. */
export const READ_CHUNK = 2000;
/**
 * (sensor, minute) rows one run writes at most, in its one transaction: a minute of the largest
 * site (2,000 sensors, config/schema.ts MAX_SENSORS) with room for late rows.
 */
export const ROLLUP_WRITE_MAX = 2500;
const MARK = 'rollup_rowid';

/** The merge of one (sensor, minute) aggregate into its row, as the previous runs left it. */
const UPSERT = `
  INSERT INTO readings_1m (sensor, minute, n, errors, min, max, mean, last, last_at)
  VALUES (@sensor, @minute, @n, @errors, @min, @max, @mean, @last, @last_at)
  ON CONFLICT (sensor, minute) DO UPDATE SET
    n = n + excluded.n,
    errors = errors + excluded.errors,
    min = CASE WHEN min IS NULL OR excluded.min < min THEN excluded.min ELSE min END,
    max = CASE WHEN max IS NULL OR excluded.max > max THEN excluded.max ELSE max END,
    mean = CASE WHEN n + excluded.n > 0 THEN (coalesce(mean, 0) * n + coalesce(excluded.mean, 0) * excluded.n) / (n + excluded.n) END,
    last = CASE WHEN excluded.last_at IS NOT NULL AND (last_at IS NULL OR excluded.last_at >= last_at) THEN excluded.last ELSE last END,
    last_at = CASE WHEN excluded.last_at IS NOT NULL AND (last_at IS NULL OR excluded.last_at >= last_at) THEN excluded.last_at ELSE last_at END`;

/** One sensor's minute, aggregated from the raw rows a run read. */
interface Agg {
  sensor: string;
  minute: number;
  n: number;
  errors: number;
  min: number | null;
  max: number | null;
  sum: number;
  last: number | null;
  lastAt: number | null;
}

function add(a: Agg, atWall: number, value: number | null): void {
  if (value === null) {
    a.errors++;
    return;
  }
  a.n++;
  a.sum += value;
  if (a.min === null || value < a.min) a.min = value;
  if (a.max === null || value > a.max) a.max = value;
  // The newest by time; of equal times the later row, as a merge of a later run would.
  if (a.lastAt === null || atWall >= a.lastAt) {
    a.lastAt = atWall;
    a.last = value;
  }
}

/**
 * Rolls the readings of complete minutes inserted since the last run: reads them `readChunk`
 * rows per step (yielding between steps), then writes every (sensor, minute) row and the new
 * mark in one transaction; returns the rows written. `db` is asked for at each step (the store
 * may reopen its connection between two). What to roll is fixed when the run starts
 * (`rollupRange`); the run stops early, at a row boundary, rather than hold more than
 * `writeMax` rows, and the next run goes on from its mark.
 */
export function* rollupSteps(db: () => Database, nowWall: number, readChunk = READ_CHUNK, writeMax = ROLLUP_WRITE_MAX): Generator<void, number> {
  const range = rollupRange(db(), nowWall);
  if (range.end <= range.after) return 0;
  const aggs = new Map<string, Agg>();
  let upto = range.after;
  reading: while (upto < range.end) {
    const to = Math.min(range.end, upto + readChunk);
    const rows = db().prepare<[number, number], { rowid: number; sensor: string; at_wall: number; value: number | null }>('SELECT rowid, sensor, at_wall, value FROM readings WHERE rowid > ? AND rowid <= ? ORDER BY rowid').iterate(upto, to);
    for (const r of rows) {
      const minute = Math.floor(r.at_wall / MINUTE_MS);
      const key = `${r.sensor}\u0000${minute}`;
      let a = aggs.get(key);
      if (!a) {
        if (aggs.size >= writeMax) {
          upto = r.rowid - 1;
          rows.return?.();
          break reading;
        }
        a = { sensor: r.sensor, minute, n: 0, errors: 0, min: null, max: null, sum: 0, last: null, lastAt: null };
        aggs.set(key, a);
      }
      add(a, r.at_wall, r.value);
    }
    upto = to;
    if (upto < range.end) yield;
  }
  return writeRollups(db(), aggs.values(), upto);
}

/** Merges the aggregates into their rows and moves the mark to `upto`, in one transaction. */
function writeRollups(db: Database, aggs: Iterable<Agg>, upto: number): number {
  const upsert = db.prepare(UPSERT);
  const setMark = db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value');
  return db.transaction(() => {
    let rows = 0;
    for (const a of aggs) {
      upsert.run({ sensor: a.sensor, minute: a.minute, n: a.n, errors: a.errors, min: a.min, max: a.max, mean: a.n > 0 ? a.sum / a.n : null, last: a.last, last_at: a.lastAt });
      rows++;
    }
    setMark.run(MARK, upto);
    return rows;
  })();
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
