/**
 * A township's view of a fleet: many box uplinks into one Mosquitto, two consumers in one
 * shared-subscription group (`$share/township/sb/v1/+/event`) using the example subscriber's
 * ledger (examples/township-subscriber/ledger.ts). `runFleet` returns the figures; the runnable
 * part is uplink-fleet.bench.ts.
 *
 * The boxes are lightweight: one mqtt.js client per site (MQTT 5, its own account, an ACL per
 * site tree) replaying a **recorded** event stream (`recordStream`: a real box, run for a short
 * scenario — water rising through two stages, a confirmed fire, an officer silencing, the water
 * falling — whose event log is read back and put in the township wire format). Each site replays
 * it `rounds` times with its seqs continuing and `at` set to the replay time, `live: true`, with
 * at most `window` messages awaiting PUBACK, like the uplink's in-flight window: either as fast as
 * that allows (`ratePerSite: 0`, every box draining a backlog at once: throughput, and lag that is
 * queueing) or paced at `ratePerSite` events/s per box (lag of a fleet in steady work).
 *
 * The two consumers share one seen set (MemorySeen, standing in for the township database's
 * unique key on (site, seq): Mosquitto deals a shared subscription round-robin, so only a
 * shared seen set dedupes across consumers). Lag is measured from the publish call to the
 * consumer's receipt, in this one process (monotonic clock); the wire's `at` has whole seconds,
 * too coarse for it. The consumers run in the same process as the 500 boxes: on 2 cores the
 * figures are a floor for what separate consumer machines would do.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import mqtt, { type MqttClient } from 'mqtt';
import { Ledger, MemorySeen, parseEvent } from '../../examples/township-subscriber/ledger.ts';
import { snakeKey, wallTime } from '../../gateway/wire.ts';
import { startMosquitto } from '../helpers/mosquitto.ts';

/** The envelope keys of the township event wire format (README "Township integration"). */
const ENVELOPE = new Set(['site', 'seq', 'boot', 'at', 'clock_trusted', 'type', 'live']);

/** One recorded event, wire form without the envelope: `type` and the event's own fields (collisions prefixed). */
export interface RecordedEvent {
  type: string;
  fields: Record<string, unknown>;
}

/** The event's fields in wire form: snake_case, a field colliding with the envelope prefixed with the type (`effect_type`). */
export function wireFields(type: string, payload: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) return payload === undefined ? out : { [`${type}_payload`]: payload };
  for (const [k, v] of Object.entries(payload)) {
    if (v === undefined) continue;
    const key = snakeKey(k);
    out[ENVELOPE.has(key) ? `${type}_${key}` : key] = v;
  }
  return out;
}

export const STREAM_FILE = new URL('../fixtures/uplink-fleet-stream.json', import.meta.url);

/** Runs a real box through a short scenario and returns its event log in wire form. */
export async function recordStream(): Promise<RecordedEvent[]> {
  const { startBoxRig } = await import('../helpers/box-rig.ts');
  const rig = await startBoxRig();
  const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
  try {
    const wl = await rig.connect('wl1');
    const [sm1, sm2] = [await rig.connect('sm1'), await rig.connect('sm2')];
    const rg = await rig.connect('rg1');
    const officer = await rig.connect('wang');
    const reading = (c: MqttClient, id: string, value: number | string, unit?: string): Promise<unknown> => c.publishAsync(`sb/v1/itest/sensor/${id}/reading`, JSON.stringify(unit ? { value, unit } : { value }), { qos: 1 });
    for (const v of [2.1, 2.6, 2.9, 3.2, 3.4, 3.6]) {
      await reading(wl, 'wl1', v, 'm');
      await reading(rg, 'rg1', 10 * v, 'mm');
      await pause(150);
    }
    await reading(sm1, 'sm1', 'alarm');
    await reading(sm2, 'sm2', 'alarm');
    await pause(300);
    await officer.publishAsync('sb/v1/itest/cmd/box', JSON.stringify({ type: 'silence' }), { qos: 1 });
    await pause(300);
    for (const v of [3.1, 2.4, 1.8]) {
      await reading(wl, 'wl1', v, 'm');
      await pause(150);
    }
    await reading(sm1, 'sm1', 'normal');
    await reading(sm2, 'sm2', 'normal');
    await pause(500);
    return rig.box.store.since(0).map((e) => ({ type: e.type, fields: wireFields(e.type, e.payload) }));
  } finally {
    await rig.stop();
  }
}

