import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import Database from 'better-sqlite3';
import { READ_CHUNK, rollupSteps } from '../../gateway/store/rollup.ts';
import { READING_FLUSH_MS } from '../../gateway/store/event-store.ts';
import { count, DAY, MIN, openStore, peek, T0, tempDir } from '../helpers/store-rig.ts';

let dir: string;
let path: string;
beforeEach(() => {
  dir = tempDir();
  path = join(dir, 'log.db');
});
afterEach(() => {
  vi.useRealTimers();
  rmSync(dir, { recursive: true, force: true });
});

const rollups = (p: string): unknown[] => peek(p, (db) => db.prepare('SELECT sensor, minute, n, errors, min, max, mean, last FROM readings_1m ORDER BY minute, sensor').all());

describe('raw readings are batched', () => {
  it('commits a full batch of 1000 at once, in one transaction', async () => {
    const { store } = await openStore(path, { readingFlushMs: 60_000 });
    for (let i = 0; i < 999; i++) store.addReading({ sensor: 'rg1', value: i, quality: 'good', atWall: T0 + i });
    expect(count(path, 'readings')).toBe(0);
    store.addReading({ sensor: 'rg1', value: 999, quality: 'good', atWall: T0 + 999 });
    expect(count(path, 'readings')).toBe(1000);
    store.addReading({ sensor: 'rg1', value: null, quality: 'error', atWall: T0 + 1000 });
    expect(count(path, 'readings')).toBe(1000);
    await store.stop(); // stop flushes what waits
    expect(count(path, 'readings')).toBe(1001);
    expect(peek(path, (db) => db.prepare('SELECT * FROM readings WHERE at_wall = ?').get(T0 + 1000))).toEqual({ sensor: 'rg1', at_wall: T0 + 1000, value: null, quality: 'error' });
  });

  it('commits what waits READING_FLUSH_MS after the first reading of a batch', async () => {
    vi.useFakeTimers();
    const { store } = await openStore(path);
    store.addReading({ sensor: 'rg1', value: 1, quality: 'good', atWall: T0 });
    vi.advanceTimersByTime(READING_FLUSH_MS - 50);
    store.addReading({ sensor: 'rg1', value: 2, quality: 'good', atWall: T0 + 150 });
    vi.advanceTimersByTime(49);
    expect(count(path, 'readings')).toBe(0);
    vi.advanceTimersByTime(1);
    expect(count(path, 'readings')).toBe(2);
    store.addReading({ sensor: 'rg1', value: 3, quality: 'good', atWall: T0 + 300 });
    store.flushReadings();
    expect(count(path, 'readings')).toBe(3);
    await store.stop();
  });
});

