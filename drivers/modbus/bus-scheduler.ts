/**
 * One scheduler per physical bus (queues per unit id collide on the line): one FIFO and one transaction in flight per
 * line, whatever the unit id — an RS-485 line is half-duplex. Actuator writes jump the queue
 * (a siren command must not wait behind a round of sensor polls). Between transactions the
 * line stays silent for 3.5 characters (Modbus over serial line V1.02 §2.5.1.1; a fixed
 * 1.75 ms above 19200 baud).
 */
import type { Logger } from 'pino';
import { classify, ModbusExceptionError, type ModbusError } from './errors.ts';
import type { Link, LinkConfig } from './link.ts';

export type Priority = 'write' | 'read';

interface Job {
  unit: number;
  priority: Priority;
  op: (link: Link) => Promise<unknown>;
  resolve: (v: unknown) => void;
  reject: (e: ModbusError) => void;
}

export interface BusStats {
  transactions: number;
  failures: number;
  retries: number;
  byCode: Record<string, number>;
}

/** 3.5 character times in ms: 11 bits per character (start, 8 data, parity or 2nd stop, stop). */
export function interFrameMs(c: Pick<LinkConfig, 'type' | 'baud'>): number {
  if (c.type === 'tcp') return 0;
  return c.baud > 19200 ? 1.75 : (3.5 * 11 * 1000) / c.baud;
}

export class BusScheduler {
  private readonly queue: Job[] = [];
  private busy = false;
  private stopped = false;
  private lastEnd = 0;
  readonly stats: BusStats = { transactions: 0, failures: 0, retries: 0, byCode: {} };

  constructor(
    readonly link: Link,
    private readonly log: Logger,
    private readonly retries = 1,
    private readonly silenceMs = interFrameMs(link.config),
  ) {}

  /** Queues one transaction; resolves with its result or rejects with a classified error. */
  request<T>(unit: number, priority: Priority, op: (link: Link) => Promise<T>): Promise<T> {
    if (this.stopped) return Promise.reject(classify(new Error('bus stopped'), unit));
    return new Promise<T>((resolve, reject) => {
      const job: Job = { unit, priority, op, resolve: resolve as (v: unknown) => void, reject };
      if (priority === 'write') {
        const firstRead = this.queue.findIndex((j) => j.priority === 'read');
        this.queue.splice(firstRead < 0 ? this.queue.length : firstRead, 0, job);
      } else this.queue.push(job);
      void this.pump();
    });
  }

  /** Jobs waiting (not counting the one in flight). */
  pending(): number {
    return this.queue.length;
  }

  stop(): void {
    this.stopped = true;
    for (const j of this.queue.splice(0)) j.reject(classify(new Error('bus stopped'), j.unit));
  }

  private async pump(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      while (this.queue.length && !this.stopped) {
        const job = this.queue.shift()!;
        const wait = this.lastEnd + this.silenceMs - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        await this.run(job);
        this.lastEnd = performance.now();
      }
    } finally {
      this.busy = false;
    }
  }

  private async run(job: Job): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      this.stats.transactions++;
      try {
        job.resolve(await job.op(this.link));
        return;
      } catch (err) {
        const e = classify(err, job.unit);
        this.stats.failures++;
        this.stats.byCode[e.code] = (this.stats.byCode[e.code] ?? 0) + 1;
        // An exception is an answer: the device is alive and will say the same again.
        if (e instanceof ModbusExceptionError || attempt >= this.retries || e.code === 'E_PORT') {
          job.reject(e);
          return;
        }
        this.stats.retries++;
        this.log.debug({ unit: job.unit, code: e.code, attempt }, 'retrying');
        await new Promise((r) => setTimeout(r, this.silenceMs + 5));
      }
    }
  }
}
