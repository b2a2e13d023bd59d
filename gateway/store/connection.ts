/**
 * One open connection to the log's database and the writes on the hot paths: events (with
 * the seq reservation riding in the same transaction) and batches of readings. The store
 * swaps connections when it reopens after a disk fault; the state here is what is on disk.
 */
import type { Database as Db } from 'better-sqlite3';
import { eventArgs, metaNumber, openDatabase, prepareStatements, type EventRecord, type SnapshotRecord, type Statements } from './database.ts';
import { migrate } from './schema.ts';
import type { PendingQueue } from './pending.ts';
import type { ReadingBatch } from './readings.ts';
import { WalSync, type SyncFn, type WalSyncEvents } from './wal-sync.ts';
import { Checkpointer, type CheckpointerOptions } from './checkpointer.ts';

/**
 * Seqs are reserved on disk ahead of use (meta `seq_reserved`). A run that dies while events
 * are held in memory may have handed out seqs that never reached the disk; the next run starts
 * above the reservation, so those seqs are never reused. The reservation is extended in the
 * transaction of an event once fewer than SEQ_RESERVE seqs are left, so it costs no fsync.
 */
export const SEQ_RESERVE = 10_000;

/**
 * The seq rule when a log opens (README, "When the log cannot be opened"). `floor` is the
 * highest seq the file holds or has reserved (a damaged file replaced: the wall clock's ms,
 * open-log.ts). Events held before the file could be read were numbered from what the store
 * knew (`last`: 0, or what a read-only look found); if the lowest of them is at or below the
 * floor they collide with seqs the file already used, and all of them move up by `shift`, in
 * order, gaps kept. That is safe because none of them was durable: the township is sent only
 * durable events, so it never saw the old numbers (local `event` subscribers did). Returns
 * the new last seq handed out.
 */
export function seqsAtOpen(last: number, lowestHeld: number | undefined, floor: number): { last: number; shift: number } {
  const shift = lowestHeld !== undefined && lowestHeld <= floor ? floor + 1 - lowestHeld : 0;
  return { last: Math.max(last + shift, floor), shift };
}
const RESERVED = 'seq_reserved';

/**
 * SQLite's automatic checkpoint runs inside whichever commit crosses 1,000 WAL pages, and
 * copying 4 MB back into the database with two fsyncs took 5–30 ms: when that commit was an
 * alarm's, the siren waited for it. So automatic checkpoints are off and the log checkpoints
 * (PASSIVE: never waits for readers, never blocks the writer) after a bulk write, once this many
 * rows were written since the last one or CHECKPOINT_MS passed. The checkpoint runs in a worker
 * thread on a connection of its own (checkpointer.ts): on the main thread each one stalled
 * everything for 2–18 ms (p50 2–7 ms) at the quiet rate (1,000 readings/s; store-quiet bench). It falls back
 * to the main thread only while no worker runs; then the stall is kept short: measured on this
 * machine (readings in batches of 200), 20,000 rows took 24–28 ms per checkpoint, 5,000 rows
 * 6.5 ms, 2,000 rows 3.5 ms (total time per minute 74, 78 and 104 ms).
 */
export const CHECKPOINT_ROWS = 4_000;
/**
 * At a quiet site the time bound decides (the realistic site of the sd-wear bench writes 4,000
 * rows in about 13 minutes). A checkpoint copies every page the WAL holds into the database, once
 * however often the WAL rewrote it, so a longer interval copies the pages that change every
 * minute (the readings' last pages, one rollup index page per sensor) fewer times: 60 s → 300 s
 * took the realistic site from 60 to 47 MB/h written. The WAL then holds up to 5 minutes of
 * frames (about 4 MB there); the 4,000-row bound keeps it small at a busy site.
 */
export const CHECKPOINT_MS = 300_000;
/**
 * The meta row the commit right after a complete checkpoint sets, on the connection that
 * checkpointed (the worker's, or this one in the fallback): wall ms of the checkpoint. That
 * commit starts the WAL over and fsyncs the new header; see checkpointIfDue.
 */
const CHECKPOINTED = 'checkpoint_at';
/** Held events written per transaction when the disk is back (writeHeld). */
const RETRY_CHUNK = 500;

