/**
 * Raw readings wait here and are committed in batches: at the latest `flushMs` after the first
 * of a batch, or at once when `max` are waiting — one transaction per batch instead of one per
 * reading. A reading lost to kill -9 inside that window is a raw sample, never an event;
 * events are committed one by one.
 *
 * Batches are columnar and reused (two, swapped at each flush, so readings added while one is
 * being written go to the other): a waiting reading is four array slots, not an object. An
 * object per reading lived up to 200 ms, long enough to survive a scavenge, and survivors are
 * what a scavenge costs: at 1,000 readings/s every scavenge copied a few hundred of them while
 * an alarm waited. Sensor ids and qualities are interned (each parsed message brings its own
 * copy of the string), so the slots point at strings that live anyway.
 */
import type { ReadingRow } from './types.ts';

/** Waiting readings, oldest first; valid for `size` slots and only until the write returns. */
export interface ReadingBatch {
  size: number;
  sensor: string[];
  quality: string[];
  atWall: Float64Array;
  /** NaN: the reading had no value (quality `missing` / `error`). */
  value: Float64Array;
}

/** Distinct ids and qualities kept; a site has far fewer, so this only bounds a misbehaving feed. */
const INTERN_MAX = 100_000;

export class ReadingBuffer {
  private batch: ReadingBatch;
  private spare: ReadingBatch;
  private readonly interned = new Map<string, string>();
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly flushMs: number,
    private readonly max: number,
    /** Writes one batch synchronously and keeps no reference to it; handles its own failures. */
    private readonly write: (batch: ReadingBatch) => void,
  ) {
    this.batch = emptyBatch(max);
    this.spare = emptyBatch(max);
  }

  get size(): number {
    return this.batch.size;
  }

  /** Whether a waiting reading is older than `atWall` (the rollup needs those committed; later ones can wait for their batch). */
  holdsBefore(atWall: number): boolean {
    const b = this.batch;
    for (let i = 0; i < b.size; i++) if (b.atWall[i]! < atWall) return true;
    return false;
  }

  add(r: ReadingRow): void {
    const b = this.batch;
    const i = b.size++;
    b.sensor[i] = this.intern(r.sensor);
    b.quality[i] = this.intern(r.quality);
    b.atWall[i] = r.atWall;
    b.value[i] = r.value ?? Number.NaN;
    if (b.size >= this.max) this.flush();
    else if (!this.timer) this.timer = setTimeout(() => this.flush(), this.flushMs).unref();
  }

  flush(): void {
    this.cancelTimer();
    if (this.batch.size === 0) return;
    const full = this.batch;
    this.batch = this.spare;
    this.spare = full;
    try {
      this.write(full);
    } finally {
      full.size = 0;
    }
  }

  /** Throws away what waits; returns how many. */
  discard(): number {
    this.cancelTimer();
    const n = this.batch.size;
    this.batch.size = 0;
    return n;
  }

  private intern(s: string): string {
    const known = this.interned.get(s);
    if (known !== undefined) return known;
    if (this.interned.size < INTERN_MAX) this.interned.set(s, s);
    return s;
  }

  private cancelTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}

function emptyBatch(n: number): ReadingBatch {
  return { size: 0, sensor: new Array<string>(n).fill(''), quality: new Array<string>(n).fill(''), atWall: new Float64Array(n), value: new Float64Array(n) };
}

/** A batch holding `rows` (tests, and callers that start from objects). */
export function rowsBatch(rows: readonly ReadingRow[]): ReadingBatch {
  return {
    size: rows.length,
    sensor: rows.map((r) => r.sensor),
    quality: rows.map((r) => r.quality),
    atWall: Float64Array.from(rows, (r) => r.atWall),
    value: Float64Array.from(rows, (r) => r.value ?? Number.NaN),
  };
}
