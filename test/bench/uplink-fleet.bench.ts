/**
 * 500 simulated box uplinks into one Mosquitto, two shared-subscription consumers (uplink-fleet.ts),
 * in two runs: every box draining a backlog at once (throughput; lag there is queueing), then
 * every box paced at a steady rate (lag of a fleet at work).
 * Run: `npm run bench -- uplink-fleet [sites] [rounds] [paced events/s per box] [--record]`
 * (defaults 500 sites, 4 rounds of the recorded stream each, 2 events/s per box; `--record` runs
 * the box scenario again and rewrites test/fixtures/uplink-fleet-stream.json).
 * Needs about 2 file descriptors per site (the boxes' sockets here, their peers in Mosquitto).
 *
 * Measured here (2026-12-04, 2 cores shared with other work, load 4.5 → 2.6): 500 boxes × 96
 * events; burst 20,626 events/s at the consumers, publish → consumer p50 377 ms / p99 863 ms
 * (queueing: 8,000 messages in flight at once); paced at 2 events/s per box (1,000/s) p50 0.2 ms,
 * p99 2.3 ms, max 29.7 ms; 24,000 / 24,000 split; every (site, seq) once, no duplicate, none
 * missing. Earlier runs at load 6.6 gave 7,800 events/s for the burst: expect that spread.
 */
import { execSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { loadStream, runFleet, type FleetFigures } from './uplink-fleet.ts';

const args = process.argv.slice(2);
const record = args.includes('--record');
const [sites = 500, rounds = 4, rate = 2] = args.filter((a) => !a.startsWith('--')).map(Number);
const nofile = Number(execSync('ulimit -n', { shell: '/bin/bash', encoding: 'utf8' }).trim());
if (Number.isFinite(nofile) && nofile < sites! * 2 + 100) throw new Error(`ulimit -n is ${nofile}; ${sites} sites need about ${sites! * 2 + 100}`);

const stream = await loadStream(record);
const load = Number(loadavg()[0]!.toFixed(2));
const say = (what: string, f: FleetFigures): void =>
  console.log(
    `${what}: ${f.sites} boxes × ${f.events_per_site} events = ${f.events_total}; ${f.events_per_s} events/s at the consumers; ` +
      `lag publish → consumer p50 ${f.lag_p50_ms} ms, p99 ${f.lag_p99_ms} ms, max ${f.lag_max_ms} ms; consumers took ${f.consumer_a_events} / ${f.consumer_b_events}; ` +
      `${f.duplicates} duplicates, ${f.missing} missing; every (site, seq) once: ${f.every_site_seq_once}`,
  );
const burst = await runFleet({ sites: sites!, rounds: rounds!, window: 16, ratePerSite: 0, stream, timeoutMs: 180_000 });
say('burst (every box drains at once)', burst);
const paced = await runFleet({ sites: sites!, rounds: rounds!, window: 16, ratePerSite: rate!, stream, timeoutMs: 180_000 });
say(`paced (${rate} events/s per box)`, paced);
const figures = {
  sites: burst.sites,
  events_per_site: burst.events_per_site,
  stream_events: stream.length,
  window: 16,
  burst_events_per_s: burst.events_per_s,
  burst_lag_p50_ms: burst.lag_p50_ms,
  burst_lag_p99_ms: burst.lag_p99_ms,
  paced_rate_per_site_per_s: rate,
  paced_events_per_s: paced.events_per_s,
  paced_lag_p50_ms: paced.lag_p50_ms,
  paced_lag_p99_ms: paced.lag_p99_ms,
  paced_lag_max_ms: paced.lag_max_ms,
  consumer_split_burst: [burst.consumer_a_events, burst.consumer_b_events],
  duplicates: burst.duplicates + paced.duplicates,
  missing: burst.missing + paced.missing,
  every_site_seq_once: burst.every_site_seq_once && paced.every_site_seq_once,
  connect_s: burst.connect_s,
  rss_mb: Math.max(burst.consumer_rss_mb, paced.consumer_rss_mb),
  load_avg_1m_before: load,
  load_avg_1m_after: Number(loadavg()[0]!.toFixed(2)),
};
console.log(JSON.stringify(figures));
if (!figures.every_site_seq_once) process.exitCode = 1;
