/**
 * The box as the benches run it: `shaobing start` in its own process, as the systemd unit
 * (hardware/systemd/shaobing.service) runs it — compiled (dist/, built first), these V8 flags and glibc at two malloc
 * arenas. Override with BOX_NODE_FLAGS and BOX_MALLOC_ARENA_MAX ('' = glibc's default);
 * BENCH_SKIP_BUILD=1 runs dist/ as it is (to measure an experiment made in dist/).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../bin/shaobing.mjs', import.meta.url));
export const BOX_NODE_FLAGS = (process.env.BOX_NODE_FLAGS ?? '--max-semi-space-size=2 --max-old-space-size=96').split(' ').filter(Boolean);
const BOX_MALLOC_ARENA_MAX = process.env.BOX_MALLOC_ARENA_MAX ?? '2';
/** scrypt parameters for the benches' accounts: their thousand hashes would take minutes at the real cost. */
export const BENCH_SCRYPT = { N: 1024, r: 8, p: 1 };

/** Builds dist/ (unless BENCH_SKIP_BUILD) and starts the box on `configPath`, its stdout and stderr to `logFd`. */
export function startBoxProcess(configPath: string, logFd: number, extraFlags: string[] = []): ChildProcess {
  if (!process.env.BENCH_SKIP_BUILD) spawnSync('npm', ['run', '-s', 'build'], { stdio: 'inherit' });
  console.log(`box: node ${BOX_NODE_FLAGS.join(' ')}, MALLOC_ARENA_MAX=${BOX_MALLOC_ARENA_MAX || '(glibc default)'}`);
  return spawn(process.execPath, [...BOX_NODE_FLAGS, ...extraFlags, BIN, 'start', '--config', configPath], {
    stdio: ['ignore', logFd, logFd],
    env: { ...process.env, SHAOBING_DIST: '1', ...(BOX_MALLOC_ARENA_MAX ? { MALLOC_ARENA_MAX: BOX_MALLOC_ARENA_MAX } : {}) },
  });
}

/** A process's resident memory from /proc: peak (VmHWM) and now (VmRSS), in MB. */
export function rssMb(pid: number): { peak: number; now: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string): number => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  return { peak: Math.round(kb('VmHWM') / 1024), now: Math.round(kb('VmRSS') / 1024) };
}
