/**
 * End to end: N sensors publish over MQTT at R Hz (a child process) into the running box
 * (`shaobing start` in its own process: embedded Aedes, engine, SQLite log, pino logging to a
 * file). Measures:
 *  - for a probe sensor crossing a threshold while 1,000 sensors × 1 Hz load the box
 *    (p50/p99/max): publish → siren command issued by the box (handed to its broker after
 *    the commit; the issue's "siren effect issued", see issuedLatencies), and publish →
 *    command received by the relay (MQTT), which adds the delivery and the relay's wake-up;
 *  - sustained readings/s through engine + log under a heavier flood (rows the box's log
 *    stored while the flood ran);
 *  - the gateway process's peak RSS (VmHWM);
 *  - the alarm path DURING floods (issue 15, flood-phase.ts): at each rate of E2E_FLOOD_RATES
 *    (readings/s, default 24000,48000) for E2E_FLOOD_S seconds (default 20), with an officer
 *    reading everything it may and one subscriber that never reads its socket, trigger probes
 *    every E2E_PROBE_MS (200): publish → issued and publish → relay p50/p99/max, lost triggers
 *    (no command at the relay within E2E_LOST_MS, 10 s), the rate the generator achieved
 *    (E2E_FLOOD_CONNS connections, 200, over E2E_FLOOD_PROCS processes, 1), the rows the box
 *    stored, its RSS, and whether it survived. A box that dies is a result: printed, not hidden.
 * Then the same load against Mosquitto with a plain subscriber, to show what the embedded
 * broker and the box's work cost. E2E_PEER=1 first runs the Node-RED peer (flood-peer.ts) and
 * prints its figures beside ours. `npm run bench -- e2e [SENSORS] [SECONDS]`.
 */
import { spawn, spawnSync } from 'node:child_process';
import { Worker } from 'node:worker_threads';
import { existsSync, mkdtempSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import mqtt, { type MqttClient } from 'mqtt';
import { parseConfig } from '../../gateway/config/load.ts';
import { hashSecret } from '../../gateway/shell/secrets.ts';
import { BENCH_SCRYPT, rssMb, startBoxProcess } from './box-process.ts';
import { rawConnect, rawSubscribe } from './flood-mqtt.ts';
import { runFloodPhase, type FloodResult, type FloodRig } from './flood-phase.ts';
import { runPeer, type PeerFigures } from './flood-peer.ts';
import { floodReport, peerFigures } from './flood-report.ts';

const SENSORS = Number(process.argv[2] ?? 1000);
const SECONDS = Number(process.argv[3] ?? 20);
const FLOOD = { clients: 200, hz: 120, seconds: 10 };
const env = (k: string, d: number): number => (process.env[k] ? Number(process.env[k]) : d);
const FLOOD_RATES = (process.env.E2E_FLOOD_RATES ?? '24000,48000').split(',').map(Number).filter((x) => x > 0);
const FLOODS = {
  seconds: env('E2E_FLOOD_S', 20),
  conns: env('E2E_FLOOD_CONNS', 200),
  procs: env('E2E_FLOOD_PROCS', 1),
  probeMs: env('E2E_PROBE_MS', 200),
  lostMs: env('E2E_LOST_MS', 10_000),
  frozen: process.env.E2E_FROZEN !== '0',
  frozenReconnect: process.env.E2E_FROZEN_RECONNECT !== '0',
};
/** Probe sensors per flood phase (one per trigger probe: flood-phase.ts says why). */
const PROBES_PER_FLOOD = Math.max(1, Math.floor(((FLOODS.seconds - 1.5) * 1000) / FLOODS.probeMs));
/** How long after a flood a probe may take to reach the relay before the box counts as not recovered. */
const RECOVERY_MS = env('E2E_RECOVERY_MS', 30_000);
const LOAD = fileURLToPath(new URL('./load-gen.ts', import.meta.url));
// BENCH_DIR=/dev/shm puts the log on tmpfs: separates the box's own cost from the disk's fsync.
const dir = mkdtempSync(join(process.env.BENCH_DIR ?? tmpdir(), 'sb-e2e-bench-'));

const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor(s.length * p))]! : Number.NaN;
};
const round = (x: number, d = 2): number => Number(x.toFixed(d));

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

