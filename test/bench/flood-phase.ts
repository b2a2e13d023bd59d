/**
 * One flood phase of the e2e benchmark (issue 15): while `rate` readings/s pour in, with an
 * officer reading everything it may and one subscriber that never reads its socket, does the
 * alarm still get through, and how fast?
 *
 * Decisions:
 *  - Each trigger probe has a sensor (and account, and connection) of its own, fp<K>: its
 *    siren command names alert `fp<K>/…`, so every probe is matched with its own command, a
 *    missing one is a lost trigger for certain, and a late one is never mistaken for another
 *    probe's. A probe publishes 6 m (red: the stage is 5 m) and 50 ms later 1 m (cleared), so
 *    at most one probe alarm is active when the box keeps order; probes start every
 *    `probeMs` from 1 s into the flood until 0.5 s before its end.
 *  - Lost = no siren command at the relay within `lostMs` (10 s) of the probe's publish, and
 *    the probes not sent because the box had died. Percentiles are over the probes that did
 *    arrive; the lost count stands beside them.
 *  - The frozen subscriber is a raw socket (flood-mqtt.ts) that CONNECTs as an officer,
 *    SUBSCRIBEs and pauses (it only writes a PINGREQ now and then, to notice being dropped). When the broker drops it (its drain timeout), another connects at
 *    once and freezes too — a stuck dashboard that reconnects — so the whole phase runs with
 *    one frozen subscriber, not only its first 5 s (E2E_FROZEN_RECONNECT=0: just the one).
 *  - Generator processes (flood-load.ts) are killed if they overrun; every wait is bounded; a
 *    box that died is reported (`box_alive: false`), never waited for.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { Worker } from 'node:worker_threads';
import type { MqttClient } from 'mqtt';
import { rawConnect, rawSubscribe } from './flood-mqtt.ts';

const LOAD = fileURLToPath(new URL('./flood-load.ts', import.meta.url));
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const epochMs = (): number => performance.timeOrigin + performance.now();

export interface FloodRig {
  port: number;
  site: string;
  boxPid: number;
  /** Null while the box runs; its exit code or signal once it has died. */
  boxExit: () => string | null;
  storedRows: () => number;
  /** Probe clients in order: probes[k] publishes as sensor fp<k>. */
  probes: MqttClient[];
  /** First siren command at the relay per probe sensor id (`fp12` → epoch ms), filled by the relay worker. */
  relayAt: Map<string, number>;
  officer: Worker;
  officerFilter: string;
  /** Officer account used by the frozen subscriber. */
  officerLogin: { username: string; password: string };
}

export interface FloodOptions {
  rate: number;
  seconds: number;
  conns: number;
  procs: number;
  probeMs: number;
  lostMs: number;
  /** False: no frozen subscriber at all (E2E_FROZEN=0), to tell its cost from the flood's. */
  frozen: boolean;
  frozenReconnect: boolean;
  /** Index of this phase's first probe in rig.probes. */
  firstProbe: number;
}

export interface FloodResult {
  offered_per_s: number;
  achieved_per_s: number;
  generator_stalls: number;
  generator_cpu_pct: number;
  connections_closed_by_box: number;
  stored_per_s: number;
  officer_msgs_per_s: number;
  probes: number;
  /** Epoch ms each probe's high reading was published, by sensor id. */
  sent: Map<string, number>;
  relay: Pct;
  lost: number;
  frozen_connects: number;
  frozen_drops: number;
  rss_peak_mb: number;
  box_alive: boolean;
  /** Seconds after the phase until a probe's command reached the relay again (null: not within the bound); set by the caller. */
  recovery_s?: number | null;
  /** The previous phase's backlog had not cleared when this one began; set by the caller. */
  after_unrecovered?: boolean;
}

export interface Pct { p50_ms: number; p99_ms: number; max_ms: number; samples: number }

export function pctOf(xs: number[]): Pct {
  const s = [...xs].sort((a, b) => a - b);
  const at = (p: number): number => (s.length ? Number(s[Math.min(s.length - 1, Math.floor(s.length * p))]!.toFixed(3)) : Number.NaN);
  return { p50_ms: at(0.5), p99_ms: at(0.99), max_ms: s.length ? Number(s[s.length - 1]!.toFixed(3)) : Number.NaN, samples: s.length };
}

function rssNowMb(pid: number): number | null {
  try {
    const kb = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb ? Math.round(Number(kb) / 1024) : null;
  } catch {
    return null;
  }
}

