/**
 * Runs `bin/shaobing.mjs` as a real child process with stdout and stderr going to files (a
 * replay of a million bad rows writes tens of MB to stderr), and reports its exit code, the
 * first lines of each stream and its peak RSS (max-rss-preload.mjs).
 */
import { spawn } from 'node:child_process';
import { closeSync, fstatSync, mkdtempSync, openSync, readFileSync, readSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../bin/shaobing.mjs', import.meta.url));
const PRELOAD = fileURLToPath(new URL('./max-rss-preload.mjs', import.meta.url));

export interface CliRun {
  code: number | null;
  /** The first lines of stdout and stderr (at most `keep` bytes of each). */
  out: string[];
  err: string[];
  /** The last line of stderr (the replay summary), and how many lines stderr has. */
  lastErr: string;
  errLines: number;
  peakRssMb: number;
  seconds: number;
}

function head(file: string, keep: number): string {
  const fd = openSync(file, 'r');
  const buf = Buffer.alloc(keep);
  const n = readSync(fd, buf, 0, keep, 0);
  closeSync(fd);
  return buf.subarray(0, n).toString('utf8');
}

function countLines(file: string): number {
  const fd = openSync(file, 'r');
  const buf = Buffer.alloc(1 << 20);
  let lines = 0;
  for (let n; (n = readSync(fd, buf, 0, buf.length, null)) > 0; ) for (let i = buf.indexOf(10); i >= 0 && i < n; i = buf.indexOf(10, i + 1)) lines++;
  closeSync(fd);
  return lines;
}

function tail(file: string): string {
  const fd = openSync(file, 'r');
  const size = fstatSync(fd).size;
  const buf = Buffer.alloc(Math.min(size, 4096));
  readSync(fd, buf, 0, buf.length, size - buf.length);
  closeSync(fd);
  const text = buf.toString('utf8').trimEnd();
  return text.slice(text.lastIndexOf('\n') + 1);
}

export async function runCli(args: string[], opts: { keep?: number; timeoutMs?: number } = {}): Promise<CliRun> {
  const dir = mkdtempSync(join(tmpdir(), 'sb-cli-'));
  const files = { out: join(dir, 'out'), err: join(dir, 'err'), rss: join(dir, 'rss') };
  const out = openSync(files.out, 'w');
  const err = openSync(files.err, 'w');
  const t0 = Date.now();
  try {
    const child = spawn(process.execPath, ['--import', PRELOAD, BIN, ...args], { stdio: ['ignore', out, err], env: { ...process.env, SB_MAX_RSS_FILE: files.rss } });
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    clearTimeout(timer);
    const keep = opts.keep ?? 64 * 1024;
    const lines = (f: string): string[] => head(f, keep).split('\n').filter(Boolean);
    let peak = Number.NaN;
    try {
      peak = Number(readFileSync(files.rss, 'utf8')) / 1024;
    } catch {
      /* killed before it could say: NaN fails any bound */
    }
    return { code, out: lines(files.out), err: lines(files.err), lastErr: tail(files.err), errLines: countLines(files.err), peakRssMb: Math.round(peak), seconds: (Date.now() - t0) / 1000 };
  } finally {
    closeSync(out);
    closeSync(err);
    rmSync(dir, { recursive: true, force: true });
  }
}
