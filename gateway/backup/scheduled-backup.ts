/**
 * The daily backup (config `backup: {folder, keep, at, allow_same_disk}`): at `at` local time a
 * consistent copy of the log (backup-file.ts) is made in a worker thread into `folder` as
 * `shaobing-<site>-<UTC time>.db`, checked, and the oldest copies beyond `keep` are deleted —
 * only after the new one is whole.
 *
 * A backup that cannot be made is a visible fault, never a crash: the folder missing (a USB
 * stick not plugged in), on the log's own disk (the stick not mounted: its mount point is an
 * empty folder of the SD card, and backups there would fill the card, not protect it), not
 * writable, full, or a copy that fails its check. Each is logged with what to do, written as a
 * `storage` event (`what: "backup_failed"`, `reason`), and held in the box's status problems as
 * `backup_failed:<reason>` until a backup succeeds. The folder is looked at when the box starts
 * too, so a missing stick shows the same day, not at the first backup.
 */
import { accessSync, constants, readdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { BackupConfig } from '../config/types.ts';
import type { BoxContext, Module } from '../shell/module.ts';
import { record, type EventSink } from '../shell/record.ts';
import type { BackupReply } from './backup-worker.ts';

/** A backup that has not answered within this long is given up (a 1 GB log on a slow USB 2 stick takes minutes). */
export const BACKUP_DEADLINE_MS = 30 * 60_000;

export type BackupFault = 'folder_missing' | 'same_disk' | 'not_writable' | 'disk_full' | 'read_only' | 'check_failed' | 'timeout' | 'write_failed' | 'source_missing' | 'source_unreadable';

const ADVICE: Record<BackupFault, string> = {
  folder_missing: 'Plug in the backup USB stick (or create the folder); the next backup runs at the configured time.',
  same_disk: 'The folder is on the log’s own disk: the USB stick is probably not mounted (its mount point is an empty folder on the SD card). Mount it, or set backup.allow_same_disk: true if that is meant.',
  not_writable: 'The box may not write there: check the folder’s owner and permissions, or whether the stick is write-protected.',
  disk_full: 'The backup disk is full: use a bigger stick or lower backup.keep.',
  read_only: 'The backup disk is read-only (write-protect switch, or a damaged stick that the kernel remounted read-only).',
  check_failed: 'The copy failed its integrity check: the log or the stick may be damaged; run shaobing doctor.',
  timeout: 'The copy did not finish in time: the stick may be failing or very slow.',
  write_failed: 'Writing the copy failed: check the stick (dmesg shows I/O errors).',
  source_missing: 'There is no log to back up yet.',
  source_unreadable: 'The log cannot be read: run shaobing doctor.',
};

export interface BackupOutcome {
  ok: boolean;
  file?: string;
  reason?: BackupFault;
}

const NAME = /^shaobing-[a-z0-9_-]+-\d{8}T\d{6}Z\.db$/;

export function backupName(site: string, now: number): string {
  return `shaobing-${site}-${new Date(now).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}.db`;
}

/** Why `folder` cannot take a backup of the log at `dbPath`, or null if it can. */
export function folderFault(folder: string, dbPath: string, allowSameDisk: boolean): BackupFault | null {
  let st;
  try {
    st = statSync(folder);
  } catch {
    return 'folder_missing';
  }
  if (!st.isDirectory()) return 'folder_missing';
  try {
    accessSync(folder, constants.W_OK);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EROFS' ? 'read_only' : 'not_writable';
  }
  if (!allowSameDisk) {
    try {
      if (statSync(dirname(dbPath)).dev === st.dev) return 'same_disk';
    } catch {
      /* the log's folder is not there yet: nothing to compare */
    }
  }
  return null;
}

function faultOf(code: string): BackupFault {
  switch (code) {
    case 'ENOSPC':
    case 'SQLITE_FULL':
      return 'disk_full';
    case 'EROFS':
    case 'SQLITE_READONLY':
      return 'read_only';
    case 'EACCES':
    case 'EPERM':
      return 'not_writable';
    case 'disk_full':
    case 'read_only':
    case 'not_writable':
    case 'folder_missing':
    case 'check_failed':
    case 'source_missing':
    case 'source_unreadable':
      return code;
    default:
      return 'write_failed';
  }
}

export class ScheduledBackup implements Module {
  readonly name = 'backup';
  private readonly log: Logger;
  private readonly dbPath: string;
  private job: { cancel(): void } | null = null;
  private fault: BackupFault | null = null;
  private running: Promise<BackupOutcome> | null = null;
  private worker: Worker | null = null;
  private readonly listeners: (() => void)[] = [];

  constructor(
    private readonly ctx: Pick<BoxContext, 'config' | 'log' | 'clock' | 'bus'>,
    private readonly sink: EventSink,
    private readonly cfg: BackupConfig,
    dbPath: string,
    private readonly deadlineMs = BACKUP_DEADLINE_MS,
  ) {
    this.log = ctx.log.child({ module: 'backup' });
    this.dbPath = resolve(dbPath);
  }

  async start(): Promise<void> {
    await import('../store/schedule-locale.ts');
    const schedule = (await import('node-schedule')).default;
    // Local time, as the retention job's: `at` is what the site's technician reads on a clock.
    this.job = schedule.scheduleJob(`0 ${this.cfg.atMinute} ${this.cfg.atHour} * * *`, () => void this.runNow());
    const fault = folderFault(this.cfg.folder, this.dbPath, this.cfg.allowSameDisk);
    if (fault) this.failed(fault, `checked at start: ${this.cfg.folder}`);
    else this.log.info({ folder: this.cfg.folder, keep: this.cfg.keep, at: this.at() }, 'daily backup scheduled');
  }

  async stop(): Promise<void> {
    this.job?.cancel();
    this.job = null;
    await this.worker?.terminate();
    this.worker = null;
  }

  /** `backup_failed:<reason>` while the last attempt (or the start's look at the folder) failed. */
  problems(): string[] {
    return this.fault ? [`backup_failed:${this.fault}`] : [];
  }

  /** Told when `problems()` changes (the box republishes its status). */
  onChange(fn: () => void): void {
    this.listeners.push(fn);
  }

  /** When the next scheduled backup runs (null before start or after stop). */
  nextRun(): Date | null {
    return (this.job as { nextInvocation?: () => Date | null } | null)?.nextInvocation?.() ?? null;
  }

  /** Makes a backup now (the schedule calls this); one at a time. Never rejects. */
  runNow(): Promise<BackupOutcome> {
    this.running ??= this.attempt().finally(() => (this.running = null));
    return this.running;
  }

  private at(): string {
    return `${String(this.cfg.atHour).padStart(2, '0')}:${String(this.cfg.atMinute).padStart(2, '0')}`;
  }

  private async attempt(): Promise<BackupOutcome> {
    try {
      const fault = folderFault(this.cfg.folder, this.dbPath, this.cfg.allowSameDisk);
      if (fault) return this.failed(fault, this.cfg.folder);
      const out = join(this.cfg.folder, backupName(this.ctx.config.site.id, this.ctx.clock.wall()));
      const reply = await this.inWorker(out);
      if (!reply.ok) return this.failed(reply.code === 'timeout' ? 'timeout' : faultOf(reply.code), reply.message);
      const deleted = this.rotate(out);
      record(this.ctx, this.sink, 'storage', { what: 'backup', file: reply.file, last_seq: reply.lastSeq, events: reply.events, bytes: reply.bytes, ms: reply.ms, kept: this.cfg.keep, deleted });
      this.log.info({ file: reply.file, last_seq: reply.lastSeq, bytes: reply.bytes, ms: reply.ms, deleted }, 'backup written and checked');
      this.setFault(null);
      return { ok: true, file: reply.file };
    } catch (err) {
      return this.failed('write_failed', (err as Error).message);
    }
  }

  private inWorker(out: string): Promise<BackupReply> {
    const entry = import.meta.url.endsWith('.js') ? './backup-worker.js' : './backup-worker-entry.mjs';
    return new Promise((resolvePromise) => {
      let done = false;
      const finish = (r: BackupReply): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        const w = this.worker;
        this.worker = null;
        void w?.terminate();
        resolvePromise(r);
      };
      let w: Worker;
      try {
        w = new Worker(new URL(entry, import.meta.url), { workerData: { source: this.dbPath, out }, resourceLimits: { maxOldGenerationSizeMb: 32 } });
      } catch (err) {
        return finish({ ok: false, code: 'write_failed', message: `the backup worker could not start: ${(err as Error).message}` });
      }
      this.worker = w;
      const timer = setTimeout(() => finish({ ok: false, code: 'timeout', message: `no answer within ${this.deadlineMs} ms` }), this.deadlineMs);
      timer.unref();
      w.once('message', finish);
      w.once('error', (err) => finish({ ok: false, code: 'write_failed', message: err.message }));
      w.once('exit', (code) => finish({ ok: false, code: 'write_failed', message: `the backup worker stopped (exit ${code})` }));
    });
  }

  /** Deletes our oldest backups beyond `keep` (and copies cut short), never the one just made; returns the names deleted. */
  private rotate(made: string): string[] {
    const names = readdirSync(this.cfg.folder);
    for (const n of names) if (n.endsWith('.partial') && NAME.test(n.slice(0, -'.partial'.length))) rmSync(join(this.cfg.folder, n), { force: true });
    const ours = names.filter((n) => NAME.test(n) && n.startsWith(`shaobing-${this.ctx.config.site.id}-`)).sort();
    const old = ours.slice(0, Math.max(0, ours.length - this.cfg.keep)).filter((n) => join(this.cfg.folder, n) !== made);
    for (const n of old) rmSync(join(this.cfg.folder, n), { force: true });
    return old;
  }

  private failed(reason: BackupFault, detail: string): BackupOutcome {
    const advice = ADVICE[reason];
    this.log.error({ reason, folder: this.cfg.folder, detail, advice }, `backup failed: ${reason}`);
    // One event per fault, not one per day of the same fault.
    if (this.fault !== reason) {
      try {
        record(this.ctx, this.sink, 'storage', { what: 'backup_failed', reason, folder: this.cfg.folder, detail, advice });
      } catch (err) {
        this.log.error({ err }, 'the backup failure could not be logged');
      }
    }
    this.setFault(reason);
    return { ok: false, reason };
  }

  private setFault(f: BackupFault | null): void {
    if (this.fault === f) return;
    this.fault = f;
    for (const fn of this.listeners) fn();
  }
}
