/**
 * The flood's load generator, a child process of its own (so its work is not on the box's or
 * the measuring process's event loop): `conns` device connections (sensors rg<first>…) that
 * together offer `rate` QoS 0 readings/s for `seconds`, pipelined over raw sockets
 * (flood-mqtt.ts).
 *
 * Pacing as the peer's load.mjs does it: every millisecond, send what the schedule says is due
 * (`elapsed × rate`), round-robin over the connections, each connection's share as one write.
 * What the box's sockets do not take stays due: a connection whose unsent bytes pass 256 KB
 * is skipped for that tick (a stall, counted), so the generator never buffers without bound
 * and what it reports as achieved is what reached the kernel, not what it wished.
 * A sensor's rain counter tips 0.2 mm a second whatever its rate (load-gen.ts says why).
 *
 * argv: port site first conns rate seconds. Prints {connected} once every connection has its
 * CONNACK, then one JSON line of figures at the end. A connection the box closes is counted
 * and dropped; if all close, the run ends early (the box is gone: that is a result).
 */
import type { Socket } from 'node:net';
import { publishPacket, rawConnect } from './flood-mqtt.ts';

const [portArg, site, firstArg, connsArg, rateArg, secArg] = process.argv.slice(2);
const port = Number(portArg);
const first = Number(firstArg);
const conns = Number(connsArg);
const rate = Number(rateArg);
const seconds = Number(secArg);
const MAX_UNSENT = 256 * 1024;

interface Conn { sock: Socket; topic: string; total: number; packet: Buffer; tippedAt: number; open: boolean }
const list: Conn[] = [];
for (let i = 0; i < conns; i += 25) {
  const batch = await Promise.all(
    Array.from({ length: Math.min(25, conns - i) }, async (_, k) => {
      const id = `rg${first + i + k}`;
      const sock = await rawConnect(port, `${id}-flood`, id, `pw-${id}-secret`);
      const topic = `sb/v1/${site}/sensor/${id}/reading`;
      const c: Conn = { sock, topic, total: 0, packet: publishPacket(topic, '{"value":0.0,"unit":"mm"}'), tippedAt: 0, open: true };
      sock.once('close', () => (c.open = false));
      return c;
    }),
  );
  list.push(...batch);
}
process.stdout.write(`${JSON.stringify({ connected: list.length })}\n`);

const total = Math.round(rate * seconds);
let sent = 0;
let stalls = 0;
let ticks = 0;
let next = 0; // round-robin position
const t0 = performance.now();
const c0 = process.cpuUsage();
await new Promise<void>((resolve) => {
  const tick = (): void => {
    ticks++;
    const now = performance.now();
    const open = list.filter((c) => c.open);
    if (open.length === 0) return resolve();
    const due = Math.min(total, Math.floor(((now - t0) * rate) / 1000) + 1) - sent;
    if (due > 0) {
      // Each open connection's share of what is due this tick, as one write.
      const share = new Map<Conn, number>();
      for (let k = 0; k < due; k++) {
        const c = open[next++ % open.length]!;
        share.set(c, (share.get(c) ?? 0) + 1);
      }
      for (const [c, n] of share) {
        if (c.sock.writableLength > MAX_UNSENT) {
          stalls++;
          continue;
        }
        if (now - c.tippedAt >= 1000) {
          c.tippedAt = now;
          c.total += 0.2;
          c.packet = publishPacket(c.topic, `{"value":${c.total.toFixed(1)},"unit":"mm"}`);
        }
        c.sock.write(n === 1 ? c.packet : Buffer.concat(Array(n).fill(c.packet)));
        sent += n;
      }
    }
    if (sent >= total) return resolve();
    if (now - t0 > seconds * 1000 + 5000) return resolve(); // could not send it all in 5 s more: stop, report
    setTimeout(tick, 1);
  };
  tick();
});
const elapsed = (performance.now() - t0) / 1000;
// Let the last writes reach the kernel (bounded), then close.
for (let i = 0; i < 100 && list.some((c) => c.open && c.sock.writableLength > 0); i++) await new Promise((r) => setTimeout(r, 20));
const cpu = process.cpuUsage(c0);
const closed = list.filter((c) => !c.open).length;
for (const c of list) c.sock.destroy();
process.stdout.write(
  `${JSON.stringify({ offered_per_s: rate, sent, seconds: elapsed, achieved_per_s: Math.round(sent / elapsed), stalls, ticks, closed_by_box: closed, cpu_pct: Math.round(((cpu.user + cpu.system) / 1e6 / elapsed) * 100) })}\n`,
);
process.exit(0);
