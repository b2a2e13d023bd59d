/**
 * A real pseudo-terminal pair for serial integration tests (STYLE.md: real ptys for
 * integration): `socat -d -d pty,raw,echo=0,link=A pty,raw,echo=0,link=B` joins two ptys, so
 * what a simulator writes on A the driver reads on B. `kill()` and `start()` again play a USB
 * adapter pulled and plugged back: the links point at new /dev/pts devices.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, lstatSync, mkdtempSync, rmSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface PtyPair {
  /** Simulator end. */
  a: string;
  /** Driver end. */
  b: string;
  /** Starts socat and waits until both links exist (rejects after `timeoutMs`). */
  start(timeoutMs?: number): Promise<void>;
  /** SIGKILLs socat (as a crash would) and waits for it to exit. */
  kill(): Promise<void>;
  /** Kills socat if running and removes the links' directory. */
  dispose(): Promise<void>;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export function ptyPair(): PtyPair {
  const dir = mkdtempSync(join(tmpdir(), 'shaobing-serial-'));
  const a = join(dir, 'A');
  const b = join(dir, 'B');
  let child: ChildProcess | null = null;
  let stderr = '';

  const pair: PtyPair = {
    a,
    b,
    async start(timeoutMs = 5000) {
      if (child) throw new Error('socat already running');
      // A killed socat leaves dangling links behind; existsSync() follows them, but be sure.
      for (const p of [a, b]) if (lstatSync(p, { throwIfNoEntry: false })) unlinkSync(p);
      stderr = '';
      const proc = spawn('socat', ['-d', '-d', `pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`], { stdio: ['ignore', 'ignore', 'pipe'] });
      child = proc;
      proc.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
      let exited = false;
      proc.once('exit', () => {
        exited = true;
        if (child === proc) child = null;
      });
      proc.once('error', () => (exited = true));
      const t0 = Date.now();
      while (!(existsSync(a) && existsSync(b))) {
        if (exited) throw new Error(`socat exited before the ptys existed: ${stderr}`);
        if (Date.now() - t0 > timeoutMs) {
          await pair.kill();
          throw new Error(`socat links not there after ${timeoutMs} ms: ${stderr}`);
        }
        await sleep(10);
      }
    },
    async kill() {
      const proc = child;
      if (!proc) return;
      child = null;
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const gone = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
      proc.kill('SIGKILL');
      await Promise.race([gone, sleep(3000)]);
    },
    async dispose() {
      await pair.kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return pair;
}
