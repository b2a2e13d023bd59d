/**
 * Ends the vitest run with one plain line, `vitest: N passed, N failed[, N skipped]`, that CI
 * and people can read without knowing vitest's own summary format.
 *
 * The line never contradicts vitest's exit code. A file can fail without any of its tests
 * failing: a `beforeAll` that throws leaves every test of the file unrun (vitest reports them
 * skipped), a file that throws while loading has no tests at all, and an unhandled error fails
 * the run from outside any test. Each of these counts as one failure, so a run that exits 1
 * never reads "0 failed".
 */
import type { Reporter, SerializedError, TestModule, TestRunEndReason } from 'vitest/node';

export default class SummaryReporter implements Reporter {
  onTestRunEnd(
    modules: ReadonlyArray<TestModule>,
    unhandledErrors: ReadonlyArray<SerializedError>,
    reason: TestRunEndReason,
  ): void {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    for (const m of modules) {
      let failedHere = 0;
      for (const t of m.children.allTests()) {
        const s = t.result().state;
        if (s === 'passed') passed++;
        else if (s === 'failed') failedHere++;
        else skipped++;
      }
      // The file itself failed (a hook, or loading it) though none of its tests did.
      if (m.state() === 'failed' && failedHere === 0) failedHere = 1;
      failed += failedHere;
    }
    failed += unhandledErrors.length;
    // Whatever else made the run fail (no test files found, say) is still a failure.
    if (reason === 'failed' && failed === 0) failed = 1;
    process.stdout.write(`\nvitest: ${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}\n`);
  }
}
