/**
 * A bounded output per client, so no backlog forms behind a client that stops reading (an
 * officer's laptop going to sleep; issue 15).
 *
 * Aedes calls a delivery back only once its bytes are written to the socket, and when the
 * socket is full (write() returned false) only after its 'drain' (lib/write.js,
 * Client#waitForDrain). mqemitter holds one of its `concurrency` slots per message until every
 * subscriber's delivery has called back (mq-schedule.ts), so one frozen subscriber held all 256
 * slots and every further message (the box's siren commands too) waited behind it until
 * `drainTimeout` dropped it; then the backlog was released recursively and overflowed the
 * stack. Here each client's `deliver0` / `deliverQoS` are wrapped so that:
 *
 * - A delivery is called back on the next turn of the event loop (setImmediate, right behind
 *   aedes' own write, never synchronously: a synchronous callback is what recursed), whatever
 *   the client's socket does. No slot ever waits on a socket.
 * - The bytes queued for a client are bounded: the socket's `writableLength` plus what is
 *   handed to aedes but not yet written. Over `maxQueuedBytes`, a **QoS 0** delivery to it is
 *   dropped and counted (MQTT allows losing QoS 0). A **QoS 1** delivery is never dropped while
 *   the client stays: aedes gives it a packet id (QoSPacket) and, the session being clean
 *   (broker.ts), keeps no inflight copy and resends nothing, so a dropped one would be lost
 *   without a trace. It is written; its bytes count against the limit for the QoS 0 ones.
 *   QoS 1 comes from the box (its event log, alerts, commands: a handful a second) and from
 *   devices' readings, which people's clients get at most one per sensor a second
 *   (reading-rate.ts), so what it adds in `drainTimeout` is small.
 * - A client that stays over the limit is disconnected: one that drops for longer than
 *   `maxDroppingMs` without one QoS 0 delivery getting through, here; one with writes waiting on
 *   a full socket (QoS 1 or the QoS 0 ones under the limit) by aedes' `drainTimeout`, which runs
 *   on those writes whatever we call back. Either way client-log.ts logs it once, with counts.
 *   A burst of QoS 1 to a client that reads is not cut: a bound in bytes would cut the panel
 *   at start, when the box republishes every alert at once.
 *
 * The box's commands to actuators are QoS 1 on `cmd/<actuator>`, which only that actuator
 * reads (acl.ts): a flood to other clients never fills its socket.
 */
import type { AedesPublishPacket, Client } from 'aedes';
import type { Duplex } from 'node:stream';

type Deliver = (packet: AedesPublishPacket, cb: () => void) => void;

export interface OutputLimits {
  /** Bytes that may wait for one client; over it QoS 0 deliveries to it are dropped. */
  maxQueuedBytes: number;
  /** A client dropping for this long with no delivery through is disconnected. */
  maxDroppingMs: number;
}

export const DEFAULT_OUTPUT_LIMITS: OutputLimits = { maxQueuedBytes: 256 * 1024, maxDroppingMs: 5000 };

/** Why a client was cut; client-log.ts logs it as a slow client. */
export const OUTPUT_LIMIT = 'output limit';

interface Output {
  /** Bytes handed to aedes, not yet in the socket's buffer. */
  pending: number;
  dropped: number;
  droppingSince: number | null;
  cut: boolean;
}

const noop = (): void => undefined;

/** The bytes of one PUBLISH, near enough: fixed header, topic, packet id, payload. */
function sizeOf(packet: AedesPublishPacket): number {
  const payload = packet.payload;
  return 7 + packet.topic.length + (typeof payload === 'string' ? payload.length : payload.byteLength);
}

export class ClientOutputs {
  private readonly outputs = new WeakMap<Client, Output>();

  constructor(private readonly limits: OutputLimits, private readonly now: () => number) {}

  /** Wraps the client's delivery functions; call in preConnect, before it can subscribe. */
  install(client: Client): void {
    const c = client as Client & { deliver0: Deliver; deliverQoS: Deliver };
    const out: Output = { pending: 0, dropped: 0, droppingSince: null, cut: false };
    this.outputs.set(client, out);
    const deliver0 = c.deliver0;
    const deliverQoS = c.deliverQoS;
    // aedes' deliverQoS hands QoS 0 packets to `this.deliver0`; route them to the wrapper here.
    c.deliver0 = (packet, cb) => this.deliver(client, out, deliver0, packet, cb, false);
    c.deliverQoS = (packet, cb) => (packet.qos === 0 ? c.deliver0(packet, cb) : this.deliver(client, out, deliverQoS, packet, cb, true));
  }

  /** QoS 0 deliveries dropped for this client so far. */
  droppedOf(client: Client): number {
    return this.outputs.get(client)?.dropped ?? 0;
  }

  private deliver(client: Client, out: Output, deliver: Deliver, packet: AedesPublishPacket, cb: () => void, qos1: boolean): void {
    const conn = client.conn as Duplex;
    const size = sizeOf(packet);
    const queued = (conn.writableLength ?? 0) + out.pending + size;
    if (out.cut) return void setImmediate(cb);
    if (!qos1 && queued > this.limits.maxQueuedBytes) {
      if (this.droppingTooLong(out)) this.cut(client, out, queued);
      else out.dropped++;
      return void setImmediate(cb);
    }
    if (!qos1) out.droppingSince = null;
    out.pending += size;
    deliver(packet, noop);
    // Queued behind aedes' own setImmediate that writes the packet: by now it is in `conn`.
    setImmediate(() => {
      out.pending -= size;
      cb();
    });
  }

  private droppingTooLong(out: Output): boolean {
    const now = this.now();
    out.droppingSince ??= now;
    return now - out.droppingSince > this.limits.maxDroppingMs;
  }

  private cut(client: Client, out: Output, queued: number): void {
    out.cut = true;
    // Not from inside mqemitter's call of the subscribers: on the next turn.
    setImmediate(() => client.emit('error', new Error(`${OUTPUT_LIMIT}: ${queued} bytes waiting for a client that does not read`)));
  }
}
