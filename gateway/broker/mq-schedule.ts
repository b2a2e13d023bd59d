/**
 * How messages leave aedes' emitter (mqemitter 7.1.0, `aedes.mq`) for the subscribers: numbered
 * in the order their delivery starts, released one after another in a loop instead of by
 * recursion, and the box's commands to actuators ahead of any queue. Installed on the one
 * emitter after `new Aedes()` and before `listen()`; neither package is forked or patched.
 *
 * mqemitter runs up to `concurrency` messages at a time (broker.ts: 256); each holds a slot
 * until every subscriber's delivery callback has run, and messages beyond that wait in its
 * `_messageQueue`. It calls a message's subscribers synchronously from `_do`.
 *
 * 1. **Numbering (moscajs/aedes#994, #955, open).** Aedes numbers a packet (`brokerCounter`)
 *    when `publish()` is called, stores it (retained: an async persistence write; QoS > 0: an
 *    async offline-queue lookup) and only then emits it. Each client drops a packet whose number
 *    is not above the last it saw (meant for one copy to a client with overlapping
 *    subscriptions), so a retained alert overtaken by a plain event was lost (four overlapping
 *    publishes, two delivered). Numbering in `_do`, where the subscribers are called, makes the
 *    numbers rise in the order every client sees them, whatever overtook what on the way
 *    (storage, or a command moved ahead by 3). Aedes also matches offline-queued packets by this
 *    number; the broker forces clean sessions, so none is ever queued offline (broker.ts).
 * 2. **Iterative release (mcollina/mqemitter PR #204, open; 7.1.0 is the latest release).**
 *    When a message finishes, mqemitter's `released` calls `_do` for the next queued one; if
 *    that one completes synchronously (no subscriber left, e.g. the frozen client that held the
 *    slots was just dropped), fastparallel calls `released` again from inside: one stack level
 *    set per queued message. 20,000 queued messages threw `RangeError: Maximum call stack size
 *    exceeded` and killed the box (issue 15). Here a `_do` called while another is on the stack
 *    is put on a list that the outermost call works through in a loop: same order (FIFO), same
 *    counting of slots, a flat stack. It also means a publish made synchronously by a
 *    subscriber is delivered after the message being delivered, never in the middle of it.
 * 3. **Commands first.** A message `isUrgent` says is first (after urgent ones already waiting)
 *    in the queue instead of last: the box's `cmd/<actuator>` for a siren must not wait behind
 *    thousands of readings and events. Only the box can publish there (acl.ts), and broker.ts
 *    marks its own publishes, so a client cannot jump the queue. Deliveries themselves never
 *    wait on a socket (client-output.ts), so a queue is rare; this is for the one that forms
 *    in a burst.
 * 4. **Readings bypass it.** A message `isDirect` says was delivered by the broker itself
 *    (device readings, reading-rate.ts) completes on the next turn without entering the
 *    emitter: no slot, no queue, and the device's next packets are read after it.
 */
import type { Aedes, AedesPublishPacket } from 'aedes';

type Done = (err?: Error) => void;

/** The part of mqemitter 7.1.0 this file relies on (mqemitter.js). */
interface MqEmitter {
  concurrency: number;
  current: number;
  _doing: boolean;
  _messageQueue: AedesPublishPacket[];
  _messageCallbacks: Done[];
  _released(): void;
  emit(packet: AedesPublishPacket, cb?: Done): unknown;
  _do(packet: AedesPublishPacket, cb: Done): unknown;
}

function emitterOf(aedes: Aedes): MqEmitter {
  const mq = (aedes as unknown as { mq: MqEmitter }).mq;
  for (const key of ['_messageQueue', '_messageCallbacks', '_do', '_released'] as const) {
    if (!(key in mq)) throw new Error(`aedes' mqemitter has no ${key}: mq-schedule.ts needs checking against this version`);
  }
  return mq;
}

/** Call once after `new Aedes()` and before `listen()`. */
export function scheduleDeliveries(aedes: Aedes, isUrgent: (packet: AedesPublishPacket) => boolean, isDirect: (packet: AedesPublishPacket) => boolean = () => false): void {
  const mq = emitterOf(aedes);
  const start = mq._do.bind(mq);
  let counter = 0;
  let running = false;
  const waiting: [AedesPublishPacket, Done][] = [];
  mq._do = (packet, cb) => {
    waiting.push([packet, cb]);
    if (running) return mq;
    running = true;
    try {
      for (let next = waiting.shift(); next; next = waiting.shift()) {
        if (next[0].brokerId) next[0].brokerCounter = ++counter;
        start(next[0], next[1]);
      }
    } finally {
      running = false;
    }
    return mq;
  };

  const emit = mq.emit.bind(mq);
  const urgentQueued = new WeakSet<AedesPublishPacket>();
  mq.emit = (packet, cb) => {
    if (isDirect(packet)) {
      if (cb) setImmediate(cb);
      return mq;
    }
    if (!isUrgent(packet) || mq.concurrency === 0 || mq.current < mq.concurrency || !mq._doing) return emit(packet, cb);
    let at = 0;
    while (at < mq._messageQueue.length && urgentQueued.has(mq._messageQueue[at]!)) at++;
    urgentQueued.add(packet);
    mq._messageQueue.splice(at, 0, packet);
    mq._messageCallbacks.splice(at, 0, cb ?? (() => undefined));
    return mq;
  };
}
