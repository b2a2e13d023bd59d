/** schedule/due.ts: when a due self-test runs, and when it waits and is tried again. */
import { describe, expect, it } from 'vitest';
import { blocker, decide, isAudible, retryTime, SELF_TESTS, type DueFacts } from '../../gateway/schedule/due.ts';

const NOW = Date.parse('2026-07-20T10:00:00+08:00');
const MIN = 60_000;
const WEEK = 7 * 24 * 60 * MIN;
const quiet: DueFacts = { alarms: [], drill: false, clockTrusted: true, storageOk: true, nextRegularAt: NOW + WEEK };

describe('what blocks a self-test', () => {
  it('nothing on a quiet box: every test runs', () => {
    for (const t of SELF_TESTS) expect(decide(t, false, quiet, NOW, 30 * MIN)).toEqual({ run: true });
  });

  it.each(SELF_TESTS)('%s waits while any alarm is active, and is tried again retry_after_min later', (t) => {
    const d = decide(t, false, { ...quiet, alarms: ['rg1/rain/1'] }, NOW, 30 * MIN);
    expect(d).toEqual({ run: false, reason: 'alarm_active', retryAt: NOW + 30 * MIN, superseded: false });
  });

  it.each(SELF_TESTS)('%s waits while a drill runs', (t) => {
    expect(decide(t, false, { ...quiet, drill: true }, NOW, 30 * MIN)).toMatchObject({ run: false, reason: 'drill_running', retryAt: NOW + 30 * MIN });
  });

  it.each(SELF_TESTS)('%s waits while the wall clock is untrusted (the cron hour would be wrong)', (t) => {
    expect(decide(t, false, { ...quiet, clockTrusted: false }, NOW, 30 * MIN)).toMatchObject({ run: false, reason: 'clock_untrusted' });
  });

  it('only the reporting check waits for the log to store readings again; the audible tests do not need it', () => {
    const f = { ...quiet, storageOk: false };
    expect(decide('reporting_daily', false, f, NOW, 30 * MIN)).toMatchObject({ run: false, reason: 'storage_degraded' });
    expect(decide('speaker_weekly', false, f, NOW, 30 * MIN)).toEqual({ run: true });
    expect(decide('siren_monthly', false, f, NOW, 30 * MIN)).toEqual({ run: true });
  });

  it('names the first reason: clock, then alarm, then drill, then storage', () => {
    const all: DueFacts = { alarms: ['x'], drill: true, clockTrusted: false, storageOk: false, nextRegularAt: null };
    expect(blocker('reporting_daily', all)).toBe('clock_untrusted');
    expect(blocker('reporting_daily', { ...all, clockTrusted: true })).toBe('alarm_active');
    expect(blocker('reporting_daily', { ...all, clockTrusted: true, alarms: [] })).toBe('drill_running');
    expect(blocker('reporting_daily', { ...all, clockTrusted: true, alarms: [], drill: false })).toBe('storage_degraded');
    expect(blocker('speaker_weekly', { ...all, clockTrusted: true, alarms: [], drill: false })).toBeNull();
  });

  it('a run still going covers the new time: no second run, no retry, whatever else holds', () => {
    expect(decide('speaker_weekly', true, quiet, NOW, 30 * MIN)).toEqual({ run: false, reason: 'running', retryAt: null, superseded: false });
    expect(decide('speaker_weekly', true, { ...quiet, alarms: ['a'] }, NOW, 30 * MIN)).toMatchObject({ reason: 'running', retryAt: null });
  });
});

describe('retry later', () => {
  it('tries again after retry_after_min while the next regular time is later', () => {
    expect(retryTime(NOW, 30 * MIN, NOW + 31 * MIN)).toEqual({ retryAt: NOW + 30 * MIN, superseded: false });
    expect(retryTime(NOW, 30 * MIN, null)).toEqual({ retryAt: NOW + 30 * MIN, superseded: false });
  });

  it('no retry when the next regular time comes first, or at the same moment: that run takes over', () => {
    expect(retryTime(NOW, 30 * MIN, NOW + 30 * MIN)).toEqual({ retryAt: null, superseded: true });
    expect(retryTime(NOW, 30 * MIN, NOW + 10 * MIN)).toEqual({ retryAt: null, superseded: true });
    expect(decide('reporting_daily', false, { ...quiet, alarms: ['a'], nextRegularAt: NOW + 5 * MIN }, NOW, 30 * MIN)).toEqual({ run: false, reason: 'alarm_active', retryAt: null, superseded: true });
  });

  it('a long alarm: retried every 30 min until it is over, then it runs', () => {
    const alarm = { ...quiet, alarms: ['wl1/stage/1'] };
    let t = NOW;
    const tries: number[] = [];
    for (let i = 0; i < 10; i++) {
      const d = decide('speaker_weekly', false, i < 6 ? alarm : quiet, t, 30 * MIN);
      if (d.run) break;
      tries.push((d.retryAt! - NOW) / MIN);
      t = d.retryAt!;
    }
    expect(tries).toEqual([30, 60, 90, 120, 150, 180]);
    expect(t).toBe(NOW + 180 * MIN);
  });
});

it('the speaker and siren tests sound; the reporting check does not', () => {
  expect(SELF_TESTS.filter(isAudible)).toEqual(['speaker_weekly', 'siren_monthly']);
});
