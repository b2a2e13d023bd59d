/**
 * One scheduler per physical bus (queues per unit id collide on the line): one queue and one
 * transaction in flight per line, whatever the unit id — an RS-485 line is half-duplex. Between
 * transactions the line stays silent for 3.5 characters (Modbus over serial line V1.02
 * §2.5.1.1; a fixed 1.75 ms above 19200 baud).
 *
 * The rules — each try its own transaction, writes before reads, a unit down after three failed
 * reads polled with one try every `down_poll_s` — are pure, in bus-queue.ts, with their reasons.
 * This file runs them: the queue, the link, the timers and the promises. It logs a unit going
 * down (`unit down`, warn: `unit`, `failed_reads`, `code`, `poll_every_ms`) and coming back
 * (`unit back up`, info: `unit`, `down_ms`), and counts what it does in `stats`.
 */
import type { Logger } from 'pino';
import { afterTry, DEFAULT_DOWN_POLL_MS, healthy, nextTry, triesFor, type Outcome, type Priority, type QueuedTry, type UnitHealth } from './bus-queue.ts';
import { classify, ModbusExceptionError, type ModbusError } from './errors.ts';
import type { Link, LinkConfig } from './link.ts';

export type { Priority } from './bus-queue.ts';

interface Job extends QueuedTry {
  op: (link: Link) => Promise<unknown>;
  resolve: (v: unknown) => void;
  reject: (e: ModbusError) => void;
}

export interface BusStats {
  /** Tries put on the line (each try is one transaction). */
  transactions: number;
  failures: number;
  retries: number;
  byCode: Record<string, number>;
  /** Times a unit went down, and came back up. */
  downs: number;
  ups: number;
}

export interface BusRules {
  /** Extra tries after a transport failure (the bus's `retries`). */
  retries?: number;
  /** How often a unit that is down is asked (the bus's `down_poll_s`, in ms). */
  downPollMs?: number;
  /** Line silence between transactions (default: 3.5 characters at the link's baud rate). */
  silenceMs?: number;
}

/** 3.5 character times in ms: 11 bits per character (start, 8 data, parity or 2nd stop, stop). */
export function interFrameMs(c: Pick<LinkConfig, 'type' | 'baud'>): number {
  if (c.type === 'tcp') return 0;
  return c.baud > 19200 ? 1.75 : (3.5 * 11 * 1000) / c.baud;
}

function outcomeOf(e: ModbusError): Outcome {
  if (e instanceof ModbusExceptionError) return 'exception';
  return e.code === 'E_PORT' ? 'port' : 'transport';
}

export class BusScheduler {
  private readonly queue: Job[] = [];
  private readonly health = new Map<number, UnitHealth>();
  private busy = false;
  private stopped = false;
  private lastEnd = 0;
  private order = 0;
  /** Ends the silence the pump is waiting out (on stop). */
  private wake: (() => void) | null = null;
  readonly retries: number;
  readonly downPollMs: number;
  private readonly silenceMs: number;
  readonly stats: BusStats = { transactions: 0, failures: 0, retries: 0, byCode: {}, downs: 0, ups: 0 };

  constructor(
    readonly link: Link,
    private readonly log: Logger,
    rules: BusRules = {},
  ) {
    this.retries = rules.retries ?? 1;
    this.downPollMs = rules.downPollMs ?? DEFAULT_DOWN_POLL_MS;
    this.silenceMs = rules.silenceMs ?? interFrameMs(link.config);
  }

  /**
   * Queues one request, made of one or more tries (each one transaction: `op` may send a write
   * and its read-back, which are one bus turn); resolves with its result or rejects with a
   * classified error.
   */
  request<T>(unit: number, priority: Priority, op: (link: Link) => Promise<T>): Promise<T> {
    if (this.stopped) return Promise.reject(classify(new Error('bus stopped'), unit));
    return new Promise<T>((resolve, reject) => {
      const triesLeft = triesFor(priority, this.unitHealth(unit), this.retries);
      this.queue.push({ unit, priority, triesLeft, order: this.order++, op, resolve: resolve as (v: unknown) => void, reject });
      void this.pump();
    });
  }

  /** Whether `unit` is down (failed its last reads; asked once every `downPollMs`). */
  unitDown(unit: number): boolean {
    return this.unitHealth(unit).downSince !== null;
  }

  /** Jobs waiting (not counting the one in flight). */
  pending(): number {
    return this.queue.length;
  }

  stop(): void {
    this.stopped = true;
    this.wake?.();
    for (const j of this.queue.splice(0)) j.reject(classify(new Error('bus stopped'), j.unit));
  }

  private unitHealth(unit: number): UnitHealth {
    return this.health.get(unit) ?? healthy();
  }

  private async pump(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    // An idle line starts on the next microtask, not inside the first request: requests made in
    // the same step (a siren's write and a speaker amplifier's, from one alarm) then compete by
    // rank, instead of the first caller taking the line for a whole bus turn.
    await Promise.resolve();
    try {
      while (!this.stopped) {
        const next = nextTry(this.queue, performance.now(), this.lastEnd, this.silenceMs);
        if (!next) break;
        if ('waitMs' in next) {
          await new Promise<void>((r) => {
            const t = setTimeout(r, next.waitMs);
            this.wake = () => (clearTimeout(t), r());
          });
          this.wake = null;
          continue;
        }
        const [job] = this.queue.splice(next.run, 1);
        await this.run(job!);
        this.lastEnd = performance.now();
      }
    } finally {
      this.busy = false;
    }
  }

  /** One try of `job`: settles it, or puts it back in the queue for its next try. */
  private async run(job: Job): Promise<void> {
    this.stats.transactions++;
    let result: unknown;
    let error: ModbusError | null = null;
    try {
      result = await job.op(this.link);
    } catch (err) {
      error = classify(err, job.unit);
      this.stats.failures++;
      this.stats.byCode[error.code] = (this.stats.byCode[error.code] ?? 0) + 1;
    }
    const before = this.unitHealth(job.unit);
    const after = afterTry(job, error ? outcomeOf(error) : 'answer', before, performance.now());
    this.health.set(job.unit, after.health);
    if (after.change === 'down') {
      this.stats.downs++;
      this.log.warn({ unit: job.unit, failed_reads: after.health.failedReads, code: error?.code, poll_every_ms: this.downPollMs }, 'unit down');
    } else if (after.change === 'up') {
      this.stats.ups++;
      this.log.info({ unit: job.unit, down_ms: Math.round(performance.now() - before.downSince!) }, 'unit back up');
    }
    if (after.retry && !this.stopped) {
      this.stats.retries++;
      this.log.debug({ unit: job.unit, code: error?.code, tries_left: job.triesLeft - 1 }, 'retrying');
      this.queue.push({ ...job, triesLeft: job.triesLeft - 1, order: this.order++ });
    } else if (error) job.reject(error);
    else job.resolve(result);
  }
}
