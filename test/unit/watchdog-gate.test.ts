/**
 * The watchdog's judgement (gateway/shell/watchdog-gate.ts) and what systemd's environment
 * means (sd-notify.ts takeSystemdEnv): each limit at, just past and far past its bound; a
 * degraded store is not a stalled one; WATCHDOG_PID of another process is not ours.
 */
import { describe, expect, it } from 'vitest';
import { takeSystemdEnv } from '../../gateway/shell/sd-notify.ts';
import { describe as say, judge, WATCHDOG_LIMITS, type WatchdogSample } from '../../gateway/shell/watchdog-gate.ts';

const healthy: WatchdogSample = { loopLagMs: 12, storeStallMs: 0, tickAgeMs: 800 };

describe('judge', () => {
  it('a healthy box pings', () => {
    expect(judge(healthy)).toEqual([]);
    expect(say([], healthy)).toBe('running');
  });

  it('each limit is inclusive, and one millisecond past it withholds the ping', () => {
    const L = WATCHDOG_LIMITS;
    expect(judge({ ...healthy, loopLagMs: L.maxLoopLagMs })).toEqual([]);
    expect(judge({ ...healthy, loopLagMs: L.maxLoopLagMs + 1 })).toEqual(['event_loop']);
    expect(judge({ ...healthy, storeStallMs: L.maxStoreStallMs })).toEqual([]);
    expect(judge({ ...healthy, storeStallMs: L.maxStoreStallMs + 1 })).toEqual(['store']);
    expect(judge({ ...healthy, tickAgeMs: L.maxTickAgeMs })).toEqual([]);
    expect(judge({ ...healthy, tickAgeMs: L.maxTickAgeMs + 1 })).toEqual(['engine']);
  });

  it('an engine that is not running, and samples that are not numbers, are problems (never a ping by accident)', () => {
    expect(judge({ ...healthy, tickAgeMs: null })).toEqual(['engine']);
    expect(judge({ loopLagMs: Number.NaN, storeStallMs: Number.NaN, tickAgeMs: Number.NaN })).toEqual(['event_loop', 'store', 'engine']);
  });

  it('several problems at once are all named, in a fixed order, with their figures', () => {
    const s = { loopLagMs: 5400, storeStallMs: 75_000, tickAgeMs: 31_000 };
    const p = judge(s);
    expect(p).toEqual(['event_loop', 'store', 'engine']);
    expect(say(p, s)).toBe('unhealthy, not pinging the watchdog: event loop held 5400 ms; a log write waiting for the disk 75 s; engine has not ticked for 31 s');
    expect(say(['engine'], { ...s, tickAgeMs: null })).toContain('engine not running');
  });

  it('limits can be set per box (tests shorten them)', () => {
    expect(judge({ ...healthy, loopLagMs: 300 }, { ...WATCHDOG_LIMITS, maxLoopLagMs: 200 })).toEqual(['event_loop']);
  });
});

describe('takeSystemdEnv', () => {
  it('reads the socket and the timeout, and removes them so children do not inherit them', () => {
    const env: NodeJS.ProcessEnv = { NOTIFY_SOCKET: '/run/systemd/notify', WATCHDOG_USEC: '30000000', WATCHDOG_PID: '4242', PATH: '/usr/bin' };
    expect(takeSystemdEnv(env, 4242)).toEqual({ socket: '/run/systemd/notify', watchdogMs: 30_000 });
    expect(env).toEqual({ PATH: '/usr/bin' });
  });

  it('WATCHDOG_PID of another process: the watchdog is not ours (sd_watchdog_enabled)', () => {
    expect(takeSystemdEnv({ NOTIFY_SOCKET: '@x', WATCHDOG_USEC: '30000000', WATCHDOG_PID: '17' }, 4242)).toEqual({ socket: '@x', watchdogMs: null });
  });

  it('no WATCHDOG_PID: ours; a zero, negative or garbled WATCHDOG_USEC: no watchdog; no socket: null', () => {
    expect(takeSystemdEnv({ NOTIFY_SOCKET: '@x', WATCHDOG_USEC: '2000000' }, 1).watchdogMs).toBe(2000);
    for (const bad of ['0', '-5', 'abc', '']) expect(takeSystemdEnv({ NOTIFY_SOCKET: '@x', WATCHDOG_USEC: bad }, 1).watchdogMs).toBeNull();
    expect(takeSystemdEnv({}, 1)).toEqual({ socket: null, watchdogMs: null });
  });
});
