/**
 * The store's error taxonomy: `StoreError` (an `Error` with a `code`) for what the caller did
 * or must fix, and `diskReason` to tell the failures of the medium (full, read-only, broken SD
 * card) — which the store survives by holding events in memory — from everything else.
 */
import { accessSync, closeSync, constants, openSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { DegradeReason } from './types.ts';

export type StoreErrorCode =
  /** append/since/… before start() succeeded or after stop(). */
  | 'not_open'
  /** The payload has no JSON form (BigInt, a cycle, undefined, a function). */
  | 'unserialisable_payload'
  /** The database was written by a newer build (PRAGMA user_version above our migrations). */
  | 'schema_too_new'
  /** The database file could not be opened, read or migrated. */
  | 'open_failed'
  /** append() with a type that is not an EventType (a JavaScript caller). */
  | 'unknown_type'
  /** The store is started but its database cannot be opened right now (a disk fault); try again. */
  | 'unavailable';

export class StoreError extends Error {
  constructor(
    readonly code: StoreErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'StoreError';
  }
}

/** better-sqlite3 puts SQLite's extended result code name on `code`, e.g. `SQLITE_IOERR_WRITE`. */
export function sqliteCode(err: unknown): string | null {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('SQLITE_') ? code : null;
}

/**
 * Classifies an error from SQLite as a failure of the storage medium, or null for anything
 * else (constraint violations, misuse, bugs), which the caller must see.
 *
 * SQLite reports a write on a filesystem the kernel has remounted read-only (ext4
 * `errors=remount-ro`, what a failing SD card does) as SQLITE_IOERR_WRITE, not
 * SQLITE_READONLY, so an I/O error is refined by asking whether `dir` takes writes.
 */
export function diskReason(err: unknown, dir: string): DegradeReason | null {
  const errno = (err as { code?: unknown } | null)?.code;
  // From the fdatasync behind event commits (wal-sync.ts), which is not SQLite's.
  if (errno === 'ENOSPC' || errno === 'EDQUOT') return 'disk_full';
  if (errno === 'EROFS') return 'read_only';
  if (errno === 'EIO') return refusesWrites(dir) ? 'read_only' : 'io_error';
  const code = sqliteCode(err);
  if (code === null) return null;
  if (code === 'SQLITE_FULL') return 'disk_full';
  if (code.startsWith('SQLITE_READONLY')) return 'read_only';
  if (code.startsWith('SQLITE_IOERR') || code.startsWith('SQLITE_CANTOPEN')) return refusesWrites(dir) ? 'read_only' : 'io_error';
  if (code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB') return 'corrupt';
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) return 'busy';
  return null;
}

/**
 * Whether the filesystem holding `dir` is read-only. access(2) alone is not enough: ext4's
 * emergency read-only after an error (mount option `emergency_ro`, seen on Linux 6.18) refuses
 * writes with EROFS while access(2) still says writable, so an empty file is made and removed.
 */
export function refusesWrites(dir: string): boolean {
  const probe = join(dir, `.shaobing-write-probe-${process.pid}`);
  try {
    accessSync(dir, constants.W_OK);
    closeSync(openSync(probe, 'w'));
    unlinkSync(probe);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EROFS';
  }
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