export interface ConnectionOptions {
  /** Caps the database (PRAGMA max_page_count, per connection). */
  maxBytes?: number;
  /** Told when events reach the disk, or when the disk refuses (WalSync). */
  sync?: WalSyncEvents<EventRecord>;
  /** The fdatasync WalSync calls; tests pass one that fails or waits. */
  syncFn?: SyncFn;
  /** Checkpoints in a worker thread (checkpointer.ts); without it (or without WAL), on the main thread. */
  checkpointer?: CheckpointerOptions;
}

const NO_SYNC_EVENTS: WalSyncEvents<EventRecord> = { synced: () => undefined, failed: () => undefined };

export class Connection {
  readonly st: Statements;
  /** The reservation as committed. */
  reserved: number;
  private readonly eventTx: (records: EventRecord[], orIgnore: boolean, snapshot: SnapshotRecord | null) => number | null;
  private readonly readingTx: (batch: ReadingBatch) => void;
  private rowsSinceCheckpoint = 0;
  private lastCheckpoint = performance.now();
  /** Null without WAL: then every commit is FULL and durable when it returns. */
  readonly walSync: WalSync<EventRecord> | null;
  /** Null without WAL or when not asked for: then checkpoints run on the main thread. */
  readonly checkpointer: Checkpointer | null;
  /** Checkpoints this connection ran on the main thread (the fallback). */
  mainThreadCheckpoints = 0;

  private constructor(
    readonly db: Db,
    readonly journalMode: string,
    /** The schema version found before migrating. */
    readonly migratedFrom: number,
    opts: ConnectionOptions,
  ) {
    const st = prepareStatements(db);
    this.st = st;
    const last = this.lastSeqOnDisk();
    this.reserved = metaNumber(st, RESERVED) ?? last;
    this.walSync = journalMode === 'wal' ? new WalSync<EventRecord>(`${db.name}-wal`, 0, opts.sync ?? NO_SYNC_EVENTS, opts.syncFn) : null;
    // What a run killed before its sync left in the OS's cache is on disk from here on.
    if (last > 0) this.walSync?.request(last);
    // Started once the schema is migrated (the worker writes a meta row); never fails here.
    this.checkpointer = journalMode === 'wal' && opts.checkpointer ? new Checkpointer(db.name, opts.checkpointer) : null;
    this.eventTx = db.transaction((records: EventRecord[], orIgnore: boolean, snapshot: SnapshotRecord | null) => {
      const insert = orIgnore ? st.insertEventOrIgnore : st.insertEvent;
      for (const r of records) insert.run(...eventArgs(r));
      const top = records[records.length - 1]!.seq;
      if (snapshot) st.putSnapshot.run(snapshot.version, top, Math.round(records[records.length - 1]!.atWall), snapshot.body);
      if (top + SEQ_RESERVE <= this.reserved) return null;
      st.setMeta.run(RESERVED, top + 2 * SEQ_RESERVE);
      return top + 2 * SEQ_RESERVE;
    });
    this.readingTx = db.transaction((b: ReadingBatch) => {
      for (let i = 0; i < b.size; i++) {
        const v = b.value[i]!;
        st.insertReading.run(b.sensor[i]!, Math.round(b.atWall[i]!), Number.isNaN(v) ? null : v, b.quality[i]!);
      }
    });
  }

  /**
   * Opens `path` (WAL, synchronous=NORMAL, see openDatabase) and migrates it; closes it again if
   * that fails. `maxBytes` caps the database (PRAGMA max_page_count, per connection): past it
   * writes fail with SQLITE_FULL exactly as on a full disk, so the OS keeps room on a shared SD card.
   */
  static open(path: string, opts: ConnectionOptions = {}): Connection {
    const { db, journalMode } = openDatabase(path);
    try {
      if (opts.maxBytes !== undefined) {
        const pageSize = db.pragma('page_size', { simple: true }) as number;
        db.pragma(`max_page_count = ${Math.max(1, Math.floor(opts.maxBytes / pageSize))}`);
      }
      const { from } = migrate(db);
      db.pragma('wal_autocheckpoint = 0');
      return new Connection(db, journalMode, from, opts);
    } catch (err) {
      db.close();
      throw err;
    }
  }

  lastSeqOnDisk(): number {
    return this.st.maxSeq.get()?.seq ?? 0;
  }

