/**
 * The attacks of the abuse benchmark, as generators that run in a child process
 * (abuse-child.ts) so their work does not share the event loop of the probes that measure the
 * box. Each one runs against 127.0.0.1 only, from loopback source addresses 127.0.0.x, and ends
 * by itself: a count or a duration, every socket wait bounded.
 *
 * Each generator is `(spec, ready) → result`: it calls `ready()` once the attack is in place
 * (connections open, the officer frozen), so the parent can start measuring, and resolves with
 * plain JSON figures.
 */
import type { Socket } from 'node:net';
import { PINGREQ, publishPacket, rawConnect, rawEnd, rawSubscribe } from './abuse-mqtt.ts';

const SITE = 'abuse';
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export type AttackSpec =
  /** Wrong-secret CONNECTs for `user`, `concurrency` in flight, source addresses taken in turn. */
  | { kind: 'guesses'; port: number; user: string; addresses: string[]; concurrency: number; total?: number; durationMs?: number }
  /** `n` CONNECTs with the right secret, all at once, each closed after its CONNACK. */
  | { kind: 'storm'; port: number; user: string; secret: string; n: number }
  /** An officer subscribed to the whole site that never reads its socket; frozen again whenever dropped if `refreeze`. */
  | { kind: 'frozen'; port: number; secret: string; durationMs: number; refreeze: boolean }
  /** One device account flooding `payloadBytes` status messages from `connections` sockets, as fast as they take (or `hz` each). */
  | { kind: 'flood'; port: number; secret: string; connections: number; payloadBytes: number; durationMs: number; hz: number }
  /** `n` observer connections held for `holdMs`. */
  | { kind: 'observers'; port: number; secret: string; n: number; holdMs: number }
  /** A smoke detector alternating dirty / normal, `n` states at `hz`. */
  | { kind: 'flap'; port: number; secret: string; n: number; hz: number };

type Codes = Record<string, number>;
const count = (c: Codes, k: string | number): void => void (c[String(k)] = (c[String(k)] ?? 0) + 1);

/** Calls `ready` after `n` calls of the function it returns (or at once for n = 0). */
function afterN(n: number, ready: () => void): () => void {
  let left = n;
  if (left <= 0) ready();
  return () => void (--left === 0 && ready());
}

async function guesses(s: Extract<AttackSpec, { kind: 'guesses' }>, ready: () => void): Promise<unknown> {
  const codes: Codes = {};
  // In place once the first round (one guess per worker) is on the wire.
  const sentOne = afterN(Math.min(s.concurrency, s.total ?? Infinity), ready);
  let next = 0;
  let sent = 0;
  const t0 = performance.now();
  const more = (): boolean => (s.total !== undefined ? sent < s.total : performance.now() - t0 < s.durationMs!);
  const worker = async (): Promise<void> => {
    while (more()) {
      const i = next++;
      sent++;
      const r = await rawConnect({ port: s.port, username: s.user, password: `wrong-${i}-guess`, clientId: `guess-${i}`, localAddress: s.addresses[i % s.addresses.length], timeoutMs: 120_000, onSent: i < s.concurrency ? sentOne : undefined });
      if (r.socket) {
        count(codes, 0);
        await rawEnd(r.socket);
      } else count(codes, r.code);
    }
  };
  await Promise.all(Array.from({ length: s.concurrency }, worker));
  return { sent, codes, seconds: (performance.now() - t0) / 1000 };
}

async function storm(s: Extract<AttackSpec, { kind: 'storm' }>, ready: () => void): Promise<unknown> {
  const codes: Codes = {};
  const sent = afterN(s.n, ready);
  const t0 = performance.now();
  const ms: number[] = [];
  await Promise.all(
    Array.from({ length: s.n }, async (_, i) => {
      const r = await rawConnect({ port: s.port, username: s.user, password: s.secret, clientId: `storm-${i}`, timeoutMs: 360_000, onSent: sent });
      count(codes, r.code);
      if (r.socket) {
        ms.push(r.ms);
        await rawEnd(r.socket);
      }
    }),
  );
  ms.sort((a, b) => a - b);
  return { codes, seconds: (performance.now() - t0) / 1000, connect_p50_ms: Math.round(ms[Math.floor(ms.length / 2)] ?? NaN), connect_max_ms: Math.round(ms.at(-1) ?? NaN) };
}

async function frozen(s: Extract<AttackSpec, { kind: 'frozen' }>, ready: () => void): Promise<unknown> {
  let connects = 0;
  let drops = 0;
  let refused = 0;
  const t0 = performance.now();
  let first = true;
  while (performance.now() - t0 < s.durationMs) {
    const r = await rawConnect({ port: s.port, username: 'wang', password: s.secret, clientId: 'panel', timeoutMs: 10_000 });
    if (r.code === 'error') break; // nothing listens: the box is gone, the attack is over
    if (!r.socket) {
      refused++;
      await sleep(1000);
      continue;
    }
    connects++;
    const sock = r.socket;
    rawSubscribe(sock, [`sb/v1/${SITE}/#`]);
    sock.pause(); // never reads again: the kernel buffers fill, then the box's writes stall
    if (first) {
      first = false;
      ready();
    }
    const left = s.durationMs - (performance.now() - t0);
    const dropped = await new Promise<boolean>((resolve) => {
      const t = setTimeout(() => resolve(false), left);
      sock.on('error', () => {});
      sock.once('close', () => {
        clearTimeout(t);
        resolve(true);
      });
    });
    sock.destroy();
    if (!dropped) break;
    drops++;
    if (!s.refreeze) {
      await sleep(Math.max(0, s.durationMs - (performance.now() - t0)));
      break;
    }
    await sleep(1000);
  }
  if (first) ready();
  return { connects, drops, refused };
}

