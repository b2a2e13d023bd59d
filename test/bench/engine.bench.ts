/**
 * Engine throughput and per-reading latency with 1,000 sensors, one reading per sensor per
 * second of engine time, a tick every second. Aim: ≥ 200,000 readings/s on one core, p99 < 50 µs.
 */
import { evaluate } from '../../gateway/engine/evaluate.ts';
import { createEngineState } from '../../gateway/engine/state.ts';
import type { Reading } from '../../gateway/engine/types.ts';
import { benchSite, benchValue, percentile } from './bench-site.ts';

const SENSORS = 1000;
const ROUNDS = Number(process.argv[2] ?? 2000); // seconds of engine time
const config = benchSite(SENSORS);
const ids = config.sensors.map((s) => s.id);
const T0 = Date.parse('2026-07-20T00:00:00+08:00');

function run(measure: boolean): { n: number; ms: number; lat: Float64Array; transitions: number } {
  let state = createEngineState(config, T0);
  const lat = new Float64Array(measure ? ROUNDS * SENSORS : 0);
  const reading: Reading = { sensor: '', value: 0, at: 0, quality: 'good' };
  let n = 0;
  let transitions = 0;
  const start = process.hrtime.bigint();
  for (let k = 0; k < ROUNDS; k++) {
    const now = T0 + k * 1000;
    transitions += evaluate(state, { type: 'tick' }, now).transitions.length;
    for (let i = 0; i < SENSORS; i++) {
      reading.sensor = ids[i]!;
      reading.value = benchValue(ids[i]!, k);
      reading.at = now + i; // readings spread over the second
      const input = { type: 'reading' as const, reading };
      if (measure) {
        const t0 = process.hrtime.bigint();
        const r = evaluate(state, input, reading.at);
        lat[n] = Number(process.hrtime.bigint() - t0) / 1000;
        state = r.state;
        transitions += r.transitions.length;
      } else {
        const r = evaluate(state, input, reading.at);
        state = r.state;
        transitions += r.transitions.length;
      }
      n++;
    }
  }
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  return { n, ms, lat, transitions };
}

run(false); // warm up the JIT
const thr = run(false);
const lat = run(true);
const sorted = lat.lat.sort();
const figures = {
  sensors: SENSORS,
  readings: thr.n,
  readings_per_s: Math.round(thr.n / (thr.ms / 1000)),
  p50_us: Number(percentile(sorted, 0.5).toFixed(2)),
  p99_us: Number(percentile(sorted, 0.99).toFixed(2)),
  max_us: Number(sorted[sorted.length - 1]!.toFixed(1)),
  transitions: thr.transitions,
  rss_mb: Math.round(process.memoryUsage().rss / 1048576),
};
console.log(`engine: ${figures.readings} readings from ${SENSORS} sensors in ${thr.ms.toFixed(0)} ms → ${figures.readings_per_s} readings/s; latency p50 ${figures.p50_us} µs, p99 ${figures.p99_us} µs (timed run, hrtime per call)`);
console.log(JSON.stringify(figures));