interface LoadResult { sent: number; seconds: number; stalls: number; closed_by_box: number; cpu_pct: number }

/** Starts one generator process; resolves once it is connected, with a promise of its figures. */
function startLoad(rig: FloodRig, first: number, conns: number, rate: number, seconds: number): Promise<{ done: Promise<LoadResult | null> }> {
  return new Promise((resolveStarted, rejectStarted) => {
    const child = spawn(process.execPath, ['--import', 'tsx', LOAD, String(rig.port), rig.site, String(first), String(conns), String(rate), String(seconds)], { stdio: ['ignore', 'pipe', 'inherit'] });
    const killer = setTimeout(() => child.kill('SIGKILL'), (seconds + 60) * 1000);
    let last: LoadResult | null = null;
    let started = false;
    const done = new Promise<LoadResult | null>((resolve) => {
      child.on('exit', () => {
        clearTimeout(killer);
        if (!started) rejectStarted(new Error('flood generator exited before it connected (is the box up?)'));
        resolve(last);
      });
    });
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      for (const line of chunk.split('\n').filter(Boolean)) {
        const o = JSON.parse(line);
        if (o.connected !== undefined) {
          started = true;
          resolveStarted({ done });
        } else last = o;
      }
    });
  });
}

function officerCount(w: Worker): Promise<number> {
  return new Promise((resolve) => {
    const t = setTimeout(() => (w.off('message', h), resolve(Number.NaN)), 2000);
    const h = (m: { type: string; count: number }): void => {
      if (m.type !== 'count') return;
      clearTimeout(t);
      w.off('message', h);
      resolve(m.count);
    };
    w.on('message', h);
    w.postMessage({ cmd: 'count' });
  });
}

export async function runFloodPhase(rig: FloodRig, o: FloodOptions): Promise<FloodResult> {
  // The frozen subscriber, replaced when the broker drops it (while the phase runs).
  let running = true;
  let frozenConnects = 0;
  let frozenDrops = 0;
  let frozen: Socket | null = null;
  const freeze = async (): Promise<void> => {
    try {
      const s = await rawConnect(rig.port, `frozen-${process.pid}-${frozenConnects}`, rig.officerLogin.username, rig.officerLogin.password, 5000);
      await rawSubscribe(s, rig.officerFilter, 0, 5000);
      s.pause(); // never reads again: the box's writes fill the kernel buffers, then aedes' queue
      frozenConnects++;
      frozen = s;
      // A paused socket never sees the box's FIN. A PINGREQ every 250 ms (writing, never
      // reading) meets the reset once the box has dropped it, and the socket closes.
      const ping = setInterval(() => s.write(Buffer.from([0xc0, 0x00])), 250);
      s.once('close', () => {
        clearInterval(ping);
        frozenDrops++;
        if (running && o.frozenReconnect && !rig.boxExit()) void freeze();
      });
    } catch {
      if (running && o.frozenReconnect && !rig.boxExit()) setTimeout(() => void freeze(), 500);
    }
  };
  if (o.frozen) await freeze();

  // The flood: `procs` generator processes share the connections and the rate.
  const per = Math.ceil(o.conns / o.procs);
  const starts = [];
  for (let p = 0; p < o.procs; p++) starts.push(startLoad(rig, p * per, Math.min(per, o.conns - p * per), o.rate / o.procs, o.seconds));
  const loads = await Promise.all(starts);
  const tFlood = performance.now();
  const r0 = rig.storedRows();
  const m0 = await officerCount(rig.officer);
  let rssPeak = rssNowMb(rig.boxPid) ?? 0;
  const rssTimer = setInterval(() => (rssPeak = Math.max(rssPeak, rssNowMb(rig.boxPid) ?? 0)), 250);

  // Probes, at a steady rate, while the flood runs.
  const sent = new Map<string, number>();
  await sleep(1000);
  const nProbes = Math.max(1, Math.floor(((o.seconds - 1.5) * 1000) / o.probeMs));
  for (let k = 0; k < nProbes && !rig.boxExit(); k++) {
    const idx = o.firstProbe + k;
    const c = rig.probes[idx];
    if (!c) break;
    const id = `fp${idx}`;
    const topic = `sb/v1/${rig.site}/sensor/${id}/reading`;
    sent.set(id, epochMs());
    c.publish(topic, '{"value":6,"unit":"m"}', { qos: 0 });
    setTimeout(() => c.publish(topic, '{"value":1,"unit":"m"}', { qos: 0 }), 50);
    await sleep(Math.max(0, tFlood + 1000 + (k + 1) * o.probeMs - performance.now()));
  }
  const lastSent = epochMs();
  const results = await Promise.all(loads.map((l) => l.done));
  const tEnd = performance.now();
  await sleep(400); // one reading flush (200 ms) later
  const r1 = rig.storedRows();
  const m1 = await officerCount(rig.officer);

  // Wait (bounded) for the commands still on their way.
  const missing = (): number => [...sent.keys()].filter((id) => !rig.relayAt.has(id)).length;
  while (missing() > 0 && epochMs() - lastSent < o.lostMs && !rig.boxExit()) await sleep(50);
  running = false;
  clearInterval(rssTimer);
  (frozen as Socket | null)?.destroy();

  const lat: number[] = [];
  let lost = 0;
  for (const [id, t] of sent) {
    const r = rig.relayAt.get(id);
    if (r === undefined || r - t > o.lostMs) lost++;
    else lat.push(r - t);
  }
  // Probes not sent because the box had died would have been lost as surely.
  const unsent = rig.boxExit() ? nProbes - sent.size : 0;
  const ok = results.filter((r): r is LoadResult => r !== null);
  const genSeconds = Math.max(...ok.map((r) => r.seconds), 1e-9);
  const floodS = (tEnd - tFlood) / 1000;
  return {
    offered_per_s: o.rate,
    achieved_per_s: Math.round(ok.reduce((a, r) => a + r.sent, 0) / genSeconds),
    generator_stalls: ok.reduce((a, r) => a + r.stalls, 0),
    generator_cpu_pct: ok.reduce((a, r) => a + r.cpu_pct, 0),
    connections_closed_by_box: ok.reduce((a, r) => a + r.closed_by_box, 0),
    stored_per_s: Math.round((r1 - r0) / floodS),
    officer_msgs_per_s: Math.round((m1 - m0) / floodS),
    probes: sent.size,
    sent,
    relay: pctOf(lat),
    lost: lost + unsent,
    frozen_connects: frozenConnects,
    frozen_drops: frozenDrops,
    rss_peak_mb: rssPeak,
    box_alive: !rig.boxExit(),
  };
}

