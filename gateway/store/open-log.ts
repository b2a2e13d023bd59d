/**
 * Opening the log's file when the box starts (and when a degraded store tries again), and
 * what to do when it cannot be opened (issue 15: a store that could not open lost every event
 * and said it was healthy). Nothing here throws: the result says why not, as a DegradeReason,
 * and the store holds events in memory until a retry succeeds (event-store.ts).
 *
 * Decisions:
 * - **A damaged file** (SQLITE_CORRUPT / SQLITE_NOTADB when opened) is moved aside, never
 *   deleted or written: `events.db` → `events.db.corrupt-<UTC time>`, its `-wal` and `-shm`
 *   with it (renamed first, so a fresh file never picks up the old WAL), and a fresh log is
 *   started so the box keeps a durable record; its first event says so (`log_replaced`). A box
 *   on a pole may wait weeks for a technician, and held events die with the next power cut.
 *   The old file stays for `sqlite3 events.db.corrupt-… .recover`.
 * - **The fresh log's seqs**, when the damaged file is found at start, begin above the wall
 *   clock's epoch ms (1.7e12 in 2024; found while running, they go on from the run's own): the old
 *   file's highest seq cannot be read, and the township dedupes by (site, seq), so a log that
 *   started again at 1 would have its events taken for ones already received. A counter of
 *   events never comes near the epoch ms, and the ms of a later replacement are above the seqs
 *   this one hands out (one event per ms on average would be needed to catch up). So this is
 *   done only while the clock is trusted; with an untrusted clock the file is left where it
 *   is and events are held until the clock is set (each retry asks again).
 * - **A newer schema** is a downgrade: the file is not written (refused before the journal
 *   mode is set; a read-only look may leave empty -wal/-shm beside a WAL database, as any
 *   reader does), events are held in memory until someone installs the newer build
 *   again or moves the file away. Starting a fresh log beside it would split the record.
 * - **Read-only, full, I/O errors, anything else**: held and retried; nothing is moved.
 */
import { existsSync, mkdirSync, renameSync, statfsSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { Logger } from 'pino';
import type { Clock } from '../shell/clock.ts';
import { Connection, type ConnectionOptions } from './connection.ts';
import { diskReason, errorMessage, sqliteCode, StoreError } from './errors.ts';
import type { DegradeReason } from './types.ts';

/** A damaged file this open moved aside. */
export interface Replaced {
  movedTo: string;
  /** Why it could not be opened. */
  error: string;
  /** The fresh log's seqs start above this (the wall clock's epoch ms). */
  floor: number;
}

export type OpenResult = { ok: true; conn: Connection; replaced: Replaced | null } | { ok: false; reason: DegradeReason; err: unknown };

/** Why `err`, thrown while opening the log in `dir`, keeps it shut. */
export function openReason(err: unknown, dir: string): DegradeReason {
  if (err instanceof StoreError && err.code === 'schema_too_new') return 'newer_schema';
  const reason = diskReason(err, dir) ?? 'cannot_open';
  if (reason !== 'io_error' && reason !== 'cannot_open') return reason;
  // Opening needs room for the -wal and -shm: on a full disk SQLite says SQLITE_CANTOPEN or an
  // I/O error, not SQLITE_FULL.
  if (noSpace(dir)) return 'disk_full';
  // SQLITE_CANTOPEN on a writable filesystem with room: a path that cannot be a database (a
  // directory, permissions), not a failing card.
  return sqliteCode(err)?.startsWith('SQLITE_CANTOPEN') ? 'cannot_open' : reason;
}

/**
 * Whether the filesystem holding `dir` (or its nearest existing parent) has no block left for
 * this process: root may use the blocks ext4 reserves (`bfree`), others only `bavail`.
 */
export function noSpace(dir: string): boolean {
  let at = dir;
  for (;;) {
    try {
      const fs = statfsSync(at);
      return (process.getuid?.() === 0 ? fs.bfree : fs.bavail) === 0;
    } catch {
      const up = dirname(at);
      if (up === at) return false;
      at = up;
    }
  }
}

/**
 * The error a read-only look at an existing file gets when the file is damaged, else null. A
 * read-write connection that finds it damaged is closed again, and SQLite's close of the last
 * connection checkpoints the WAL into the file and deletes the WAL: the damaged file's newest
 * events, gone, and the file written to. A read-only connection does neither.
 */
function damage(path: string, dir: string): unknown {
  if (!existsSync(path)) return null;
  let db: Database.Database | null = null;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true });
    db.pragma('user_version', { simple: true });
    return null;
  } catch (err) {
    return diskReason(err, dir) === 'corrupt' ? err : null;
  } finally {
    db?.close();
  }
}

function tryConnection(path: string, dir: string, opts: ConnectionOptions): OpenResult {
  try {
    const damaged = damage(path, dir);
    if (damaged) return { ok: false, reason: 'corrupt', err: damaged };
    mkdirSync(dir, { recursive: true });
    return { ok: true, conn: Connection.open(path, opts), replaced: null };
  } catch (err) {
    return { ok: false, reason: openReason(err, dir), err };
  }
}