export interface FleetOptions {
  sites: number;
  /** Times each site replays the recorded stream (seqs continue). */
  rounds: number;
  /** Messages a box may have awaiting PUBACK. */
  window: number;
  /** Events per second each box offers (spread evenly, each box at its own phase); 0 = as fast as the window allows (a fleet draining backlogs). */
  ratePerSite: number;
  stream: RecordedEvent[];
  /** Site offset for `at`. */
  utcOffset?: string;
  /** Gives up waiting for the consumers after this long (ms). */
  timeoutMs?: number;
}

export interface FleetFigures {
  sites: number;
  rate_per_site_per_s: number;
  events_per_site: number;
  events_total: number;
  connect_s: number;
  publish_s: number;
  events_per_s: number;
  lag_p50_ms: number;
  lag_p99_ms: number;
  lag_max_ms: number;
  consumer_a_events: number;
  consumer_b_events: number;
  duplicates: number;
  missing: number;
  every_site_seq_once: boolean;
  rejected: number;
  consumer_rss_mb: number;
}

const pct = (sorted: Float64Array, p: number): number => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
const round = (n: number, d = 1): number => Number(n.toFixed(d));

export async function runFleet(o: FleetOptions): Promise<FleetFigures> {
  const offset = o.utcOffset ?? '+08:00';
  const perSite = o.stream.length * o.rounds;
  const total = perSite * o.sites;
  const siteId = (i: number): string => `s${String(i).padStart(4, '0')}`;
  const accounts = [{ username: 'township', password: 'tw' }];
  for (let i = 0; i < o.sites; i++) accounts.push({ username: siteId(i), password: `pw-${siteId(i)}` });
  const mosq = await startMosquitto({
    accounts,
    acl: ['user township', 'topic read sb/v1/+/event', 'pattern readwrite sb/v1/%u/#'],
    // Mosquitto's default queue per client is 1,000 messages, past which QoS 1 messages for a
    // slow consumer are dropped (with it, 39,480 of 48,000 events were lost in the burst); a
    // township broker must hold a burst from the whole fleet. 100 unacknowledged messages per
    // consumer instead of 20: each consumer's PUBACK round trip otherwise paces the whole fleet
    // (burst 5,400 and 13,100 events/s with 20, 15,600 to 20,600 with 100, on a loaded machine).
    extra: ['max_queued_messages 0', 'max_inflight_messages 100'],
  });
  const clients: MqttClient[] = [];
  try {
    // The consumers.
    const seen = new MemorySeen();
    const ledgers = [new Ledger(seen), new Ledger(seen)];
    const counts = [0, 0];
    let fresh = 0;
    let duplicates = 0;
    let rejected = 0;
    const sentAt = new Float64Array(total);
    const lags = new Float64Array(total);
    let lastReceipt = 0;
    let done!: () => void;
    const allIn = new Promise<void>((r) => (done = r));
    for (let c = 0; c < 2; c++) {
      const consumer = await mqtt.connectAsync(mosq.url, { protocolVersion: 5, username: 'township', password: 'tw', clientId: `township-${c}`, reconnectPeriod: 0 });
      clients.push(consumer);
      consumer.on('message', (topic, payload) => {
        const now = performance.now();
        counts[c]!++;
        const p = parseEvent(topic, payload);
        if (!p.ok) return void rejected++;
        const a = ledgers[c]!.accept(p.event, Date.now());
        if (!a.fresh) return void duplicates++;
        const idx = Number(p.event.site.slice(1)) * perSite + p.event.seq - 1;
        lags[fresh++] = now - sentAt[idx]!;
        lastReceipt = now;
        if (fresh === total) done();
      });
      await consumer.subscribeAsync('$share/township/sb/v1/+/event', { qos: 1 });
    }

    // The boxes.
    const t0 = performance.now();
    for (let i = 0; i < o.sites; i += 50) {
      const batch = await Promise.all(Array.from({ length: Math.min(50, o.sites - i) }, (_, k) => mqtt.connectAsync(mosq.url, { protocolVersion: 5, username: siteId(i + k), password: `pw-${siteId(i + k)}`, clientId: `sb-${siteId(i + k)}`, reconnectPeriod: 0 })));
      clients.push(...batch);
    }
    const boxes = clients.slice(2);
    const connectS = (performance.now() - t0) / 1000;

    const boot = 'boot-fleet';
    const replay = async (box: MqttClient, i: number): Promise<void> => {
      const site = siteId(i);
      const topic = `sb/v1/${site}/event`;
      const inFlight = new Set<Promise<unknown>>();
      const phase = o.ratePerSite > 0 ? ((i * 7919) % o.sites) / o.sites / o.ratePerSite * 1000 : 0;
      const start = performance.now() + phase;
      for (let seq = 1; seq <= perSite; seq++) {
        if (o.ratePerSite > 0) {
          const due = start + ((seq - 1) * 1000) / o.ratePerSite;
          const wait = due - performance.now();
          if (wait > 1) await new Promise((r) => setTimeout(r, wait));
        }
        const ev = o.stream[(seq - 1) % o.stream.length]!;
        const payload = JSON.stringify({ site, seq, boot, at: wallTime(Date.now(), offset), clock_trusted: true, type: ev.type, live: true, ...ev.fields });
        sentAt[i * perSite + seq - 1] = performance.now();
        const p = box.publishAsync(topic, payload, { qos: 1 }).finally(() => inFlight.delete(p));
        inFlight.add(p);
        if (inFlight.size >= o.window) await Promise.race(inFlight);
      }
      await Promise.all(inFlight);
    };
    const p0 = performance.now();
    await Promise.all(boxes.map((b, i) => replay(b, i)));
    const publishS = (performance.now() - p0) / 1000;
    const timeout = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), o.timeoutMs ?? 120_000).unref());
    await Promise.race([allIn, timeout]);
    // Resends would still come in a moment after the last new one: give them it.
    await new Promise((r) => setTimeout(r, 500));

    let missing = 0;
    let once = fresh === total;
    for (let i = 0; i < o.sites; i++) {
      const r = ledgers[0]!.report(siteId(i));
      missing += perSite - r.events;
      if (r.events !== perSite || r.first !== 1 || r.last !== perSite || r.gaps.length) once = false;
    }
    const sorted = lags.slice(0, fresh).sort();
    return {
      sites: o.sites,
      rate_per_site_per_s: o.ratePerSite,
      events_per_site: perSite,
      events_total: total,
      connect_s: round(connectS, 2),
      publish_s: round(publishS, 2),
      events_per_s: Math.round(fresh / ((lastReceipt - p0) / 1000)),
      lag_p50_ms: round(pct(sorted, 0.5)),
      lag_p99_ms: round(pct(sorted, 0.99)),
      lag_max_ms: round(sorted[sorted.length - 1] ?? Number.NaN),
      consumer_a_events: counts[0]!,
      consumer_b_events: counts[1]!,
      duplicates,
      missing,
      every_site_seq_once: once && duplicates === 0,
      rejected,
      consumer_rss_mb: Math.round(process.memoryUsage().rss / 1048576),
    };
  } finally {
    await Promise.all(clients.map((c) => c.endAsync(true).catch(() => undefined)));
    await mosq.stop();
  }
}

/** The recorded stream from the fixture, recording it first when asked or missing. */
export async function loadStream(record: boolean): Promise<RecordedEvent[]> {
  if (!record) {
    try {
      return JSON.parse(readFileSync(STREAM_FILE, 'utf8')) as RecordedEvent[];
    } catch {
      // not recorded yet
    }
  }
  const stream = await recordStream();
  writeFileSync(STREAM_FILE, `${JSON.stringify(stream, null, 1)}\n`);
  return stream;
}

