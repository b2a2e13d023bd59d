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
 * weigh, `last` is the newest by time). Every reading is aggregated exactly once. A reading that
 * arrives late (its minute already rolled) is merged into its minute's row.
 *
 * **Read by rowid, written by sensor** (SD card wear, README "SD card wear"). The rollup table's
 * key is (sensor, minute), so in a log older than an hour each sensor's newest rows sit on a
 * B-tree page of their own, and every transaction that touches a sensor's row writes that page
 * to the WAL again, whole. The merge used to run a transaction per 250 raw rows: at 1,000 sensors
 * × 1 Hz each covered a quarter of a second of every sensor, so a minute rewrote every sensor's
 * page 60 times (the sd-wear bench on a log aged 24 h: 2.6 GB/h written at the full site, 159 MB/h
 * at the realistic site, over its 100 MB/h budget). Now a run reads the new raw rows READ_CHUNK at
 * a time (reads write nothing), aggregates them in memory, and writes the (sensor, minute) rows in
 * sensor order, WRITE_CHUNK rows a transaction: each sensor's page is written once a run. The job
 * yields to the event loop between steps, so an alarm waits for one step at most (rollup bench:
 * about 0.6 ms a read step, 1.5 ms a write step at 1,000 sensors). Which sensors a run has written
 * so far is kept in meta (`rollup_partial`) in the same transaction as their rows, and the mark
 * moves only with the last chunk, so a run cut short (kill -9, a full disk) is finished by the
 * next one without merging a reading twice. A run stops reading before it holds more than
 * ROLLUP_WRITE_MAX rows, so a backlog after a long outage is worked off run by run.
 */
import type { Database } from 'better-sqlite3';

export const MINUTE_MS = 60_000;
/** Raw readings read per step (rollup bench: about 1.1 µs a row with the aggregation: 0.6 ms). */
export const READ_CHUNK = 500;
/** Rollup rows merged per transaction, in sensor order (rollup bench: about 15 µs a row on a log aged 24 h, 1.5 ms). */
export const WRITE_CHUNK = 100;
/**
 * (sensor, minute) rows one run holds at most: a minute of the largest site (2,000 sensors,
 * config/schema.ts MAX_SENSORS) with room for late rows.
 */
export const ROLLUP_WRITE_MAX = 2500;
const MARK = 'rollup_rowid';
/** A run's progress while it writes: `{after, upto, sensor, minute}`, the last row it wrote. */
const PARTIAL = 'rollup_partial';

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

interface Partial {
  after: number;
  upto: number;
  sensor: string;
  minute: number;
}

