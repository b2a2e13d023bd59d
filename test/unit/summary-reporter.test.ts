// The suite's closing line never contradicts vitest's exit code (issue 14 §1: a run whose
// pymodbus `beforeAll` failed exited 1 but said "607 passed, 0 failed, 6 skipped").
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CONFIG = fileURLToPath(new URL('../fixtures/reporter/vitest.config.ts', import.meta.url));
const VITEST = fileURLToPath(new URL('../../node_modules/vitest/vitest.mjs', import.meta.url));

function runFixture(file: string): { code: number | null; line: string | undefined } {
  const r = spawnSync(process.execPath, [VITEST, 'run', '--config', CONFIG], {
    cwd: ROOT,
    env: { ...process.env, FIXTURE: file, FORCE_COLOR: '0', NO_COLOR: '1' },
    encoding: 'utf8',
    timeout: 60_000,
  });
  const line = r.stdout.split('\n').find((l) => l.startsWith('vitest: '));
  return { code: r.status, line };
}

describe('summary reporter', () => {
  it('a file whose beforeAll throws is a failure, and its unrun tests are skipped', () => {
    const r = runFixture('hook-fails.spec.ts');
    expect(r.code).toBe(1);
    expect(r.line).toBe('vitest: 0 passed, 1 failed, 2 skipped');
  });

  it('a file that throws while loading is a failure', () => {
    const r = runFixture('import-fails.spec.ts');
    expect(r.code).toBe(1);
    expect(r.line).toBe('vitest: 0 passed, 1 failed');
  });

  it('an error thrown outside any test is a failure beside the passed test', () => {
    const r = runFixture('unhandled.spec.ts');
    expect(r.code).toBe(1);
    expect(r.line).toBe('vitest: 1 passed, 1 failed');
  });

  it('a run with no test file found is a failure', () => {
    const r = runFixture('no-such.spec.ts');
    expect(r.code).toBe(1);
    expect(r.line).toBe('vitest: 0 passed, 1 failed');
  });

  it('a green file says 0 failed and exits 0', () => {
    const r = runFixture('passes.spec.ts');
    expect(r.code).toBe(0);
    expect(r.line).toBe('vitest: 1 passed, 0 failed');
  });
});