describe('one-minute rollups', () => {
  const M0 = T0 / MIN;

  it('rolls complete minutes only: n, errors, min, max, mean, last', async () => {
    const { store } = await openStore(path);
    const add = (sensor: string, value: number | null, at: number): void => store.addReading({ sensor, value, quality: value === null ? 'error' : 'good', atWall: at });
    add('rg1', 1, T0 + 1000);
    add('rg1', 5, T0 + 20_000);
    add('rg1', null, T0 + 30_000); // an error: counted, never a number
    add('rg1', 3, T0 + 59_000);
    add('wl1', 2.5, T0 + 59_999);
    add('wl1', null, T0 + MIN + 1); // a minute with only an error still gets a row
    add('rg1', 7, T0 + 2 * MIN + 5000); // the minute still filling: not rolled
    // rollup() flushes first, so readings still waiting for their batch count.
    expect(store.rollup(T0 + 2 * MIN + 10_000)).toBe(3);
    expect(rollups(path)).toEqual([
      { sensor: 'rg1', minute: M0, n: 3, errors: 1, min: 1, max: 5, mean: 3, last: 3 },
      { sensor: 'wl1', minute: M0, n: 1, errors: 0, min: 2.5, max: 2.5, mean: 2.5, last: 2.5 },
      { sensor: 'wl1', minute: M0 + 1, n: 0, errors: 1, min: null, max: null, mean: null, last: null },
    ]);
    // Idempotent: nothing new, nothing written.
    expect(store.rollup(T0 + 2 * MIN + 10_000)).toBe(0);
    expect(store.rollup(T0 + 2 * MIN + 59_999)).toBe(0);
    // The minute completes.
    expect(store.rollup(T0 + 3 * MIN)).toBe(1);
    expect(rollups(path)).toHaveLength(4);
    await store.stop();
  });

  it('folds in a reading that arrives after its minute was rolled', async () => {
    const { store } = await openStore(path);
    store.addReading({ sensor: 'rg1', value: 4, quality: 'good', atWall: T0 + 10_000 });
    expect(store.rollup(T0 + MIN + 1000)).toBe(1);
    store.addReading({ sensor: 'rg1', value: 8, quality: 'good', atWall: T0 + 50_000 }); // late
    expect(store.rollup(T0 + MIN + 2000)).toBe(1);
    expect(rollups(path)).toEqual([{ sensor: 'rg1', minute: M0, n: 2, errors: 0, min: 4, max: 8, mean: 6, last: 8 }]);
    expect(store.rollup(T0 + MIN + 3000)).toBe(0);
    await store.stop();
  });

  it('keeps rolling when the wall clock steps back behind its mark', async () => {
    const { store } = await openStore(path);
    store.addReading({ sensor: 'rg1', value: 1, quality: 'good', atWall: T0 + DAY });
    expect(store.rollup(T0 + DAY + MIN)).toBe(1); // the clock was a day ahead
    store.addReading({ sensor: 'rg1', value: 2, quality: 'good', atWall: T0 + 1000 }); // corrected
    expect(store.rollup(T0 + MIN)).toBe(1);
    expect(store.rollup(T0 + MIN)).toBe(0);
    await store.stop();
  });

  it('reads a big minute READ_CHUNK rows a step, then writes it by sensor, as one pass would', async () => {
    const { store } = await openStore(path, { readingFlushMs: 60_000 });
    const n = READ_CHUNK * 2 + READ_CHUNK / 2;
    for (let i = 0; i < n; i++) store.addReading({ sensor: i % 2 ? 'rg1' : 'wl1', value: i, quality: 'good', atWall: T0 + Math.floor((i * MIN) / n) });
    store.flushReadings();
    const db = new Database(path);
    const written: number[] = [];
    const rolled = (): number => (db.prepare('SELECT count(*) AS n FROM readings_1m').get() as { n: number }).n;
    const steps = rollupSteps(() => db, T0 + MIN, READ_CHUNK, 2500, 1);
    let r = steps.next();
    for (; !r.done; r = steps.next()) written.push(rolled());
    // Two reads write nothing; the third shares its step with the first row's transaction (writeChunk 1); the second row comes with the mark.
    expect(written).toEqual([0, 0, 1]);
    expect(r.value).toBe(2);
    db.close();
    const half = (odd: boolean): number[] => Array.from({ length: n }, (_, i) => i).filter((i) => (i % 2 === 1) === odd);
    const expectRow = (sensor: string, xs: number[]) => ({ sensor, minute: M0, n: xs.length, errors: 0, min: xs[0], max: xs.at(-1), mean: xs.reduce((a, b) => a + b, 0) / xs.length, last: xs.at(-1) });
    const rows = rollups(path) as { mean: number }[];
    expect(rows).toHaveLength(2);
    expect(rows.map((x) => ({ ...x, mean: Number(x.mean.toFixed(6)) }))).toEqual([expectRow('rg1', half(true)), expectRow('wl1', half(false))].sort((a, b) => a.sensor.localeCompare(b.sensor)));
    expect(store.rollup(T0 + MIN)).toBe(0);
    await store.stop();
  });

  it('finishes a run cut short between its write transactions without merging a reading twice', async () => {
    const { store } = await openStore(path, { readingFlushMs: 60_000 });
    for (let k = 0; k < 3; k++) for (let s = 0; s < 6; s++) store.addReading({ sensor: `s${s}`, value: k + 1, quality: 'good', atWall: T0 + k * 10_000 + s });
    store.flushReadings();
    const db = new Database(path);
    // Two rows a transaction: after the second step of writing, s0..s3 are merged, s4 and s5 not.
    const steps = rollupSteps(() => db, T0 + MIN, 500, 2500, 2);
    while (rollups(path).length < 4) steps.next();
    steps.return(0); // the process dies here
    expect(peek(path, (d) => d.prepare("SELECT value FROM meta WHERE key = 'rollup_partial'").pluck().get())).toBeTruthy();
    // More readings arrive before the next run; they wait for the run after the unfinished one.
    store.addReading({ sensor: 's0', value: 10, quality: 'good', atWall: T0 + 50_000 });
    store.flushReadings();
    const again = rollupSteps(() => db, T0 + MIN);
    let r = again.next();
    while (!r.done) r = again.next();
    expect(r.value).toBe(2); // s4 and s5: what the cut-short run had not written
    db.close();
    expect(store.rollup(T0 + MIN)).toBe(1); // then the late reading of s0, merged into its row
    const all = rollups(path) as { sensor: string; n: number; mean: number; max: number }[];
    expect(all.map((x) => [x.sensor, x.n, x.max])).toEqual([
      ['s0', 4, 10],
      ['s1', 3, 3],
      ['s2', 3, 3],
      ['s3', 3, 3],
      ['s4', 3, 3],
      ['s5', 3, 3],
    ]);
    expect(peek(path, (d) => d.prepare("SELECT value FROM meta WHERE key = 'rollup_partial'").pluck().get())).toBeUndefined();
    await store.stop();
  });

  it('writes at most writeMax rows a run and goes on from its mark in the next, counting each reading once', async () => {
    const { store } = await openStore(path, { readingFlushMs: 60_000 });
    // 5 sensors over 3 complete minutes, 4 readings each a minute (one an error): 15 rows.
    for (let m = 0; m < 3; m++) for (let k = 0; k < 4; k++) for (let s = 0; s < 5; s++) store.addReading({ sensor: `s${s}`, value: k === 3 ? null : m * 10 + k, quality: k === 3 ? 'error' : 'good', atWall: T0 + m * MIN + k * 10_000 + s });
    store.flushReadings();
    const db = new Database(path);
    const run = (): number => {
      const steps = rollupSteps(() => db, T0 + 3 * MIN, 7, 4, 3);
      for (;;) {
        const r = steps.next();
        if (r.done) return r.value;
      }
    };
    // More sensors than writeMax: each run gets only a few rows further, and the runs still finish.
    const written: number[] = [];
    while (written.length < 100 && written.at(-1) !== 0) written.push(run());
    db.close();
    expect(written.at(-1)).toBe(0);
    expect(written.every((w) => w <= 4)).toBe(true);
    const all = rollups(path) as { sensor: string; minute: number; n: number; errors: number; min: number; max: number; mean: number; last: number }[];
    expect(all).toHaveLength(15);
    for (const row of all) {
      const m = row.minute - M0;
      expect(row).toEqual({ sensor: row.sensor, minute: row.minute, n: 3, errors: 1, min: m * 10, max: m * 10 + 2, mean: m * 10 + 1, last: m * 10 + 2 });
    }
    expect(written.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(15); // a row split across runs is merged, not replaced
    expect(store.rollup(T0 + 3 * MIN)).toBe(0);
    await store.stop();
  });

  it('does nothing on an empty log', async () => {
    const { store } = await openStore(path);
    expect(store.rollup(T0)).toBe(0);
    await store.stop();
  });
});

describe('retention', () => {
  it('prunes raw readings, rollups and events by their days, and never past the retained seq', async () => {
    const { store, clock } = await openStore(path, { store: { rawRetentionDays: 7, rollupRetentionDays: 30, eventRetentionDays: 365 } });
    for (const [daysAgo, value] of [[40, 1], [8, 2], [6, 3]] as const) {
      store.addReading({ sensor: 'rg1', value, quality: 'good', atWall: T0 - daysAgo * DAY });
    }
    expect(store.rollup(T0)).toBe(3);

    const at = (t: number, trusted: boolean, payload: string): number => {
      clock.t = t;
      clock.isTrusted = trusted;
      return store.append('note', payload);
    };
    at(T0 - 400 * DAY, true, 'old'); // 1
    at(5000, false, 'old, clock unset'); // 2: stamped 1970, but it happened before 3
    at(T0 - 366 * DAY, true, 'old too'); // 3
    at(T0 - 10 * DAY, true, 'recent'); // 4
    at(7000, false, 'recent, clock unset'); // 5: stamped 1970, but it happened after 4

    store.setRetainAfterSeq(1); // the uplink has only 1 acknowledged
    expect(store.prune(T0)).toEqual({ readings: 2, rollups: 1, events: 1 });
    expect(store.since(0).map((e) => e.payload)).toEqual(['old, clock unset', 'old too', 'recent', 'recent, clock unset']);
    expect(count(path, 'readings')).toBe(1);
    expect(count(path, 'readings_1m')).toBe(2);

    store.setRetainAfterSeq(5);
    expect(store.prune(T0)).toEqual({ readings: 0, rollups: 0, events: 2 });
    expect(store.since(0).map((e) => e.seq)).toEqual([4, 5]);
    expect(store.prune(T0)).toEqual({ readings: 0, rollups: 0, events: 0 });
    await store.stop();
  });

  it('deletes in chunks and gets everything', async () => {
    const { store } = await openStore(path, { readingBatchMax: 1000 });
    for (let i = 0; i < 12_345; i++) store.addReading({ sensor: 'rg1', value: i, quality: 'good', atWall: T0 - 30 * DAY + i });
    store.flushReadings();
    expect(store.prune(T0).readings).toBe(12_345);
    expect(count(path, 'readings')).toBe(0);
    await store.stop();
  });
});

describe('history for rebuilding rain windows after a restart', () => {
  it('gives each rolled minute its last value, then the raw readings not rolled yet, oldest first', async () => {
    const { store } = await openStore(path);
    const add = (sensor: string, atWall: number, value: number | null): void => store.addReading({ sensor, value, quality: value === null ? 'error' : 'good', atWall });
    add('rg1', T0 + 10_000, 1);
    add('rg1', T0 + 50_000, 2); // minute 0's last
    add('wl1', T0 + 20_000, 9); // another sensor: not asked for
    add('rg1', T0 + MIN + 30_000, null); // an error: no value
    add('rg1', T0 + MIN + 40_000, 3); // minute 1's last
    expect(store.rollup(T0 + 2 * MIN)).toBe(3);
    add('rg1', T0 + 2 * MIN + 5_000, 4); // minute 2: not rolled yet
    add('rg1', T0 + 2 * MIN + 7_000, 5);
    const rain = (sensors: string[], rainSince: number) => ({ rain: sensors, rainSince, raw: [], rawSince: 0 });
    expect([...store.history(rain(['rg1'], T0))]).toEqual([
      { sensor: 'rg1', atWall: T0 + 50_000, value: 2, quality: 'good' },
      { sensor: 'rg1', atWall: T0 + MIN + 40_000, value: 3, quality: 'good' },
      { sensor: 'rg1', atWall: T0 + 2 * MIN + 5_000, value: 4, quality: 'good' },
      { sensor: 'rg1', atWall: T0 + 2 * MIN + 7_000, value: 5, quality: 'good' },
    ]);
    expect([...store.history(rain(['rg1'], T0 + MIN))]).toHaveLength(3);
    expect([...store.history(rain([], T0))]).toEqual([]);
    // Other sensors: every raw reading since the time asked, failed reads included, in time order with the rain.
    expect([...store.history({ rain: ['rg1'], rainSince: T0 + MIN, raw: ['wl1'], rawSince: T0 })].map((r) => [r.sensor, r.value, r.quality])).toEqual([
      ['wl1', 9, 'good'],
      ['rg1', 3, 'good'],
      ['rg1', 4, 'good'],
      ['rg1', 5, 'good'],
    ]);
    await store.stop();
  });

  it('streams its rows instead of building one array (a day of 1,000 gauges is 1.44 M rows): the query runs until read to the end', async () => {
    const { store } = await openStore(path);
    for (let i = 0; i < 5; i++) store.addReading({ sensor: 'rg1', value: i, quality: 'good', atWall: T0 + i * 1000 });
    const rows = store.history({ rain: ['rg1'], rainSince: T0, raw: [], rawSince: 0 });
    expect(rows.next().value).toEqual({ sensor: 'rg1', atWall: T0, value: 0, quality: 'good' });
    // Still reading: the one connection refuses writes (an array would have finished the query).
    expect(() => store.append('note', 'during')).toThrow(/busy/);
    expect([...rows].map((r) => r.value)).toEqual([1, 2, 3, 4]);
    expect(() => store.append('note', 'after')).not.toThrow();
    await store.stop();
  });
});
