import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Integration tests start real processes (simavr, brokers) on a loaded 2-core machine.
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Two files at a time on this 2-core machine (vitest's default is cores − 1 = one): most
    // integration files wait on sockets, child processes and timers, not on the CPU. The whole
    // suite went over 10 minutes with one.
    maxWorkers: 2,
    reporters: ['default', './test/helpers/summary-reporter.ts'],
  },
});
