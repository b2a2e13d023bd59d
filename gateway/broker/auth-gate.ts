/**
 * The gates in front of scrypt (pure; clock injected, no timers): token buckets for the rate
 * of slow checks, and lanes that bound how many run at once and how many may wait.
 *
 * Decisions:
 * - **Refuse at once rather than queue without bound.** A lane holds at most `concurrency`
 *   running checks and `maxWaiting` waiting ones; beyond that `tryEnter` says no and the
 *   CONNECT is refused without any scrypt. A scrypt flood once took the box's RSS to 170 MB;
 *   now waiting checks are a fixed, small list.
 * - **Per-username concurrency** within a lane: a waiting check whose username already has
 *   `perUsername` checks running is passed over for the next one (the list is still FIFO
 *   among the rest), so one targeted account cannot take every slot.
 * - **A waiting client that has gone is skipped** when its turn comes (no scrypt for a
 *   socket that already closed); the lane hands the slot to the next one.
 * - Token buckets refill continuously (`perSecond`) up to `burst`; `available()` and `take()`
 *   are separate so a caller checks every bucket before spending any.
 */

export interface RatePolicy {
  /** Tokens a full bucket holds (checks allowed in a burst). */
  burst: number;
  /** Tokens added per second. */
  perSecond: number;
}

export class TokenBucket {
  private tokens: number;
  private at: number;
  constructor(private readonly policy: RatePolicy, private readonly now: () => number) {
    this.tokens = policy.burst;
    this.at = now();
  }

  /** True if one token can be taken now. */
  available(): boolean {
    this.refill();
    return this.tokens >= 1;
  }

  take(): void {
    this.refill();
    this.tokens = Math.max(0, this.tokens - 1);
  }

  private refill(): void {
    const now = this.now();
    this.tokens = Math.min(this.policy.burst, this.tokens + ((now - this.at) / 1000) * this.policy.perSecond);
    this.at = now;
  }
}

/** Token buckets per key (username), at most `maxKeys` (the accounts); a full bucket is forgotten. */
export class KeyedBuckets {
  private readonly buckets = new Map<string, TokenBucket>();
  constructor(private readonly policy: RatePolicy, private readonly now: () => number, private readonly maxKeys: number) {}

  available(key: string): boolean {
    return this.buckets.get(key)?.available() ?? true;
  }

  take(key: string): void {
    let b = this.buckets.get(key);
    if (!b) {
      if (this.buckets.size >= this.maxKeys) this.buckets.delete(this.buckets.keys().next().value!);
      b = new TokenBucket(this.policy, this.now);
      this.buckets.set(key, b);
    }
    b.take();
  }
}

export interface LanePolicy {
  /** Checks running at once. */
  concurrency: number;
  /** Checks running at once for one username. */
  perUsername: number;
  /** Checks waiting for a slot; beyond it `tryEnter` refuses. */
  maxWaiting: number;
}

/** Ends a running check and hands its slot on. */
export type Release = () => void;

interface Waiter {
  username: string;
  gone: () => boolean;
  resolve: (r: Release | null) => void;
}

export class CheckLane {
  private running = 0;
  private readonly runningBy = new Map<string, number>();
  private readonly waiting: Waiter[] = [];
  constructor(private readonly policy: LanePolicy) {}

  /** Checks running now. */
  get active(): number {
    return this.running;
  }

  /** True if a new check would be taken (a free slot for `username`, or room to wait). */
  hasRoom(username: string): boolean {
    return this.canRun(username) || this.waiting.length < this.policy.maxWaiting;
  }

  /**
   * Enters the lane, or null if it has no room. The promise resolves to a release once a slot
   * is this check's, or to null if `gone()` is true when its turn comes.
   */
  tryEnter(username: string, gone: () => boolean): Promise<Release | null> | null {
    if (this.canRun(username)) return Promise.resolve(this.start(username));
    if (this.waiting.length >= this.policy.maxWaiting) return null;
    return new Promise((resolve) => this.waiting.push({ username, gone, resolve }));
  }

  private canRun(username: string): boolean {
    return this.running < this.policy.concurrency && (this.runningBy.get(username) ?? 0) < this.policy.perUsername;
  }

  private start(username: string): Release {
    this.running++;
    this.runningBy.set(username, (this.runningBy.get(username) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.running--;
      const n = this.runningBy.get(username)! - 1;
      if (n === 0) this.runningBy.delete(username);
      else this.runningBy.set(username, n);
      this.next();
    };
  }

  private next(): void {
    for (let i = 0; i < this.waiting.length && this.running < this.policy.concurrency; ) {
      const w = this.waiting[i]!;
      if (w.gone()) {
        this.waiting.splice(i, 1);
        w.resolve(null);
      } else if (this.canRun(w.username)) {
        this.waiting.splice(i, 1);
        w.resolve(this.start(w.username));
      } else i++;
    }
  }
}
