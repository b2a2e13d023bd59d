/**
 * Runs the log's WAL checkpoints in a worker thread (checkpoint-worker.ts) instead of on the
 * main thread, where each one stalled every alarm behind it: copying the WAL back into the
 * database and its two fsyncs took 2–18 ms (p50 2–7 ms) per 4,000 rows on this machine's disk, and the
 * first commit after it fsynced the new WAL header (test/bench/store-quiet.bench.ts).
 *
 * The worker is never something the box depends on. It cannot start, dies, or does not answer
 * within `hangMs`: that is logged, `request` answers `unavailable` and the connection
 * checkpoints on the main thread as before, and a new worker is started after a backoff. A
 * checkpoint of the worker's that fails for the disk is handed to `failed` (the store degrades
 * as when its own write fails). `close` never waits more than CLOSE_WAIT_MS.
 */
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import { CKPT_CLOSED, CKPT_OPEN, CKPT_STARTING, type CheckpointReply, type CheckpointWorkerData } from './checkpoint-protocol.ts';

/** A checkpoint unanswered this long: the worker is called hung (a disk can hold an fsync for minutes). */
export const CHECKPOINT_HANG_MS = 30_000;
/** close() waits at most this long for the worker to close its connection. */
export const CLOSE_WAIT_MS = 1000;
/** After a worker is lost, the next one starts this long later, doubling up to RESTART_MAX_MS. */
export const RESTART_MS = 10_000;
export const RESTART_MAX_MS = 600_000;
const round = (ms: number): number => Math.round(ms * 1000) / 1000;
/** The worker's V8 heap: it holds one connection and a few messages. */
const WORKER_HEAP = { maxOldGenerationSizeMb: 32, maxYoungGenerationSizeMb: 4 };

export interface CheckpointerOptions {
  log: Logger;
  /** A checkpoint in the worker failed (the error as SQLite gave it: `code` is kept). */
  failed?: (err: Error) => void;
  hangMs?: number;
  restartMs?: number;
  /** Tests only (checkpoint-protocol.ts). */
  test?: CheckpointWorkerData['test'];
}

/** `sent`: the worker checkpoints; `busy`: it still runs the last one; `unavailable`: checkpoint yourself. */
export type CheckpointRequestOutcome = 'sent' | 'busy' | 'unavailable';

export interface CheckpointerCounts {
  sent: number;
  done: number;
  /** Checkpoints after which the worker's own commit started the WAL over. */
  restarted: number;
  errors: number;
  /** Workers that could not start, died or hung. */
  lost: number;
}

export class Checkpointer {
  private worker: Worker | null = null;
  private state: Int32Array | null = null;
  private ready = false;
  private inFlightSince: number | null = null;
  private closed = false;
  private nextStart = 0;
  private restartMs: number;
  private idle: Array<() => void> = [];
  /**
   * Workers ended but not yet gone: a thread inside an fsync of a hung disk cannot be stopped
   * until the fsync returns. No new one is started meanwhile, so a disk hung for an hour does
   * not pile up threads (about 10 MB each).
   */
  private readonly lingering = new Set<Worker>();
  readonly counts: CheckpointerCounts = { sent: 0, done: 0, restarted: 0, errors: 0, lost: 0 };

  constructor(
    private readonly path: string,
    private readonly opts: CheckpointerOptions,
  ) {
    this.restartMs = opts.restartMs ?? RESTART_MS;
    this.start();
  }

  /** Whether a worker is up and has its connection open. */
  get running(): boolean {
    return this.ready;
  }

  /** Asks the worker for a PASSIVE checkpoint (see CheckpointRequestOutcome). */
  request(): CheckpointRequestOutcome {
    if (this.closed) return 'unavailable';
    const now = performance.now();
    if (this.inFlightSince !== null) {
      const waitedMs = Math.round(now - this.inFlightSince);
      if (waitedMs < (this.opts.hangMs ?? CHECKPOINT_HANG_MS)) return 'busy';
      this.lose(`its checkpoint has not answered for ${waitedMs} ms`, null);
    }
    if (!this.worker) {
      if (now >= this.nextStart && this.lingering.size === 0) this.start();
      return 'unavailable';
    }
    if (!this.ready) return 'unavailable';
    this.worker.postMessage({ op: 'checkpoint' });
    this.inFlightSince = now;
    this.counts.sent++;
    return 'sent';
  }

  /** Resolves once no checkpoint of the worker's is outstanding (tests, benchmarks). */
  settled(): Promise<void> {
    if (this.inFlightSince === null) return Promise.resolve();
    return new Promise((r) => this.idle.push(r));
  }

