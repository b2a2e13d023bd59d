/**
 * What the abuse benchmark measures while an attack runs, from the outside of the box:
 *
 * - Alarm probes: the `probe` device publishes a water level over its red stage, the time
 *   until the siren command reaches the relay is one sample, then it publishes a normal level
 *   and waits before the next probe. Probes are sequential and each waits for its own siren
 *   (or times out), so a slow alarm is measured, not overwritten by the next probe as an
 *   interleaved loop would. The relay is a simulated MQTT relay client (`siren1`), or the write
 *   log of a simulated Modbus relay (the dead-unit attack).
 * - The legitimate device (`gauge`): connected before the attack, then its socket dies (a power
 *   blip) and it reconnects as a device does, a new attempt 1 s after each refusal; its connect
 *   time runs from the first attempt to the CONNACK 0.
 * - The box's RSS, sampled so a crash still leaves the last figure.
 */
import type { Socket } from 'node:net';
import mqtt, { type MqttClient } from 'mqtt';
import type { SimulatedDevice } from '../../simulators/modbus/bus.ts';
import { SITE, secretOf, type AbuseBox } from './abuse-box.ts';
import { rawConnect, rawEnd } from './abuse-mqtt.ts';

export interface LatencyStats {
  p50_ms: number;
  p99_ms: number;
  max_ms: number;
  samples: number;
  /** Probes whose siren did not come within the probe timeout (not in the percentiles). */
  missed: number;
}

const round = (x: number): number => Math.round(x * 10) / 10;
export function latencyStats(xs: number[], missed: number): LatencyStats {
  const s = [...xs].sort((a, b) => a - b);
  const pct = (p: number): number => (s.length ? round(s[Math.min(s.length - 1, Math.floor(s.length * p))]!) : Number.NaN);
  return { p50_ms: pct(0.5), p99_ms: pct(0.99), max_ms: s.length ? round(s.at(-1)!) : Number.NaN, samples: s.length, missed };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export interface ProbeOptions {
  /** Pause after each probe's normal reading. */
  gapMs: number;
  /** A probe whose siren has not come by then is missed. */
  timeoutMs: number;
  /** The Modbus relay whose coil log shows the siren (else the MQTT relay client). */
  modbusRelay?: SimulatedDevice;
}

export interface Probes {
  /** Stops probing (the probe in flight ends first, within its timeout) and returns the figures. */
  stop(): Promise<LatencyStats>;
}

/** Starts sequential alarm probes against `box`; measurement starts at once. */
export async function startProbes(box: AbuseBox, o: ProbeOptions): Promise<Probes> {
  const url = `mqtt://127.0.0.1:${box.port}`;
  const opts = { protocolVersion: 4 as const, reconnectPeriod: 1000, connectTimeout: 10_000 };
  const probe = await mqtt.connectAsync(url, { ...opts, username: 'probe', password: secretOf('probe'), clientId: 'probe' });
  let relay: MqttClient | null = null;
  let waiter: ((at: number) => void) | null = null;
  if (!o.modbusRelay) {
    relay = await mqtt.connectAsync(url, { ...opts, username: 'siren1', password: secretOf('siren1'), clientId: 'siren1', resubscribe: true });
    await relay.subscribeAsync(`sb/v1/${SITE}/cmd/siren1`, { qos: 1 });
    relay.on('message', (_t, payload) => {
      const at = performance.now();
      const m = JSON.parse(payload.toString()) as { type?: string; alert?: string };
      if (m.type === 'siren' && String(m.alert).startsWith('probe/')) waiter?.(at);
    });
  }
  const topic = `sb/v1/${SITE}/sensor/probe/reading`;
  const publish = (value: number): void => void probe.publish(topic, JSON.stringify({ value, unit: 'm' }), { qos: 0 });
  const lat: number[] = [];
  let missed = 0;
  let running = true;

  const sirenAfter = (t0: number): Promise<number | null> => {
    if (o.modbusRelay) {
      const relayDev = o.modbusRelay;
      // Every write (coil or holding register: the R421A08 is commanded by FC06).
      const start = relayDev.writes.length;
      return (async () => {
        while (performance.now() - t0 < o.timeoutMs) {
          const w = relayDev.writes.slice(start).find((x) => x.source === 'master' && (x.action === 'flash_on' || x.action === 'siren_on'));
          if (w) return w.mono;
          await sleep(2);
        }
        return null;
      })();
    }
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        waiter = null;
        resolve(null);
      }, o.timeoutMs);
      waiter = (at) => {
        clearTimeout(t);
        waiter = null;
        resolve(at);
      };
    });
  };

  const loop = (async () => {
    publish(1);
    await sleep(300);
    while (running && !box.exit) {
      const t0 = performance.now();
      const seen = sirenAfter(t0);
      publish(6);
      const at = await seen;
      if (at === null) missed++;
      else lat.push(at - t0);
      publish(1);
      // After a miss, a late siren must not be taken for the next probe's.
      await sleep(at === null ? o.gapMs + 2000 : o.gapMs);
    }
  })();

  return {
    stop: async () => {
      running = false;
      await loop;
      probe.end(true);
      relay?.end(true);
      return latencyStats(lat, missed);
    },
  };
}

export interface ConnectTime {
  /** First attempt → CONNACK 0; null if it never got in within the bound. */
  ms: number | null;
  attempts: number;
  /** What the refused attempts got: CONNACK codes, 'timeout', 'closed'. */
  refusals: Record<string, number>;
  /** How long it kept trying. */
  boundMs: number;
}

/** The legitimate device's standing connection, made before the attack. */
export async function connectLegit(box: AbuseBox): Promise<Socket> {
  const r = await rawConnect({ port: box.port, username: 'gauge', password: secretOf('gauge'), clientId: 'gauge', timeoutMs: 30_000 });
  if (!r.socket) throw new Error(`the legitimate device could not connect before the attack (${r.code})`);
  r.socket.on('data', () => {});
  r.socket.on('error', () => {});
  return r.socket;
}

/** The device's socket dies; it reconnects, 1 s between attempts, for at most `boundMs`. */
export async function reconnectLegit(box: AbuseBox, old: Socket | null, boundMs: number): Promise<ConnectTime> {
  old?.destroy();
  const t0 = performance.now();
  const refusals: Record<string, number> = {};
  for (let attempts = 1; ; attempts++) {
    const left = boundMs - (performance.now() - t0);
    const r = await rawConnect({ port: box.port, username: 'gauge', password: secretOf('gauge'), clientId: 'gauge', timeoutMs: Math.max(1000, Math.min(30_000, left)) });
    if (r.socket) {
      const ms = performance.now() - t0;
      await rawEnd(r.socket);
      return { ms: Math.round(ms), attempts, refusals, boundMs };
    }
    refusals[String(r.code)] = (refusals[String(r.code)] ?? 0) + 1;
    if (performance.now() - t0 + 1000 > boundMs || box.exit) return { ms: null, attempts, refusals, boundMs };
    await sleep(1000);
  }
}

/** Samples the box's RSS every second; `last()` is the latest sample (kept after a crash). */
export function rssSampler(box: AbuseBox): { last(): { peak: number; now: number } | null; stop(): void } {
  let last = box.rss();
  const t = setInterval(() => {
    const r = box.exit ? null : safeRss(box);
    if (r) last = r;
  }, 1000);
  return { last: () => (box.exit ? last : safeRss(box) ?? last), stop: () => clearInterval(t) };
}

function safeRss(box: AbuseBox): { peak: number; now: number } | null {
  try {
    return box.rss();
  } catch {
    return null; // exited between the check and the read
  }
}
