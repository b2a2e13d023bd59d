/**
 * The box's two guards against waiting forever, shared by the supervisor, the broker, the store
 * and the Modbus and serial drivers. Links that fail are retried forever with a doubling delay
 * (`backoff`), and every open, close, request, publish and stop settles within a deadline
 * (`withDeadline`): peers' links hung on a `close()` that never called back, or stayed down
 * after one failed reconnect.
 */

export interface BackoffPolicy {
  /** The first delay, and the delay after `reset()`. */
  firstMs: number;
  /** Doubling stops here. */
  maxMs: number;
}

/** The delay before retry `attempt` (0 = the first retry): `firstMs` doubled `attempt` times, capped at `maxMs`. */
export function backoffDelay(attempt: number, p: BackoffPolicy): number {
  return Math.min(p.firstMs * 2 ** Math.max(0, attempt), p.maxMs);
}

export interface Backoff {
  /** The delay the next retry waits, without taking it. */
  peek(): number;
  /** Takes the next delay; the one after is twice as long (up to `maxMs`). */
  next(): number;
  /** After a success: the next delay is `firstMs` again. */
  reset(): void;
}

/** The delays of one retry loop: `firstMs`, then doubling up to `maxMs`. */
export function backoff(p: BackoffPolicy): Backoff {
  let attempt = 0;
  return {
    peek: () => backoffDelay(attempt, p),
    next: () => backoffDelay(attempt++, p),
    reset: () => {
      attempt = 0;
    },
  };
}

/**
 * Settles as `work` does, unless `ms` pass first: then as `late(ms)` does — its value, or a
 * rejection with what it throws (a caller's own Error subclass with a `code`). The timer is
 * cleared either way; `work` settling after the deadline is ignored (its rejection too).
 */
export function withDeadline<T, L = never>(work: Promise<T>, ms: number, late: (ms: number) => L): Promise<T | L> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<L>((resolve, reject) => {
    timer = setTimeout(() => {
      try {
        resolve(late(ms));
      } catch (err) {
        reject(err);
      }
    }, ms);
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}
