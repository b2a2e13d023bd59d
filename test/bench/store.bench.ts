/**
 * Event store throughput on this machine's disk: appends one at a time, each written to the WAL
 * (what the alarm waits for) and then synced by the fdatasync behind it (what a power cut needs;
 * the box does not wait for it), and batched raw readings (1000 per transaction), plus a
 * one-minute rollup over them. Run: `npm run bench -- store [seconds per phase]`.
 * Figures to compare: docs/dependencies note ~3,000 fsync'd commits/s here, and an SD card's
 * fsync is about ten times slower.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import type { SiteConfig } from '../../gateway/config/types.ts';
import { systemClock } from '../../gateway/shell/clock.ts';
import { EventStore } from '../../gateway/store/event-store.ts';
import { percentile } from './bench-site.ts';

const SECONDS = Number(process.argv[2] ?? 2);
const dir = mkdtempSync(join(process.env.STORE_BENCH_DIR ?? tmpdir(), 'sb-store-bench-'));
const path = join(dir, 'bench.db');
const config = { store: { path, rawRetentionDays: 7, rollupRetentionDays: 400, eventRetentionDays: 365 } } as SiteConfig;
const store = new EventStore({ config, log: pino({ level: 'silent' }), clock: systemClock() }, { path, schedule: false });
await store.start();

// Appends one at a time: written (append returns), then on disk (its sync returned).
const lat: number[] = [];
const durableLat: number[] = [];
const payload = { transition: 'raised', alert: 'wl1/stage/1', level: 'orange', values: { stage_m: 3.25, rise_m_per_30min: 0.41 }, textZh: '水位超过警戒水位', textEn: 'Water above warning stage' };
let t = process.hrtime.bigint();
const eventsEnd = t + BigInt(SECONDS * 1e9);
while (process.hrtime.bigint() < eventsEnd) {
  const t0 = process.hrtime.bigint();
  store.append('transition', payload);
  lat.push(Number(process.hrtime.bigint() - t0) / 1e6);
  await store.synced();
  durableLat.push(Number(process.hrtime.bigint() - t0) / 1e6);
}
const eventsMs = Number(process.hrtime.bigint() - t) / 1e6;

// Batched readings: 20 sensors, flushed by count (1000 per transaction).
const T0 = Date.now();
let readings = 0;
t = process.hrtime.bigint();
const readingsEnd = t + BigInt(SECONDS * 1e9);
while (process.hrtime.bigint() < readingsEnd) {
  for (let k = 0; k < 1000; k++, readings++) store.addReading({ sensor: `s${readings % 20}`, value: Math.sin(readings), quality: 'good', atWall: T0 - 3_600_000 + readings });
}
store.flushReadings();
const readingsMs = Number(process.hrtime.bigint() - t) / 1e6;

t = process.hrtime.bigint();
const rollupRows = store.rollup(Date.now());
const rollupMs = Number(process.hrtime.bigint() - t) / 1e6;
await store.stop();

const sorted = Float64Array.from(lat).sort();
const durableSorted = Float64Array.from(durableLat).sort();
const figures = {
  events: lat.length,
  durable_events_per_s: Math.round(lat.length / (eventsMs / 1000)),
  append_p50_ms: Number(percentile(sorted, 0.5).toFixed(3)),
  append_p99_ms: Number(percentile(sorted, 0.99).toFixed(3)),
  durable_p50_ms: Number(percentile(durableSorted, 0.5).toFixed(3)),
  durable_p99_ms: Number(percentile(durableSorted, 0.99).toFixed(3)),
  readings,
  readings_per_s: Math.round(readings / (readingsMs / 1000)),
  rollup_rows: rollupRows,
  rollup_ms: Math.round(rollupMs),
  db_mb: Number((statSync(path).size / 1048576).toFixed(1)),
  rss_mb: Math.round(process.memoryUsage().rss / 1048576),
};
rmSync(dir, { recursive: true, force: true });
console.log(`store: ${figures.durable_events_per_s} events/s one at a time; append (written) p50 ${figures.append_p50_ms} ms, p99 ${figures.append_p99_ms} ms; on disk (fdatasync behind it) p50 ${figures.durable_p50_ms} ms, p99 ${figures.durable_p99_ms} ms; ${figures.readings_per_s} readings/s batched; rollup of ${readings} readings → ${rollupRows} rows in ${figures.rollup_ms} ms (${dir})`);
console.log(JSON.stringify(figures));