function runLoad(url: string, n: number, hz: number, seconds: number, anon: boolean, onConnected: () => void): Promise<{ published: number; seconds: number; errors: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', LOAD, url, 'bench', String(n), String(hz), String(seconds), ...(anon ? ['anon'] : [])], { stdio: ['ignore', 'pipe', 'inherit'] });
    let last: any = null;
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      for (const line of chunk.split('\n').filter(Boolean)) {
        last = JSON.parse(line);
        if (last.connected !== undefined) onConnected();
      }
    });
    child.on('exit', (code) => (code === 0 && last?.published !== undefined ? resolve(last) : reject(new Error(`load generator exited ${code}`))));
  });
}

async function siteConfigYaml(port: number): Promise<string> {
  const lines: string[] = [];
  const accounts: string[] = [];
  for (let i = 0; i < Math.max(SENSORS, FLOOD.clients, FLOODS.conns); i++) {
    lines.push(`  - { id: rg${i}, kind: rain }`);
    accounts.push(`    - { username: rg${i}, role: device, secret_hash: '${await hashSecret(`pw-rg${i}-secret`, BENCH_SCRYPT)}' }`);
  }
  for (let k = 0; k < PROBES_PER_FLOOD * FLOOD_RATES.length; k++) {
    lines.push(`  - { id: fp${k}, kind: water_level, stages: { guaranteed: 5 }, raise_after_s: 0, clear_after_s: 0, hysteresis_m: 0 }`);
    accounts.push(`    - { username: fp${k}, role: device, secret_hash: '${await hashSecret(`pw-fp${k}-secret`, BENCH_SCRYPT)}' }`);
  }
  for (let i = 0; i <= FLOOD_RATES.length; i++) {
    lines.push(`  - { id: fpr${i}, kind: water_level, stages: { guaranteed: 5 }, raise_after_s: 0, clear_after_s: 0, hysteresis_m: 0 }`);
    accounts.push(`    - { username: fpr${i}, role: device, secret_hash: '${await hashSecret(`pw-fpr${i}-secret`, BENCH_SCRYPT)}' }`);
  }
  const yaml = `
site: { id: bench, name: 压测 }
sensors:
${lines.join('\n')}
  - { id: probe, kind: water_level, stages: { guaranteed: 5 }, raise_after_s: 0, clear_after_s: 0, hysteresis_m: 0 }
actuators: [{ id: siren1, kind: siren, zones: [site] }]
actions: { all_clear_pattern: null }
mqtt:
  host: 127.0.0.1
  port: ${port}
  ws_port: 0
  max_payload_bytes: 1024
  accounts:
${accounts.join('\n')}
    - { username: probe, role: device, secret_hash: '${await hashSecret('pw-probe-secret', BENCH_SCRYPT)}' }
    - { username: siren1, role: device, secret_hash: '${await hashSecret('pw-siren1-secret', BENCH_SCRYPT)}' }
    - { username: wang, role: officer, secret_hash: '${await hashSecret('pw-wang-secret', BENCH_SCRYPT)}' }
store: { path: '${join(dir, 'bench.db')}' }
`;
  const { problems } = parseConfig(yaml);
  if (problems.length) throw new Error(JSON.stringify(problems));
  return yaml;
}

/** Publishes high/low on the probe every `everyMs` and records latency to `done(t0)`. */
/**
 * "Siren effect issued", as the issue names it: the moment the box hands the siren command to
 * its broker, after the alarm's events are committed. The box logs it for every command
 * (`issued_at`, epoch ms with a fraction; same machine, so the two processes' clocks agree to
 * well under 0.1 ms, measured). Each is matched with the last high probe sent before it, of
 * those the relay figure counted, so both figures describe the same probes.
 * Delivery to the relay (aedes' own setImmediate hop, loopback, the relay process waking up
 * and parsing: about 1–1.5 ms here) is in the "received by the relay" figure instead.
 */
