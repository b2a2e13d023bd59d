// The pure rules of a shared Modbus bus (drivers/modbus/bus-queue.ts): which try goes next,
// what a try's outcome does, how often a unit is polled; and, run on a virtual clock, the bounds
// they promise (issue 15: a write waits for at most the one try on the line).
import { describe, expect, it } from 'vitest';
import { afterTry, DOWN_AFTER, DOWN_POLL_JITTER, healthy, nextPollDue, nextTry, triesFor, type Outcome, type Priority, type QueuedTry, type UnitHealth } from '../../drivers/modbus/bus-queue.ts';

const q = (unit: number, priority: Priority, order: number, triesLeft = 1): QueuedTry => ({ unit, priority, order, triesLeft });
const down = (since = 100, failedReads = DOWN_AFTER): UnitHealth => ({ failedReads, downSince: since });

describe('nextTry', () => {
  it('an empty queue has nothing to run', () => {
    expect(nextTry([], 0, 0, 0)).toBeNull();
    expect(nextTry([], 0, 100, 5)).toBeNull();
  });

  it('waits out the 3.5-character silence after the last transaction, then runs', () => {
    const queue = [q(1, 'read', 0)];
    expect(nextTry(queue, 100, 99, 4)).toEqual({ waitMs: 3 });
    expect(nextTry(queue, 103, 99, 4)).toEqual({ run: 0 });
    expect(nextTry(queue, 200, 99, 4)).toEqual({ run: 0 });
    expect(nextTry(queue, 0, 0, 0)).toEqual({ run: 0 }); // TCP: no silence
  });

  it('writes go before reads, whatever their order; in arrival order within each', () => {
    const queue = [q(3, 'read', 0), q(9, 'read', 1), q(1, 'write', 5), q(2, 'write', 4), q(4, 'read', 2)];
    const taken: number[] = [];
    const left = [...queue];
    while (left.length) {
      const n = nextTry(left, 0, 0, 0) as { run: number };
      taken.push(left.splice(n.run, 1)[0]!.order);
    }
    expect(taken).toEqual([4, 5, 0, 1, 2]);
  });

  it('a retry re-queued with a new order goes behind what was queued meanwhile', () => {
    // The dead relay's write (order 0) failed; a live relay's write (1) came while it was on the line.
    const queue = [q(9, 'write', 2, 2), q(1, 'write', 1)];
    expect(queue[(nextTry(queue, 0, 0, 0) as { run: number }).run]!.unit).toBe(1);
  });
});

describe('triesFor', () => {
  it.each([0, 1, 2, 5])('retries %i: every write and every read of a unit that is up gets retries + 1 tries; a read of a unit that is down gets one', (retries) => {
    for (const h of [healthy(), { failedReads: DOWN_AFTER - 1, downSince: null }]) {
      expect(triesFor('write', h, retries)).toBe(retries + 1);
      expect(triesFor('read', h, retries)).toBe(retries + 1);
    }
    expect(triesFor('write', down(), retries)).toBe(retries + 1); // a siren matters more than line time
    expect(triesFor('read', down(), retries)).toBe(1);
  });
});