  /** Resolves once a worker has its connection open, or false if none does within `ms` (tests). */
  async whenRunning(ms: number): Promise<boolean> {
    const until = performance.now() + ms;
    while (!this.ready && performance.now() < until && !this.closed) await new Promise((r) => setTimeout(r, 5));
    return this.ready;
  }

  /**
   * Ends the worker: its connection is closed when this returns (or after CLOSE_WAIT_MS, said in
   * the log), so the log can be reopened with no connection of ours left on the file. Blocks
   * the main thread while a checkpoint of the worker's finishes (a few ms; at most the bound).
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    const w = this.worker;
    const st = this.state;
    this.worker = null;
    this.ready = false;
    this.settle();
    if (!w || !st) return;
    if (Atomics.compareExchange(st, 0, CKPT_STARTING, CKPT_CLOSED) !== CKPT_STARTING) {
      w.postMessage({ op: 'close' });
      const until = performance.now() + CLOSE_WAIT_MS;
      for (let left = CLOSE_WAIT_MS; Atomics.load(st, 0) !== CKPT_CLOSED && left > 0; left = until - performance.now()) Atomics.wait(st, 0, CKPT_OPEN, left);
      if (Atomics.load(st, 0) !== CKPT_CLOSED) this.opts.log.warn({ waitedMs: CLOSE_WAIT_MS }, 'the WAL checkpointer did not close its connection in time; ending it');
    }
    void w.terminate();
  }

  /** Tests: the worker thread, to end it as a crash would. */
  get thread(): Worker | null {
    return this.worker;
  }

  private start(): void {
    const state = new Int32Array(new SharedArrayBuffer(4));
    const data: CheckpointWorkerData = { path: this.path, state, ...(this.opts.test ? { test: this.opts.test } : {}) };
    // From sources the worker needs the TypeScript loader (the .mjs entry registers it).
    const entry = import.meta.url.endsWith('.js') ? './checkpoint-worker.js' : './checkpoint-worker-entry.mjs';
    let w: Worker;
    try {
      w = new Worker(new URL(entry, import.meta.url), { workerData: data, resourceLimits: WORKER_HEAP });
    } catch (err) {
      return this.lose('it could not be started', err);
    }
    w.unref();
    this.worker = w;
    this.state = state;
    this.ready = false;
    w.on('message', (m: CheckpointReply) => {
      if (w === this.worker) this.reply(m);
    });
    w.on('error', (err) => {
      if (w === this.worker) this.lose('it threw', err);
    });
    w.on('exit', (code) => {
      if (w === this.worker) this.lose(`it stopped (exit ${code})`, null, true);
    });
  }

  private reply(m: CheckpointReply): void {
    const log = this.opts.log;
    if (m.op === 'ready') {
      this.ready = true;
      this.restartMs = this.opts.restartMs ?? RESTART_MS;
      log.debug('WAL checkpointer running');
      return;
    }
    if (m.op === 'failed') return this.lose('it could not open the log', Object.assign(new Error(m.error.message), m.error));
    this.inFlightSince = null;
    if (m.op === 'done') {
      this.counts.done++;
      if (m.restarted) this.counts.restarted++;
      const { frames, copied, busy, restarted, attempts, commitAt } = m;
      log.debug({ frames, copied, busy, restarted, attempts, ms: round(m.ms), commitAt, commitMs: round(m.commitMs) }, 'WAL checkpoint');
    } else {
      this.counts.errors++;
      const err = Object.assign(new Error(m.error.message), m.error);
      log.warn({ err }, 'WAL checkpoint failed');
      this.opts.failed?.(err);
    }
    this.settle();
  }

  /** The worker is gone or useless: said, ended, and a new one planned after the backoff. */
  private lose(why: string, err: unknown, exited = false): void {
    const w = this.worker;
    const st = this.state;
    this.worker = null;
    this.state = null;
    this.ready = false;
    this.inFlightSince = null;
    this.counts.lost++;
    this.nextStart = performance.now() + this.restartMs;
    this.opts.log.error({ err, retryInMs: this.restartMs }, `the WAL checkpointer is lost (${why}); checkpoints run on the main thread until a new one starts`);
    this.restartMs = Math.min(this.restartMs * 2, RESTART_MAX_MS);
    if (st) Atomics.compareExchange(st, 0, CKPT_STARTING, CKPT_CLOSED);
    if (w && !exited) {
      this.lingering.add(w);
      w.once('exit', () => this.lingering.delete(w));
      void w.terminate();
    }
    this.settle();
  }

  private settle(): void {
    for (const r of this.idle.splice(0)) r();
  }
}