/**
 * Publish → the engine's log line for the probe's alarm ("raised"), by pino's `time` (the wall
 * clock, whole ms, when the line was made): an upper bound on when the engine raised it, which
 * tells whether a late siren was late before the alarm (ingest) or after it (planner, commit,
 * broker). Not the alert id's raise time: that is on the box's own clock (monotonic + an offset
 * taken at start), measured here some 125 ms off the wall clock the probes are timed on.
 */
export function raisedFor(logFile: string, sent: Map<string, number>): Pct & { missing: number } {
  const firstAt = new Map<string, number>();
  for (const line of readFileSync(logFile, 'utf8').split('\n')) {
    if (!line.includes('"alert":"fp') || !line.includes('"transition":"raised"')) continue;
    let o: { time: number; alert: string };
    try {
      o = JSON.parse(line);
    } catch {
      continue;
    }
    const id = o.alert.slice(0, o.alert.indexOf('/'));
    if (!firstAt.has(id)) firstAt.set(id, o.time);
  }
  const lat: number[] = [];
  for (const [id, t] of sent) {
    const at = firstAt.get(id);
    if (at !== undefined) lat.push(at - t);
  }
  return { ...pctOf(lat), missing: sent.size - lat.length };
}

/**
 * Publish → "siren command sent" (the box's `issued_at`, as in the quiet phase) per probe, from
 * the box's log: the first command naming alert fp<K>/… for each probe sent.
 */
export function issuedFor(logFile: string, sent: Map<string, number>): Pct & { missing: number } {
  const firstAt = new Map<string, number>();
  for (const line of readFileSync(logFile, 'utf8').split('\n')) {
    if (!line.includes('"alert":"fp') || !line.includes('siren command sent to')) continue;
    let o: { issued_at: number; alert: string };
    try {
      o = JSON.parse(line);
    } catch {
      continue; // a line cut short by a crash
    }
    const id = o.alert.slice(0, o.alert.indexOf('/'));
    if (!firstAt.has(id)) firstAt.set(id, o.issued_at);
  }
  const lat: number[] = [];
  for (const [id, t] of sent) {
    const at = firstAt.get(id);
    if (at !== undefined) lat.push(at - t);
  }
  return { ...pctOf(lat), missing: sent.size - lat.length };
}