async function flood(s: Extract<AttackSpec, { kind: 'flood' }>, ready: () => void): Promise<unknown> {
  const packet = publishPacket(`sb/v1/${SITE}/device/flood/status`, 'x'.repeat(s.payloadBytes));
  let published = 0;
  let drops = 0;
  let refused = 0;
  let t0 = performance.now();
  let running = true;
  const pump = async (sock: Socket): Promise<void> => {
    const closed = new Promise<void>((r) => sock.once('close', () => r()));
    sock.on('error', () => {});
    sock.on('data', () => {});
    let open = true;
    void closed.then(() => (open = false));
    while (running && open) {
      if (s.hz > 0) {
        sock.write(packet);
        published++;
        await sleep(1000 / s.hz);
      } else if (!sock.write(packet)) {
        published++;
        let onDrain: () => void = () => {};
        await Promise.race([new Promise<void>((r) => sock.once('drain', (onDrain = r))), closed, sleep(1000)]);
        sock.removeListener('drain', onDrain); // the 1 s bound won: no listener left behind
      } else {
        published++;
        if (published % 64 === 0) await new Promise((r) => setImmediate(r)); // let the others write
      }
    }
    if (!open) drops++;
    sock.destroy();
  };
  const open = async (i: number): Promise<Socket | null> => {
    const r = await rawConnect({ port: s.port, username: 'flood', password: s.secret, clientId: `flood-${i}`, timeoutMs: 10_000 });
    if (r.code === 'error') running = false; // nothing listens: the box is gone, the attack is over
    else if (!r.socket) refused++;
    return r.socket;
  };
  const socks: (Socket | null)[] = [];
  for (let i = 0; i < s.connections; i += 50) socks.push(...(await Promise.all(Array.from({ length: Math.min(50, s.connections - i) }, (_, k) => open(i + k)))));
  ready();
  t0 = performance.now();
  const stopAt = setTimeout(() => (running = false), s.durationMs);
  // A dropped connection comes back a second later, as a misbehaving device's firmware would.
  await Promise.all(
    socks.map(async (sock, i) => {
      let current = sock;
      while (running) {
        if (current) await pump(current);
        if (!running) break;
        await sleep(1000);
        current = running ? await open(i) : null;
      }
    }),
  );
  clearTimeout(stopAt);
  const seconds = (performance.now() - t0) / 1000;
  return { connections: s.connections, published, per_s: Math.round(published / seconds), drops, refused, seconds };
}

async function observers(s: Extract<AttackSpec, { kind: 'observers' }>, ready: () => void): Promise<unknown> {
  const socks: Socket[] = [];
  let failed = 0;
  let dropped = 0;
  for (let i = 0; i < s.n; i += 50) {
    const batch = await Promise.all(Array.from({ length: Math.min(50, s.n - i) }, (_, k) => rawConnect({ port: s.port, username: 'obs', password: s.secret, clientId: `obs-${i + k}`, timeoutMs: 30_000 })));
    for (const r of batch) {
      if (!r.socket) {
        failed++;
        continue;
      }
      const sock = r.socket;
      sock.on('data', () => {});
      sock.on('error', () => {});
      sock.once('close', () => dropped++);
      rawSubscribe(sock, [`sb/v1/${SITE}/alert/#`, `sb/v1/${SITE}/event`, `sb/v1/${SITE}/status`]);
      socks.push(sock);
    }
  }
  ready();
  const ping = setInterval(() => socks.forEach((x) => x.destroyed || x.write(PINGREQ)), 30_000);
  await sleep(s.holdMs);
  clearInterval(ping);
  const held = socks.filter((x) => !x.destroyed).length;
  await Promise.all(socks.map(rawEnd));
  return { connected: socks.length, failed, dropped_while_held: dropped, held_at_end: held };
}

async function flap(s: Extract<AttackSpec, { kind: 'flap' }>, ready: () => void): Promise<unknown> {
  const r = await rawConnect({ port: s.port, username: 'sm1', password: s.secret, clientId: 'sm1', timeoutMs: 10_000 });
  ready();
  if (!r.socket) return { sent: 0, refused: r.code };
  const sock = r.socket;
  sock.on('data', () => {});
  sock.on('error', () => {});
  const topic = `sb/v1/${SITE}/sensor/sm1/reading`;
  const states = [publishPacket(topic, '{"value":"dirty","unit":"state"}'), publishPacket(topic, '{"value":"normal","unit":"state"}')];
  const t0 = performance.now();
  let sent = 0;
  while (sent < s.n && !sock.destroyed) {
    // On schedule: sent k at t0 + k / hz, catching up after a slow tick.
    while (sent < s.n && sent <= ((performance.now() - t0) * s.hz) / 1000) sock.write(states[sent++ % 2]!);
    await sleep(5);
  }
  const seconds = (performance.now() - t0) / 1000;
  await rawEnd(sock);
  return { sent, seconds };
}

export async function runAttack(spec: AttackSpec, ready: () => void): Promise<unknown> {
  switch (spec.kind) {
    case 'guesses':
      return guesses(spec, ready);
    case 'storm':
      return storm(spec, ready);
    case 'frozen':
      return frozen(spec, ready);
    case 'flood':
      return flood(spec, ready);
    case 'observers':
      return observers(spec, ready);
    case 'flap':
      return flap(spec, ready);
  }
}