describe('afterTry', () => {
  const healths: [string, UnitHealth][] = [
    ['up', healthy()],
    ['up, one read short of down', { failedReads: DOWN_AFTER - 1, downSince: null }],
    ['down', down(100)],
  ];
  const outcomes: Outcome[] = ['answer', 'exception', 'transport', 'port'];
  const cases = healths.flatMap(([name, h]) => outcomes.flatMap((outcome) => (['read', 'write'] as const).flatMap((priority) => [1, 2].map((triesLeft) => ({ name, h, outcome, priority, triesLeft })))));

  it.each(cases)('$name unit, $priority try ends $outcome with $triesLeft tries left', ({ h, outcome, priority, triesLeft }) => {
    const r = afterTry({ priority, triesLeft }, outcome, h, 500);
    if (outcome === 'answer' || outcome === 'exception') {
      // Any answer — an exception too: the device is alive — settles it and clears the unit.
      expect(r).toEqual({ retry: false, health: healthy(), change: h.downSince !== null ? 'up' : null });
    } else if (outcome === 'port') {
      // A closed port is not the unit's fault: no retry, nothing counted against it.
      expect(r).toEqual({ retry: false, health: h, change: null });
    } else if (triesLeft > 1) {
      expect(r).toEqual({ retry: true, health: h, change: null });
    } else if (priority === 'write') {
      expect(r).toEqual({ retry: false, health: h, change: null }); // writes do not mark a unit down
    } else {
      const failedReads = h.failedReads + 1;
      const goesDown = h.downSince === null && failedReads >= DOWN_AFTER;
      expect(r).toEqual({ retry: false, health: { failedReads, downSince: goesDown ? 500 : h.downSince }, change: goesDown ? 'down' : null });
    }
  });

  it(`a unit goes down on its ${DOWN_AFTER}rd failed read in a row, once, and comes up on its first answer`, () => {
    let h = healthy();
    const changes: (string | null)[] = [];
    for (let i = 0; i < DOWN_AFTER + 2; i++) {
      // Each read fails its retry first, then its last try.
      const retry = afterTry({ priority: 'read', triesLeft: 2 }, 'transport', h, i);
      expect(retry.retry).toBe(true);
      const r = afterTry({ priority: 'read', triesLeft: 1 }, 'transport', retry.health, i);
      changes.push(r.change);
      h = r.health;
    }
    expect(changes).toEqual([null, null, 'down', null, null]);
    expect(h).toEqual({ failedReads: DOWN_AFTER + 2, downSince: 2 });
    expect(afterTry({ priority: 'read', triesLeft: 1 }, 'answer', h, 9)).toEqual({ retry: false, health: healthy(), change: 'up' });
  });

  it('an answer between failed reads starts the count again', () => {
    let h = healthy();
    for (const o of ['transport', 'transport', 'answer', 'transport', 'transport'] as const) h = afterTry({ priority: 'read', triesLeft: 1 }, o, h, 0).health;
    expect(h).toEqual({ failedReads: 2, downSince: null });
  });
});

describe('nextPollDue', () => {
  it('a unit that is up is due one interval after its last due time, not after its poll ended', () => {
    expect(nextPollDue(1000, 1400, 1000, false, 30_000, 0.5)).toBe(2000);
    expect(nextPollDue(1000, 1999, 1000, false, 30_000, 0.5)).toBe(2000);
  });

  it('a poll late by more than an interval runs once, now: no burst to catch up', () => {
    expect(nextPollDue(1000, 2600, 1000, false, 30_000, 0.5)).toBe(2600);
    expect(nextPollDue(1000, 9000, 1000, false, 30_000, 0.5)).toBe(9000);
  });

  it('a unit that is down is due down_poll_s from now, ±10 % jitter, never sooner than its interval', () => {
    const lo = 1 - DOWN_POLL_JITTER;
    const hi = 1 + DOWN_POLL_JITTER;
    expect(nextPollDue(0, 5000, 1000, true, 30_000, 0)).toBeCloseTo(5000 + lo * 30_000);
    expect(nextPollDue(0, 5000, 1000, true, 30_000, 0.5)).toBeCloseTo(5000 + 30_000);
    expect(nextPollDue(0, 5000, 1000, true, 30_000, 0.999999)).toBeCloseTo(5000 + hi * 30_000, 0);
    expect(nextPollDue(0, 5000, 60_000, true, 30_000, 0.5)).toBeCloseTo(5000 + 60_000); // a slow sensor stays slow
    for (let i = 0; i < 100; i++) {
      const d = nextPollDue(0, 0, 1000, true, 30_000, i / 100);
      expect(d).toBeGreaterThanOrEqual(lo * 30_000);
      expect(d).toBeLessThan(hi * 30_000);
    }
  });
});

