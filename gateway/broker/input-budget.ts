/**
 * What one account may send the box: a byte budget per account (all its connections together),
 * refilled at a steady rate, spent as its connections' input is read (read-turns.ts). An
 * account over its budget is simply not read for a while: its bytes wait in the kernel and TCP
 * slows the sender down, so a flooding device costs the box nothing but the wait, and the
 * alarm path keeps its CPU. Before, one device account flooding 1 KB status messages from 300
 * connections kept the box busy enough that a rain alarm's siren took 75 ms (p50) and 153 ms
 * (p99) to reach its relay (abuse bench, issue 15).
 *
 * The rates are far above what a real account sends: a gauge sends a ~100-byte reading every
 * few seconds (the e2e bench's floods send at most 240 readings/s per gauge, ~11 KB/s); people
 * send commands. Devices 32 KiB/s (burst 64 KiB), officers and the township 64 KiB/s (burst
 * 128 KiB), observers, who may publish nothing, 4 KiB/s.
 */
import type { AccountRole } from '../config/types.ts';

export interface Budget {
  /** Bytes per second. */
  rate: number;
  /** Bytes that may arrive at once. */
  burst: number;
}

export const DEFAULT_BUDGETS: Record<AccountRole, Budget> = {
  device: { rate: 32 * 1024, burst: 64 * 1024 },
  officer: { rate: 64 * 1024, burst: 128 * 1024 },
  township: { rate: 64 * 1024, burst: 128 * 1024 },
  observer: { rate: 4 * 1024, burst: 8 * 1024 },
};

/** One account's bucket. */
export class ByteBucket {
  private tokens: number;
  private at: number;

  constructor(private readonly b: Budget, now: number) {
    this.tokens = b.burst;
    this.at = now;
  }

  /** Milliseconds until the account may be read again (0 = now). */
  waitMs(now: number): number {
    this.refill(now);
    return this.tokens > 0 ? 0 : Math.ceil((-this.tokens / this.b.rate) * 1000) + 1;
  }

  /** Spends `bytes` (a read may take the bucket below zero; the next wait pays for it). */
  spend(bytes: number, now: number): void {
    this.refill(now);
    this.tokens -= bytes;
  }

  private refill(now: number): void {
    this.tokens = Math.min(this.b.burst, this.tokens + ((now - this.at) / 1000) * this.b.rate);
    this.at = now;
  }
}

/** One bucket per account, kept for the box's life: bounded by the configured accounts (only an authenticated client gets one), and a reconnect cannot buy a fresh burst. */
export class InputBudgets {
  private readonly buckets = new Map<string, ByteBucket>();

  constructor(
    private readonly budgets: Record<AccountRole, Budget>,
    private readonly now: () => number,
  ) {}

  bucket(username: string, role: AccountRole): ByteBucket {
    let b = this.buckets.get(username);
    if (!b) this.buckets.set(username, (b = new ByteBucket(this.budgets[role], this.now())));
    return b;
  }
}
