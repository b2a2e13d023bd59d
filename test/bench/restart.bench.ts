/**
 * A restart after a full day: the box (`shaobing start` as deployed, box-process.ts) opens a log holding 24 h of 1-minute rollups for N rain gauges
 * and rebuilds their rain windows from it before it takes readings (shell/restore.ts).
 * Measures how long the rebuild takes and the gateway's peak RSS (VmHWM) once it is done.
 * A day for 1,000 gauges is 1.44 M rows; read as one array they ran the box out of its 96 MB
 * heap (a crash at every start), so the rows are streamed.
 * `npm run bench -- restart [GAUGES]` (default 1000).
 */
import { mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pino from 'pino';
import { parseConfig } from '../../gateway/config/load.ts';
import { systemClock } from '../../gateway/shell/clock.ts';
import { hashSecret } from '../../gateway/shell/secrets.ts';
import { EventStore } from '../../gateway/store/event-store.ts';
import { BENCH_SCRYPT, rssMb, startBoxProcess } from './box-process.ts';

const GAUGES = Number(process.argv[2] ?? 1000);
const dir = mkdtempSync(join(process.env.BENCH_DIR ?? tmpdir(), 'sb-restart-bench-'));
const dbPath = join(dir, 'bench.db');

const sensors = Array.from({ length: GAUGES }, (_, i) => `  - { id: rg${i}, kind: rain }`).join('\n');
const yaml = `
site: { id: bench, name: 重启 }
sensors:
${sensors}
actuators: [{ id: siren1, kind: siren, zones: [site] }]
mqtt:
  host: 127.0.0.1
  port: 0
  ws_port: 0
  accounts:
    - { username: wang, role: officer, secret_hash: '${await hashSecret('pw-wang-secret', BENCH_SCRYPT)}' }
store: { path: '${dbPath}' }
`;
const { config, problems } = parseConfig(yaml);
if (!config) throw new Error(JSON.stringify(problems));
writeFileSync(join(dir, 'bench.yaml'), yaml);

// A day of rollups as the running box leaves them: every gauge, every minute, a rising total.
const store = new EventStore({ config, log: pino({ level: 'silent' }), clock: systemClock() }, { path: dbPath, schedule: false });
await store.start();
await store.stop();
const db = new Database(dbPath);
const m0 = Math.floor(Date.now() / 60_000) - 1440;
const insert = db.prepare('INSERT INTO readings_1m (sensor, minute, n, errors, min, max, mean, last, last_at) VALUES (?, ?, 60, 0, ?, ?, ?, ?, ?)');
const t0 = performance.now();
db.transaction(() => {
  for (let m = 0; m < 1440; m++) {
    for (let i = 0; i < GAUGES; i++) {
      const v = Math.round(m * 0.05 * 10) / 10; // 0.05 mm a minute: 72 mm a day, no alert at start
      insert.run(`rg${i}`, m0 + m, v, v, v, v, (m0 + m) * 60_000 + 59_000);
    }
  }
})();
db.close();
console.log(`restart: ${GAUGES * 1440} rollup rows written in ${Math.round(performance.now() - t0)} ms`);

const logFile = join(dir, 'box.log');
const box = startBoxProcess(join(dir, 'bench.yaml'), openSync(logFile, 'w'));
const started = performance.now();
let exited: number | null = null;
box.on('exit', (code) => (exited = code ?? -1));

let restored: { readings: number; ms: number } | null = null;
while (!restored && exited === null && performance.now() - started < 120_000) {
  await new Promise((r) => setTimeout(r, 100));
  const line = readFileSync(logFile, 'utf8').split('\n').find((l) => l.includes('engine state restored from the log'));
  if (line) restored = JSON.parse(line) as { readings: number; ms: number };
}
if (!restored) {
  console.log(readFileSync(logFile, 'utf8').split('\n').slice(-15).join('\n'));
  box.kill('SIGKILL');
  throw new Error(exited !== null ? `the box exited (${exited}) before its state was restored` : 'no restore within 120 s');
}
await new Promise((r) => setTimeout(r, 1000)); // settled: its first second of running
const rss = rssMb(box.pid!);
const figures = {
  gauges: GAUGES,
  history_rows: restored.readings,
  restore_ms: restored.ms,
  start_to_restored_ms: Math.round(performance.now() - started - 1000),
  rss_peak_mb: rss.peak,
  rss_mb: rss.now,
};
box.kill('SIGTERM');
await new Promise((r) => box.once('exit', r));
rmSync(dir, { recursive: true, force: true });
console.log(`restart: ${figures.history_rows} readings replayed into ${GAUGES} rain windows in ${figures.restore_ms} ms; gateway RSS peak ${figures.rss_peak_mb} MB, now ${figures.rss_mb} MB`);
console.log(JSON.stringify(figures));