function issuedLatencies(logFile: string, sent: number[]): { p50_ms: number; p99_ms: number; max_ms: number; samples: number; inside_p50_ms: number; inside_p99_ms: number } {
  const lat: number[] = [];
  const inside: number[] = [];
  const matched = new Set<number>();
  for (const line of readFileSync(logFile, 'utf8').split('\n')) {
    if (!line.includes('"siren command sent to siren1"') || !line.includes('"alert":"probe/')) continue;
    const o = JSON.parse(line) as { issued_at: number; latency_ms: number | null };
    let i = sent.length - 1;
    while (i >= 0 && sent[i]! > o.issued_at) i--;
    // Outside the measured window, or not the first command after this probe (as at the relay,
    // where the first siren message after a high probe is the one that counts).
    if (i < 0 || o.issued_at - sent[i]! > 100 || matched.has(i)) continue;
    matched.add(i);
    lat.push(o.issued_at - sent[i]!);
    if (o.latency_ms !== null) inside.push(o.latency_ms);
  }
  return { p50_ms: round(pct(lat, 0.5), 3), p99_ms: round(pct(lat, 0.99), 3), max_ms: round(Math.max(...lat), 3), samples: lat.length, inside_p50_ms: round(pct(inside, 0.5), 3), inside_p99_ms: round(pct(inside, 0.99), 3) };
}

function probeLoop(c: MqttClient, topic: string, everyMs: number, onSent: (t0: number, high: boolean) => void): () => void {
  let high = false;
  const t = setInterval(() => {
    high = !high;
    const t0 = performance.now();
    onSent(t0, high);
    c.publish(topic, JSON.stringify({ value: high ? 6 : 1, unit: 'm' }), { qos: 0 });
  }, everyMs);
  return () => clearInterval(t);
}

// ---------------------------------------------------------------- the peer, first (E2E_PEER=1)
let peer: PeerFigures | { error: string } | null = null;
if (process.env.E2E_PEER === '1') {
  console.log(`peer: Node-RED + Mosquitto (run.sh; ladder ${FLOOD_RATES.join(',')} readings/s, ${FLOODS.seconds} s steps) …`);
  peer = await runPeer(FLOOD_RATES, FLOODS.seconds);
  if ('error' in peer) console.log(`  peer: ${peer.error}`);
}

