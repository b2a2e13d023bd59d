/**
 * The raw-reading policy for the township: per-minute rollups, one message per minute with every
 * sensor, settled minutes only, thinned to one summary per sensor per hour for hours that ended
 * more than 24 h ago, nothing older than the rollup retention; a cursor that only moves forward.
 */
import { describe, expect, it } from 'vitest';
import type { RollupRow } from '../../gateway/store/rollup-rows.ts';
import { initialRollupCursor, ROLLUP_POLICY, rollupMessages, rollupRange } from '../../gateway/uplink/rollup-out.ts';

const SITE = { id: 'demo', utcOffset: '+08:00' };
const MIN = 60_000;
const HOUR = 60 * MIN;
/** 2026-07-20T08:00:00+08:00, an hour boundary. */
const T0 = Date.parse('2026-07-20T08:00:00+08:00');
const M0 = T0 / MIN;

function row(sensor: string, minute: number, over: Partial<RollupRow> = {}): RollupRow {
  return { sensor, minute, n: 60, errors: 0, min: 1, max: 3, mean: 2, last: 3, ...over };
}
const parse = (m: { payload: string | Buffer }): any => JSON.parse(m.payload as string);

describe('rollupRange', () => {
  it('waits for a minute to settle (2 min after it ended)', () => {
    // Minute M0 ends at T0 + 1 min and settles at T0 + 3 min.
    expect(rollupRange(M0 - 1, T0 + 3 * MIN - 1)).toBeNull();
    expect(rollupRange(M0 - 1, T0 + 3 * MIN)).toEqual({ after: M0 - 1, through: M0, thinned: false });
    expect(initialRollupCursor(T0 + 3 * MIN)).toBe(M0);
  });

  it('reads at most maxMinutes minutes a call', () => {
    expect(rollupRange(M0 - 1, T0 + 5 * HOUR)).toEqual({ after: M0 - 1, through: M0 - 1 + 60, thinned: false });
    expect(rollupRange(M0 - 1, T0 + 5 * HOUR, { ...ROLLUP_POLICY, maxMinutes: 5 })).toEqual({ after: M0 - 1, through: M0 + 4, thinned: false });
  });

  it('thins whole hours that ended more than 24 h ago, as many whole hours a call as maxMinutes holds (at least one)', () => {
    const now = T0 + 30 * HOUR + 30 * MIN; // hours T0 … T0+5h ended more than 24 h ago
    expect(rollupRange(M0 - 1, now)).toEqual({ after: M0 - 1, through: M0 + 59, thinned: true });
    expect(rollupRange(M0 - 1, now, { ...ROLLUP_POLICY, maxMinutes: 150 })).toEqual({ after: M0 - 1, through: M0 + 2 * 60 - 1, thinned: true });
    expect(rollupRange(M0 - 1, now, { ...ROLLUP_POLICY, maxMinutes: 24 * 60 })).toEqual({ after: M0 - 1, through: M0 + 6 * 60 - 1, thinned: true });
    expect(rollupRange(M0 - 1, now, { ...ROLLUP_POLICY, maxMinutes: 5 })).toEqual({ after: M0 - 1, through: M0 + 59, thinned: true });
    // A cursor inside an hour: the first thinned message is the rest of that hour.
    expect(rollupRange(M0 + 20, now)).toEqual({ after: M0 + 20, through: M0 + 59, thinned: true });
    // Past the thinned hours, minutes again.
    expect(rollupRange(M0 + 6 * 60 - 1, now)).toMatchObject({ thinned: false, through: M0 + 6 * 60 - 1 + 60 });
  });

  it('skips what the rollup retention already removed', () => {
    const now = T0 + 500 * 24 * HOUR;
    const r = rollupRange(M0, now)!;
    expect(r.after).toBe(Math.floor((now - ROLLUP_POLICY.retentionMs) / MIN) - 1);
    expect(r.thinned).toBe(true);
  });

  it('rejects a cursor that is not an epoch minute and a policy without room', () => {
    expect(() => rollupRange(1.5, T0)).toThrow(RangeError);
    expect(() => rollupRange(Number.NaN, T0)).toThrow(RangeError);
    expect(() => rollupRange(M0, T0, { ...ROLLUP_POLICY, maxMinutes: 0 })).toThrow(RangeError);
  });
});