/** Opens (creating the directory and file) and migrates; a damaged file is moved aside (see the header). */
export function openLog(path: string, dir: string, opts: ConnectionOptions, clock: Clock): OpenResult {
  const first = tryConnection(path, dir, opts);
  if (first.ok || first.reason !== 'corrupt' || !clock.trusted()) return first;
  const wall = Math.round(clock.wall());
  let movedTo: string;
  try {
    movedTo = moveAside(path, wall);
  } catch (err) {
    return { ok: false, reason: 'corrupt', err: new StoreError('open_failed', `${errorMessage(first.err)}; moving it aside failed too: ${errorMessage(err)}`, { cause: err }) };
  }
  const fresh = tryConnection(path, dir, opts);
  return fresh.ok ? { ...fresh, replaced: { movedTo, error: errorMessage(first.err), floor: wall } } : fresh;
}

/** `events.db.corrupt-20260720T000000Z` (the time in UTC, no colons: a valid name everywhere). */
export function asideName(path: string, wall: number): string {
  return `${path}.corrupt-${new Date(wall).toISOString().replace(/\.\d+Z$/, 'Z').replace(/[-:]/g, '')}`;
}

/**
 * Renames `path` and its `-wal`/`-shm` to the aside name (companions first: a new database must
 * never start with the old one's WAL). Nothing is deleted; on failure what moved is moved back.
 */
export function moveAside(path: string, wall: number): string {
  let aside = asideName(path, wall);
  for (let n = 1; existsSync(aside); n++) aside = `${asideName(path, wall)}-${n}`;
  const moved: Array<[string, string]> = [];
  try {
    for (const suffix of ['-wal', '-shm', '']) {
      if (!existsSync(path + suffix)) continue;
      renameSync(path + suffix, aside + suffix);
      moved.push([path + suffix, aside + suffix]);
    }
  } catch (err) {
    for (const [from, to] of moved.reverse()) {
      try {
        renameSync(to, from);
      } catch {
        // Left under the aside name: still not lost, and the log line names it.
      }
    }
    throw err;
  }
  return aside;
}

/**
 * The highest seq a log that cannot be opened for writing is known to hold or have reserved,
 * read without changing it (a read-only connection); null when it cannot be read at all. Events
 * held meanwhile count above it, so they rarely need new seqs once the log opens.
 */
export function readFloor(path: string): number | null {
  if (!existsSync(path)) return null;
  let db: Database.Database | null = null;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true });
    const max = db.prepare('SELECT max(seq) FROM events').pluck().get();
    let reserved: unknown = null;
    try {
      reserved = db.prepare("SELECT value FROM meta WHERE key = 'seq_reserved'").pluck().get();
    } catch {
      // A log without meta (or of another schema): its events' seqs are what there is.
    }
    return Math.max(typeof max === 'number' ? max : 0, typeof reserved === 'number' ? reserved : 0);
  } catch {
    return null;
  } finally {
    db?.close();
  }
}

/** The one error line for a damaged log moved aside: what happened, and what a technician should do. */
export function sayReplaced(log: Logger, path: string, r: Replaced): void {
  const advice = `Keep ${r.movedTo} for a technician: its events may be recoverable (sqlite3 ${r.movedTo} .recover). Nothing was deleted. Check the SD card.`;
  log.error({ reason: 'corrupt', moved_to: r.movedTo, err: r.error, advice }, `the event log ${path} was damaged (${r.error}); it was moved aside to ${r.movedTo}, untouched, and a new log started`);
}

/** What is wrong and what to do, for the one log line an officer or technician reads. */
export function advice(reason: DegradeReason, path: string): string {
  const held = 'Until then every event is kept in memory only (lost if the box loses power) and written in order as soon as the log opens; raw readings are dropped.';
  switch (reason) {
    case 'read_only':
      return `The filesystem holding ${path} is read-only (the kernel does this when an SD card fails). Check the card (dmesg, fsck) or replace it. ${held}`;
    case 'disk_full':
      return `The disk holding ${path} is full. Free space (old files, journal logs: journalctl --vacuum-size), or give the log a bigger card. ${held}`;
    case 'newer_schema':
      return `${path} was written by a newer Shaobing and is left untouched (this build cannot use it without a risk of damaging it). Install the newer build again, or move the file away to start a new log. ${held}`;
    case 'corrupt':
      return `${path} is damaged and cannot be read; it is moved aside and a new log started once the box's clock is set (the new log's numbers come from it). Keep the damaged file for a technician (sqlite3 … .recover). ${held}`;
    case 'io_error':
      return `Reading or writing ${path} fails with an I/O error: the SD card or its connection may be failing. Replace it. ${held}`;
    case 'busy':
      return `Another process holds the lock on ${path}: only one Shaobing may run on one log. Stop the other one. ${held}`;
    case 'cannot_open':
      return `${path} cannot be opened: check store.path in the config, that its directory can be made there, and its permissions. ${held}`;
  }
}