/** A worker thread holding the relay or the officer (flood-watch.ts); resolves once subscribed. */
function startWatcher(data: Record<string, unknown>, onMessage: (m: any) => void): Promise<{ w: Worker; granted: number | null }> {
  const w = new Worker(new URL('./flood-watch-entry.mjs', import.meta.url), { workerData: { url, ...data } });
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${String(data.role)} did not subscribe within 20 s`)), 20_000);
    w.on('message', (m) => {
      if (m.type === 'ready') {
        clearTimeout(t);
        if (m.error) reject(new Error(m.error));
        else resolve({ w, granted: m.granted });
      } else onMessage(m);
    });
    w.once('error', (err) => (clearTimeout(t), reject(err)));
  });
}

/** Every flood rate in turn against the running box; stops early (and says so) if the box died. */
async function runFloods(): Promise<{ rate: number; r: FloodResult }[]> {
  // `#` is what the issue names; the broker grants an officer only what lies in its site
  // (acl.ts), so fall back to the site's `#` if `#` is refused. Both read every reading.
  const aclCheck = await rawConnect(boxPort, 'wang-acl-check', 'wang', 'pw-wang-secret');
  const grantedAll = await rawSubscribe(aclCheck, '#', 0);
  aclCheck.destroy();
  const officerFilter = grantedAll === 0x80 ? 'sb/v1/bench/#' : '#';
  console.log(`officer filter: ${officerFilter}${grantedAll === 0x80 ? " ('#' refused with SUBACK 0x80: it reaches beyond the site)" : ''}`);
  const relayAt = new Map<string, number>();
  const relay = await startWatcher({ role: 'relay', filter: 'sb/v1/bench/cmd/siren1', username: 'siren1', password: 'pw-siren1-secret', clientId: 'siren1' }, (m) => {
    if (m.type !== 'siren' || typeof m.alert !== 'string' || !m.alert.startsWith('fp')) return;
    const id = m.alert.slice(0, m.alert.indexOf('/'));
    if (!relayAt.has(id)) relayAt.set(id, m.recv);
  });
  const officer = await startWatcher({ role: 'officer', filter: officerFilter, username: 'wang', password: 'pw-wang-secret', clientId: 'dashboard' }, () => {});
  const probes: MqttClient[] = [];
  for (let k = 0; k < PROBES_PER_FLOOD * FLOOD_RATES.length; k += 25) {
    const n = Math.min(25, PROBES_PER_FLOOD * FLOOD_RATES.length - k);
    probes.push(...(await Promise.all(Array.from({ length: n }, (_, i) => connectRetry({ username: `fp${k + i}`, password: `pw-fp${k + i}-secret`, clientId: `fp${k + i}` })))));
  }
  // Readiness probes (fpr<i>, pre-connected: a stuck box may take long to log a client in): one
  // on the quiet box must reach the relay, else the floods' losses would say nothing about the
  // box; one after each flood tells how long the box took to answer again.
  const ready: MqttClient[] = [];
  for (let i = 0; i <= FLOOD_RATES.length; i++) ready.push(await connectRetry({ username: `fpr${i}`, password: `pw-fpr${i}-secret`, clientId: `fpr${i}` }));
  const readyIn = async (i: number, ms: number): Promise<number | null> => {
    const id = `fpr${i}`;
    const t = performance.timeOrigin + performance.now();
    ready[i]!.publish(`sb/v1/bench/sensor/${id}/reading`, '{"value":6,"unit":"m"}', { qos: 0 });
    while (!relayAt.has(id) && !boxExit && performance.timeOrigin + performance.now() - t < ms) await new Promise((r) => setTimeout(r, 50));
    ready[i]!.publish(`sb/v1/bench/sensor/${id}/reading`, '{"value":1,"unit":"m"}', { qos: 0 });
    return relayAt.has(id) ? round(relayAt.get(id)! - t, 3) : null;
  };
  const quietMs = await readyIn(0, 5000);
  if (quietMs === null) throw new Error('a trigger probe on the quiet box got no siren command at the relay within 5 s: the flood phases would measure nothing');
  console.log(`  readiness: a probe on the quiet box reached the relay in ${quietMs} ms`);
  const rig: FloodRig = { port: boxPort, site: 'bench', boxPid: boxProc.pid!, boxExit: () => boxExit, storedRows: stored, probes, relayAt, officer: officer.w, officerFilter, officerLogin: { username: 'wang', password: 'pw-wang-secret' } };
  const out: { rate: number; r: FloodResult }[] = [];
  for (const [i, rate] of FLOOD_RATES.entries()) {
    if (boxExit) {
      console.log(`box: flood ${rate} readings/s not run: the box is gone (${boxExit})`);
      break;
    }
    console.log(`box: flood ${rate} readings/s for ${FLOODS.seconds} s (${FLOODS.conns} connections, ${FLOODS.procs} generator process(es)), officer on ${officerFilter}${FLOODS.frozen ? ' + one frozen subscriber' : ', NO frozen subscriber (E2E_FROZEN=0)'}, a trigger probe every ${FLOODS.probeMs} ms …`);
    const unrecovered = i > 0 && out[i - 1]?.r.recovery_s === null;
    if (unrecovered) console.log(`  (the box had not recovered from the previous flood: this one starts on a backlog)`);
    let r: FloodResult;
    try {
      r = await runFloodPhase(rig, { rate, ...FLOODS, firstProbe: i * PROBES_PER_FLOOD });
    } catch (err) {
      console.log(`  flood ${rate}/s could not run: ${(err as Error).message}${boxExit ? ` (the box is gone: ${boxExit})` : ''}`);
      break;
    }
    r.after_unrecovered = unrecovered;
    out.push({ rate, r });
    console.log(`  offered ${r.offered_per_s}/s, achieved ${r.achieved_per_s}/s (generator ${r.generator_cpu_pct}% CPU, ${r.generator_stalls} stalled writes, ${r.connections_closed_by_box} connections closed by the box); box stored ${r.stored_per_s} readings/s; officer got ${r.officer_msgs_per_s} msgs/s`);
    console.log(`  publish → siren command at the relay: p50 ${r.relay.p50_ms} ms, p99 ${r.relay.p99_ms} ms, max ${r.relay.max_ms} ms (${r.relay.samples} of ${r.probes} probes); lost ${r.lost} (none within ${FLOODS.lostMs} ms)`);
    console.log(`  frozen subscriber: ${r.frozen_connects} connected, ${r.frozen_drops} dropped by the box; box RSS peak ${r.rss_peak_mb} MB; box ${r.box_alive ? 'alive' : `DIED (${boxExit})`}`);
    // Recovered? Time from the end of the phase to a probe's command at the relay (bounded).
    if (!boxExit) {
      const tr = performance.now();
      const ms = await readyIn(i + 1, RECOVERY_MS);
      r.recovery_s = ms === null ? null : round((performance.now() - tr) / 1000, 2);
      console.log(`  after the flood: ${ms === null ? `NO siren command for a probe within ${RECOVERY_MS / 1000} s` : `a probe reached the relay in ${ms} ms`}`);
    }
  }
  for (const c of [...probes, ...ready]) c.end(true);
  for (const w of [relay.w, officer.w]) {
    w.postMessage({ cmd: 'stop' });
    await Promise.race([new Promise((r) => w.once('exit', r)), new Promise((r) => setTimeout(r, 2000))]);
    await w.terminate();
  }
  return out;
}

