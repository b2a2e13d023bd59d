/**
 * Events held in memory while the disk refuses writes. Bounded; when full, what goes first is
 * decided by type: observations and notes first, then faults/config/start/stop/storage, and
 * alert transitions, effects, commands, threshold changes and escalations last — within a class the oldest goes first. The
 * queue stays in seq order so it is written back in the order the events happened.
 */
import type { EventRecord } from './database.ts';
import type { EventType } from './types.ts';

export const DEFAULT_PENDING_LIMIT = 10_000;

/** 0 is dropped first. */
export function keepRank(type: EventType): 0 | 1 | 2 {
  switch (type) {
    case 'observation':
    case 'note':
      return 0;
    case 'transition':
    case 'effect':
    case 'command':
    case 'threshold':
    case 'escalation':
      return 2;
    default:
      return 1;
  }
}

export class PendingQueue {
  private items: EventRecord[] = [];
  private readonly perRank = [0, 0, 0];
  /** Events dropped since this queue was made. */
  dropped = 0;

  constructor(readonly limit = DEFAULT_PENDING_LIMIT) {
    if (limit < 1) throw new Error('pending queue limit must be at least 1');
  }

  get size(): number {
    return this.items.length;
  }

  /**
   * Adds `e` in seq order (usually above every held one; events whose sync failed come back
   * below later ones); returns the event dropped to make room, if any.
   */
  push(e: EventRecord): EventRecord | null {
    let victim: EventRecord | null = null;
    if (this.items.length >= this.limit) {
      const lowest = this.perRank.findIndex((n) => n > 0);
      if (keepRank(e.type) < lowest) {
        victim = e;
      } else {
        const i = this.items.findIndex((x) => keepRank(x.type) === lowest);
        victim = this.items.splice(i, 1)[0]!;
        this.perRank[lowest]!--;
      }
      this.dropped++;
      if (victim === e) return victim;
    }
    let at = this.items.length;
    while (at > 0 && this.items[at - 1]!.seq > e.seq) at--;
    this.items.splice(at, 0, e);
    this.perRank[keepRank(e.type)]!++;
    return victim;
  }

  /** The oldest `n` held events, not removed. */
  head(n: number): EventRecord[] {
    return this.items.slice(0, n);
  }

  /** Removes the oldest `n` (after they were written). */
  shift(n: number): void {
    for (const e of this.items.splice(0, n)) this.perRank[keepRank(e.type)]!--;
  }

  /** Held events with seq above `seq`, in seq order. */
  after(seq: number, limit: number): EventRecord[] {
    const out: EventRecord[] = [];
    for (const e of this.items) {
      if (e.seq <= seq) continue;
      if (out.length >= limit) break;
      out.push(e);
    }
    return out;
  }

  /**
   * Adds `delta` to every held seq (order and gaps kept): for events numbered before the log
   * opened, when the file turned out to hold or reserve their seqs (event-store.ts, attach).
   */
  renumber(delta: number): void {
    this.items = this.items.map((e) => ({ ...e, seq: e.seq + delta }));
  }

  all(): readonly EventRecord[] {
    return this.items;
  }
}
