/**
 * The township uplink, measured: `npm run bench -- uplink [EVENTS]` (default 1,000,000).
 *
 * 1. A log holding EVENTS note events (written straight into SQLite, as a box offline for
 *    days would leave them) is drained by the running box (startBox, the test site) to a local
 *    Mosquitto: events/s from the first PUBACK to the cursor at the last seq, and the box's RSS
 *    while it drains. Meanwhile a red alert is raised (and cleared) every 200 ms through the real
 *    path (a device's reading on the local broker → engine → log → live lane): raised → received
 *    at a township subscriber, p50/p99, *while the backlog drains*.
 * 2. The same with the link idle (nothing waiting): raised → received p50/p99.
 * 3. Window sizes: the last 100,000 events drained again (cursor set back) with windows of
 *    16, 64 and 256.
 * 4. Siren latency (a device's reading → the command at the relay) without an uplink, and
 *    with one whose township accepts TCP but never answers CONNECT.
 * 5. A fleet of 500 simulated box uplinks into one Mosquitto with two shared-subscription
 *    consumers (uplink-fleet.ts): events/s, consumer lag, every (site, seq) seen once.
 *
 * The backlog is written and the township subscriber runs in processes of their own: this
 * process's RSS is the box's (plus the device client raising the alerts).
 * Ends with one JSON line of snake_case figures.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import mqtt from 'mqtt';
import pino from 'pino';
import { startBox, type Box } from '../../gateway/box.ts';
import { CURSOR_KEY } from '../../gateway/uplink/uplink.ts';
import { loadStream, runFleet } from './uplink-fleet.ts';
import { boxSite, pw } from '../helpers/box-site.ts';
import { passwordFile, startTownship, TOWN_PASS, TOWN_USER, BOX_USER } from '../helpers/township.ts';

const EVENTS = Number(process.argv[2] ?? 1_000_000);
const here = (f: string): string => fileURLToPath(new URL(`./${f}`, import.meta.url));
const dir = mkdtempSync(join(process.env.BENCH_DIR ?? tmpdir(), 'sb-uplink-bench-'));
const dbPath = join(dir, 'box.db');
const silent = pino({ level: 'silent' });

// Mosquitto's max_inflight_messages (default 20) is also the Receive Maximum it gives MQTT 5
// clients; a township sets it for its boxes' window (README "Township uplink").
const mosq = await startTownship({ extra: ['max_inflight_messages 1024'] });
const pwFile = passwordFile();

// The backlog, written by a child process (uplink-prefill.ts).
{
  const t0 = performance.now();
  const r = spawnSync(process.execPath, ['--import', 'tsx', here('uplink-prefill.ts'), dbPath, String(EVENTS)], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error('prefill failed');
  console.log(`uplink: backlog of ${EVENTS} events written in ${Math.round(performance.now() - t0)} ms`);
}

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? Math.round(s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]! * 100) / 100 : NaN;
}

interface Township {
  onRaised(fn: (alert: string, atEpochMs: number) => void): void;
  stop(): Promise<void>;
}

/** The township subscriber in its own process (uplink-township.ts). */
async function township(site = 'itest'): Promise<Township> {
  const child = spawn(process.execPath, ['--import', 'tsx', here('uplink-township.ts'), mosq.url, TOWN_USER, TOWN_PASS, site], { stdio: ['pipe', 'pipe', 'inherit'] });
  const fns: ((alert: string, at: number) => void)[] = [];
  let buf = '';
  let ready: () => void;
  const isReady = new Promise<void>((r) => (ready = r));
  child.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      if (line === 'ready') ready();
      else if (line.startsWith('R ')) {
        const [, alert, at] = line.split(' ');
        for (const fn of fns) fn(alert!, Number(at));
      }
    }
  });
  await isReady;
  return {
    onRaised: (fn) => fns.push(fn),
    stop: async () => {
      const exited = new Promise((r) => child.once('exit', r));
      child.stdin!.end();
      await exited;
    },
  };
}

