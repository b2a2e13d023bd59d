// scripts/test-deps.sh proves a package by using it, not by a file existing (issue 14 §1: with
// pymodbus's files present but `serial` missing, the old check passed and the pymodbus test's
// slave died with ModuleNotFoundError on a fresh machine).
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SCRIPT = fileURLToPath(new URL('../../scripts/test-deps.sh', import.meta.url));

/** Runs the script as an unprivileged user (it installs nothing then, only reports). */
function runUnprivileged(env: Record<string, string>): { code: number | null; err: string } {
  const dir = mkdtempSync(join(tmpdir(), 'sb-deps-'));
  chmodSync(dir, 0o755);
  const script = join(dir, 'test-deps.sh');
  copyFileSync(SCRIPT, script);
  chmodSync(script, 0o755);
  const vars = Object.entries(env).map(([k, v]) => `${k}=${v}`);
  const asRoot = process.getuid?.() === 0;
  const r = asRoot
    ? spawnSync('setpriv', ['--reuid=nobody', '--regid=nogroup', '--clear-groups', 'env', ...vars, 'bash', script], { encoding: 'utf8', cwd: dir })
    : spawnSync('env', [...vars, 'bash', script], { encoding: 'utf8', cwd: dir });
  return { code: r.status, err: r.stderr };
}

describe('scripts/test-deps.sh', () => {
  it('passes on this machine, where npm test has just installed everything', () => {
    expect(runUnprivileged({}).code).toBe(0);
  });

  it('a Python module the pymodbus slave imports that does not import fails the check, naming the packages', () => {
    // A `serial` module that fails to import shadows Debian's python3-serial: the files of every
    // package are still there, only using them fails, as on a machine without python3-serial.
    const shadow = mkdtempSync(join(tmpdir(), 'sb-shadow-'));
    chmodSync(shadow, 0o755);
    writeFileSync(join(shadow, 'serial.py'), "raise ImportError('No module named serial')\n");
    chmodSync(join(shadow, 'serial.py'), 0o644);
    const r = runUnprivileged({ PYTHONPATH: shadow });
    expect(r.code).toBe(1);
    expect(r.err).toContain('apt-get install -y python3-pymodbus python3-serial python3-serial-asyncio');
  });
});
