import { describe, expect, it } from 'vitest';
import { Outbox, type Send, type SideMessage } from '../../gateway/uplink/outbox.ts';

type E = { seq: number };
const ev = (...seqs: number[]): E[] => seqs.map((seq) => ({ seq }));

/** Everything next() hands out now, as short labels: `b5` backlog seq 5, `l7` live seq 7, `s:topic`. */
function drain(o: Outbox<E>, now = 0): string[] {
  const out: string[] = [];
  for (let s: Send<E> | null; (s = o.next(now)); ) out.push(s.kind === 'event' ? `${s.lane[0]}${s.event.seq}` : `s:${s.msg.topic}`);
  return out;
}
const side = (topic: string, key?: string, qos: 0 | 1 = 1): SideMessage => ({ topic, payload: topic, retain: key !== undefined, qos, key });

function online(acked = 0, window = 64, durable = 1_000_000): Outbox<E> {
  const o = new Outbox<E>({ acked, window });
  o.setDurable(durable);
  o.linkUp();
  return o;
}

describe('uplink outbox', () => {
  it('sends the backlog in seq order up to the window, and the cursor moves only on PUBACK, contiguously', () => {
    const o = online(0, 4); // 3 for the backlog, 1 kept for the live lane
    o.addPage(ev(1, 2, 3, 4, 5), true, 5);
    expect(drain(o)).toEqual(['b1', 'b2', 'b3']);
    expect(o.acked).toBe(0);
    expect(o.ackEvent(2)).toBe(false); // 1 still in flight: not contiguous
    expect(o.acked).toBe(0);
    expect(drain(o)).toEqual(['b4']);
    expect(o.ackEvent(1)).toBe(true);
    expect(o.acked).toBe(2);
    expect(drain(o)).toEqual(['b5']);
    o.ackEvent(3);
    o.ackEvent(5);
    expect(o.acked).toBe(3);
    o.ackEvent(4);
    expect(o.acked).toBe(5);
    expect(drain(o)).toEqual([]);
  });

  it('gaps in the log are not losses: the cursor moves over the log order, not over integers', () => {
    const o = online();
    o.addPage(ev(3, 10, 11), true, 20);
    expect(drain(o)).toEqual(['b3', 'b10', 'b11']);
    o.ackEvent(3);
    expect(o.acked).toBe(3);
    o.ackEvent(11);
    o.ackEvent(10);
    // The log held nothing more up to 20 when read: everything up to it is at the township.
    expect(o.acked).toBe(20);
  });

  it('never sends above the durable seq; events above it wait for a later page', () => {
    const o = new Outbox<E>({ acked: 0, window: 64 });
    o.linkUp();
    o.setDurable(2);
    expect(o.wantsPage(100)).toBe(0);
    o.addPage(ev(1, 2, 3, 4), false, 2);
    expect(drain(o)).toEqual(['b1', 'b2']);
    expect(o.wantsPage(100)).toBeNull(); // nothing durable left to read
    o.setDurable(4);
    expect(o.wantsPage(100)).toBe(2);
    o.addPage(ev(3, 4), true, 4);
    expect(drain(o)).toEqual(['b3', 'b4']);
  });

  it('asks for a page only when few are waiting', () => {
    const o = online(0, 1);
    o.addPage(ev(1, 2, 3), false, 1000);
    expect(o.wantsPage(3)).toBeNull();
    drain(o);
    expect(o.wantsPage(3)).toBe(3);
  });

  it('a page read twice (or overlapping) adds nothing twice', () => {
    const o = online();
    o.addPage(ev(1, 2), false, 10);
    o.addPage(ev(1, 2, 3), true, 10);
    expect(drain(o)).toEqual(['b1', 'b2', 'b3']);
  });

  it('nothing goes out while offline; on link loss everything in flight waits again and goes out in order', () => {
    const o = new Outbox<E>({ acked: 0, window: 5 });
    o.setDurable(100);
    o.addPage(ev(1, 2, 3, 4, 5, 6), true, 6);
    expect(drain(o)).toEqual([]);
    o.linkUp();
    expect(drain(o)).toEqual(['b1', 'b2', 'b3', 'b4']);
    o.ackEvent(1);
    o.ackEvent(3);
    o.linkDown();
    expect(o.inflight()).toBe(0);
    expect(drain(o)).toEqual([]);
    o.linkUp();
    // 3 was acknowledged: not resent; 2 and 4 (in flight when the link died) are.
    expect(drain(o)).toEqual(['b2', 'b4', 'b5', 'b6']);
    expect(o.ackEvent(3)).toBe(false); // a late answer from the dead link changes nothing
    for (const s of [2, 4, 5, 6]) o.ackEvent(s);
    expect(o.acked).toBe(6);
  });

  it('a PUBACK for something never sent is ignored', () => {
    const o = online();
    o.addPage(ev(1, 2), true, 2);
    expect(o.ackEvent(2)).toBe(false);
    expect(o.ackEvent(99)).toBe(false);
    expect(o.acked).toBe(0);
  });

  it('live first: an urgent event goes ahead of the backlog, and the backlog does not send it again', () => {
    const o = online(0, 3);
    o.addPage(ev(1, 2, 3, 4), false, 10);
    expect(drain(o)).toEqual(['b1', 'b2']);
    o.urgent({ seq: 9 });
    o.ackEvent(1);
    expect(drain(o)).toEqual(['l9']);
    o.ackEvent(9);
    o.ackEvent(2);
    expect(o.acked).toBe(2);
    expect(drain(o)).toEqual(['b3', 'b4']);
    o.ackEvent(3);
    o.ackEvent(4);
    o.addPage(ev(5, 9, 10), true, 10);
    expect(drain(o)).toEqual(['b5', 'b10']);
    o.ackEvent(5);
    expect(o.acked).toBe(9); // 9 came through the live lane
    o.ackEvent(10);
    expect(o.acked).toBe(10);
  });

  it('an urgent event the backlog has read but not sent is taken over by the live lane; one in flight is left alone', () => {
    const o = online(0, 1);
    o.addPage(ev(1, 2, 3), true, 3);
    expect(drain(o)).toEqual(['b1']);
    o.urgent({ seq: 1 }); // in flight already
    o.urgent({ seq: 3 });
    o.ackEvent(1);
    expect(drain(o)).toEqual(['l3']);
    o.ackEvent(3);
    expect(o.acked).toBe(1); // 2 is not there yet
    expect(drain(o)).toEqual(['b2']);
    o.ackEvent(2);
    expect(o.acked).toBe(3);
  });

  it('an urgent event waits for durability, without holding up the durable backlog', () => {
    const o = new Outbox<E>({ acked: 0, window: 8 });
    o.linkUp();
    o.setDurable(2);
    o.addPage(ev(1, 2), true, 2);
    o.urgent({ seq: 3 });
    expect(drain(o)).toEqual(['b1', 'b2']);
    o.setDurable(3);
    expect(drain(o)).toEqual(['l3']);
  });

  it('the live lane is not sent again after an ack, nor queued twice, nor queued when already acknowledged', () => {
    const o = online(5);
    o.urgent({ seq: 4 });
    o.urgent({ seq: 7 });
    o.urgent({ seq: 7 });
    expect(drain(o)).toEqual(['l7']);
    o.ackEvent(7);
    o.urgent({ seq: 7 });
    expect(drain(o)).toEqual([]);
  });

  it('a live event in flight when the link dies goes out first again, ahead of the backlog', () => {
    const o = online(0, 3);
    o.addPage(ev(1, 2, 3), true, 3);
    o.urgent({ seq: 8 });
    expect(drain(o)).toEqual(['l8', 'b1']);
    o.linkDown();
    o.linkUp();
    expect(drain(o)).toEqual(['l8', 'b1']);
  });

  it('urgent events beyond the live bound wait in the backlog only, counted', () => {
    const o = new Outbox<E>({ acked: 0, window: 64, liveLimit: 2 });
    o.urgent({ seq: 1 });
    o.urgent({ seq: 2 });
    o.urgent({ seq: 3 });
    expect(o.counts.liveOverflow).toBe(1);
    o.setDurable(3);
    o.linkUp();
    o.addPage(ev(1, 2, 3), true, 3);
    expect(drain(o)).toEqual(['l1', 'l2', 'b3']);
  });

  it('side messages go after the events logged before them, share the window, and QoS 0 ones are never in flight', () => {
    const o = online(0, 3);
    o.addSide(side('alert/a'), 2);
    o.addPage(ev(1, 2, 3), true, 3);
    expect(drain(o)).toEqual(['b1', 'b2']);
    o.ackEvent(1);
    expect(drain(o)).toEqual(['b3']);
    o.ackEvent(2);
    expect(drain(o)).toEqual(['s:alert/a']);
    expect(o.inflight()).toBe(2);
    o.addSide(side('rollup', undefined, 0), 3);
    o.ackEvent(3);
    expect(drain(o)).toEqual(['s:rollup']);
    expect(o.inflight()).toBe(1);
  });

  it('a side message waits for events not yet read or not yet durable', () => {
    const o = new Outbox<E>({ acked: 0, window: 8 });
    o.linkUp();
    o.setDurable(1);
    o.addSide(side('cap'), 2);
    o.addPage(ev(1), true, 1);
    expect(drain(o)).toEqual(['b1']);
    o.setDurable(2);
    expect(drain(o)).toEqual([]); // event 2 not read yet
    o.addPage(ev(2), true, 2);
    expect(drain(o)).toEqual(['b2', 's:cap']);
  });

  it('while waiting, side messages with the same key replace each other; others queue up to the bound, oldest unkeyed dropped', () => {
    const o = new Outbox<E>({ acked: 0, window: 8, sideLimit: 3 });
    o.addSide(side('alert/x', 'alert/x'), 0);
    o.addSide(side('r1'), 0);
    o.addSide({ ...side('alert/x', 'alert/x'), payload: 'newer' }, 0);
    expect(o.counts.sideReplaced).toBe(1);
    o.addSide(side('r2'), 0);
    o.addSide(side('r3'), 0);
    expect(o.counts.sideDropped).toBe(1);
    o.linkUp();
    const sent: string[] = [];
    for (let s; (s = o.next(0)); ) if (s.kind === 'side') sent.push(`${s.msg.topic}=${String(s.msg.payload)}`);
    expect(sent).toEqual(['alert/x=newer', 'r2=r2', 'r3=r3']); // r1 dropped; the replacement took the old one's place at the end
  });

  it('a side message in flight when the link dies goes out again, unless a newer one of its key came meanwhile', () => {
    const o = online(0, 8);
    const a = o.addSide(side('alert/a', 'alert/a'), 0);
    o.addSide(side('alert/b', 'alert/b'), 0);
    o.addSide(side('cap'), 0);
    expect(drain(o)).toEqual(['s:alert/a', 's:alert/b', 's:cap']);
    o.ackSide(a);
    o.linkDown();
    o.addSide({ ...side('alert/b', 'alert/b'), payload: 'v2' }, 0);
    o.linkUp();
    const sent: string[] = [];
    for (let s; (s = o.next(0)); ) if (s.kind === 'side') sent.push(`${s.msg.topic}=${String(s.msg.payload)}`);
    expect(sent).toEqual(['cap=cap', 'alert/b=v2']);
  });

  it('a refused event is not acknowledged and goes out again; a refused side message is dropped and counted', () => {
    const o = online(0, 8);
    o.addPage(ev(1, 2), true, 2);
    const id = o.addSide(side('cap'), 0);
    o.urgent({ seq: 5 });
    expect(drain(o)).toEqual(['l5', 'b1', 'b2', 's:cap']);
    o.refuseEvent(1);
    o.refuseEvent(5);
    o.refuseSide(id);
    expect(o.acked).toBe(0);
    expect(o.counts.sideRefused).toBe(1);
    expect(drain(o)).toEqual(['l5', 'b1']);
    o.ackEvent(1);
    o.ackEvent(2);
    expect(o.acked).toBe(2);
  });

  it('the window follows the broker\'s Receive Maximum when it is smaller', () => {
    const o = new Outbox<E>({ acked: 0, window: 64 });
    o.setDurable(100);
    o.addPage(ev(1, 2, 3, 4), true, 4);
    o.linkUp(3);
    expect(drain(o)).toEqual(['b1', 'b2']); // 3, one kept for the live lane
  });

  it('reports the oldest send waiting for its PUBACK (the deadline) and the first event not yet acknowledged', () => {
    const o = online(0, 8);
    o.addPage(ev(1, 2), true, 2);
    expect(o.oldestInflightAt()).toBeNull();
    o.next(100);
    o.next(150);
    expect(o.oldestInflightAt()).toBe(100);
    expect(o.firstUnacked()).toEqual({ seq: 1 });
    o.ackEvent(1);
    expect(o.oldestInflightAt()).toBe(150);
    o.ackEvent(2);
    expect(o.oldestInflightAt()).toBeNull();
    expect(o.firstUnacked()).toBeNull();
  });

  it('drains a long backlog page by page with memory bounded by the pages', () => {
    const o = online(0, 64, 100_000);
    let sent = 0;
    for (let guard = 0; o.acked < 100_000 && guard < 1_000_000; guard++) {
      const from = o.wantsPage(128);
      if (from !== null) {
        const page = ev(...Array.from({ length: Math.min(500, 100_000 - from) }, (_, i) => from + 1 + i));
        o.addPage(page, page.length < 500, 100_000);
      }
      const batch: number[] = [];
      for (let s; (s = o.next(0)); ) if (s.kind === 'event') batch.push(s.event.seq);
      sent += batch.length;
      for (const seq of batch) o.ackEvent(seq);
    }
    expect(o.acked).toBe(100_000);
    expect(sent).toBe(100_000);
  });
});

