/**
 * The broker's input scheduler (read-turns.ts InputTurns) with turns of our own and a clock of
 * our own: a light connection (little sent lately) is read at once, whatever waits; a heavy or
 * backlogged one only in a slice, round-robin; a slice ends at its bytes or its time; what a
 * connection sent decays, so a heavy one that calms down is light again; a connection gone is
 * skipped; one stopped in the middle of its turn comes back.
 */
import { describe, expect, it } from 'vitest';
import { InputTurns, newTurn, type SliceLimits, type Turn } from '../../gateway/broker/read-turns.ts';

const nextTurn = (): Promise<void> => new Promise((r) => setImmediate(r));
const LIMITS: SliceLimits = { sliceBytes: 1000, sliceMs: 1e9, turnBytes: 400, lightBytes: 500, decayMs: 1000 };

interface Rig {
  turns: InputTurns;
  order: string[];
  clock: { now: number };
  /** A connection that takes `bytes` a turn, with more left for `left` turns. */
  conn(name: string, bytes: number, left?: number): Turn & { closed: boolean };
}

function rig(limits: Partial<SliceLimits> = {}): Rig {
  const clock = { now: 0 };
  const turns = new InputTurns({ ...LIMITS, ...limits }, () => clock.now);
  const order: string[] = [];
  return {
    turns,
    order,
    clock,
    conn(name, bytes, left = 0) {
      const t: Turn & { closed: boolean } = Object.assign(
        newTurn(
          (): boolean => t.closed,
          (): void => {
            if (!turns.mayRead(t)) return;
            order.push(name);
            turns.took(t, bytes, left-- > 0);
          },
        ),
        { closed: false },
      );
      return t;
    },
  };
}

describe('InputTurns', () => {
  it('reads a light connection at once, again and again, while it stays light', () => {
    const r = rig();
    const probe = r.conn('probe', 100);
    for (let i = 0; i < 4; i++) probe.kick();
    expect(r.order).toEqual(['probe', 'probe', 'probe', 'probe']);
    // 400 bytes lately: one more and it is over 500 — the next read waits for a slice.
    probe.kick();
    probe.kick();
    expect(r.order).toHaveLength(5);
    expect(probe.queued).toBe(true);
  });

  it('reads a light connection at once even while heavy ones wait', async () => {
    const r = rig();
    const heavy = ['h1', 'h2', 'h3'].map((n) => r.conn(n, 400, 99));
    for (const h of heavy) h.kick(); // light at first: read, and backlogged now
    for (const h of heavy) expect(r.turns.mayRead(h)).toBe(false);
    const probe = r.conn('probe', 60);
    probe.kick();
    expect(r.order).toEqual(['h1', 'h2', 'h3', 'probe']);
    await nextTurn();
    // 1,000 bytes a slice: three turns of 400 (the third passes the budget and ends it).
    expect(r.order).toEqual(['h1', 'h2', 'h3', 'probe', 'h1', 'h2', 'h3']);
    expect(r.turns.slices).toBe(1);
  });

  it('ends a slice at its bytes, and goes on in the next loop turn, round-robin', async () => {
    const r = rig({ sliceBytes: 800 });
    const list = ['a', 'b', 'c', 'd', 'e'].map((n) => r.conn(n, 400, 1));
    for (const t of list) {
      t.backlogged = true;
      expect(r.turns.mayRead(t)).toBe(false);
    }
    await nextTurn();
    expect(r.order).toEqual(['a', 'b']);
    await nextTurn();
    expect(r.order).toEqual(['a', 'b', 'c', 'd']);
    await nextTurn();
    expect(r.order).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(r.turns.waiting).toBe(0);
  });

  it('ends a slice at its time', async () => {
    const r = rig({ sliceBytes: 1e9, sliceMs: 3 });
    for (const n of ['a', 'b', 'c']) {
      const t = r.conn(n, 10);
      const kick = t.kick;
      t.kick = () => {
        kick();
        r.clock.now += 2; // each turn takes 2 ms
      };
      t.backlogged = true;
      r.turns.mayRead(t);
    }
    await nextTurn();
    expect(r.order).toEqual(['a', 'b']);
    await nextTurn();
    expect(r.order).toEqual(['a', 'b', 'c']);
  });

  it('what a connection sent decays: a heavy one that calms down is light again', () => {
    const r = rig();
    const c = r.conn('c', 400);
    c.kick();
    c.kick(); // 800 lately: heavy
    c.kick();
    expect(r.order).toEqual(['c', 'c']);
    expect(c.queued).toBe(true);
    c.queued = false; // (the slice would have served it; here time passes instead)
    r.clock.now += 1000; // 800 × e^-1 ≈ 294 < 500
    c.kick();
    expect(r.order).toEqual(['c', 'c', 'c']);
  });

  it('skips a connection that closed while it waited', async () => {
    const r = rig();
    const a = r.conn('a', 100);
    const b = r.conn('b', 100);
    a.backlogged = b.backlogged = true;
    r.turns.mayRead(a);
    r.turns.mayRead(b);
    a.closed = true;
    await nextTurn();
    expect(r.order).toEqual(['b']);
    expect(r.turns.granted).toBe(1);
  });

  it('a light connection that took more than light allows stops in the middle (mayGoOn) and comes back in a slice', async () => {
    const r = rig();
    const a = r.conn('a', 600);
    a.kick();
    expect(r.turns.mayGoOn(a)).toBe(false);
    r.turns.requeue(a);
    expect(a.backlogged && a.queued).toBe(true);
    await nextTurn();
    expect(r.order).toEqual(['a', 'a']);
  });

  it('inside a slice a connection goes on while the slice has bytes left', async () => {
    const r = rig({ sliceBytes: 1000 });
    const a = r.conn('a', 400, 9);
    a.backlogged = true;
    r.turns.mayRead(a);
    let goOn: boolean[] = [];
    a.kick = () => {
      if (!r.turns.mayRead(a)) return;
      r.order.push('a');
      r.turns.took(a, 400, true);
      goOn = [r.turns.mayGoOn(a)];
      r.turns.took(a, 400, true);
      goOn.push(r.turns.mayGoOn(a));
      r.turns.took(a, 400, true);
      goOn.push(r.turns.mayGoOn(a));
    };
    await nextTurn();
    expect(goOn).toEqual([true, true, false]);
  });
});
