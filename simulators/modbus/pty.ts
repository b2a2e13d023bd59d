/**
 * A pseudo-terminal pair made by Debian's socat, standing in for one RS-485 line:
 * `socat -d -d pty,raw,echo=0,link=<dir>/master pty,raw,echo=0,link=<dir>/slave`.
 * The gateway (or a test's Modbus master) opens `masterPath`, the simulated slaves `slavePath`.
 * A pty ignores the baud rate; bytes arrive as fast as the other side writes them.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface PtyPair {
  masterPath: string;
  slavePath: string;
  /** socat's process id (we started it; `close()` ends it). */
  pid: number;
  /** Kills socat and removes the links. Always resolves. */
  close(): Promise<void>;
}

export class PtyError extends Error {
  constructor(
    readonly code: 'E_NO_SOCAT' | 'E_PTY_TIMEOUT' | 'E_PTY_EXIT',
    message: string,
  ) {
    super(message);
    this.name = 'PtyError';
  }
}

function exited(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/** Starts socat and waits until both links exist. Rejects with `PtyError` within `timeoutMs`. */
export async function openPtyPair(timeoutMs = 10_000): Promise<PtyPair> {
  const dir = mkdtempSync(join(tmpdir(), 'shaobing-pty-'));
  const masterPath = join(dir, 'master');
  const slavePath = join(dir, 'slave');
  const child = spawn('socat', ['-d', '-d', `pty,raw,echo=0,link=${masterPath}`, `pty,raw,echo=0,link=${slavePath}`], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  child.stderr?.on('data', (d: Buffer) => {
    if (log.length < 4000) log += d.toString();
  });
  const close = async (): Promise<void> => {
    if (!(await exited(child, 0))) {
      child.kill('SIGTERM');
      if (!(await exited(child, 2000))) {
        child.kill('SIGKILL');
        await exited(child, 1000);
      }
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const ready = await new Promise<true | PtyError>((resolve) => {
    const deadline = Date.now() + timeoutMs;
    const poll = setInterval(() => {
      if (/starting data transfer loop/.test(log) && existsSync(masterPath) && existsSync(slavePath)) finish(true);
      else if (Date.now() > deadline) finish(new PtyError('E_PTY_TIMEOUT', `socat made no pty pair within ${timeoutMs} ms: ${log.trim()}`));
    }, 10);
    const onError = (err: NodeJS.ErrnoException) =>
      finish(new PtyError(err.code === 'ENOENT' ? 'E_NO_SOCAT' : 'E_PTY_EXIT', `cannot run socat (${err.message}); apt-get install socat`));
    const onExit = (code: number | null) => finish(new PtyError('E_PTY_EXIT', `socat exited (${code}): ${log.trim()}`));
    function finish(result: true | PtyError) {
      clearInterval(poll);
      child.off('error', onError);
      child.off('exit', onExit);
      resolve(result);
    }
    child.once('error', onError);
    child.once('exit', onExit);
  });
  if (ready !== true) {
    await close();
    throw ready;
  }
  return { masterPath, slavePath, pid: child.pid as number, close };
}
