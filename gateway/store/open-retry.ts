/**
 * The retries of a log that cannot be opened (open-log.ts): with backoff (the first after
 * `retryMs`, doubling to `retryMaxMs`: a card that comes back is found within a minute, one that
 * does not costs a look a minute), and said as counts — the store's degradation line says once
 * what is wrong and what to do; after that a line at 2, 4, 8, … failed attempts, not one per retry.
 */
import type { Logger } from 'pino';
import { backoff, type Backoff } from '../shell/timing.ts';
import type { DegradeReason, StoreHealth } from './types.ts';

export class OpenRetry {
  private readonly delays: Backoff;
  private timer: NodeJS.Timeout | null = null;
  private failures = 0;

  constructor(
    private readonly log: Logger,
    firstMs: number,
    maxMs: number,
  ) {
    this.delays = backoff({ firstMs, maxMs: Math.max(firstMs, maxMs) });
  }

  get planned(): boolean {
    return this.timer !== null;
  }

  /** One more failed open; plans `retry` after the next delay unless `plan` is false or one is planned. */
  failed(reason: DegradeReason, h: StoreHealth, retry: () => void, plan: boolean): void {
    const n = ++this.failures;
    if (n > 1 && (n & (n - 1)) === 0) {
      this.log.warn({ reason, attempts: n, pending_events: h.pendingEvents, dropped_events: h.droppedEvents, dropped_readings: h.droppedReadings, retry_in_ms: this.delays.peek() }, 'the event log still cannot be opened; events are held in memory');
    }
    if (!plan || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      retry();
    }, this.delays.next());
    this.timer.unref();
  }

  /** The log opened (or the store starts or stops): no retry planned, the next failure counts from one. */
  reset(): void {
    this.cancel();
    this.delays.reset();
    this.failures = 0;
  }

  cancel(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
