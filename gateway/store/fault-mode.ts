/**
 * What the store does while the disk refuses writes (DESIGN.md, "The box on its own": a full
 * disk degrades to keeping alerts and dropping raw readings — never the reverse).
 *
 * Events keep their seq and wait in a bounded queue (pending.ts) that `since` also reads;
 * raw readings are dropped and counted; every `retryMs` (an unref'd timer) the queue is
 * written in seq order, and when it is empty the degradation clears. The store logs both
 * edges as `storage` events, so the log itself says when and why it had a hole in time.
 */
import type { Logger } from 'pino';
import type { Clock } from '../shell/clock.ts';
import type { Connection } from './connection.ts';
import type { EventRecord } from './database.ts';
import { diskReason, errorMessage, refusesWrites } from './errors.ts';
import { PendingQueue } from './pending.ts';
import type { DegradeReason, EventType, StoreHealth } from './types.ts';

/** Held events written per transaction when the disk is back. */
const RETRY_CHUNK = 500;

export interface FaultHost {
  log: Logger;
  clock: Clock;
  /** The database's directory: asked whether it is on a read-only filesystem. */
  dir: string;
  started(): boolean;
  /** Null after a reopen failed. */
  conn(): Connection | null;
  /** Opens a fresh connection in place of the current one, if it can. */
  reopen(): void;
  append(type: EventType, payload: unknown): number;
  /** Throws away the raw readings waiting for a batch; returns how many. */
  discardReadings(): number;
}

export class FaultMode {
  reason: DegradeReason | null = null;
  droppedReadings = 0;
  private pending: PendingQueue;
  /** Dropped by the queues of earlier starts of this store. */
  private droppedBefore = 0;
  private episode = { atMono: 0, droppedEvents: 0, droppedReadings: 0 };
  private timer: NodeJS.Timeout | null = null;
  private readonly listeners: Array<(h: StoreHealth) => void> = [];

  constructor(
    private readonly host: FaultHost,
    private readonly retryMs: number,
    private readonly pendingLimit: number,
  ) {
    this.pending = new PendingQueue(pendingLimit);
  }

  get held(): PendingQueue {
    return this.pending;
  }

  /** At start: healthy, nothing held. */
  reset(): void {
    this.stopRetry();
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
      this.host.log.warn({ seq: victim.seq, type: victim.type, droppedEvents: this.droppedEvents }, 'held-event queue full; dropped the lowest-priority event');
    }
  }

  /** If `err` is a failure of the medium, degrades (or changes the reason) and returns true. */
  failed(err: unknown): boolean {
    const reason = diskReason(err, this.host.dir);
    if (reason === null) return false;
    const was = this.reason;
    if (was === reason) return true;
    this.reason = reason;
    if (was !== null) {
      this.host.log.warn({ err, reason, was }, 'store still degraded, for another reason');
      this.notify();
      return true;
    }
    this.episode = { atMono: this.host.clock.mono(), droppedEvents: this.droppedEvents, droppedReadings: this.droppedReadings };
    this.droppedReadings += this.host.discardReadings();
    this.scheduleRetry();
    this.host.log.error({ err, reason, pendingEvents: this.pending.size }, 'store degraded: holding events in memory, dropping raw readings');
    this.notify();
    this.host.append('storage', { what: 'degraded', reason, error: errorMessage(err) });
    return true;
  }

  /** Writes held events in seq order; clears the degradation when none are left. */
  retry(): void {
    if (!this.host.started() || this.reason === null) return;
    if (this.reason === 'read_only' && refusesWrites(this.host.dir)) return;
    // SQLite opened read-only, or the handle broke: only a new connection can write again.
    if (this.reason !== 'disk_full' && this.reason !== 'busy') this.host.reopen();
    const conn = this.host.conn();
    if (!conn) return;
    try {
      while (this.pending.size > 0) {
        const chunk = this.pending.head(RETRY_CHUNK);
        conn.writeEvents(chunk, true);
        this.pending.shift(chunk.length);
      }
    } catch (err) {
      if (!this.failed(err)) this.host.log.error({ err }, 'writing held events failed');
      return;
    }
    const recovered = {
      what: 'recovered',
      reason: this.reason,
      degradedMs: Math.round(this.host.clock.mono() - this.episode.atMono),
      droppedEvents: this.droppedEvents - this.episode.droppedEvents,
      droppedReadings: this.droppedReadings - this.episode.droppedReadings,
    };
    this.reason = null;
    this.host.log.info(recovered, 'store writes again; held events written in order');
    this.notify();
    this.host.append('storage', recovered);
  }

  stopRetry(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private scheduleRetry(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      try {
        this.retry();
      } catch (err) {
        this.host.log.error({ err }, 'retrying held events threw');
      }
      if (this.reason !== null && this.host.started()) this.scheduleRetry();
    }, this.retryMs).unref();
  }

  private notify(): void {
    const h = this.health();
    for (const fn of this.listeners) {
      try {
        fn(h);
      } catch (err) {
        this.host.log.error({ err }, 'store health listener threw');
      }
    }
  }
}