const epochNow = (): number => performance.timeOrigin + performance.now();

async function boxWith(window: number): Promise<Box> {
  const config = await boxSite(dbPath, `uplink: { url: "${mosq.url}", username: ${BOX_USER}, password_file: ${pwFile}, window: ${window} }`);
  return startBox({ config, log: silent, tcpPort: 0, wsPort: 0 });
}

/** Raises and clears a red water-level alert every `everyMs`; returns raised → received latencies (ms). */
async function alarms(box: Box, town: Township, until: () => boolean, everyMs: number, max: number): Promise<number[]> {
  const dev = await mqtt.connectAsync(`mqtt://127.0.0.1:${box.broker.tcpPort}`, { username: 'wl1', password: pw('wl1'), protocolVersion: 4, reconnectPeriod: 0 });
  const raisedAt = new Map<string, number>();
  const off = box.ctx.bus.on('transition', (t) => {
    if (t.transition === 'raised') raisedAt.set(t.alert, epochNow());
  });
  const lat: number[] = [];
  town.onRaised((alert, at) => {
    const t = raisedAt.get(alert);
    if (t !== undefined) {
      lat.push(at - t);
      raisedAt.delete(alert);
    }
  });
  for (let i = 0; i < max && !until(); i++) {
    await dev.publishAsync('sb/v1/itest/sensor/wl1/reading', JSON.stringify({ value: 3.6 }), { qos: 1 });
    await new Promise((r) => setTimeout(r, everyMs / 2));
    await dev.publishAsync('sb/v1/itest/sensor/wl1/reading', JSON.stringify({ value: 1.0 }), { qos: 1 });
    await new Promise((r) => setTimeout(r, everyMs / 2));
  }
  off();
  await dev.endAsync();
  return lat;
}

/** Drains whatever is above the cursor; events/s from the first ack to the cursor at `target`. */
async function drain(window: number, target: number, withAlarms: boolean): Promise<{ rate: number; seconds: number; rssMaxMb: number; rssBeforeMb: number; rssAfterGcMb: number; heapAfterGcMb: number; lat: number[] }> {
  (globalThis as { gc?: () => void }).gc?.();
  const rssBefore = process.memoryUsage().rss;
  const town = await township();
  const box = await boxWith(window);
  const up = box.uplink!;
  const startAck = up.state().last_ack_seq;
  let firstAckAt = 0;
  let rssMax = 0;
  const tick = setInterval(() => {
    rssMax = Math.max(rssMax, process.memoryUsage().rss);
    if (!firstAckAt && up.state().last_ack_seq > startAck) firstAckAt = performance.now();
  }, 50);
  const done = (): boolean => up.state().last_ack_seq >= target;
  const t0 = performance.now();
  const lat = withAlarms ? alarms(box, town, done, 200, Number.POSITIVE_INFINITY) : Promise.resolve([]);
  while (!done()) await new Promise((r) => setTimeout(r, 20));
  const t1 = performance.now();
  clearInterval(tick);
  // What the drain left behind once the garbage is collected (the box still running): retained, not slack.
  (globalThis as { gc?: () => void }).gc?.();
  const after = process.memoryUsage();
  const latencies = await lat;
  const from = firstAckAt || t0;
  const seconds = (t1 - from) / 1000;
  await box.stop();
  await town.stop();
  return { rate: Math.round((target - startAck) / seconds), seconds: Math.round(seconds * 10) / 10, rssMaxMb: Math.round(rssMax / 1048576), rssBeforeMb: Math.round(rssBefore / 1048576), rssAfterGcMb: Math.round(after.rss / 1048576), heapAfterGcMb: Math.round(after.heapUsed / 1048576), lat: latencies };
}

