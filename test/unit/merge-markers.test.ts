// A merge conflict committed by mistake (session 7 left `<<<<<<< HEAD` … `>>>>>>> h/township`
// in README.md for a whole session): no tracked file may hold a conflict marker.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

describe('the tracked files', () => {
  it('hold no merge-conflict markers', () => {
    // git grep exits 1 when nothing matches, 0 with matches, 128+ when it cannot run.
    const r = spawnSync('git', ['grep', '-n', '-I', '-E', '^(<{7}|>{7}) [^ ]', '--', '.', ':!node_modules'], { cwd: ROOT, encoding: 'utf8' });
    expect(r.error).toBeUndefined();
    expect(r.stdout).toBe('');
    expect(r.status).toBe(1);
  });
});
