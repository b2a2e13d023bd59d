/**
 * The rules of one shared Modbus bus, pure: which try goes on the line next, what a try's outcome
 * does to its request and to its unit, and how often a unit is polled. The scheduler
 * (bus-scheduler.ts) is the shell that runs them with a link, timers and promises.
 *
 * Why (issue 15: on a shared bus a siren write waited ~1 s behind a dead unit's read, and a
 * probe polled every 1 s was read every 3 s, because one request's retries held the line):
 * - **Each try is its own transaction.** A request that fails with a transport error (timeout,
 *   CRC, short frame, wrong unit) goes back into the queue for its next try, behind what was
 *   queued meanwhile, so nothing waits for more than the one try on the line: at most
 *   `timeout_ms` (plus the link's backstop if the client never calls back) and the 3.5-character
 *   silence. A Modbus exception is an answer and is not retried; a closed port (`E_PORT`) is not
 *   the unit's fault and is not retried either (the field-buses watchdog reopens the link).
 * - **Alarm writes first, then other writes, then reads**, each in arrival order; a write's retry
 *   queues behind the writes of its rank already waiting, so a dead relay's retries never hold a
 *   live relay's write. `alarm` is a siren's relay (relay-siren.ts); `write` is everything else
 *   that writes, such as a speaker zone's amplifier line (drivers/speaker/amp-relay.ts): in the
 *   demo the amplifier is a coil of the siren's own relay board, and its write, requested in the
 *   same step, went on the line first and held the siren back one bus turn (589 ms measured).
 *   A siren write keeps its full tries (`retries` + 1) even to a unit that is down: it matters
 *   more than the line time.
 * - **A unit down.** After `DOWN_AFTER` read requests in a row failed (each after all its tries)
 *   the unit is down: its reads get one try, and the poller asks it once every `down_poll_s`
 *   (default 30 s, jittered ±10 % so several dead units drift apart), instead of at its
 *   `poll_s`. Any answer from it (a value, or an exception: the device is alive) ends that, and
 *   it is polled at full speed again. Three matches the engine's default `error_streak`: the
 *   engine gets its three error readings at full speed, as before, so the fault is raised as
 *   quickly; while down, each poll still gives an error reading and no good value comes, so the
 *   fault stays raised (stale) until the unit answers.
 * - **Polls keep their cadence**: a poll is due `poll_s` after the previous one was due, not
 *   after it ended, so a poll delayed by one try on the line does not push every later one back;
 *   one that is late by more than an interval runs once, now (no burst to catch up).
 */

export type Priority = 'alarm' | 'write' | 'read';

/** Lower goes first. */
const RANK: Record<Priority, number> = { alarm: 0, write: 1, read: 2 };

/** One request waiting for its next try. `order` is when it (re)joined the queue. */
export interface QueuedTry {
  unit: number;
  priority: Priority;
  /** Tries it may still make, this one included (≥ 1). */
  triesLeft: number;
  order: number;
}

/** What the bus knows of a unit from its answers. */
export interface UnitHealth {
  /** Read requests in a row that failed with a transport error after all their tries. */
  failedReads: number;
  /** Monotonic ms when it went down, or null while it is up. */
  downSince: number | null;
}

export const DOWN_AFTER = 3;
export const DEFAULT_DOWN_POLL_MS = 30_000;
export const DOWN_POLL_JITTER = 0.1;

export const healthy = (): UnitHealth => ({ failedReads: 0, downSince: null });

/** Tries a new request gets: one for a read of a unit that is down, else `retries` + 1. */
export function triesFor(priority: Priority, health: UnitHealth, retries: number): number {
  return priority === 'read' && health.downSince !== null ? 1 : retries + 1;
}

export type Next = { run: number } | { waitMs: number } | null;

/**
 * The next try: its index in `queue` (alarm writes, other writes, reads; then by `order`), or how long the line must
 * stay silent first (`lastEnd` + `silenceMs`), or null for an empty queue.
 */
export function nextTry(queue: readonly QueuedTry[], now: number, lastEnd: number, silenceMs: number): Next {
  if (!queue.length) return null;
  const wait = lastEnd + silenceMs - now;
  if (wait > 0) return { waitMs: wait };
  let best = 0;
  for (let i = 1; i < queue.length; i++) {
    const a = queue[i]!;
    const b = queue[best]!;
    if (RANK[a.priority] < RANK[b.priority] || (RANK[a.priority] === RANK[b.priority] && a.order < b.order)) best = i;
  }
  return { run: best };
}

/** How a try ended: the unit answered (a value), answered an exception, the line failed, or the port is closed. */
export type Outcome = 'answer' | 'exception' | 'transport' | 'port';

export interface AfterTry {
  /** Try again (re-queue with `triesLeft` - 1 and a new `order`), or settle the request. */
  retry: boolean;
  health: UnitHealth;
  /** The unit went down, or came back up, with this try. */
  change: 'down' | 'up' | null;
}

export function afterTry(t: Pick<QueuedTry, 'priority' | 'triesLeft'>, outcome: Outcome, health: UnitHealth, now: number): AfterTry {
  if (outcome === 'answer' || outcome === 'exception') return { retry: false, health: healthy(), change: health.downSince !== null ? 'up' : null };
  if (outcome === 'port') return { retry: false, health, change: null };
  if (t.triesLeft > 1) return { retry: true, health, change: null };
  if (t.priority !== 'read') return { retry: false, health, change: null };
  const failedReads = health.failedReads + 1;
  const down = health.downSince === null && failedReads >= DOWN_AFTER;
  return { retry: false, health: { failedReads, downSince: down ? now : health.downSince }, change: down ? 'down' : null };
}

/**
 * When a unit's next poll is due, given when this one was due: `pollMs` later (or now, if that
 * has passed already), or, for a unit that is down, `downPollMs` (at least `pollMs`) from now
 * times 1 ± `DOWN_POLL_JITTER` (`rand` in [0, 1)).
 */
export function nextPollDue(due: number, now: number, pollMs: number, down: boolean, downPollMs: number, rand: number): number {
  if (down) return now + Math.max(pollMs, downPollMs) * (1 - DOWN_POLL_JITTER + 2 * DOWN_POLL_JITTER * rand);
  return Math.max(due + pollMs, now);
}
