import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Integration tests start real processes (simavr, brokers) on a loaded 2-core machine.
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // One file at a time (vitest's default on 2 cores). Two at a time took the suite from over
    // 10 minutes to ~7, but store-checkpointer's WAL-bound test failed once under it (walMax
    // 205 frames: a round whose checkpoint met a snapshot and did not restart); that test needs
    // mending before this can be two.
    maxWorkers: 1,
    reporters: ['default', './test/helpers/summary-reporter.ts'],
  },
});
