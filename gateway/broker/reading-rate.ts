/**
 * What people's clients (officer, township; observers read no readings at all, acl.ts) get of
 * the raw sensor readings: at most one per sensor per `intervalMs` (1 s), and always the latest.
 *
 * Why: a person's client subscribed to `sb/v1/<site>/#` or `sensor/+/reading` is a screen, and
 * nobody reads 24,000 readings a second; but each one cost the box a write to that client, and
 * an officer subscribed to every raw reading was seen to delay siren commands by seconds. Once a
 * second per sensor is what a screen shows. Devices read no readings, and the engine takes
 * every one from authorizePublish before any forwarding, so alarms never depend on this. The
 * township's own record is the event log over the uplink, not this broker.
 *
 * How: in aedes' authorizeForward (broker.ts), the first reading of a sensor in a window goes
 * through at once; later ones in the window are held, each replacing the last, and when the
 * window ends the latest is delivered on its own (a copy without aedes' broker number, so the
 * per-client dedupe does not take it for an old packet, and marked so this lets it pass). A
 * sensor that goes quiet is seen at its last value, never one second stale forever. The
 * latest goes out at QoS 0 (the next reading supersedes it), and only if the client is still
 * subscribed to it.
 *
 * Readings never pass through aedes' emitter (`offer`, called from authorizePublish): broker.ts
 * hands each one here for the people's clients subscribed now, and mq-schedule.ts completes
 * its publish without queueing it. Through the emitter, every reading took one of its 256
 * slots for an event-loop turn, whether anyone would get it or not: at 48,000 readings/s its
 * queue held 60,000 messages (+50 MB of heap), the devices' next packets waited behind it (the
 * box stored 12,000 readings/s), and the box died of heap exhaustion (e2e bench, issue 15).
 */
import type { AedesPublishPacket, Client } from 'aedes';
import { filterWithin } from './acl.ts';

interface SensorWindow {
  sentAt: number;
  held: AedesPublishPacket | null;
}

interface ClientWindows {
  sensors: Map<string, SensorWindow>;
  timer: NodeJS.Timeout | null;
}

/** Sends `packet` to `client` (broker.ts: through the client's own bounded delivery). */
export type DeliverLatest = (client: Client, packet: AedesPublishPacket) => void;

export class ReadingRate {
  private readonly clients = new WeakMap<Client, ClientWindows>();
  /** The held latest readings being delivered: let through by `admit`. */
  private readonly released = new WeakSet<AedesPublishPacket>();

  constructor(
    private readonly intervalMs: number,
    private readonly now: () => number,
    private readonly deliver: DeliverLatest,
  ) {}

  /** From authorizeForward: may this reading of `sensor` go to `client` now? */
  admit(client: Client, sensor: string, packet: AedesPublishPacket): boolean {
    if (this.released.has(packet)) return true;
    let c = this.clients.get(client);
    if (!c) this.clients.set(client, (c = { sensors: new Map(), timer: null }));
    const now = this.now();
    const w = c.sensors.get(sensor);
    if (!w || now - w.sentAt >= this.intervalMs) {
      c.sensors.set(sensor, { sentAt: now, held: null });
      return true;
    }
    w.held = packet;
    this.schedule(client, c, w.sentAt + this.intervalMs - now);
    return false;
  }

  /**
   * A device's reading, for the people's clients in `subscribers`: each gets it now if its
   * window allows and it is subscribed to it, else it is held as the latest (see the header).
   */
  offer(sensor: string, packet: AedesPublishPacket, subscribers: Iterable<Client>): void {
    for (const client of subscribers) {
      if (client.closed || !subscribedTo(client, packet.topic)) continue;
      if (!this.admit(client, sensor, packet)) continue;
      const now = { cmd: 'publish', topic: packet.topic, payload: packet.payload, qos: 0, retain: false, dup: false } as AedesPublishPacket;
      this.released.add(now);
      this.deliver(client, now);
    }
  }

  /** When the client goes. */
  forget(client: Client): void {
    const c = this.clients.get(client);
    if (c?.timer) clearTimeout(c.timer);
    this.clients.delete(client);
  }

  private schedule(client: Client, c: ClientWindows, inMs: number): void {
    if (c.timer) return;
    c.timer = setTimeout(() => this.flush(client, c), Math.max(0, inMs));
    c.timer.unref();
  }

  private flush(client: Client, c: ClientWindows): void {
    c.timer = null;
    if (client.closed) return this.forget(client);
    const now = this.now();
    let next = Infinity;
    for (const w of c.sensors.values()) {
      if (!w.held) continue;
      const wait = w.sentAt + this.intervalMs - now;
      if (wait > 0) {
        next = Math.min(next, wait);
        continue;
      }
      const held = w.held;
      w.held = null;
      w.sentAt = now;
      if (!subscribedTo(client, held.topic)) continue;
      const latest = { cmd: 'publish', topic: held.topic, payload: held.payload, qos: 0, retain: false, dup: false } as AedesPublishPacket;
      this.released.add(latest);
      this.deliver(client, latest);
    }
    if (next !== Infinity) this.schedule(client, c, next);
  }
}

/** Is `client` subscribed to `topic` now? (aedes keeps the client's filters in `subscriptions`.) */
function subscribedTo(client: Client, topic: string): boolean {
  const subs = (client as Client & { subscriptions: Record<string, unknown> }).subscriptions;
  for (const filter in subs) if (filterWithin(topic, filter)) return true;
  return false;
}
