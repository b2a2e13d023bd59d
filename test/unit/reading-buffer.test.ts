import { describe, expect, it } from 'vitest';
import { ReadingBuffer, rowsBatch, type ReadingBatch } from '../../gateway/store/readings.ts';
import type { ReadingRow } from '../../gateway/store/types.ts';

/** What each write saw, copied out while the batch was valid. */
function rig(max = 3): { buf: ReadingBuffer; writes: ReadingRow[][]; during: (fn: () => void) => void } {
  const writes: ReadingRow[][] = [];
  let hook: (() => void) | null = null;
  const buf = new ReadingBuffer(60_000, max, (b: ReadingBatch) => {
    const rows: ReadingRow[] = [];
    for (let i = 0; i < b.size; i++) rows.push({ sensor: b.sensor[i]!, quality: b.quality[i]!, atWall: b.atWall[i]!, value: Number.isNaN(b.value[i]!) ? null : b.value[i]! });
    writes.push(rows);
    const h = hook;
    hook = null;
    h?.();
  });
  return { buf, writes, during: (fn) => (hook = fn) };
}

const row = (sensor: string, value: number | null, atWall: number): ReadingRow => ({ sensor, value, quality: value === null ? 'error' : 'good', atWall });

describe('the reading buffer', () => {
  it('hands over readings in order, a missing value as null, and reuses its columns without leaking old rows', () => {
    const { buf, writes } = rig(3);
    buf.add(row('rg1', 1.5, 10));
    buf.add(row('wl1', null, 11));
    buf.add(row('rg1', 2.5, 12)); // full: written at once
    buf.add(row('sm1', 0, 13));
    buf.flush();
    buf.flush(); // nothing waits: no empty write
    expect(writes).toEqual([[row('rg1', 1.5, 10), row('wl1', null, 11), row('rg1', 2.5, 12)], [row('sm1', 0, 13)]]);
    expect(buf.size).toBe(0);
  });

  it('readings added while a batch is being written wait for the next one', () => {
    const { buf, writes, during } = rig(2);
    during(() => buf.add(row('late', 9, 99)));
    buf.add(row('a', 1, 1));
    buf.add(row('b', 2, 2));
    expect(buf.size).toBe(1);
    buf.flush();
    expect(writes).toEqual([[row('a', 1, 1), row('b', 2, 2)], [row('late', 9, 99)]]);
  });

  it('discard() throws away only what waits and says how many; a batch being written is not counted', () => {
    const { buf, writes, during } = rig(2);
    const discarded: number[] = [];
    during(() => discarded.push(buf.discard()));
    buf.add(row('a', 1, 1));
    buf.add(row('b', 2, 2));
    expect(discarded).toEqual([0]);
    buf.add(row('c', 3, 3));
    expect(buf.discard()).toBe(1);
    buf.flush();
    expect(writes).toHaveLength(1);
  });

  it('a failing write still empties the batch (the writer counts the loss)', () => {
    let calls = 0;
    const buf = new ReadingBuffer(60_000, 2, () => {
      calls++;
      throw new Error('disk');
    });
    buf.add(row('a', 1, 1));
    expect(() => buf.add(row('b', 2, 2))).toThrow('disk');
    expect(buf.size).toBe(0);
    buf.flush();
    expect(calls).toBe(1);
  });

  it('rowsBatch builds the same columns from objects', () => {
    const b = rowsBatch([row('a', null, 5), row('b', 7, 6)]);
    expect(b.size).toBe(2);
    expect(b.sensor).toEqual(['a', 'b']);
    expect(Number.isNaN(b.value[0]!)).toBe(true);
    expect(b.value[1]).toBe(7);
    expect([...b.atWall]).toEqual([5, 6]);
  });
});
