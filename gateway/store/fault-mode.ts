/**
 * The store's degraded state while the disk refuses writes (DESIGN.md, "The box on its own": a
 * full disk degrades to keeping alerts and dropping raw readings — never the reverse).
 *
 * It holds the state and makes the decisions; the store does the writes. Events keep their
 * seq and wait in a bounded queue (pending.ts) that `since` also reads; raw readings are
 * dropped and counted; the store retries the queue in seq order and, once it is empty, calls
 * `recover()`. Both edges return the payload of a `storage` event for the store to log, so the
 * log itself says when and why it had a hole in time. Health listeners hear of each change.
 */
import type { Logger } from 'pino';
import type { EventRecord } from './database.ts';
import { errorMessage, refusesWrites } from './errors.ts';
import { PendingQueue } from './pending.ts';
import type { DegradeReason, StoreHealth } from './types.ts';

/** The `storage` event that opens a degradation. */
export interface DegradedEvent {
  what: 'degraded';
  reason: DegradeReason;
  error: string;
}

/** The `storage` event that closes one. */
export interface RecoveredEvent {
  what: 'recovered';
  reason: DegradeReason | null;
  degradedMs: number;
  droppedEvents: number;
  droppedReadings: number;
}

/** What a retry of the held events is to do first. */
export type RetryStep =
  /** Nothing: healthy, or the filesystem still refuses writes. */
  | null
  /** Write them on the open connection (a full disk or a busy lock passes by itself). */
  | 'write'
  /** Open a fresh connection, then write: SQLite opened read-only, or the handle broke. */
  | 'reopen';

export class FaultMode {
  reason: DegradeReason | null = null;
  droppedReadings = 0;
  private pending: PendingQueue;
  /** Dropped by the queues of earlier starts of this store. */
  private droppedBefore = 0;
  private episode = { atMono: 0, droppedEvents: 0, droppedReadings: 0 };
  private readonly listeners: Array<(h: StoreHealth) => void> = [];

  constructor(
    private readonly log: Logger,
    private readonly pendingLimit: number,
  ) {
    this.pending = new PendingQueue(pendingLimit);
  }

  get held(): PendingQueue {
    return this.pending;
  }

  /** At start: healthy, nothing held. */
  reset(): void {
    this.reason = null;
    this.droppedBefore += this.pending.dropped;
    this.pending = new PendingQueue(this.pendingLimit);
  }

  get droppedEvents(): number {
    return this.droppedBefore + this.pending.dropped;
  }

  health(): StoreHealth {
    return { degraded: this.reason !== null, reason: this.reason, pendingEvents: this.pending.size, droppedReadings: this.droppedReadings, droppedEvents: this.droppedEvents };
  }

  onChange(fn: (h: StoreHealth) => void): void {
    this.listeners.push(fn);
  }

  hold(rec: EventRecord): void {
    const victim = this.pending.push(rec);
    if (victim && (this.pending.dropped === 1 || this.pending.dropped % 1000 === 0)) {
      this.log.warn({ seq: victim.seq, type: victim.type, droppedEvents: this.droppedEvents }, 'held-event queue full; dropped the lowest-priority event');
    }
  }

  /**
   * The medium failed for `reason` (errors.ts diskReason). When this starts a degradation
   * (`discardedReadings`: the raw readings the store threw away for it), returns the `storage`
   * event to log; `null` when the store was degraded already.
   */
  degrade(reason: DegradeReason, err: unknown, nowMono: number, discardedReadings: number, advice: string): DegradedEvent | null {
    const was = this.reason;
    if (was === reason) return null;
    this.reason = reason;
    if (was !== null) {
      this.log.warn({ err, reason, was, advice }, 'store still degraded, for another reason');
      this.notify();
      return null;
    }
    this.episode = { atMono: nowMono, droppedEvents: this.droppedEvents, droppedReadings: this.droppedReadings };
    this.droppedReadings += discardedReadings;
    this.log.error({ err, reason, pendingEvents: this.pending.size, advice }, 'store degraded: holding events in memory, dropping raw readings');
    this.notify();
    return { what: 'degraded', reason, error: errorMessage(err) };
  }

  /** What a retry is to do, for a database in `dir`. */
  retryStep(dir: string): RetryStep {
    if (this.reason === null) return null;
    if (this.reason === 'read_only' && refusesWrites(dir)) return null;
    return this.reason === 'disk_full' || this.reason === 'busy' ? 'write' : 'reopen';
  }

  /** Every held event is written: healthy again. Returns the `storage` event to log. */
  recover(nowMono: number): RecoveredEvent {
    const recovered: RecoveredEvent = {
      what: 'recovered',
      reason: this.reason,
      degradedMs: Math.round(nowMono - this.episode.atMono),
      droppedEvents: this.droppedEvents - this.episode.droppedEvents,
      droppedReadings: this.droppedReadings - this.episode.droppedReadings,
    };
    this.reason = null;
    this.log.info(recovered, 'store writes again; held events written in order');
    this.notify();
    return recovered;
  }

  private notify(): void {
    const h = this.health();
    for (const fn of this.listeners) {
      try {
        fn(h);
      } catch (err) {
        this.log.error({ err }, 'store health listener threw');
      }
    }
  }
}
