import { rmSync } from 'node:fs';
import { join } from 'node:path';
import schedule from 'node-schedule';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { runRetention } from '../../gateway/store/jobs.ts';
import { count, DAY, fakeClock, MIN, openStore, T0, tempDir } from '../helpers/store-rig.ts';

let dir: string;
beforeEach(() => {
  dir = tempDir();
});
afterEach(() => {
  vi.useRealTimers();
  rmSync(dir, { recursive: true, force: true });
});

describe('store schedule', () => {
  it('rolls up every minute on its own and cancels its jobs on stop', async () => {
    vi.useFakeTimers({ now: T0 });
    const before = Object.keys(schedule.scheduledJobs).length;
    const path = join(dir, 'log.db');
    const clock = fakeClock(T0);
    const { store } = await openStore(path, { clock, schedule: true });
    expect(Object.keys(schedule.scheduledJobs).length).toBe(before + 2);
    store.addReading({ sensor: 'rg1', value: 1, quality: 'good', atWall: T0 + 1000 });
    clock.t = T0 + MIN + 5000;
    vi.advanceTimersByTime(MIN + 5000);
    expect(count(path, 'readings_1m')).toBe(1);
    await store.stop();
    expect(Object.keys(schedule.scheduledJobs).length).toBe(before);
  });

  it('retention skips while the wall clock is untrusted, and otherwise rolls up, then prunes in steps', async () => {
    const path = join(dir, 'log.db');
    const clock = fakeClock(T0);
    const { store } = await openStore(path, { clock });
    for (let i = 0; i < 3; i++) store.addReading({ sensor: 'rg1', value: i, quality: 'good', atWall: T0 - 8 * DAY + i * MIN });
    let steps = 0;
    const hooks = {
      clock,
      log: pino({ level: 'silent' }),
      rollup: (now: number) => store.rollup(now),
      pruneSteps: function* (now: number) {
        steps++;
        yield;
        return store.prune(now);
      },
      guard: (_what: string, fn: () => void) => {
        fn();
        return true;
      },
    };
    clock.isTrusted = false;
    expect(await runRetention(hooks)).toBeNull();
    expect(count(path, 'readings')).toBe(0); // still waiting in the batch: nothing ran
    clock.isTrusted = true;
    expect(await runRetention(hooks)).toEqual({ readings: 3, rollups: 0, events: 0 });
    expect(steps).toBe(1);
    expect(count(path, 'readings_1m')).toBe(3); // rolled up before the raw readings went
    await store.stop();
  });
});
