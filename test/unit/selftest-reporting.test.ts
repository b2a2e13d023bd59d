/** schedule/reporting.ts: the daily reporting check over each sensor's minutes with a value. */
import { describe, expect, it } from 'vitest';
import { DAY_MS, judgeReporting, longestSilence, MINUTE_MS, reportingWindow, rollupRange, ROLLUP_LAG_MS } from '../../gateway/schedule/reporting.ts';

/** 2026-07-20 08:00 +08:00, on a minute. */
const NOW = Date.parse('2026-07-20T08:00:00+08:00');
const M = (ms: number): number => Math.floor(ms / MINUTE_MS);
const FULL = reportingWindow(NOW, NOW - 30 * DAY_MS);
/** Every minute of the window with a value. */
const every = (from: number, to: number, step = 1): number[] => {
  const out: number[] = [];
  for (let m = M(from); m < M(to); m += step) out.push(m);
  return out;
};

describe('the window', () => {
  it('is the last 24 h, or since the box began listening if later', () => {
    expect(reportingWindow(NOW, NOW - 30 * DAY_MS)).toEqual({ fromMs: NOW - DAY_MS, toMs: NOW });
    expect(reportingWindow(NOW, NOW - 3_600_000)).toEqual({ fromMs: NOW - 3_600_000, toMs: NOW });
  });

  it('asks the rollups for every minute the window touches, as (after, through]', () => {
    const w = { fromMs: NOW - DAY_MS + 30_000, toMs: NOW + 10_000 };
    const r = rollupRange(w);
    expect(r.after + 1).toBe(M(w.fromMs)); // the minute holding the window's start is in
    expect(r.through).toBe(M(w.toMs)); // the minute now is in
  });
});

describe('the longest silence, at the rollups resolution, never more than it can have been', () => {
  it('a sensor that reported every minute: no silence', () => {
    expect(longestSilence(every(FULL.fromMs, FULL.toMs), FULL)).toEqual({ ms: 0, fromMs: FULL.fromMs });
  });

  it('between minutes m1 and m2: (m2 − m1 − 1) minutes, from the end of m1', () => {
    const base = M(FULL.fromMs);
    const minutes = [base, base + 1, base + 5, base + 6, ...every(FULL.fromMs + 7 * MINUTE_MS, FULL.toMs)];
    expect(longestSilence(minutes, FULL)).toEqual({ ms: 3 * MINUTE_MS, fromMs: (base + 2) * MINUTE_MS });
  });

  it('from the window start to the first minute with a value', () => {
    const minutes = every(FULL.fromMs + 90 * MINUTE_MS, FULL.toMs);
    expect(longestSilence(minutes, FULL)).toEqual({ ms: 90 * MINUTE_MS, fromMs: FULL.fromMs });
  });

  it('from the last minute to now, less the rollup lag', () => {
    const minutes = every(FULL.fromMs, NOW - 20 * MINUTE_MS);
    expect(longestSilence(minutes, FULL)).toEqual({ ms: 20 * MINUTE_MS - ROLLUP_LAG_MS, fromMs: NOW - 20 * MINUTE_MS });
  });

  it('a value in the current minute leaves no trailing silence; one in the minute before leaves none within the lag', () => {
    expect(longestSilence([M(NOW)], { fromMs: NOW, toMs: NOW + 5000 }).ms).toBe(0);
    expect(longestSilence([M(NOW) - 1], { fromMs: NOW - MINUTE_MS, toMs: NOW + ROLLUP_LAG_MS }).ms).toBe(0);
  });

  it('no minute at all: the whole window', () => {
    expect(longestSilence([], FULL)).toEqual({ ms: DAY_MS, fromMs: FULL.fromMs });
  });

  it('takes the longest of several, the first of equals', () => {
    const b = M(FULL.fromMs);
    const minutes = [b, b + 3, b + 10, b + 13, b + 20];
    const w = { fromMs: b * MINUTE_MS, toMs: (b + 21) * MINUTE_MS + ROLLUP_LAG_MS };
    expect(longestSilence(minutes, w)).toEqual({ ms: 6 * MINUTE_MS, fromMs: (b + 4) * MINUTE_MS });
    expect(longestSilence([b, b + 3, b + 6], { fromMs: b * MINUTE_MS, toMs: (b + 7) * MINUTE_MS })).toEqual({ ms: 2 * MINUTE_MS, fromMs: (b + 1) * MINUTE_MS });
  });
});

