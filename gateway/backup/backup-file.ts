/**
 * A consistent copy of the log while the box writes it: SQLite's online backup API
 * (sqlite.org/backup.html, better-sqlite3 `db.backup()`) from a read-only connection, all pages
 * in one step. One step holds one read transaction on the source for the whole copy, so the copy
 * is the log as of one commit: a backup made in many small steps starts over whenever another
 * connection commits between two of them, which at 5 commits a second it always would. The box
 * goes on committing into its WAL meanwhile; only its checkpoints cannot finish past the copy's
 * snapshot until it ends.
 *
 * The copy is written to `<out>.partial`, turned into a single self-contained file (rollback
 * journal, not WAL: nothing beside it is needed to open it), checked (`PRAGMA quick_check`, its
 * schema, its last seq), synced, and only then renamed to `out` and its folder synced: a file
 * with the final name is always a whole, checked backup, even after a power cut in the middle.
 */
import { closeSync, existsSync, fsyncSync, openSync, renameSync, rmSync, statfsSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { SCHEMA_VERSION } from '../store/schema.ts';

export class BackupError extends Error {
  constructor(
    readonly code: 'source_missing' | 'source_unreadable' | 'exists' | 'folder_missing' | 'write_failed' | 'disk_full' | 'read_only' | 'not_writable' | 'check_failed' | 'newer_schema',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'BackupError';
  }
}

/** Bytes free for us in `dir` (statfs), or Infinity if it cannot be read. */
function freeBytes(dir: string): number {
  try {
    const s = statfsSync(dir);
    return s.bavail * s.bsize;
  } catch {
    return Number.POSITIVE_INFINITY;
  }
}

/**
 * A failed write, by what the disk said: full, read-only, not ours to write, or something else.
 * SQLite reports ENOSPC in the middle of a write as a plain I/O error, so a folder with less room
 * than the copy needs counts as full too.
 */
function writeError(err: unknown, message: string, dir: string, needs: number): BackupError {
  const code = String((err as { code?: unknown }).code ?? '');
  const full = /^(SQLITE_FULL|ENOSPC)/.test(code) || (/^SQLITE_IOERR/.test(code) && freeBytes(dir) < needs);
  const kind = full ? 'disk_full' : /^(SQLITE_READONLY|EROFS)/.test(code) ? 'read_only' : /^(EACCES|EPERM|SQLITE_CANTOPEN)/.test(code) ? 'not_writable' : 'write_failed';
  return new BackupError(kind, `${message}: ${(err as Error).message}`, { cause: err });
}

export interface BackupResult {
  file: string;
  bytes: number;
  /** The highest seq in the copy (0 for a log without events). */
  lastSeq: number;
  events: number;
  ms: number;
}

/** What a backup file holds, checked: opens, passes quick_check, has a schema this build knows. */
export function inspectBackup(file: string): { lastSeq: number; events: number; reserved: number; schemaVersion: number } {
  let db: Database.Database;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
  } catch (err) {
    throw new BackupError('check_failed', `${file} cannot be opened as a database: ${(err as Error).message}`, { cause: err });
  }
  try {
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version > SCHEMA_VERSION) throw new BackupError('newer_schema', `${file} has schema version ${version}; this build knows up to ${SCHEMA_VERSION}`);
    const check = db.pragma('quick_check') as { quick_check: string }[];
    if (check.length !== 1 || check[0]!.quick_check !== 'ok') throw new BackupError('check_failed', `${file} fails its integrity check: ${check.slice(0, 3).map((r) => r.quick_check).join('; ')}`);
    const e = db.prepare('SELECT coalesce(max(seq), 0) AS last, count(*) AS n FROM events').get() as { last: number; n: number };
    const r = db.prepare("SELECT value FROM meta WHERE key = 'seq_reserved'").get() as { value: number } | undefined;
    return { lastSeq: e.last, events: e.n, reserved: typeof r?.value === 'number' ? r.value : e.last, schemaVersion: version };
  } catch (err) {
    if (err instanceof BackupError) throw err;
    throw new BackupError('check_failed', `${file} cannot be read: ${(err as Error).message}`, { cause: err });
  } finally {
    db.close();
  }
}

export function syncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function syncFile(file: string): void {
  const fd = openSync(file, 'r+');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Copies the log at `source` to `out` (which must not exist), checked and synced. */
export async function backupLog(source: string, out: string): Promise<BackupResult> {
  const t0 = performance.now();
  if (!existsSync(source)) throw new BackupError('source_missing', `there is no log at ${source}`);
  if (existsSync(out)) throw new BackupError('exists', `${out} exists already; a backup never overwrites a file`);
  if (!existsSync(dirname(out))) throw new BackupError('folder_missing', `the folder ${dirname(out)} does not exist`);
  const partial = `${out}.partial`;
  rmSync(partial, { force: true }); // a previous attempt cut short
  // The copy is about the log's size; with less room than that it would fail half-way.
  const needs = statSync(source).size + (existsSync(`${source}-wal`) ? statSync(`${source}-wal`).size : 0);
  const room = freeBytes(dirname(out));
  if (room < needs) throw new BackupError('disk_full', `${dirname(out)} has ${Math.round(room / 1024)} KiB free; the copy needs about ${Math.round(needs / 1024)} KiB`);
  let src: Database.Database;
  try {
    src = new Database(source, { readonly: true, fileMustExist: true });
    src.pragma('busy_timeout = 5000');
  } catch (err) {
    throw new BackupError('source_unreadable', `the log ${source} cannot be opened: ${(err as Error).message}`, { cause: err });
  }
  try {
    // The first step sizes the copy; the handler's answer makes the next one copy every page at once.
    await src.backup(partial, { progress: () => 0x7fffffff });
  } catch (err) {
    rmSync(partial, { force: true });
    throw writeError(err, `writing ${partial} failed`, dirname(out), needs);
  } finally {
    src.close();
  }
  try {
    // The copy carries the log's WAL flag; as a rollback-journal file it needs nothing beside it.
    const copy = new Database(partial);
    try {
      copy.pragma('journal_mode = DELETE');
    } finally {
      copy.close();
    }
    const seen = inspectBackup(partial);
    syncFile(partial);
    renameSync(partial, out);
    syncDir(dirname(out));
    return { file: out, bytes: statSync(out).size, lastSeq: seen.lastSeq, events: seen.events, ms: Math.round(performance.now() - t0) };
  } catch (err) {
    rmSync(partial, { force: true });
    for (const f of [`${partial}-wal`, `${partial}-shm`, `${partial}-journal`]) rmSync(f, { force: true });
    if (err instanceof BackupError) throw err;
    throw writeError(err, `finishing ${out} failed`, dirname(out), needs);
  }
}
