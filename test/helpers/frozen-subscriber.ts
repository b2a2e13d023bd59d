/**
 * A subscriber that stops reading its socket, like an officer's laptop going to sleep: a raw
 * TCP client CONNECTs, SUBSCRIBEs, waits for its SUBACK, then pauses the socket, so the
 * kernel's buffers and then the broker's fill up behind it. `flood()` fills them.
 */
import type { BrokerRig } from './broker-rig.ts';
import { T, packet, rawClient, rawConnect, str, until } from './broker-rig.ts';

export interface Frozen {
  /** Whether the broker has closed the connection (seen once resumed, or by the socket closing). */
  closed(): boolean;
  destroy(): void;
}

/** CONNECTs as `username`, SUBSCRIBEs to `filter` (QoS 0), and stops reading once subscribed. */
export async function frozenSubscriber(rig: BrokerRig, username: string, filter = T.all()): Promise<Frozen> {
  const c = await rawClient(rig.broker.tcpPort);
  let closed = false;
  void c.closed.then(() => (closed = true));
  c.s.on('error', () => undefined);
  c.s.write(rawConnect(`${username}-frozen`, username));
  const sub = Buffer.concat([Buffer.from([0x00, 0x01]), str(filter), Buffer.from([0])]);
  c.s.write(packet(0x82, sub));
  // CONNACK (20 02 00 00) then SUBACK (90 03 00 01 00).
  await until(() => c.got().includes(Buffer.from([0x90, 0x03, 0x00, 0x01, 0x00])), `a SUBACK for ${username}`, 5000);
  c.s.pause();
  return { closed: () => closed, destroy: () => c.s.destroy() };
}

/** Box publishes of `count` events of `bytes` each (QoS 0), not awaited: enough to fill a frozen socket. */
export function fillWithEvents(rig: BrokerRig, count = 1000, bytes = 32 * 1024): Promise<unknown> {
  const big = Buffer.alloc(bytes, 0x61);
  return Promise.allSettled(Array.from({ length: count }, () => rig.broker.publish(T.event(), big, { qos: 0 })));
}