describe('the verdict', () => {
  it('a 60 s gauge that reported every minute passes, with its figures', () => {
    const v = judgeReporting('rg1', 60, every(FULL.fromMs, FULL.toMs), FULL, 3);
    expect(v).toEqual({ sensor: 'rg1', ok: true, reason: null, values: { interval_s: 60, allowed_s: 180, longest_silent_s: 0, reported_minutes: 1440, window_s: 86400 }, silentFromMs: FULL.fromMs });
  });

  it('a 60 s gauge with a 3-minute hole passes (3 intervals allowed); a 4-minute hole fails as a gap', () => {
    const b = M(FULL.fromMs);
    const hole = (n: number): number[] => every(FULL.fromMs, FULL.toMs).filter((m) => m < b + 100 || m >= b + 100 + n);
    expect(judgeReporting('rg1', 60, hole(3), FULL, 3)).toMatchObject({ ok: true, values: { longest_silent_s: 180 } });
    expect(judgeReporting('rg1', 60, hole(4), FULL, 3)).toMatchObject({ ok: false, reason: 'gap', values: { longest_silent_s: 240, allowed_s: 180 }, silentFromMs: (b + 100) * MINUTE_MS });
  });

  it('a polled 10 s sensor fails for any whole minute without a value (60 s > 3 × 10 s)', () => {
    const b = M(FULL.fromMs);
    const minutes = every(FULL.fromMs, FULL.toMs).filter((m) => m !== b + 500);
    expect(judgeReporting('wl1', 10, minutes, FULL, 3)).toMatchObject({ ok: false, reason: 'gap', values: { longest_silent_s: 60, allowed_s: 30 } });
  });

  it('a smoke detector reporting every 10 minutes with a 30 s interval configured fails', () => {
    expect(judgeReporting('sm1', 30, every(FULL.fromMs, FULL.toMs, 10), FULL, 3)).toMatchObject({ ok: false, reason: 'gap', values: { longest_silent_s: 540 } });
  });

  it('silent for a whole day is a fault even when its interval would allow it (a detector reporting twice a day)', () => {
    expect(judgeReporting('sm1', 12 * 3600, [], FULL, 3)).toMatchObject({ ok: false, reason: 'silent_day', values: { longest_silent_s: 86400, allowed_s: 129600, reported_minutes: 0 } });
    // Once in the day is enough for it.
    expect(judgeReporting('sm1', 12 * 3600, [M(NOW) - 600], FULL, 3)).toMatchObject({ ok: true, reason: null });
  });

  it('a box listening for less than a day judges only what it heard: silent for 2 h of 2 h is a gap for a 60 s gauge, no fault for a 12 h detector', () => {
    const w = reportingWindow(NOW, NOW - 2 * 3_600_000);
    expect(judgeReporting('rg1', 60, [], w, 3)).toMatchObject({ ok: false, reason: 'gap', values: { longest_silent_s: 7200, window_s: 7200 } });
    expect(judgeReporting('sm1', 12 * 3600, [], w, 3)).toMatchObject({ ok: true });
  });

  it('a box that just started blames nobody for its own silence', () => {
    const w = reportingWindow(NOW, NOW - 20_000);
    expect(judgeReporting('rg1', 60, [], w, 3).ok).toBe(true);
  });

  it('reporting_gap_intervals sets the allowance', () => {
    const b = M(FULL.fromMs);
    const minutes = every(FULL.fromMs, FULL.toMs).filter((m) => m < b + 100 || m >= b + 110);
    expect(judgeReporting('rg1', 60, minutes, FULL, 10).ok).toBe(true);
    expect(judgeReporting('rg1', 60, minutes, FULL, 9).ok).toBe(false);
  });
});