// ---------------------------------------------------------------- the box (its own process)
const boxPort = await freePort();
const config = await siteConfigYaml(boxPort);
writeFileSync(join(dir, 'bench.yaml'), config);
// Logging on: the box's pino JSON goes to a file, as on the box (journald/logrotate).
const boxLog = openSync(join(dir, 'box.log'), 'w');
// BOX_CPU_PROF=DIR writes a V8 CPU profile of the gateway process there (for finding hot spots).
const prof = process.env.BOX_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BOX_CPU_PROF}`] : [];
// The box runs as deployed (box-process.ts).
const boxProc = startBoxProcess(join(dir, 'bench.yaml'), boxLog, prof);
let boxExit: string | null = null;
boxProc.once('exit', (code, signal) => (boxExit = signal ? `signal ${signal}` : `exit code ${code}`));
// Whatever ends this process (an error included), the box does not outlive it.
process.once('exit', () => boxExit === null && boxProc.kill('SIGKILL'));
const url = `mqtt://127.0.0.1:${boxPort}`;
const connectRetry = async (opts: mqtt.IClientOptions): Promise<MqttClient> => {
  for (let i = 0; ; i++) {
    try {
      return await mqtt.connectAsync(url, { protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 2000, ...opts });
    } catch (err) {
      if (i > 100) throw err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
};
const siren = await connectRetry({ username: 'siren1', password: 'pw-siren1-secret', clientId: 'siren1' });
await siren.subscribeAsync('sb/v1/bench/cmd/siren1', { qos: 1 });
// Readings the box took in = rows its log stored (read-only connection; WAL lets us read live).
const db = new Database(join(dir, 'bench.db'), { readonly: true, fileMustExist: true });
const stored = (): number => (db.prepare('SELECT count(*) AS n FROM readings').get() as { n: number }).n;

const latencies: number[] = [];
/**
 * Epoch ms (with fraction) of each high probe the relay figure counted, matched with the box's
 * `issued_at`: both figures are over the same probes.
 */
const sentAt: number[] = [];
let pending: number | null = null;
siren.on('message', (_t, payload) => {
  const m = JSON.parse(payload.toString());
  if (m.type === 'siren' && String(m.alert).startsWith('probe/') && pending !== null) {
    latencies.push(performance.now() - pending);
    sentAt.push(performance.timeOrigin + pending);
    pending = null;
  }
});
const probe = await connectRetry({ username: 'probe', password: 'pw-probe-secret', clientId: 'probe' });
let measuring = false;
const stopProbe = probeLoop(probe, 'sb/v1/bench/sensor/probe/reading', 100, (t0, high) => {
  pending = high && measuring ? t0 : null;
});

console.log(`box: ${SENSORS} sensors × 1 Hz for ${SECONDS} s, probe every 200 ms …`);
const load = await runLoad(url, SENSORS, 1, SECONDS, false, () => setTimeout(() => (measuring = true), 2000));
measuring = false;
const latencyFig = { p50_ms: round(pct(latencies, 0.5), 3), p99_ms: round(pct(latencies, 0.99), 3), max_ms: round(Math.max(...latencies), 3), samples: latencies.length };
console.log(`  publish → siren command received by the relay: p50 ${latencyFig.p50_ms} ms, p99 ${latencyFig.p99_ms} ms, max ${latencyFig.max_ms} ms (${latencies.length} samples; ${load.published} readings published)`);
{
  // The slowest few, with when they were sent (s into the measured window): one outlier and a steady tail read alike as p99.
  const t0 = sentAt[0] ?? 0;
  const slow = latencies.map((l, i) => [l, (sentAt[i]! - t0) / 1000] as const).sort((a, b) => b[0] - a[0]).slice(0, 5);
  console.log(`  slowest: ${slow.map(([l, at]) => `${round(l, 1)} ms at +${round(at, 1)} s`).join(', ')}`);
}

console.log(`box: flood ${FLOOD.clients} clients × ${FLOOD.hz} Hz for ${FLOOD.seconds} s …`);
let r0 = 0;
let t0 = 0;
const flood = await runLoad(url, FLOOD.clients, FLOOD.hz, FLOOD.seconds, false, () => {
  r0 = stored();
  t0 = performance.now();
});
const t1 = performance.now();
await new Promise((r) => setTimeout(r, 400)); // one reading flush (200 ms) later
// Only readings stored while the flood ran count: what the box kept up with, not a backlog.
const boxRate = (stored() - r0) / ((t1 - t0) / 1000);
console.log(`  sustained ${Math.round(boxRate)} readings/s through engine + log (offered ${Math.round(flood.published / flood.seconds)}/s)`);
stopProbe();
const rss = rssMb(boxProc.pid!);
const boxRss = rss.peak;
console.log(`  gateway RSS: peak ${boxRss} MB, now ${rss.now} MB`);
// The probe's alarm may still be active (its last reading high): clear it, or it would hold the
// siren and the floods' probes would wait behind it (planner/on-alert.ts: the first keeps it).
await probe.publishAsync('sb/v1/bench/sensor/probe/reading', JSON.stringify({ value: 1, unit: 'm' }), { qos: 1 });
// The relay moves to a worker thread for the floods (same account and client id: one relay).
await Promise.all([probe.endAsync(), siren.endAsync()]);

// ---------------------------------------------------------------- floods with a frozen subscriber
const floods = await runFloods();
/** How the box ended, if it ended during the floods (before our SIGTERM). */
const boxExitInFloods = boxExit;
db.close();
if (!boxExit) {
  boxProc.kill('SIGTERM');
  const exited = new Promise((r) => boxProc.once('exit', r));
  if ((await Promise.race([exited.then(() => true), new Promise((r) => setTimeout(() => r(false), 15_000))])) === false) {
    console.log('  box did not stop within 15 s of SIGTERM: killed');
    boxProc.kill('SIGKILL');
    await exited;
  }
}
const issued = issuedLatencies(join(dir, 'box.log'), sentAt);
console.log(`  publish → siren command issued by the box: p50 ${issued.p50_ms} ms, p99 ${issued.p99_ms} ms, max ${issued.max_ms} ms (${issued.samples} samples); inside the box (reading at the engine → issued) p50 ${issued.inside_p50_ms} ms, p99 ${issued.inside_p99_ms} ms`);
const floodFigures = floodReport(floods, { rates: FLOOD_RATES, ...FLOODS, probesPerFlood: PROBES_PER_FLOOD, logFile: join(dir, 'box.log'), boxExit: boxExitInFloods });

// ---------------------------------------------------------------- Mosquitto, same load
const mPort = await freePort();
const conf = join(dir, 'mosquitto.conf');
writeFileSync(conf, `listener ${mPort} 127.0.0.1\nallow_anonymous true\nmax_queued_messages 100000\npersistence false\n`);
// Debian installs it in /usr/sbin, which is not on every user's PATH.
const mosquittoBin = spawnSync('which', ['mosquitto']).status === 0 ? 'mosquitto' : existsSync('/usr/sbin/mosquitto') ? '/usr/sbin/mosquitto' : null;
if (!mosquittoBin) throw new Error('mosquitto is not installed: apt-get install -y mosquitto');
const mosq = spawn(mosquittoBin, ['-c', conf], { stdio: 'ignore' });
await new Promise((r) => setTimeout(r, 500));
const murl = `mqtt://127.0.0.1:${mPort}`;
const sub = await mqtt.connectAsync(murl, { protocolVersion: 4, clientId: 'plain-sub' });
await sub.subscribeAsync('sb/v1/bench/sensor/+/reading', { qos: 0 });
const mLat: number[] = [];
let mPending: number | null = null;
let mCount = 0;
sub.on('message', (topic) => {
  mCount++;
  if (topic.endsWith('/probe/reading') && mPending !== null) {
    mLat.push(performance.now() - mPending);
    mPending = null;
  }
});
const mProbe = await mqtt.connectAsync(murl, { protocolVersion: 4, clientId: 'probe' });
let mMeasuring = false;
const stopMProbe = probeLoop(mProbe, 'sb/v1/bench/sensor/probe/reading', 250, (t, high) => (mPending = high && mMeasuring ? t : null));
console.log(`mosquitto: ${SENSORS} sensors × 1 Hz for ${SECONDS} s, plain subscriber …`);
await runLoad(murl, SENSORS, 1, SECONDS, true, () => setTimeout(() => (mMeasuring = true), 2000));
mMeasuring = false;
let m0 = 0;
let mt0 = 0;
await runLoad(murl, FLOOD.clients, FLOOD.hz, FLOOD.seconds, true, () => {
  m0 = mCount;
  mt0 = performance.now();
});
const mRate = (mCount - m0) / ((performance.now() - mt0) / 1000);
stopMProbe();
await Promise.all([sub.endAsync(), mProbe.endAsync()]);
mosq.kill('SIGTERM');
const mFig = { p50_ms: round(pct(mLat, 0.5), 3), p99_ms: round(pct(mLat, 0.99), 3), max_ms: round(Math.max(...mLat), 3) };
console.log(`  publish → subscriber: p50 ${mFig.p50_ms} ms, p99 ${mFig.p99_ms} ms, max ${mFig.max_ms} ms; sustained ${Math.round(mRate)} msgs/s to one subscriber`);

const figures = {
  sensors: SENSORS,
  box_issued_p50_ms: issued.p50_ms,
  box_issued_p99_ms: issued.p99_ms,
  box_issued_max_ms: issued.max_ms,
  box_inside_p50_ms: issued.inside_p50_ms,
  box_inside_p99_ms: issued.inside_p99_ms,
  box_p50_ms: latencyFig.p50_ms,
  box_p99_ms: latencyFig.p99_ms,
  box_max_ms: latencyFig.max_ms,
  box_readings_per_s: Math.round(boxRate),
  box_rss_mb: boxRss,
  mosquitto_p50_ms: mFig.p50_ms,
  mosquitto_p99_ms: mFig.p99_ms,
  mosquitto_msgs_per_s: Math.round(mRate),
  p99_ratio_box_to_mosquitto: round(latencyFig.p99_ms / mFig.p99_ms),
  throughput_ratio_box_to_mosquitto: round(boxRate / mRate),
  ...floodFigures,
  ...(peer ? peerFigures(peer, latencyFig.p99_ms) : {}),
};
console.log(JSON.stringify(figures));
process.exit(0);
