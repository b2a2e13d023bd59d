/**
 * The daily reporting check's cost (gateway/schedule/self-tests.ts): over a log holding 24 h of
 * minute rollups for N sensors, each sensor's step as the module runs it (its rollup rows from
 * the store a quarter of a day at a time, its minutes with a value, the verdict) is synchronous
 * main-thread work in pieces between yields: p50/p99/max of those pieces, and the whole check. A few sensors have holes
 * so some verdicts fail. `npm run bench -- selftest [SENSORS]` (default 1000).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pino from 'pino';
import { parseConfig } from '../../gateway/config/load.ts';
import { judgeReporting, reportingWindow, rollupRange } from '../../gateway/schedule/reporting.ts';
import { PIECE_MINUTES } from '../../gateway/schedule/self-tests.ts';
import { systemClock } from '../../gateway/shell/clock.ts';
import { EventStore } from '../../gateway/store/event-store.ts';

const SENSORS = Number(process.argv[2] ?? 1000);
const dir = mkdtempSync(join(process.env.BENCH_DIR ?? tmpdir(), 'sb-selftest-bench-'));
const dbPath = join(dir, 'bench.db');
const yaml = `
site: { id: bench, name: 自检 }
sensors:
${Array.from({ length: SENSORS }, (_, i) => `  - { id: s${i}, kind: rain, interval_s: 60 }`).join('\n')}
store: { path: '${dbPath}' }
`;
const { config, problems } = parseConfig(yaml);
if (!config) throw new Error(JSON.stringify(problems));
const clock = systemClock();
const log = pino({ level: 'silent' });
{
  const s = new EventStore({ config, log, clock }, { path: dbPath, schedule: false });
  await s.start();
  await s.stop();
}
const now = Date.now();
const m0 = Math.floor(now / 60_000) - 1440;
const db = new Database(dbPath);
const insert = db.prepare('INSERT INTO readings_1m (sensor, minute, n, errors, min, max, mean, last, last_at) VALUES (?, ?, 1, 0, 1, 1, 1, 1, ?)');
db.transaction(() => {
  for (let m = 0; m < 1440; m++) for (let i = 0; i < SENSORS; i++) if (!(i % 50 === 0 && m >= 600 && m < 660)) insert.run(`s${i}`, m0 + m, (m0 + m) * 60_000 + 30_000);
})();
db.close();

const store = new EventStore({ config, log, clock }, { path: dbPath, schedule: false });
await store.start();
const w = reportingWindow(now, 0);
const range = rollupRange(w);
const pieces: number[] = [];
let failed = 0;
const t0 = performance.now();
for (const s of config.sensors) {
  const minutes: number[] = [];
  for (let after = range.after; after < range.through; after += PIECE_MINUTES) {
    const a = performance.now();
    minutes.push(...store.reportingMinutes(s.id, after, Math.min(range.through, after + PIECE_MINUTES)));
    pieces.push(performance.now() - a);
    await new Promise<void>((res) => setImmediate(res));
  }
  const a = performance.now();
  if (!judgeReporting(s.id, s.health.intervalS, minutes, w, config.selfTests.reportingGapIntervals).ok) failed++;
  pieces[pieces.length - 1]! += performance.now() - a;
}
const totalMs = performance.now() - t0;
await store.stop();
rmSync(dir, { recursive: true, force: true });
pieces.sort((a, b) => a - b);
const q = (p: number): number => Math.round(pieces[Math.min(pieces.length - 1, Math.floor(p * pieces.length))]! * 1000) / 1000;
console.log(`reporting check over ${SENSORS} sensors × 1,440 minutes: ${Math.round(totalMs)} ms in all; per piece p50 ${q(0.5)} ms, p99 ${q(0.99)} ms, max ${q(1)} ms; ${failed} failed (expected ${Math.ceil(SENSORS / 50)})`);
console.log(JSON.stringify({ sensors: SENSORS, rollup_rows: SENSORS * 1440, total_ms: Math.round(totalMs), piece_p50_ms: q(0.5), piece_p99_ms: q(0.99), piece_max_ms: q(1), failed }));
