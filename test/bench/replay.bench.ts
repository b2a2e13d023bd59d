/**
 * `shaobing replay` over a year of 1-minute data for 50 sensors (26.3 million rows).
 * Aim: under a minute. `npm run bench -- replay [DAYS]` (default 365). The CSV is generated
 * once into the OS temp dir and reused by later runs of the same size.
 */
import { closeSync, existsSync, openSync, renameSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { replay } from '../../gateway/replay/replay.ts';
import { wallTime } from '../../gateway/wire.ts';
import { benchSite, benchValue } from './bench-site.ts';

const DAYS = Number(process.argv[2] ?? 365);
const SENSORS = 50;
const config = benchSite(SENSORS);
const ids = config.sensors.map((s) => s.id);
const T0 = Date.parse('2025-01-01T00:00:00+08:00');
const minutes = DAYS * 1440;
const file = join(tmpdir(), `shaobing-replay-${DAYS}d-${SENSORS}.csv`);

function generate(): void {
  const fd = openSync(`${file}.part`, 'w');
  let buf = 'time,sensor,value\n';
  for (let m = 0; m < minutes; m++) {
    const time = wallTime(T0 + m * 60_000, '+08:00');
    // A storm every 30 days: 2 mm/min for 80 minutes, so the replay raises and clears alerts.
    for (let i = 0; i < SENSORS; i++) {
      const id = ids[i]!;
      let v: number;
      if (id.startsWith('rg')) {
        const storms = Math.floor(m / 43200);
        const into = m % 43200;
        v = Math.round((storms * 160 + Math.min(into, 80) * 2 + Math.floor(m / 120) * 0.2) * 10) / 10;
      } else v = benchValue(id, m);
      buf += `${time},${id},${Number.isInteger(v) ? v : v.toFixed(3)}\n`;
    }
    if (buf.length > 1 << 22) {
      writeSync(fd, buf);
      buf = '';
    }
  }
  writeSync(fd, buf);
  closeSync(fd);
  // Rename only when complete, so an interrupted run never leaves a short file behind.
  renameSync(`${file}.part`, file);
}

if (!existsSync(file)) {
  const g0 = Date.now();
  generate();
  console.log(`generated ${file} (${(statSync(file).size / 1e9).toFixed(2)} GB) in ${((Date.now() - g0) / 1000).toFixed(1)} s`);
}

let lines = 0;
const t0 = process.hrtime.bigint();
const s = await replay({ config, readings: file, write: () => void lines++, error: (m) => console.error(m) });
const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
const figures = {
  days: DAYS,
  sensors: SENSORS,
  rows: s.rows,
  bad_rows: s.badRows,
  transitions: s.transitions,
  effects: s.effects,
  replay_s: Number(seconds.toFixed(2)),
  rows_per_s: Math.round(s.rows / seconds),
  rss_mb: Math.round(process.memoryUsage().rss / 1048576),
};
console.log(`replay: ${s.rows} rows in ${seconds.toFixed(1)} s (${figures.rows_per_s} rows/s), ${s.transitions} transitions, ${s.effects} effects, ${lines} output lines`);
console.log(JSON.stringify(figures));
