/**
 * The uplink's read of the one-minute rollups, on a real SQLite file: readings added through
 * the store, rolled by the store's own rollup, read back for a range of minutes and turned into
 * township rollup messages.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { rollupMessages } from '../../gateway/uplink/rollup-out.ts';
import { MIN, openStore, peek, T0, tempDir } from '../helpers/store-rig.ts';
import { rollupRows } from '../../gateway/store/rollup-rows.ts';

let dir: string;
let path: string;
beforeEach(() => {
  dir = tempDir();
  path = join(dir, 'log.db');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const M0 = T0 / MIN;

describe('rollup rows for the uplink', () => {
  it('reads the rows of minutes in (after, through], minute then sensor, failed minutes included', async () => {
    const { store } = await openStore(path);
    for (let s = 0; s < 30; s++) {
      store.addReading({ sensor: 'wl1', value: 2 + s / 100, quality: 'good', atWall: T0 + s * 2000 });
      store.addReading({ sensor: 'rg1', value: 10 + s, quality: 'good', atWall: T0 + s * 2000 });
    }
    store.addReading({ sensor: 'rg1', value: 50, quality: 'good', atWall: T0 + MIN + 1000 });
    store.addReading({ sensor: 'sd1', value: null, quality: 'error', atWall: T0 + MIN + 2000 });
    store.addReading({ sensor: 'rg1', value: 60, quality: 'good', atWall: T0 + 2 * MIN + 1000 });
    store.flushReadings();
    store.rollup(T0 + 3 * MIN);

    expect(store.rollupRows(M0 - 1, M0 + 1)).toEqual([
      { sensor: 'rg1', minute: M0, n: 30, errors: 0, min: 10, max: 39, mean: 24.5, last: 39 },
      { sensor: 'wl1', minute: M0, n: 30, errors: 0, min: 2, max: 2.29, mean: expect.closeTo(2.145, 9), last: 2.29 },
      { sensor: 'rg1', minute: M0 + 1, n: 1, errors: 0, min: 50, max: 50, mean: 50, last: 50 },
      { sensor: 'sd1', minute: M0 + 1, n: 0, errors: 1, min: null, max: null, mean: null, last: null },
    ]);
    // Exclusive below, inclusive above.
    expect(store.rollupRows(M0, M0 + 2).map((r) => r.minute)).toEqual([M0 + 1, M0 + 1, M0 + 2]);
    expect(store.rollupRows(M0 + 2, M0 + 2)).toEqual([]);
    expect(store.rollupRows(M0 + 5, M0 + 2)).toEqual([]);

    // What the uplink sends for them.
    const { messages, cursor } = rollupMessages({ id: 'demo', utcOffset: '+08:00' }, store.rollupRows(M0 - 1, M0 + 2), M0 - 1, T0 + 5 * MIN);
    expect(cursor).toBe(M0 + 2);
    expect(messages.map((m) => Object.keys(JSON.parse(m.payload as string).sensors))).toEqual([['rg1', 'wl1'], ['rg1', 'sd1'], ['rg1']]);
    await store.stop();
    // The same rows on disk, read by a plain connection.
    expect(peek(path, (db) => rollupRows(db, M0 - 1, M0 + 2)).length).toBe(5);
  });

  it('rejects minutes that are not integers, and reads nothing from a store not open', async () => {
    const { store } = await openStore(path);
    expect(() => store.rollupRows(M0 + 0.5, M0 + 2)).toThrow(RangeError);
    expect(() => store.rollupRows(M0, Number.NaN)).toThrow(RangeError);
    await store.stop();
    expect(store.rollupRows(M0 - 1, M0 + 2)).toEqual([]);
  });
});
