/**
 * The broker's input scheduler (read-turns.ts InputTurns) with turns of our own: a quiet
 * connection is read at once while the loop turn's budget lasts; a backlogged one only in a
 * slice; quiet ones waiting go first in a slice; a slice ends at its bytes or its time; a
 * connection gone is skipped; one stopped in the middle of its turn comes back.
 */
import { describe, expect, it } from 'vitest';
import { InputTurns } from '../../gateway/broker/read-turns.ts';

interface FakeTurn {
  backlogged: boolean;
  queued: boolean;
  granted: boolean;
  closed: boolean;
  gone(): boolean;
  kick(): void;
}

const nextTurn = (): Promise<void> => new Promise((r) => setImmediate(r));

/** A connection that, when kicked, takes `bytes` and says whether more is left (`left` times). */
function conn(turns: InputTurns, name: string, order: string[], bytes: number, left = 0): FakeTurn {
  const t: FakeTurn = {
    backlogged: false,
    queued: false,
    granted: false,
    closed: false,
    gone: () => t.closed,
    kick: () => {
      if (!turns.mayRead(t)) return;
      order.push(name);
      turns.took(t, bytes, left-- > 0);
    },
  };
  return t;
}

describe('InputTurns', () => {
  it('reads a quiet connection at once, and queues it once the loop turn has spent its budget', async () => {
    const turns = new InputTurns({ sliceBytes: 1000, sliceMs: 1e9, turnBytes: 400 });
    const order: string[] = [];
    const a = conn(turns, 'a', order, 600);
    const b = conn(turns, 'b', order, 600);
    expect(turns.mayRead(a)).toBe(true);
    turns.took(a, 600, false);
    expect(turns.mayRead(b)).toBe(true); // 600 < 1000
    turns.took(b, 600, false);
    const c = conn(turns, 'c', order, 100);
    expect(turns.mayRead(c)).toBe(false); // 1,200 spent this loop turn
    expect(c.queued).toBe(true);
    await nextTurn();
    expect(order).toEqual(['c']);
    expect(turns.waiting).toBe(0);
  });

  it('a connection that had more waiting than its turn is read only in a slice, round-robin', async () => {
    const turns = new InputTurns({ sliceBytes: 1000, sliceMs: 1e9, turnBytes: 400 });
    const order: string[] = [];
    const a = conn(turns, 'a', order, 400, 99);
    const b = conn(turns, 'b', order, 400, 99);
    a.kick();
    b.kick();
    expect(order).toEqual(['a', 'b']);
    expect(a.backlogged && b.backlogged).toBe(true);
    // Their next reads (aedes asks again once their packets are done) wait for a slice.
    expect(turns.mayRead(a)).toBe(false);
    expect(turns.mayRead(b)).toBe(false);
    await nextTurn();
    // 1,000 bytes a slice: three turns of 400 (the third passes the budget and ends it).
    expect(order).toEqual(['a', 'b', 'a', 'b']);
    expect(turns.slices).toBe(1);
  });

  it('ends a slice at its bytes, and goes on in the next loop turn', async () => {
    const turns = new InputTurns({ sliceBytes: 800, sliceMs: 1e9, turnBytes: 400 });
    const order: string[] = [];
    const list = ['a', 'b', 'c', 'd', 'e'].map((n) => conn(turns, n, order, 400, 1));
    for (const t of list) {
      t.backlogged = true;
      expect(turns.mayRead(t)).toBe(false);
    }
    await nextTurn();
    expect(order).toEqual(['a', 'b']);
    await nextTurn();
    expect(order).toEqual(['a', 'b', 'c', 'd']);
    await nextTurn();
    expect(order).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(turns.waiting).toBe(0);
  });

  it('ends a slice at its time', async () => {
    let now = 0;
    const turns = new InputTurns({ sliceBytes: 1e9, sliceMs: 3, turnBytes: 400 }, () => now);
    const order: string[] = [];
    const list = ['a', 'b', 'c'].map((n) => {
      const t = conn(turns, n, order, 10);
      const kick = t.kick;
      t.kick = () => {
        kick();
        now += 2; // each turn takes 2 ms
      };
      t.backlogged = true;
      turns.mayRead(t);
      return t;
    });
    await nextTurn();
    expect(order).toEqual(['a', 'b']);
    await nextTurn();
    expect(order).toEqual(['a', 'b', 'c']);
    expect(list.every((t) => !t.queued)).toBe(true);
  });

  it('quiet connections waiting go ahead of backlogged ones in a slice', async () => {
    const turns = new InputTurns({ sliceBytes: 400, sliceMs: 1e9, turnBytes: 400 });
    const order: string[] = [];
    const heavy = ['h1', 'h2', 'h3'].map((n) => {
      const t = conn(turns, n, order, 400, 1);
      t.backlogged = true;
      turns.mayRead(t);
      return t;
    });
    // The loop turn's budget spent by another quiet read, then the probe: queued, but as quiet.
    const other = conn(turns, 'other', order, 600);
    other.kick();
    const probe = conn(turns, 'probe', order, 50);
    expect(turns.mayRead(probe)).toBe(false);
    await nextTurn();
    expect(order).toEqual(['other', 'probe', 'h1']);
    expect(heavy[1]!.queued).toBe(true);
  });

  it('skips a connection that closed while it waited', async () => {
    const turns = new InputTurns({ sliceBytes: 1000, sliceMs: 1e9, turnBytes: 400 });
    const order: string[] = [];
    const a = conn(turns, 'a', order, 100);
    const b = conn(turns, 'b', order, 100);
    a.backlogged = b.backlogged = true;
    turns.mayRead(a);
    turns.mayRead(b);
    a.closed = true;
    await nextTurn();
    expect(order).toEqual(['b']);
    expect(turns.granted).toBe(1);
  });

  it('a connection stopped in the middle of its turn (mayGoOn false) is queued as backlogged and comes back', async () => {
    const turns = new InputTurns({ sliceBytes: 500, sliceMs: 1e9, turnBytes: 400 });
    const order: string[] = [];
    const a = conn(turns, 'a', order, 600);
    a.kick();
    expect(turns.mayGoOn()).toBe(false);
    turns.requeue(a);
    expect(a.backlogged && a.queued).toBe(true);
    await nextTurn();
    expect(order).toEqual(['a', 'a']);
  });

  it('renews the budget after each loop turn, whether anything waited or not', async () => {
    const turns = new InputTurns({ sliceBytes: 500, sliceMs: 1e9, turnBytes: 400 });
    const order: string[] = [];
    const a = conn(turns, 'a', order, 450);
    a.kick(); // 450 spent
    a.kick(); // 450 < 500: read, 900 spent
    a.kick(); // over: not read
    expect(order).toEqual(['a', 'a']);
    expect(a.queued).toBe(true);
    await nextTurn();
    expect(order).toEqual(['a', 'a', 'a']);
    // Nothing waits now; a quiet read in the next loop turn has a budget of its own.
    a.kick();
    a.kick();
    expect(order).toEqual(['a', 'a', 'a', 'a', 'a']);
    await nextTurn();
    expect(turns.waiting).toBe(0);
    a.kick();
    expect(order).toHaveLength(6);
  });
});
