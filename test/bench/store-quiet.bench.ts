/**
 * What the event log costs the main thread at the quiet rate (issue 15: the alarm path's p99 at
 * 1,000 sensors × 1 Hz): 1,000 readings/s arriving every 10 ms and batched as the box batches
 * them (ReadingBuffer: 200 ms or 1,000 rows), and a few events/s appended one at a time, for
 * `seconds` per mode. Records the event loop's delay (perf_hooks, 1 ms resolution) and how long
 * each main-thread store call took: event commits, reading batches, and the WAL checkpoint
 * (with its restart write) where it runs on the main thread. Modes: `main` (checkpoint on the
 * main thread, as before the checkpointer), `worker` (gateway/store/checkpointer.ts).
 * Run: `npm run bench -- store-quiet [seconds per mode] [modes, e.g. main,worker]`; the
 * directory is STORE_BENCH_DIR (default the OS's tmpdir; on this machine /tmp is the disk).
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import pino from 'pino';
import type { SiteConfig } from '../../gateway/config/types.ts';
import { systemClock } from '../../gateway/shell/clock.ts';
import { Connection } from '../../gateway/store/connection.ts';
import { EventStore } from '../../gateway/store/event-store.ts';
import { percentile } from './bench-site.ts';

const SECONDS = Number(process.argv[2] ?? 40);
const MODES = (process.argv[3] ?? 'main,worker').split(',') as ('main' | 'worker')[];
const SENSORS = 1000;
const TICK_MS = 10;
const EVENTS_PER_S = 4;
const STALL_MS = 3;

// Instruments the main thread's calls (the worker has its own copy of these modules).
const calls = { event: [] as number[], readings: [] as number[], checkpoint: [] as number[], mainCheckpoints: 0, spans: [] as [number, number][], slow: [] as [number, number][] };
let nested = 0;
const proto = Connection.prototype as unknown as Record<string, (...a: unknown[]) => unknown>;
for (const [name, into] of [['writeEvents', 'event'], ['writeReadings', 'readings'], ['checkpointIfDue', 'checkpoint']] as const) {
  const orig = proto[name]!;
  proto[name] = function (this: unknown, ...a: unknown[]) {
    const before = nested;
    const t0 = performance.now();
    try {
      return orig.apply(this, a);
    } finally {
      const ms = performance.now() - t0;
      if (into === 'checkpoint') {
        if (ms > 0.05) {
          calls.checkpoint.push(ms);
          calls.spans.push([t0, t0 + ms]);
        }
        nested += ms;
      } else {
        const own = ms - (nested - before);
        calls[into].push(own);
        if (own > 1) calls.slow.push([performance.timeOrigin + t0, performance.timeOrigin + t0 + ms]);
      }
    }
  };
}
const dbProto = Database.prototype as unknown as { pragma: (...a: unknown[]) => unknown };
const pragma = dbProto.pragma;
dbProto.pragma = function (this: unknown, ...a: unknown[]) {
  if (String(a[0]).startsWith('wal_checkpoint')) calls.mainCheckpoints++;
  return pragma.apply(this, a);
};

const q = (xs: number[], p: number): number => (xs.length ? +percentile(Float64Array.from(xs).sort(), p).toFixed(3) : 0);
const summary = (xs: number[]) => ({ n: xs.length, p50: q(xs, 0.5), p99: q(xs, 0.99), max: q(xs, 1), over_2ms: xs.filter((x) => x > 2).length, total_ms: +xs.reduce((a, b) => a + b, 0).toFixed(1) });

async function run(mode: 'main' | 'worker') {
  calls.event = [];
  calls.readings = [];
  calls.checkpoint = [];
  calls.mainCheckpoints = 0;
  calls.spans = [];
  calls.slow = [];
  // The worker's restart commits (epoch ms), from its debug lines: a main-thread write waits for their lock.
  const commits: [number, number][] = [];
  const log = pino({ level: 'debug' }, {
    write: (s: string) => {
      const l = JSON.parse(s) as { msg?: string; commitAt?: number; commitMs?: number };
      if (l.msg === 'WAL checkpoint' && l.commitAt) commits.push([l.commitAt, l.commitAt + l.commitMs!]);
    },
  });
  const dir = mkdtempSync(join(process.env.STORE_BENCH_DIR ?? tmpdir(), 'sb-store-quiet-'));
  const path = join(dir, 'bench.db');
  const config = { store: { path, rawRetentionDays: 7, rollupRetentionDays: 400, eventRetentionDays: 365 } } as SiteConfig;
  const store = new EventStore({ config, log, clock: systemClock() }, { path, schedule: false, checkpointInWorker: mode === 'worker' });
  await store.start();
  await sleep(500); // the worker's start is not what is measured
  const payload = { transition: 'raised', alert: 'wl1/stage/1', level: 'orange', values: { stage_m: 3.25 } };
  let walMax = 0;
  let n = 0;
  const h = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
  const t0 = performance.now();
  // Stalls over STALL_MS seen by a 1 ms timer, to tell which coincide with a main-thread checkpoint.
  const stalls: [number, number][] = [];
  let probing = true;
  const probe = (due: number): void => {
    const now = performance.now();
    if (now - due > STALL_MS) stalls.push([due, now]);
    if (!probing) return;
    const next = now + 1;
    setTimeout(() => probe(next), 1);
  };
  probe(performance.now());
  const perTick = (SENSORS * TICK_MS) / 1000;
  const eventEvery = Math.round(1000 / EVENTS_PER_S / TICK_MS);
  for (let tick = 0; performance.now() - t0 < SECONDS * 1000; tick++) {
    const at = Date.now();
    for (let k = 0; k < perTick; k++, n++) store.addReading({ sensor: `s${n % SENSORS}`, value: Math.sin(n), quality: 'good', atWall: at });
    if (tick % eventEvery === 0) store.append('transition', payload);
    if (tick % 100 === 0) {
      try {
        walMax = Math.max(walMax, statSync(`${path}-wal`).size);
      } catch {
        // Between a restart and the next write there may be none.
      }
    }
    const next = t0 + (tick + 1) * TICK_MS;
    await sleep(Math.max(0, next - performance.now()));
  }
  h.disable();
  probing = false;
  const counts = store.connectionNow?.checkpointer?.counts ?? null;
  const withCheckpoint = stalls.filter(([a, b]) => calls.spans.some(([c, d]) => c < b && d > a)).length;
  await store.stop();
  rmSync(dir, { recursive: true, force: true });
  return {
    mode,
    readings: n,
    loop_delay_p50_ms: +(h.percentile(50) / 1e6).toFixed(3),
    loop_delay_p99_ms: +(h.percentile(99) / 1e6).toFixed(3),
    loop_delay_max_ms: +(h.max / 1e6).toFixed(3),
    event_commit_ms: summary(calls.event),
    reading_batch_ms: summary(calls.readings),
    checkpoint_call_ms: summary(calls.checkpoint),
    main_writes_over_1ms: calls.slow.length,
    main_writes_over_1ms_during_worker_commit: calls.slow.filter(([a, b]) => commits.some(([c, d]) => c < b && d > a)).length,
    worker_commit_ms: summary(commits.map(([a, b]) => b - a)),
    stalls_over_3ms: stalls.length,
    stalls_over_3ms_during_checkpoint: withCheckpoint,
    stall_max_ms: +Math.max(0, ...stalls.map(([a, b]) => b - a)).toFixed(3),
    main_thread_wal_checkpoints: calls.mainCheckpoints,
    worker_checkpoints: counts?.done ?? 0,
    worker_wal_restarts: counts?.restarted ?? 0,
    worker_lost: counts?.lost ?? 0,
    wal_max_bytes: walMax,
    rss_mb: Math.round(process.memoryUsage().rss / 1e6),
  };
}

const out = [];
for (const mode of MODES) {
  const r = await run(mode);
  console.error(JSON.stringify(r));
  out.push(r);
}
console.log(JSON.stringify({ seconds_per_mode: SECONDS, sensors: SENSORS, events_per_s: EVENTS_PER_S, runs: out }));
