/**
 * What a process costs the machine, read from /proc (Linux): bytes it caused to be written to
 * storage (`write_bytes` of /proc/PID/io: counted when a page of the page cache is dirtied, so
 * what the disk will be sent, whichever thread of the process did it), resident memory and open
 * file descriptors.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';

export function writeBytes(pid: number): number {
  const io = readFileSync(`/proc/${pid}/io`, 'utf8');
  return Number(/^write_bytes:\s+(\d+)/m.exec(io)?.[1] ?? Number.NaN);
}

export function rssNowMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN) / 1024;
}

export function openFds(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

/** Bytes of a file, 0 when it does not exist (a WAL between checkpoints and restarts). */
export function fileBytes(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

export const MB = 1024 * 1024;
export const round = (x: number, d = 2): number => Number(x.toFixed(d));