describe('uplink outbox: the box\'s own replies', () => {
  it('go right after the live lane, ahead of a waiting backlog, and replace each other by key', () => {
    const o = online(0, 3);
    o.addPage(ev(1, 2, 3, 4), true, 4);
    o.addSide(side('status', 'status'), 4, true);
    o.addSide({ ...side('status', 'status'), payload: 'v2' }, 4, true);
    o.addSide(side('cmd/box/result'), 4, true);
    o.urgent({ seq: 4 });
    const sent: string[] = [];
    for (let s; (s = o.next(0)); ) sent.push(s.kind === 'event' ? `${s.lane[0]}${s.event.seq}` : `${s.msg.topic}=${String(s.msg.payload)}`);
    expect(sent).toEqual(['l4', 'status=v2', 'cmd/box/result=cmd/box/result']);
  });
});

describe('uplink outbox: the live lane\'s reserve', () => {
  it('the backlog leaves an eighth of the window free, so an urgent event goes out without waiting for a PUBACK', () => {
    const o = online(0, 16);
    o.addPage(ev(...Array.from({ length: 40 }, (_, i) => i + 1)), true, 40);
    expect(drain(o)).toHaveLength(14);
    o.urgent({ seq: 41 });
    o.urgent({ seq: 42 });
    o.urgent({ seq: 43 });
    expect(drain(o)).toEqual(['l41', 'l42']); // then the window is full
    o.ackEvent(1);
    expect(drain(o)).toEqual(['l43']);
  });

  it('a window of one has no reserve', () => {
    const o = online(0, 1);
    o.addPage(ev(1, 2), true, 2);
    expect(drain(o)).toEqual(['b1']);
  });

  it('an urgent side message (first) goes ahead of a long backlog; a keyed one replaces a waiting one of its key in either queue', () => {
    const o = online(0, 4);
    o.addPage(ev(1, 2, 3, 4, 5, 6, 7, 8), false, 1000);
    o.addSide(side('alert/y', 'alert/y'), 8); // a yellow state: after the backlog
    o.addSide({ ...side('alert/y', 'alert/y'), payload: 'red' }, 8, true); // the same subject escalated to red: urgent
    expect(o.counts.sideReplaced).toBe(1);
    const first: string[] = [];
    for (let s; (s = o.next(0)); ) first.push(s.kind === 'event' ? `b${s.event.seq}` : `${s.msg.topic}=${String(s.msg.payload)}`);
    // The red state goes before the backlog's first event; the stale yellow never goes after it.
    expect(first).toEqual(['alert/y=red', 'b1', 'b2']);
    o.addSide({ ...side('alert/y', 'alert/y'), payload: 'yellow again' }, 8);
    o.addSide({ ...side('alert/y', 'alert/y'), payload: 'red again' }, 8, true);
    for (const seq of [1, 2]) o.ackEvent(seq);
    const next: string[] = [];
    for (let s; (s = o.next(0)); ) next.push(s.kind === 'event' ? `b${s.event.seq}` : `${s.msg.topic}=${String(s.msg.payload)}`);
    expect(next[0]).toBe('alert/y=red again');
    expect(next).not.toContain('alert/y=yellow again');
  });
});