describe('rollupMessages', () => {
  it('sends one message per minute with every sensor of that minute, and moves the cursor', () => {
    const rows = [row('rg1', M0), row('wl1', M0, { n: 0, errors: 60, min: null, max: null, mean: null, last: null }), row('rg1', M0 + 2, { last: 7 })];
    const now = T0 + 5 * MIN; // M0 … M0+2 settled
    const { messages, cursor } = rollupMessages(SITE, rows, M0 - 1, now);
    expect(cursor).toBe(M0 + 2);
    expect(messages.map((m) => [m.topic, m.retain, m.qos, m.key, m.expirySeconds])).toEqual([
      ['sb/v1/demo/rollup', false, 1, undefined, undefined],
      ['sb/v1/demo/rollup', false, 1, undefined, undefined],
    ]);
    expect(parse(messages[0]!)).toEqual({
      site: 'demo',
      from: '2026-07-20T08:00:00+08:00',
      to: '2026-07-20T08:01:00+08:00',
      thinned: false,
      sensors: { rg1: { n: 60, errors: 0, min: 1, max: 3, mean: 2, last: 3 }, wl1: { n: 0, errors: 60, min: null, max: null, mean: null, last: null } },
    });
    // Minute M0+1 had no rows: no message, and `from` of the next says where it picks up.
    expect(parse(messages[1]!)).toMatchObject({ from: '2026-07-20T08:02:00+08:00', to: '2026-07-20T08:03:00+08:00', sensors: { rg1: { last: 7 } } });
  });

  it('ignores rows outside the range (not settled, or already sent): they come again or never', () => {
    const rows = [row('rg1', M0 - 1), row('rg1', M0), row('rg1', M0 + 1)];
    const { messages, cursor } = rollupMessages(SITE, rows, M0 - 1, T0 + 3 * MIN);
    expect(cursor).toBe(M0);
    expect(messages.map((m) => parse(m).from)).toEqual(['2026-07-20T08:00:00+08:00']);
  });

  it('sends nothing and keeps the cursor when nothing settled', () => {
    expect(rollupMessages(SITE, [row('rg1', M0)], M0 - 1, T0 + 2 * MIN)).toEqual({ messages: [], cursor: M0 - 1 });
  });

  it('advances over settled minutes without rows', () => {
    expect(rollupMessages(SITE, [], M0 - 1, T0 + 10 * MIN)).toEqual({ messages: [], cursor: M0 + 7 });
  });

  it('thins old hours to one summary per sensor: counts add, min/max widen, means weigh by n, last is the newest', () => {
    const rows = [
      row('rg1', M0, { n: 60, errors: 0, min: 1, max: 2, mean: 1.5, last: 2 }),
      row('wl1', M0, { n: 0, errors: 60, min: null, max: null, mean: null, last: null }),
      row('rg1', M0 + 30, { n: 20, errors: 40, min: 0.5, max: 9, mean: 5.5, last: 9 }),
      row('rg1', M0 + 59, { n: 0, errors: 60, min: null, max: null, mean: null, last: null }),
      row('rg1', M0 + 60, { n: 60, errors: 0, min: 4, max: 4, mean: 4, last: 4 }),
    ];
    const now = T0 + 26 * HOUR + 30 * MIN; // hours T0 and T0+1h ended more than 24 h ago, T0+2h did not
    const { messages, cursor } = rollupMessages(SITE, rows, M0 - 1, now, { ...ROLLUP_POLICY, maxMinutes: 120 });
    expect(cursor).toBe(M0 + 2 * 60 - 1);
    expect(messages.map(parse)).toEqual([
      {
        site: 'demo',
        from: '2026-07-20T08:00:00+08:00',
        to: '2026-07-20T09:00:00+08:00',
        thinned: true,
        sensors: { rg1: { n: 80, errors: 100, min: 0.5, max: 9, mean: (60 * 1.5 + 20 * 5.5) / 80, last: 9 }, wl1: { n: 0, errors: 60, min: null, max: null, mean: null, last: null } },
      },
      { site: 'demo', from: '2026-07-20T09:00:00+08:00', to: '2026-07-20T10:00:00+08:00', thinned: true, sensors: { rg1: { n: 60, errors: 0, min: 4, max: 4, mean: 4, last: 4 } } },
    ]);
    // The rest goes minute by minute.
    const next = rollupMessages(SITE, [row('rg1', M0 + 120)], cursor, now);
    expect(next.messages.map(parse)).toEqual([expect.objectContaining({ from: '2026-07-20T10:00:00+08:00', to: '2026-07-20T10:01:00+08:00', thinned: false })]);
  });

  it('starts a thinned hour where the cursor stands inside it', () => {
    const rows = [row('rg1', M0 + 10), row('rg1', M0 + 40, { min: 0, last: 5 })];
    const { messages } = rollupMessages(SITE, rows, M0 + 20, T0 + 30 * HOUR);
    expect(messages.map(parse)).toEqual([expect.objectContaining({ from: '2026-07-20T08:21:00+08:00', to: '2026-07-20T09:00:00+08:00', thinned: true, sensors: { rg1: { n: 60, errors: 0, min: 0, max: 3, mean: 2, last: 5 } } })]);
  });

  it('walks a week-long outage in few messages: thinned hours, then a day of minutes', () => {
    const start = M0 - 1;
    const now = T0 + 7 * 24 * HOUR;
    const rows: RollupRow[] = [];
    for (let m = M0; m < M0 + 7 * 24 * 60; m++) rows.push(row('rg1', m));
    let cursor = start;
    let thinned = 0;
    let minutes = 0;
    const covered: string[] = [];
    for (let i = 0; i < 1000; i++) {
      const out = rollupMessages(SITE, rows, cursor, now);
      if (out.cursor === cursor) break;
      expect(out.cursor).toBeGreaterThan(cursor);
      for (const m of out.messages) {
        const p = parse(m);
        if (p.thinned) thinned++;
        else minutes++;
        covered.push(p.from, p.to);
      }
      cursor = out.cursor;
    }
    expect(thinned).toBe(6 * 24); // every hour that ended more than a day ago
    expect(minutes).toBe(24 * 60 - 2); // the last day minute by minute, but for the 2 minutes not settled
    // Contiguous: each message starts where the previous ended.
    for (let i = 1; i < covered.length - 1; i += 2) expect(covered[i]).toBe(covered[i + 1]);
  });
});
