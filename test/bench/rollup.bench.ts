/**
 * The one-minute rollup's cost on a log aged by a day (store/rollup.ts): SENSORS (default 1,000)
 * sensors with 24 h of rollup rows each, one complete minute of raw readings at 1 Hz, rolled as
 * the scheduled job rolls it: READ_CHUNK raw rows read a step, then WRITE_CHUNK rollup rows a
 * transaction in sensor order. Measures each step's time (what an alarm may wait for between two
 * turns of the event loop; a step that wrote is a write step), and the WAL frames the run adds
 * (each a whole page: SD card wear, README "SD card wear"; one per sensor is the least).
 * `npm run bench -- rollup [SENSORS]`.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { READ_CHUNK, rollupSteps, WRITE_CHUNK } from '../../gateway/store/rollup.ts';
import { migrate } from '../../gateway/store/schema.ts';
import { round } from './proc-stats.ts';

const SENSORS = Number(process.argv[2] ?? 1000);
const dir = mkdtempSync(join(process.env.BENCH_DIR ?? tmpdir(), 'sb-rollup-bench-'));
const path = join(dir, 'log.db');
const db = new Database(path);
migrate(db);
db.pragma('journal_mode = WAL');
db.pragma('synchronous = NORMAL');
db.pragma('wal_autocheckpoint = 0');
const now = Math.floor(Date.now() / 60_000) * 60_000;
const m0 = now / 60_000 - 24 * 60 - 1;
const rollup = db.prepare('INSERT INTO readings_1m (sensor, minute, n, errors, min, max, mean, last, last_at) VALUES (?, ?, 60, 0, 1, 1, 1, 1, ?)');
db.transaction(() => {
  for (let m = 0; m < 24 * 60; m++) for (let i = 0; i < SENSORS; i++) rollup.run(`rg${i}`, m0 + m, (m0 + m) * 60_000 + 59_000);
})();
const raw = db.prepare("INSERT INTO readings (sensor, at_wall, value, quality) VALUES (?, ?, ?, 'good')");
const minute = now - 60_000;
db.transaction(() => {
  for (let s = 0; s < 60; s++) for (let i = 0; i < SENSORS; i++) raw.run(`rg${i}`, minute + s * 1000 + i / SENSORS, s * 0.1);
})();
db.prepare("INSERT OR REPLACE INTO meta (key, value) VALUES ('rollup_rowid', ?)").run((db.prepare('SELECT min(rowid) - 1 AS r FROM readings').get() as { r: number }).r);
db.pragma('wal_checkpoint(TRUNCATE)');

const walBytes = (): number => {
  try {
    return statSync(`${path}-wal`).size;
  } catch {
    return 0;
  }
};
const steps = rollupSteps(() => db, now + 1000);
const reads: number[] = [];
const writes: number[] = [];
let rows = 0;
const wal0 = walBytes();
const t = performance.now();
for (;;) {
  const w = walBytes();
  const t0 = performance.now();
  const r = steps.next();
  const ms = performance.now() - t0;
  (walBytes() > w ? writes : reads).push(ms);
  if (r.done) {
    rows = r.value;
    break;
  }
}
const totalMs = performance.now() - t;
const frames = Math.round((walBytes() - wal0) / (4096 + 24));
db.close();
rmSync(dir, { recursive: true, force: true });
const p = (xs: number[], q: number): number => round([...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * q))] ?? 0, 3);
const figures = {
  sensors: SENSORS,
  raw_rows: SENSORS * 60,
  rollup_rows: rows,
  read_steps: reads.length,
  read_step_p50_ms: p(reads, 0.5),
  read_step_max_ms: p(reads, 1),
  write_steps: writes.length,
  write_step_p50_ms: p(writes, 0.5),
  write_step_max_ms: p(writes, 1),
  total_ms: round(totalMs, 1),
  wal_frames_written: frames,
  read_chunk: READ_CHUNK,
  write_chunk: WRITE_CHUNK,
};
console.log(`rollup of ${figures.raw_rows} raw rows of ${SENSORS} sensors (log aged 24 h): ${figures.read_steps} read steps p50/max ${figures.read_step_p50_ms}/${figures.read_step_max_ms} ms, ${figures.write_steps} write steps p50/max ${figures.write_step_p50_ms}/${figures.write_step_max_ms} ms, ${figures.total_ms} ms in all; ${frames} WAL frames for ${rows} rows`);
console.log(JSON.stringify(figures));