  /**
   * Inserts `records` in one transaction, written to the WAL when this returns (it survives
   * kill -9), and asks WalSync to put it on the disk right behind. `orIgnore`: a seq already on
   * disk is skipped. `snapshot` (the core's state after these events) replaces the one kept, in
   * the same transaction: the log never holds a state its events do not explain, nor the reverse.
   */
  writeEvents(records: EventRecord[], orIgnore: boolean, snapshot: SnapshotRecord | null = null): void {
    const reserved = this.guard(() => this.eventTx(records, orIgnore, snapshot));
    if (reserved !== null) this.reserved = reserved;
    this.rowsSinceCheckpoint += records.length;
    this.walSync?.request(records[records.length - 1]!.seq, records);
  }

  /** Writes held events in seq order, RETRY_CHUNK per transaction, taking each chunk off the queue once written. */
  writeHeld(held: PendingQueue): void {
    while (held.size > 0) {
      const chunk = held.head(RETRY_CHUNK);
      this.writeEvents(chunk, true);
      held.shift(chunk.length);
    }
  }

  writeReadings(batch: ReadingBatch): void {
    this.bulk(() => this.readingTx(batch));
    this.rowsSinceCheckpoint += batch.size;
    this.checkpointIfDue();
  }

  /**
   * Runs bulk writes (raw readings, rollups, retention): committed to the WAL, no sync asked of
   * their own. They survive kill -9 (the OS has them); a power cut may lose the last moments of
   * raw readings, which are samples, not events — the next event's sync or checkpoint takes
   * them to the disk with it.
   */
  bulk<T>(fn: () => T): T {
    return this.guard(fn);
  }

  /**
   * Checkpoints (see CHECKPOINT_ROWS) if enough was written or enough time passed; after bulk
   * writes only. Asks the worker if one runs (while it still runs the last one, nothing is
   * asked; the rows go on counting). Otherwise here, on the main thread: then one small write
   * starts the WAL over, because with `synchronous=NORMAL` SQLite fsyncs the new WAL header in
   * the first commit after a complete checkpoint, which must be this one (the main thread is
   * stalled for the checkpoint anyway), not an alarm's. The worker does the same on its own
   * connection (checkpoint-worker.ts).
   */
  checkpointIfDue(): void {
    const now = performance.now();
    if (this.rowsSinceCheckpoint === 0 || (this.rowsSinceCheckpoint < CHECKPOINT_ROWS && now - this.lastCheckpoint < CHECKPOINT_MS)) return;
    const asked = this.checkpointer?.request() ?? 'unavailable';
    if (asked === 'busy') return;
    this.rowsSinceCheckpoint = 0;
    this.lastCheckpoint = now;
    if (asked === 'sent') return;
    this.mainThreadCheckpoints++;
    this.guard(() => {
      this.db.pragma('wal_checkpoint(PASSIVE)');
      this.st.setMeta.run(CHECKPOINTED, Date.now());
    });
  }

  /** Sets the reservation (at start: ahead of this run; at a clean stop: back to the last seq). */
  reserve(upTo: number): void {
    this.guard(() => this.st.setMeta.run(RESERVED, upTo));
    this.reserved = upTo;
  }

  /**
   * At start, the reservation ahead of this run reaches the disk before any of its seqs is
   * handed out: one synced commit (synchronous=FULL syncs the WAL, sqlite.org/pragma.html),
   * once a boot. With NORMAL it waited for the first event's fdatasync, so a disk that failed
   * before that lost it, and after repair the next run gave out seqs the dead run had acted on.
   */
  reserveDurably(upTo: number): void {
    if (this.journalMode !== 'wal') return this.reserve(upTo); // synchronous is FULL already
    this.db.pragma('synchronous = FULL');
    try {
      this.reserve(upTo);
    } finally {
      this.db.pragma('synchronous = NORMAL');
    }
  }

  /**
   * Closing checkpoints and syncs (SQLite, last connection: the checkpointer's is closed first,
   * within its bound); a sync still running finishes first.
   */
  close(): void {
    this.checkpointer?.close();
    this.walSync?.close();
    this.db.close();
  }

  /** A failed COMMIT can leave the connection inside the transaction; later writes must not join it. */
  private guard<T>(fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      try {
        if (this.db.inTransaction) this.db.exec('ROLLBACK');
      } catch {
        // Still broken: the store's retry reopens the connection.
      }
      throw err;
    }
  }
}