/** Sensor order, then minute: the order rows are written in, and the order `rollup_partial` counts in. */
function order(a: { sensor: string; minute: number }, b: { sensor: string; minute: number }): number {
  return a.sensor < b.sensor ? -1 : a.sensor > b.sensor ? 1 : a.minute - b.minute;
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
 * rows per step, then writes the (sensor, minute) rows `writeChunk` per step in sensor order,
 * the mark moving with the last; yields between steps and returns the rows written. `db` is asked
 * for at each step (the store may reopen its connection between two). What to roll is fixed
 * when the run starts (`rollupRange`, or the unfinished run's range); the run stops reading early,
 * at a row boundary, rather than hold more than `writeMax` rows, and the next run goes on from
 * its mark.
 */
export function* rollupSteps(db: () => Database, nowWall: number, readChunk = READ_CHUNK, writeMax = ROLLUP_WRITE_MAX, writeChunk = WRITE_CHUNK): Generator<void, number> {
  const range = rollupRange(db(), nowWall);
  if (range.end <= range.after) return 0;
  const done = range.partial;
  const aggs = new Map<string, Agg>();
  let upto = range.after;
  reading: while (upto < range.end) {
    const to = Math.min(range.end, upto + readChunk);
    const rows = db().prepare<[number, number], { rowid: number; sensor: string; at_wall: number; value: number | null }>('SELECT rowid, sensor, at_wall, value FROM readings WHERE rowid > ? AND rowid <= ? ORDER BY rowid').iterate(upto, to);
    for (const r of rows) {
      const minute = Math.floor(r.at_wall / MINUTE_MS);
      // Rows an unfinished run already merged (before a crash) are not merged twice.
      if (done && order({ sensor: r.sensor, minute }, done) <= 0) continue;
      const key = `${r.sensor}\u0000${minute}`;
      let a = aggs.get(key);
      if (!a) {
        // An unfinished run's range is finished whole: its rows were counted when it started.
        if (aggs.size >= writeMax && !done) {
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
    // The last read and the first write share a step: a small site's run is one step.
    if (upto < range.end) yield;
  }
  const sorted = [...aggs.values()].sort(order);
  let rows = 0;
  for (let i = 0; ; i += writeChunk) {
    const last = i + writeChunk >= sorted.length;
    rows += writeRollups(db(), sorted.slice(i, i + writeChunk), last ? { upto } : { partial: { after: range.after, upto, ...pick(sorted[i + writeChunk - 1]!) } });
    if (last) return rows;
    yield;
  }
}

const pick = (a: Agg): { sensor: string; minute: number } => ({ sensor: a.sensor, minute: a.minute });

/**
 * Merges `aggs` into their rows in one transaction, with either the run's progress (`partial`)
 * or, for the last chunk, the new mark (and no progress left behind).
 */
function writeRollups(db: Database, aggs: readonly Agg[], then: { upto: number } | { partial: Partial }): number {
  const upsert = db.prepare(UPSERT);
  const setMeta = db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value');
  return db.transaction(() => {
    for (const a of aggs) upsert.run({ sensor: a.sensor, minute: a.minute, n: a.n, errors: a.errors, min: a.min, max: a.max, mean: a.n > 0 ? a.sum / a.n : null, last: a.last, last_at: a.lastAt });
    if ('upto' in then) {
      setMeta.run(MARK, then.upto);
      db.prepare('DELETE FROM meta WHERE key = ?').run(PARTIAL);
    } else setMeta.run(PARTIAL, JSON.stringify(then.partial));
    return aggs.length;
  })();
}

/**
 * Rowids to roll: an unfinished run's range if one was cut short (`partial`: the rows it wrote),
 * else above the mark, up to the last one before the first reading of the minute still filling.
 */
function rollupRange(db: Database, nowWall: number): { after: number; end: number; partial: Partial | null } {
  const currentStart = Math.floor(nowWall / MINUTE_MS) * MINUTE_MS;
  const row = db.prepare('SELECT value FROM meta WHERE key = ?').get(MARK) as { value: number } | undefined;
  const maxRowid = (db.prepare('SELECT coalesce(max(rowid), 0) AS m FROM readings').get() as { m: number }).m;
  // Retention only removes the oldest rows; a max below the mark means the table was emptied,
  // and every row in it now is new.
  const after = row === undefined || row.value > maxRowid ? 0 : row.value;
  const p = db.prepare('SELECT value FROM meta WHERE key = ?').get(PARTIAL) as { value: string } | undefined;
  if (p) {
    try {
      const partial = JSON.parse(p.value) as Partial;
      if (partial.after === after && partial.upto <= maxRowid) return { after, end: partial.upto, partial };
    } catch {
      /* not ours to read: started over below */
    }
  }
  // Stop before the first new reading of the minute still filling: it waits for the next run.
  // Found through the time index: the rows of the minute still filling are few when the job runs
  // (it runs every 5 s), where a walk up the rowids from the mark would read the whole minute
  // just completed (60,000 rows at 1,000 sensors: 5 ms, once a minute).
  const firstOpen = db.prepare('SELECT min(rowid) AS r FROM readings INDEXED BY readings_at_wall WHERE at_wall >= ? AND rowid > ?').get(currentStart, after) as { r: number | null };
  const end = firstOpen.r === null ? maxRowid : firstOpen.r - 1;
  return { after, end: Math.max(after, end), partial: null };
}
