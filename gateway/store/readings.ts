/**
 * Raw readings wait here and are committed in batches: at the latest `flushMs` after the first
 * of a batch, or at once when `max` are waiting — one transaction (one fsync) per batch instead
 * of one per reading. A reading lost to kill -9 inside that window is a raw sample, never an
 * event; events are committed one by one.
 */
import type { ReadingRow } from './types.ts';

export class ReadingBuffer {
  private rows: ReadingRow[] = [];
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly flushMs: number,
    private readonly max: number,
    /** Writes one batch; handles its own failures. */
    private readonly write: (rows: ReadingRow[]) => void,
  ) {}

  get size(): number {
    return this.rows.length;
  }

  add(r: ReadingRow): void {
    this.rows.push({ sensor: r.sensor, value: r.value, quality: r.quality, atWall: r.atWall });
    if (this.rows.length >= this.max) this.flush();
    else if (!this.timer) this.timer = setTimeout(() => this.flush(), this.flushMs).unref();
  }

  flush(): void {
    this.cancelTimer();
    if (this.rows.length === 0) return;
    const batch = this.rows;
    this.rows = [];
    this.write(batch);
  }

  /** Throws away what waits; returns how many. */
  discard(): number {
    this.cancelTimer();
    const n = this.rows.length;
    this.rows = [];
    return n;
  }

  private cancelTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
