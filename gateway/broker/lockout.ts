/**
 * The failure lockout for secret checks, keyed by `username@address` (pure; clock injected).
 *
 * Decisions:
 * - **An attempt counts when it starts, not when scrypt has finished.** The old lockout
 *   counted failures after each check, so 100 parallel wrong CONNECTs from one address all
 *   passed it and all ran scrypt (issue 15). `begin()` reserves an attempt: a key may have at
 *   most `maxFailures` failures-in-the-window plus checks-in-flight, so N parallel guesses
 *   run at most `maxFailures` scrypt checks, and the last of them to fail locks the key.
 * - A locked key is refused without scrypt, even with the right secret (otherwise the
 *   lockout would still answer guesses). The real device gets past that through the
 *   verified-secrets cache (verified-secrets.ts), never through the lockout.
 * - At most MAX_KEYS keys are tracked; beyond it the least recently failed ones are
 *   forgotten, so an attacker cannot grow memory. Keys with a check in flight are at most the
 *   gate's lanes and waiting lists (auth-gate.ts), a few dozen.
 */

export interface LockoutPolicy {
  /** This many failures within `windowMs`… */
  maxFailures: number;
  windowMs: number;
  /** …refuse the key for this long. */
  lockMs: number;
}

export const DEFAULT_LOCKOUT: LockoutPolicy = { maxFailures: 5, windowMs: 60_000, lockMs: 60_000 };

const MAX_KEYS = 4096;

interface KeyState {
  failures: number[];
  lockedUntil: number;
  inFlight: number;
}

export type BeginResult = { ok: true } | { ok: false; lockedForMs: number | undefined };

export class FailureLockout {
  private readonly keys = new Map<string, KeyState>();
  constructor(private readonly policy: LockoutPolicy, private readonly now: () => number) {}

  /** Milliseconds `key` stays locked (0 = not locked). */
  lockedFor(key: string): number {
    const e = this.keys.get(key);
    return e ? Math.max(0, e.lockedUntil - this.now()) : 0;
  }

  /** True if `key` failed within the window (or is locked): its next check is a retry, not a first try. */
  failedLately(key: string): boolean {
    const e = this.keys.get(key);
    if (!e) return false;
    const now = this.now();
    return e.lockedUntil > now || e.failures.some((t) => now - t < this.policy.windowMs);
  }

  /**
   * Reserves one attempt for `key`, or refuses: locked (`lockedForMs` > 0), or as many checks
   * in flight as failures it has left (`lockedForMs` undefined). Each `ok` must be followed
   * by exactly one `fail`, `succeed` or `abandon`.
   */
  begin(key: string): BeginResult {
    const locked = this.lockedFor(key);
    if (locked > 0) return { ok: false, lockedForMs: locked };
    const e = this.state(key);
    if (e.failures.length + e.inFlight >= this.policy.maxFailures) return { ok: false, lockedForMs: undefined };
    e.inFlight++;
    return { ok: true };
  }

  /** A failed attempt (begun, or one that needed no check, like a missing secret); true if `key` is now locked. */
  fail(key: string, begun = true): boolean {
    const now = this.now();
    const e = this.state(key);
    if (begun) e.inFlight = Math.max(0, e.inFlight - 1);
    this.keys.delete(key); // re-insert: the map's order is least recently failed first
    e.failures.push(now);
    if (e.failures.length >= this.policy.maxFailures) {
      e.lockedUntil = now + this.policy.lockMs;
      e.failures = [];
    }
    this.keys.set(key, e);
    while (this.keys.size > MAX_KEYS) this.keys.delete(this.keys.keys().next().value!);
    return e.lockedUntil > now;
  }

  /** A begun attempt succeeded: the key's failures are forgiven (other checks in flight stay counted). */
  succeed(key: string): void {
    const e = this.keys.get(key);
    if (!e) return;
    e.inFlight = Math.max(0, e.inFlight - 1);
    e.failures = [];
    if (e.inFlight === 0 && e.lockedUntil <= this.now()) this.keys.delete(key);
  }

  /** A begun attempt that never ran its check (the client left while it waited). */
  abandon(key: string): void {
    const e = this.keys.get(key);
    if (!e) return;
    e.inFlight = Math.max(0, e.inFlight - 1);
    if (e.inFlight === 0 && e.failures.length === 0 && e.lockedUntil <= this.now()) this.keys.delete(key);
  }

  private state(key: string): KeyState {
    const now = this.now();
    let e = this.keys.get(key);
    if (!e) {
      e = { failures: [], lockedUntil: 0, inFlight: 0 };
      this.keys.set(key, e);
      while (this.keys.size > MAX_KEYS) this.keys.delete(this.keys.keys().next().value!);
    }
    e.failures = e.failures.filter((t) => now - t < this.policy.windowMs);
    return e;
  }
}