/**
 * The rules on a virtual clock: one bus, a probe (unit 3, answers in `rttMs`), a dead unit (9,
 * every try times out after `timeoutMs`), both polled every `pollMs`, and a siren write to unit 1
 * arriving at `writeAt`. Returns when the write started, and the probe's reading times.
 */
function simulate(o: { timeoutMs: number; retries: number; pollMs: number; rttMs: number; silenceMs: number; writeAt: number; until: number }) {
  interface Req extends QueuedTry {
    done: (ok: boolean) => void;
  }
  const queue: Req[] = [];
  const health = new Map<number, UnitHealth>();
  let order = 0;
  let now = 0;
  let lastEnd = -Infinity;
  let writeStarted: number | null = null;
  const probeReadings: number[] = [];
  const timers: { at: number; fn: () => void }[] = [];
  const h = (u: number) => health.get(u) ?? healthy();
  const request = (unit: number, priority: Priority, done: (ok: boolean) => void) =>
    queue.push({ unit, priority, triesLeft: triesFor(priority, h(unit), o.retries), order: order++, done });
  const poll = (unit: number, due: number) =>
    request(unit, 'read', (ok) => {
      if (unit === 3 && ok) probeReadings.push(now);
      const next = nextPollDue(due, now, o.pollMs, h(unit).downSince !== null, 30_000, 0.5);
      timers.push({ at: next, fn: () => poll(unit, next) });
    });
  timers.push({ at: 0, fn: () => poll(9, 0) }, { at: 1, fn: () => poll(3, 1) });
  timers.push({ at: o.writeAt, fn: () => request(1, 'write', () => undefined) });
  // Requests whose time came while a try was on the line join the queue before its retry does.
  const fire = () => {
    for (timers.sort((a, b) => a.at - b.at); timers.length && timers[0]!.at <= now; timers.sort((a, b) => a.at - b.at)) timers.shift()!.fn();
  };
  while (now < o.until) {
    fire();
    const n = nextTry(queue, now, lastEnd, o.silenceMs);
    if (!n) {
      now = timers[0]!.at;
      continue;
    }
    if ('waitMs' in n) {
      now = Math.min(now + n.waitMs, timers[0]?.at ?? Infinity);
      continue;
    }
    const [t] = queue.splice(n.run, 1);
    if (t!.unit === 1 && t!.priority === 'write') writeStarted = now;
    const dead = t!.unit === 9;
    now += dead ? o.timeoutMs : o.rttMs;
    lastEnd = now;
    fire();
    const r = afterTry(t!, dead ? 'transport' : 'answer', h(t!.unit), now);
    health.set(t!.unit, r.health);
    if (r.retry) queue.push({ ...t!, triesLeft: t!.triesLeft - 1, order: order++ });
    else t!.done(!dead);
  }
  return { writeStarted, probeReadings, deadDown: h(9).downSince !== null };
}

describe('the rules on a virtual clock: a dead unit on a shared bus', () => {
  const base = { timeoutMs: 500, retries: 2, pollMs: 1000, rttMs: 10, silenceMs: 4, until: 60_000 };

  it('a write arriving at any moment waits for at most the one try on the line and the silence', () => {
    for (let writeAt = 0; writeAt < 6000; writeAt += 37) {
      const r = simulate({ ...base, writeAt, until: writeAt + 2000 });
      expect(r.writeStarted! - writeAt).toBeLessThanOrEqual(base.timeoutMs + base.silenceMs);
    }
  });

  it('the probe is read at its interval, each reading at most one dead try late', () => {
    const r = simulate({ ...base, writeAt: 1e9 });
    const gaps = r.probeReadings.slice(1).map((at, i) => at - r.probeReadings[i]!);
    expect(Math.max(...gaps)).toBeLessThanOrEqual(base.pollMs + base.timeoutMs + 2 * base.silenceMs);
    expect(r.probeReadings.length).toBeGreaterThanOrEqual(Math.floor(base.until / base.pollMs) - 1);
    expect(r.deadDown).toBe(true);
  });
});
