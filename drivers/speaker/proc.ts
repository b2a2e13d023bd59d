/**
 * Runs a helper program (espeak-ng, sox, opusdec) to completion: stdin given, stdout collected,
 * the last of stderr kept for the error, a deadline after which it is killed. Rejects with
 * what happened in words; the caller wraps it in its own SpeakerError code.
 */
import { spawn } from 'node:child_process';

export interface RunResult {
  stdout: Buffer;
  stderr: string;
}

export class RunError extends Error {
  constructor(message: string, readonly detail: { command: string; exit_code?: number | null; signal?: string | null; stderr?: string; errno?: string }) {
    super(message);
    this.name = 'RunError';
  }
}

/** Bounds what is kept of stderr: the end says why it failed. */
const STDERR_KEEP = 2000;

export function run(command: string, args: string[], o: { input?: Buffer | string; timeoutMs: number; maxBytes?: number }): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let outBytes = 0;
    let err = '';
    let settled = false;
    const done = (f: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      f();
    };
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      done(() => reject(new RunError(`${command} did not finish within ${o.timeoutMs} ms`, { command, stderr: err.trim() })));
    }, o.timeoutMs);
    child.stdout.on('data', (b: Buffer) => {
      outBytes += b.length;
      if (o.maxBytes !== undefined && outBytes > o.maxBytes) {
        child.kill('SIGKILL');
        done(() => reject(new RunError(`${command} wrote more than ${o.maxBytes} bytes`, { command })));
        return;
      }
      out.push(b);
    });
    child.stderr.on('data', (b: Buffer) => {
      err = (err + b.toString('utf8')).slice(-STDERR_KEEP);
    });
    child.on('error', (e: NodeJS.ErrnoException) => done(() => reject(new RunError(`${command} could not be started: ${e.message}`, { command, errno: e.code }))));
    child.on('close', (code, signal) => {
      if (code === 0) done(() => resolve({ stdout: Buffer.concat(out), stderr: err }));
      else done(() => reject(new RunError(`${command} failed (${signal ?? `exit ${code}`}): ${err.trim().split('\n').at(-1) ?? ''}`, { command, exit_code: code, signal, stderr: err.trim() })));
    });
    // A program that exits before reading its input (a wrong voice) closes the pipe: not our error to throw.
    child.stdin.on('error', () => undefined);
    child.stdin.end(o.input ?? '');
  });
}