function setCursor(seq: number): void {
  const db = new Database(dbPath);
  db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(CURSOR_KEY, seq);
  db.close();
}
const lastSeq = (): number => {
  const db = new Database(dbPath, { readonly: true });
  const s = (db.prepare('SELECT max(seq) AS s FROM events').get() as { s: number }).s;
  db.close();
  return s;
};

// 1. The full backlog, with alarms raised while it drains.
const full = await drain(64, EVENTS, true);
console.log(`uplink: drained ${EVENTS} events in ${full.seconds} s = ${full.rate} events/s (window 64), RSS max ${full.rssMaxMb} MB (${full.rssBeforeMb} MB before the box started: the bench itself; ${full.rssAfterGcMb} MB, heap ${full.heapAfterGcMb} MB after a GC at the end); raised → township while draining: p50 ${pct(full.lat, 50)} ms, p99 ${pct(full.lat, 99)} ms (${full.lat.length} alerts)`);

// 2. The link idle.
const idle = await (async () => {
  const town = await township();
  const box = await boxWith(64);
  while (box.uplink!.state().events_waiting > 0 || !box.uplink!.state().online) await new Promise((r) => setTimeout(r, 20));
  const lat = await alarms(box, town, () => false, 100, 200);
  await box.stop();
  await town.stop();
  return lat;
})();
console.log(`uplink: raised → township, idle link: p50 ${pct(idle, 50)} ms, p99 ${pct(idle, 99)} ms (${idle.length} alerts)`);

// 3. Window sizes, on the last 100,000 events.
const windows: Record<string, number> = {};
for (const w of [16, 64, 256]) {
  const top = lastSeq();
  const n = Math.min(100_000, top);
  setCursor(top - n);
  const r = await drain(w, top, false);
  windows[`drain_window_${w}_events_per_s`] = r.rate;
  console.log(`uplink: window ${w}: ${n} events at ${r.rate} events/s`);
}

// 4. Siren latency with the uplink hanging (a township address that accepts TCP and never
// answers CONNECT) against a box without an uplink: device reading → command at the relay.
async function sirenLatency(uplinkYaml: string, samples: number): Promise<number[]> {
  const config = await boxSite(join(dir, `siren-${Math.random().toString(16).slice(2)}.db`), uplinkYaml);
  const box = await startBox({ config, log: silent, tcpPort: 0, wsPort: 0 });
  const url = `mqtt://127.0.0.1:${box.broker.tcpPort}`;
  const relay = await mqtt.connectAsync(url, { username: 'siren1', password: pw('siren1'), protocolVersion: 4, reconnectPeriod: 0 });
  const dev = await mqtt.connectAsync(url, { username: 'wl1', password: pw('wl1'), protocolVersion: 4, reconnectPeriod: 0 });
  let t0 = 0;
  const lat: number[] = [];
  relay.on('message', () => {
    if (t0) lat.push(performance.now() - t0);
    t0 = 0;
  });
  await relay.subscribeAsync('sb/v1/itest/cmd/siren1', { qos: 1 });
  for (let i = 0; i < samples; i++) {
    await dev.publishAsync('sb/v1/itest/sensor/wl1/reading', JSON.stringify({ value: 1.0 }), { qos: 1 });
    await new Promise((r) => setTimeout(r, 100));
    t0 = performance.now();
    await dev.publishAsync('sb/v1/itest/sensor/wl1/reading', JSON.stringify({ value: 3.6 }), { qos: 1 });
    await new Promise((r) => setTimeout(r, 100));
  }
  await relay.endAsync();
  await dev.endAsync();
  await box.stop();
  return lat;
}
const { createServer } = await import('node:net');
const held: import('node:net').Socket[] = [];
const hang = createServer((s) => void held.push(s));
await new Promise<void>((r) => hang.listen(0, '127.0.0.1', r));
const hangUrl = `mqtt://127.0.0.1:${(hang.address() as { port: number }).port}`;
await sirenLatency('', 30); // warm-up: the first box of a run is slower (measured: p50 5.6 ms against 1.5 ms after it)
const sirenNoUplink = await sirenLatency('', 150);
const sirenHanging = await sirenLatency(`uplink: { url: "${hangUrl}", username: ${BOX_USER}, password_file: ${pwFile} }`, 150);
for (const s of held) s.destroy();
hang.close();
console.log(`uplink: reading → siren command at the relay, no uplink: p50 ${pct(sirenNoUplink, 50)} ms, p99 ${pct(sirenNoUplink, 99)} ms; uplink hanging in CONNECT: p50 ${pct(sirenHanging, 50)} ms, p99 ${pct(sirenHanging, 99)} ms (${sirenHanging.length} samples)`);

