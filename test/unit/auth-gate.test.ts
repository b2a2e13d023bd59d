// The gates in front of scrypt (gateway/broker/auth-gate.ts): token buckets with an injected
// clock, and lanes bounding running and waiting checks.
import { describe, expect, it } from 'vitest';
import { CheckLane, KeyedBuckets, TokenBucket, type Release } from '../../gateway/broker/auth-gate.ts';

describe('TokenBucket', () => {
  it('allows a burst, then refills at its rate up to the burst', () => {
    let t = 0;
    const b = new TokenBucket({ burst: 3, perSecond: 2 }, () => t);
    for (let i = 0; i < 3; i++) {
      expect(b.available()).toBe(true);
      b.take();
    }
    expect(b.available()).toBe(false);
    t += 499;
    expect(b.available()).toBe(false);
    t += 1;
    expect(b.available()).toBe(true);
    b.take();
    expect(b.available()).toBe(false);
    t += 60_000;
    for (let i = 0; i < 3; i++) b.take();
    expect(b.available()).toBe(false); // never more than the burst
  });

  it('keeps one bucket per key, bounded', () => {
    let t = 0;
    const b = new KeyedBuckets({ burst: 1, perSecond: 1 }, () => t, 2);
    b.take('rg1');
    expect(b.available('rg1')).toBe(false);
    expect(b.available('wl1')).toBe(true);
    t += 1000;
    expect(b.available('rg1')).toBe(true);
  });
});

describe('CheckLane', () => {
  it('runs at most `concurrency` checks, queues `maxWaiting` more and refuses the rest', async () => {
    const lane = new CheckLane({ concurrency: 2, perUsername: 2, maxWaiting: 3 });
    const started: number[] = [];
    const entries = Array.from({ length: 7 }, (_, i) => {
      const p = lane.tryEnter('u', () => false);
      void p?.then((r) => r && started.push(i));
      return p;
    });
    expect(entries.map((e) => e !== null)).toEqual([true, true, true, true, true, false, false]);
    const releases = (await Promise.all(entries.slice(0, 2))) as Release[];
    expect(lane.active).toBe(2);
    expect(lane.hasRoom('u')).toBe(false);
    releases[0]!();
    releases[0]!(); // a second call does nothing
    await Promise.resolve();
    expect(started).toEqual([0, 1, 2]);
    expect(lane.active).toBe(2);
  });

  it('holds one username to `perUsername` running checks and lets another pass it', async () => {
    const lane = new CheckLane({ concurrency: 2, perUsername: 1, maxWaiting: 4 });
    const a1 = await lane.tryEnter('rg1', () => false);
    const order: string[] = [];
    void lane.tryEnter('rg1', () => false)!.then((r) => r && order.push('rg1'));
    void lane.tryEnter('wl1', () => false)!.then((r) => r && order.push('wl1'));
    await Promise.resolve();
    expect(order).toEqual(['wl1']); // free slot, but rg1 already has its one
    a1!();
    await Promise.resolve();
    expect(order).toEqual(['wl1', 'rg1']);
  });

  it('skips a waiting check whose client has gone, without giving it a slot', async () => {
    const lane = new CheckLane({ concurrency: 1, perUsername: 1, maxWaiting: 4 });
    const first = await lane.tryEnter('a', () => false);
    let gone = false;
    const leaving = lane.tryEnter('b', () => gone)!;
    const staying = lane.tryEnter('c', () => false)!;
    gone = true;
    first!();
    expect(await leaving).toBeNull();
    const r = await staying;
    expect(r).toBeTypeOf('function');
    expect(lane.active).toBe(1);
  });
});
