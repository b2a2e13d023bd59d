/**
 * The box's two clocks. Windows and durations use the monotonic clock (never jumps);
 * events also carry wall time, flagged when the wall clock cannot be trusted yet (a box that
 * booted without network or RTC often starts in 1970 or at its build date).
 */
import { randomUUID } from 'node:crypto';

export interface Clock {
  /** Wall time, epoch ms. */
  wall(): number;
  /** Monotonic ms since this gateway process started. */
  mono(): number;
  /** Whether wall time is plausible (after `trustedAfter`). */
  trusted(): boolean;
  /** Identifies this process start; monotonic stamps are relative to it. */
  readonly boot: string;
}

/** Before this, the wall clock is surely unset. */
export const TRUSTED_AFTER = Date.parse('2025-01-01T00:00:00Z');

export function systemClock(): Clock {
  const origin = process.hrtime.bigint();
  return {
    wall: () => Date.now(),
    mono: () => Number(process.hrtime.bigint() - origin) / 1e6,
    trusted: () => Date.now() >= TRUSTED_AFTER,
    boot: randomUUID(),
  };
}
