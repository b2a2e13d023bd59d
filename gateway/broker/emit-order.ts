/**
 * Aedes loses messages when publishes overtake each other (moscajs/aedes#994, #955, open).
 *
 * Aedes numbers each packet (`brokerCounter`) when `publish()` is called, then stores it
 * (retained: an async persistence write; QoS > 0: an async offline-queue lookup) and only then
 * emits it to subscribers. Each client drops any packet whose number is not above the last it
 * saw — meant to deliver one copy to a client with overlapping subscriptions (`a/#` and `a/b`).
 * So a retained alert followed at once by a plain event reaches the panel as: event (n+1),
 * then alert (n) — dropped as a "duplicate". Tried here: four overlapping publishes, two
 * delivered.
 *
 * Fix without forking aedes: renumber each packet as it is emitted, so numbers rise in the
 * order subscribers are called (mqemitter calls listeners synchronously, messages FIFO), and
 * the dedupe keeps doing its one real job. Aedes also matches offline-queued packets by this
 * number; the broker forces clean sessions, so no packet is ever queued offline (broker.ts).
 */
import type { Aedes, AedesPublishPacket } from 'aedes';

interface Emitter {
  emit(packet: AedesPublishPacket, cb?: (err?: Error) => void): unknown;
}

/** Call after `new Aedes()` and before `listen()`. */
export function numberPacketsInEmitOrder(aedes: Aedes): void {
  const mq = (aedes as unknown as { mq: Emitter }).mq;
  const emit = mq.emit.bind(mq);
  let counter = 0;
  mq.emit = (packet, cb) => {
    if (packet.brokerId) packet.brokerCounter = ++counter;
    return emit(packet, cb);
  };
}