// 5. Township scale (issue 16): 500 simulated box uplinks (uplink-fleet.ts: lightweight clients
// replaying a stream recorded from a real box) into one Mosquitto of their own, two
// shared-subscription consumers; every box draining at once, then each at 2 events/s.
// UPLINK_FLEET_SITES changes the fleet's size.
const fleetSites = Number(process.env.UPLINK_FLEET_SITES ?? 500);
const stream = await loadStream(false);
const burst = await runFleet({ sites: fleetSites, rounds: 4, window: 16, ratePerSite: 0, stream, timeoutMs: 180_000 });
const paced = await runFleet({ sites: fleetSites, rounds: 4, window: 16, ratePerSite: 2, stream, timeoutMs: 180_000 });
console.log(`uplink: fleet of ${burst.sites} boxes × ${burst.events_per_site} events: all draining at once ${burst.events_per_s} events/s at the consumers (lag p99 ${burst.lag_p99_ms} ms); paced at 2/s each ${paced.events_per_s} events/s, lag p50 ${paced.lag_p50_ms} ms, p99 ${paced.lag_p99_ms} ms; consumers ${burst.consumer_a_events}/${burst.consumer_b_events}; every (site, seq) once: ${burst.every_site_seq_once && paced.every_site_seq_once}`);
const fleet = {
  fleet_sites: burst.sites,
  fleet_burst_events_per_s: burst.events_per_s,
  fleet_burst_lag_p99_ms: burst.lag_p99_ms,
  fleet_paced_events_per_s: paced.events_per_s,
  fleet_paced_lag_p50_ms: paced.lag_p50_ms,
  fleet_paced_lag_p99_ms: paced.lag_p99_ms,
  fleet_duplicates: burst.duplicates + paced.duplicates,
  fleet_missing: burst.missing + paced.missing,
  fleet_every_site_seq_once: burst.every_site_seq_once && paced.every_site_seq_once,
};

await mosq.stop();
rmSync(dir, { recursive: true, force: true });
const figures = {
  backlog_events: EVENTS,
  drain_events_per_s: full.rate,
  drain_s: full.seconds,
  drain_rss_max_mb: full.rssMaxMb,
  rss_before_box_mb: full.rssBeforeMb,
  drain_rss_after_gc_mb: full.rssAfterGcMb,
  drain_heap_after_gc_mb: full.heapAfterGcMb,
  live_while_draining_p50_ms: pct(full.lat, 50),
  live_while_draining_p99_ms: pct(full.lat, 99),
  live_while_draining_alerts: full.lat.length,
  live_idle_p50_ms: pct(idle, 50),
  live_idle_p99_ms: pct(idle, 99),
  live_idle_alerts: idle.length,
  ...windows,
  siren_no_uplink_p50_ms: pct(sirenNoUplink, 50),
  siren_no_uplink_p99_ms: pct(sirenNoUplink, 99),
  siren_uplink_hanging_p50_ms: pct(sirenHanging, 50),
  siren_uplink_hanging_p99_ms: pct(sirenHanging, 99),
  ...fleet,
};
console.log(JSON.stringify(figures));
process.exit(0);
