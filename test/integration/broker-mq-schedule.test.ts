// mq-schedule.ts on a real Aedes (no sockets needed: subscribers are aedes.subscribe() callbacks
// that hold their delivery callbacks, as a client waiting on a full socket did).
import { Aedes, type AedesPublishPacket } from 'aedes';
import { afterEach, describe, expect, it } from 'vitest';
import { scheduleDeliveries } from '../../gateway/broker/mq-schedule.ts';

type Cb = () => void;
let aedes: Aedes | undefined;

afterEach(async () => {
  await new Promise<void>((r) => (aedes ? aedes.close(() => r()) : r()));
  aedes = undefined;
});

function publish(a: Aedes, topic: string, payload: Buffer): Promise<void> {
  return new Promise((resolve, reject) => a.publish({ cmd: 'publish', topic, payload, qos: 0, retain: false, dup: false }, (err) => (err ? reject(err) : resolve())));
}

function subscribe(a: Aedes, topic: string, fn: (p: AedesPublishPacket, cb: Cb) => void): Promise<void> {
  return new Promise((r) => a.subscribe(topic, fn, () => r()));
}

describe('mq-schedule', () => {
  it('releases a backlog of 20,000 messages without recursion once the subscriber holding the slots lets go', async () => {
    const urgent = new WeakSet<Buffer>();
    aedes = new Aedes({ concurrency: 256 });
    scheduleDeliveries(aedes, (p) => urgent.has(p.payload as Buffer));
    const held: Cb[] = [];
    const frozen = (_p: AedesPublishPacket, cb: Cb): void => void held.push(cb);
    await subscribe(aedes, 'r/#', frozen);
    const done = Array.from({ length: 20_000 }, (_, i) => publish(aedes!, `r/${i}`, Buffer.from(String(i))));
    await new Promise((r) => setImmediate(r));
    expect(held.length).toBe(256);
    // The frozen subscriber goes: the 19,744 queued messages now match nobody and complete
    // synchronously, which recursed once per message (RangeError without mq-schedule.ts).
    await new Promise<void>((r) => aedes!.unsubscribe('r/#', frozen, () => r()));
    for (const cb of held.splice(0)) cb();
    await Promise.all(done);
    expect(held.length).toBe(0);
  });

  it('puts an urgent message ahead of the queue, and numbers packets in the order they are delivered', async () => {
    const urgent = new WeakSet<Buffer>();
    aedes = new Aedes({ concurrency: 4 });
    scheduleDeliveries(aedes, (p) => urgent.has(p.payload as Buffer));
    const held: Cb[] = [];
    const seen: [string, number][] = [];
    await subscribe(aedes, '#', (p, cb) => {
      seen.push([p.topic, p.brokerCounter]);
      held.push(cb);
    });
    const all: Promise<void>[] = [];
    for (let i = 0; i < 10; i++) all.push(publish(aedes, `r/${i}`, Buffer.from('x')));
    for (const c of ['cmd/a', 'cmd/b']) {
      const payload = Buffer.from(c);
      urgent.add(payload);
      all.push(publish(aedes, c, payload));
    }
    await new Promise((r) => setImmediate(r));
    while (seen.length < 12) {
      if (held.length === 0) throw new Error(`stuck at ${seen.map(([t]) => t).join()}`);
      held.shift()!();
      await new Promise((r) => setImmediate(r));
    }
    for (const cb of held.splice(0)) cb();
    await Promise.all(all);
    // Four were in delivery; the two commands, in their order, before the six still queued.
    expect(seen.map(([t]) => t)).toEqual(['r/0', 'r/1', 'r/2', 'r/3', 'cmd/a', 'cmd/b', 'r/4', 'r/5', 'r/6', 'r/7', 'r/8', 'r/9']);
    const counters = seen.map(([, n]) => n);
    expect(counters).toEqual([...counters].sort((a, b) => a - b));
  });
});
