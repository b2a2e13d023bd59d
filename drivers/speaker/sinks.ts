/**
 * Where a broadcast's sound goes (playback.ts paces it): aplay on an ALSA device (Debian package
 * alsa-utils), or a WAV file per broadcast. aplay reads raw PCM in the box format on stdin, so
 * one process plays the whole broadcast and a stop is one kill.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { SpeakerError } from './errors.ts';
import { CHANNELS, RATE, wavHeader } from './pcm.ts';
import type { Writer } from './playback.ts';

const STDERR_KEEP = 2000;
const STREAMING_DATA_BYTES = 0x7ffff000;

/** Does this box have a sound card? (ALSA lists none in /proc/asound/cards, or there is no such file.) */
export function hasSoundCard(cards = '/proc/asound/cards'): boolean {
  try {
    const text = readFileSync(cards, 'utf8');
    return /^\s*\d+\s*\[/m.test(text);
  } catch {
    return false;
  }
}

export class AplayWriter implements Writer {
  readonly name: string;
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly closed: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private stderr = '';
  private failed: SpeakerError | null = null;
  private ending = false;
  private failCb: ((err: SpeakerError) => void) | null = null;

  constructor(readonly device: string, readonly required = true, command = 'aplay') {
    this.name = `aplay -D ${device}`;
    this.child = spawn(command, ['-q', '-D', device, '-t', 'raw', '-f', 'S16_LE', '-r', String(RATE), '-c', String(CHANNELS), '-'], { stdio: ['pipe', 'ignore', 'pipe'] }) as unknown as ChildProcessWithoutNullStreams;
    this.child.stderr.on('data', (b: Buffer) => {
      this.stderr = (this.stderr + b.toString('utf8')).slice(-STDERR_KEEP);
    });
    // aplay gone (a wrong device): writes then fail with EPIPE; its exit says why.
    this.child.stdin.on('error', () => undefined);
    this.closed = new Promise((resolve) => {
      this.child.on('error', (e: NodeJS.ErrnoException) => {
        this.fail(new SpeakerError('playback_failed', `aplay could not be started: ${e.message}`, { device, errno: e.code }));
        resolve({ code: null, signal: null });
      });
      this.child.on('close', (code, signal) => {
        if (!this.ending && !this.failed) this.fail(new SpeakerError('playback_failed', `aplay -D ${device} stopped (${signal ?? `exit ${code}`}): ${this.lastError()}`, { device, exit_code: code, stderr: this.stderr.trim() }));
        resolve({ code, signal });
      });
    });
  }

  onFail(cb: (err: SpeakerError) => void): void {
    this.failCb = cb;
    if (this.failed) cb(this.failed);
  }

  async write(chunk: Buffer): Promise<void> {
    if (this.failed) throw this.failed;
    if (this.child.stdin.write(chunk)) return;
    // EPIPE (aplay gone) rejects `once`: its exit, a moment later, says why.
    await Promise.race([once(this.child.stdin, 'drain').catch(() => this.closed), this.closed]);
    if (this.failed) throw this.failed;
  }

  async finish(): Promise<void> {
    this.ending = true;
    this.child.stdin.end();
    const { code, signal } = await this.closed;
    if (this.failed) throw this.failed;
    if (code !== 0) throw new SpeakerError('playback_failed', `aplay -D ${this.device} failed at the end (${signal ?? `exit ${code}`}): ${this.lastError()}`, { device: this.device, exit_code: code, stderr: this.stderr.trim() });
  }

  async abort(): Promise<void> {
    this.ending = true;
    // SIGKILL, not SIGTERM: aplay's handler would drain what it holds first.
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    await this.closed;
  }

  private lastError(): string {
    return this.stderr.trim().split('\n').at(-1) ?? '';
  }

  private fail(err: SpeakerError): void {
    if (this.failed) return;
    this.failed = err;
    this.failCb?.(err);
  }
}

/**
 * A WAV file written as it is heard: a header with the sizes patched when it ends, so a stopped
 * broadcast's file holds what was heard up to the stop, and a file still being written (or left
 * by a killed box) is readable up to where it got.
 */
export class FileWriter implements Writer {
  readonly name: string;
  readonly required = true;
  private readonly fh: Promise<FileHandle>;
  private bytes = 0;
  private chain: Promise<unknown> = Promise.resolve();
  private closed = false;
  private failed: SpeakerError | null = null;

  constructor(readonly path: string) {
    this.name = `file ${path}`;
    this.fh = open(path, 'w').then(
      async (fh) => {
        // Sizes unknown until it ends: the streaming placeholder (as espeak-ng --stdout writes), which
        // sox and aplay read to the end of the data while the file grows or after a crash.
        await fh.write(wavHeader(STREAMING_DATA_BYTES));
        return fh;
      },
      (err: NodeJS.ErrnoException) => {
        throw this.error(err);
      },
    );
    this.fh.catch(() => undefined);
  }

  /** Resolves once the file is open (rejects `file_failed`). */
  async ready(): Promise<void> {
    await this.fh;
  }

  onFail(): void {
    // A file fails only in write/finish, which reject.
  }

  write(chunk: Buffer): Promise<void> {
    return this.queue(async () => {
      const fh = await this.fh;
      await fh.write(chunk, 0, chunk.length, 44 + this.bytes).catch((err: NodeJS.ErrnoException) => {
        throw this.error(err);
      });
      this.bytes += chunk.length;
    });
  }

  finish(): Promise<void> {
    return this.close(this.bytes);
  }

  abort(heardBytes: number): Promise<void> {
    return this.close(Math.min(this.bytes, heardBytes - (heardBytes % 2)));
  }

  private close(keep: number): Promise<void> {
    return this.queue(async () => {
      if (this.closed) return;
      this.closed = true;
      const fh = await this.fh.catch(() => null);
      if (!fh) return;
      try {
        if (keep < this.bytes) await fh.truncate(44 + keep);
        this.bytes = keep;
        await fh.write(wavHeader(keep), 0, 44, 0);
      } catch (err) {
        throw this.error(err as NodeJS.ErrnoException);
      } finally {
        await fh.close();
      }
    });
  }

  private queue(op: () => Promise<void>): Promise<void> {
    if (this.failed) return Promise.reject(this.failed);
    const p = this.chain.then(op);
    this.chain = p.catch(() => undefined);
    return p;
  }

  private error(err: NodeJS.ErrnoException): SpeakerError {
    this.failed ??= new SpeakerError('file_failed', `cannot write ${this.path}: ${err.code ?? err.message}`, { path: this.path, errno: err.code });
    return this.failed;
  }
}
