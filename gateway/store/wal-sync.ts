/**
 * Makes the log's WAL durable behind the box instead of in front of it.
 *
 * An event is written to SQLite's WAL (the OS holds it: it survives kill -9) before anyone acts
 * on it; then one `fdatasync` of the WAL file runs on libuv's thread pool while the box acts. A
 * power cut in that window (0.6 ms median on this machine's disk, a few ms at p99, tens of ms on
 * an SD card) may lose the record of an act, never the act. An fsync on the main thread in
 * front of the act would make every siren wait for the disk (p99 4–5.6 ms of the 5 ms budget
 * on this machine) and let a slow or worn SD card stall every reading of every sensor. See the
 * README, "Durability".
 *
 * Group commit: while a sync runs, further requests only raise the mark the next one covers.
 * An fd of the `-wal` file of our own is enough: fdatasync flushes the file, whoever wrote it.
 */
import { closeSync, fdatasync, openSync } from 'node:fs';

export type SyncFn = (fd: number, done: (err: NodeJS.ErrnoException | null) => void) => void;

export interface WalSyncEvents<T> {
  /** `seq` and everything before it is on disk; `ms` the fdatasync took. */
  synced(seq: number, ms: number): void;
  /**
   * The disk refused; events above `durable` were written but are not known to be on disk.
   * `unconfirmed` are their records, kept until now for this: the store holds them again.
   */
  failed(err: NodeJS.ErrnoException, durable: number, written: number, unconfirmed: T[]): void;
}

/** `T`: what was written, kept in memory until its sync confirms it (the store's event records). */
export class WalSync<T extends { seq: number } = { seq: number }> {
  private fd: number | null = null;
  /** Highest seq known to be on disk. */
  durable: number;
  /** Highest seq written and asked for. */
  private wanted: number;
  private running = false;
  /** When the running fdatasync was started (performance.now()). */
  private runningSince = 0;
  private closing = false;
  private idle: Array<() => void> = [];
  /** Written, in seq order, not yet confirmed by a sync. */
  private unconfirmed: T[] = [];

  constructor(
    private readonly walPath: string,
    from: number,
    private readonly on: WalSyncEvents<T>,
    private readonly sync: SyncFn = fdatasync,
  ) {
    this.durable = from;
    this.wanted = from;
  }

  /** Events up to `seq` were just committed to the WAL (`written`: their records): get them onto the disk. */
  request(seq: number, written: readonly T[] = []): void {
    if (this.closing) return;
    for (const w of written) this.unconfirmed.push(w);
    if (seq > this.wanted) this.wanted = seq;
    if (!this.running) this.start();
  }

  /**
   * How long the running fdatasync has been waiting for the disk, ms; 0 when none runs. One
   * that never returns (a hung card) grows without bound: the systemd watchdog's store check.
   */
  busyMs(now = performance.now()): number {
    return this.running ? Math.max(0, now - this.runningSince) : 0;
  }

  /** Resolves once no sync runs and every requested seq was synced (or failed). */
  settled(): Promise<void> {
    if (!this.running && (this.durable >= this.wanted || this.closing)) return Promise.resolve();
    return new Promise((r) => this.idle.push(r));
  }

  /** Closes the fd once the running sync (if any) has returned; later requests are ignored. */
  close(): void {
    this.closing = true;
    if (!this.running) this.release();
  }

  private start(): void {
    if (this.fd === null) {
      try {
        this.fd = openSync(this.walPath, 'r');
      } catch (err) {
        return this.finish(err as NodeJS.ErrnoException, this.wanted, 0);
      }
    }
    this.running = true;
    const covers = this.wanted;
    const t0 = performance.now();
    this.runningSince = t0;
    this.sync(this.fd, (err) => this.finish(err, covers, performance.now() - t0));
  }

  private finish(err: NodeJS.ErrnoException | null, covers: number, ms: number): void {
    this.running = false;
    if (err) {
      // Everything asked for, also while this sync ran (`wanted` ≥ `covers`), is now unconfirmed.
      // Not retried here: the store degrades and its retry reopens.
      const written = this.wanted;
      this.wanted = this.durable;
      this.on.failed(err, this.durable, written, this.unconfirmed.splice(0));
    } else {
      if (covers > this.durable) this.durable = covers;
      let n = 0;
      while (n < this.unconfirmed.length && this.unconfirmed[n]!.seq <= covers) n++;
      if (n > 0) this.unconfirmed.splice(0, n);
      this.on.synced(covers, ms);
    }
    if (this.closing) return this.release();
    if (this.wanted > this.durable) return this.start();
    for (const r of this.idle.splice(0)) r();
  }

  private release(): void {
    if (this.fd !== null) {
      try {
        closeSync(this.fd);
      } catch {
        // Already gone with the process's other handles; nothing is left to flush through it.
      }
      this.fd = null;
    }
    for (const r of this.idle.splice(0)) r();
  }
}
