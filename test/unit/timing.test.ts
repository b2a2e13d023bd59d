// backoff() and withDeadline() (gateway/shell/timing.ts) on fake timers.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { backoff, backoffDelay, withDeadline } from '../../gateway/shell/timing.ts';

class LateError extends Error {
  readonly code = 'E_LATE';
}

beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(() => {
  vi.useRealTimers();
});

describe('backoff', () => {
  it('doubles from the first delay up to the cap, and starts over after reset()', () => {
    const b = backoff({ firstMs: 1000, maxMs: 30_000 });
    expect(b.peek()).toBe(1000);
    expect(Array.from({ length: 7 }, () => b.next())).toEqual([1000, 2000, 4000, 8000, 16_000, 30_000, 30_000]);
    expect(b.peek()).toBe(30_000);
    b.reset();
    expect(b.next()).toBe(1000);
    expect(b.peek()).toBe(2000);
  });

  it('gives the delay of any attempt, without overflowing after many', () => {
    const p = { firstMs: 250, maxMs: 60_000 };
    expect(backoffDelay(0, p)).toBe(250);
    expect(backoffDelay(3, p)).toBe(2000);
    expect(backoffDelay(10_000, p)).toBe(60_000);
    expect(backoffDelay(-1, p)).toBe(250);
  });
});

describe('withDeadline', () => {
  it('settles as the work does when it is in time, and leaves no timer behind', async () => {
    const late = vi.fn(() => 'late' as const);
    const p = withDeadline(new Promise<string>((r) => setTimeout(() => r('done'), 50)), 100, late);
    await vi.advanceTimersByTimeAsync(50);
    await expect(p).resolves.toBe('done');
    expect(late).not.toHaveBeenCalled();
    expect(vi.getTimerCount()).toBe(0);
    const failing = withDeadline(Promise.reject(new Error('boom')), 100, late);
    await expect(failing).rejects.toThrow('boom');
    expect(vi.getTimerCount()).toBe(0);
  });

  it('resolves with what late() returns once the deadline passes, and ignores the work after', async () => {
    let finish: (v: string) => void = () => undefined;
    const p = withDeadline(new Promise<string>((r) => (finish = r)), 100, (ms) => `late after ${ms}`);
    await vi.advanceTimersByTimeAsync(99);
    let settled = false;
    void p.then(() => (settled = true));
    await Promise.resolve();
    expect(settled).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await expect(p).resolves.toBe('late after 100');
    finish('done');
    await expect(p).resolves.toBe('late after 100');
  });

  it('rejects with the error late() throws, and a late rejection of the work is not unhandled', async () => {
    let fail: (e: Error) => void = () => undefined;
    const p = withDeadline(new Promise<void>((_, reject) => (fail = reject)), 100, (ms): never => {
      throw new LateError(`no answer in ${ms} ms`);
    });
    const seen = expect(p).rejects.toMatchObject({ code: 'E_LATE', message: 'no answer in 100 ms' });
    await vi.advanceTimersByTimeAsync(100);
    await seen;
    fail(new Error('too late to matter'));
    await vi.advanceTimersByTimeAsync(0);
  });
});
