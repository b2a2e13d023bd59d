/**
 * The store's schedule (node-schedule): the rollup every minute, retention once a day. A job
 * never throws into the scheduler; the store decides what a failure means.
 */
// First: keeps luxon (under node-schedule) from loading ICU's locale data (schedule-locale.ts).
import './schedule-locale.ts';
import schedule from 'node-schedule';
import type { Logger } from 'pino';
import type { Clock } from '../shell/clock.ts';
import type { PruneCounts } from './types.ts';

/** Every 5 s: each run merges only what arrived since the last (see rollup.ts), so it stays short. */
export const ROLLUP_CRON = '*/5 * * * * *';
/** 03:17 local time, away from the hour when other jobs run. */
export const RETENTION_CRON = '0 17 3 * * *';

export interface JobHooks {
  clock: Clock;
  log: Logger;
  rollup(nowWall: number): number;
  /** The same, one chunk per step (the scheduled job yields between steps). */
  rollupSteps(nowWall: number): Generator<void, number>;
  pruneSteps(nowWall: number): Generator<void, PruneCounts>;
  /** Runs `fn` unless the store is closed or degraded; false when it did not run or failed. */
  guard(what: string, fn: () => void): boolean;
}

/** Starts both jobs; returns a function that cancels them. */
export function scheduleStoreJobs(h: JobHooks): () => void {
  let rolling = false;
  const jobs = [
    schedule.scheduleJob(ROLLUP_CRON, () => {
      if (rolling) return; // the previous run is still working off a backlog
      rolling = true;
      const now = h.clock.wall();
      let steps: Generator<void, number> | null = null;
      if (!h.guard('rollup', () => void (steps = h.rollupSteps(now)))) return void (rolling = false);
      runSteps(h, 'rollup', steps!)
        .catch((err: unknown) => h.log.error({ err }, 'rollup job failed'))
        .finally(() => (rolling = false));
    }),
    schedule.scheduleJob(RETENTION_CRON, () => {
      runRetention(h).catch((err: unknown) => h.log.error({ err }, 'retention job failed'));
    }),
  ];
  return () => {
    for (const job of jobs) job.cancel();
  };
}

/** Rolls up first (so raw readings about to go are rolled), then prunes chunk by chunk, yielding in between. */
export async function runRetention(h: Omit<JobHooks, 'rollupSteps'>): Promise<PruneCounts | null> {
  if (!h.clock.trusted()) {
    h.log.warn('wall clock not trusted; retention skipped (it would delete by a wrong date)');
    return null;
  }
  const now = h.clock.wall();
  h.guard('rollup', () => void h.rollup(now));
  const done = await runSteps(h, 'retention', h.pruneSteps(now));
  if (done) h.log.info(done, 'retention pruned');
  return done;
}

/** Runs a chunked job step by step, each under the store's guard, yielding to the event loop in between. */
export async function runSteps<R>(h: Pick<JobHooks, 'guard'>, what: string, steps: Generator<void, R>): Promise<R | null> {
  for (;;) {
    const step: { done: boolean; value: R | null } = { done: false, value: null };
    const ran = h.guard(what, () => {
      const r = steps.next();
      if (r.done) Object.assign(step, { done: true, value: r.value });
    });
    if (!ran) return null;
    if (step.done) return step.value;
    await new Promise<void>((res) => setImmediate(() => res()));
  }
}

/** Runs a chunked job to its end at once (EventStore.rollup and prune: tests, and the rollup a retention run starts with). */
export function drain<R>(steps: Generator<void, R>): R {
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
  }
}
