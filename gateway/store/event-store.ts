/**
 * The box's event log (DESIGN.md, "Everything that happens is an event" and "The box on its
 * own"): one SQLite file in WAL mode. An event is committed to the WAL before `append` returns
 * its seq, so whatever the box then does survives kill -9; one fdatasync off the main thread
 * takes it to the disk right behind (wal-sync.ts: a power cut loses at most the acts of that
 * last millisecond or so from the record, never an act). `durableSeq` says how far the disk has
 * it. Raw readings are batched (one transaction per batch), rolled up per minute and pruned on
 * a schedule. WAL checkpoints run in a worker thread on a connection of its own
 * (checkpointer.ts), never on the main thread while that worker runs.
 *
 * When the medium fails (full, read-only, I/O errors) `append` still never throws: the event
 * keeps its seq, waits in a bounded in-memory queue (visible through `since`; past the bound
 * observations and notes go first, alerts last, counted) and is written in order once the disk
 * takes writes again; raw readings are dropped meanwhile — raw readings first, never the
 * reverse. Such an event is not durable until then: if the process dies first, it is lost, but
 * its seq is never reused (see connection.ts, SEQ_RESERVE).
 *
 * A log that cannot be opened at all (read-only, full, damaged, of a newer schema; open-log.ts
 * decides what each means) is the same degraded mode from the first event: `start` resolves,
 * events are held and retried with backoff (open-retry.ts) and written in order once it opens,
 * above every seq the file holds or reserves (connection.ts seqsAtOpen). One thing is weaker
 * there: with no reservation of this run on the disk, a run that dies before the log ever
 * opened leaves nothing to say which seqs it handed out, so the next run may hand them out
 * again. None of them was durable, so the township never saw them; the journal line at stop
 * (or the FATAL one) is their only record and names them.
 */
import { dirname, resolve } from 'node:path';
import type { Logger } from 'pino';
import type { StoreConfig } from '../config/types.ts';
import type { Clock } from '../shell/clock.ts';
import type { BoxContext, Module } from '../shell/module.ts';
import { withDeadline } from '../shell/timing.ts';
import { SEQ_RESERVE, seqsAtOpen, type Connection, type ConnectionOptions } from './connection.ts';
import { metaNumber, newRecords, recordToEvent, rowToEvent, type EventRecord, type SnapshotRecord, type StoredSnapshot } from './database.ts';
import { diskReason, StoreError } from './errors.ts';
import { FaultMode } from './fault-mode.ts';
import { historyRows, type HistoryQuery, type HistoryRow } from './history.ts';
import { rollupRows, sensorRollupRows, type RollupRow } from './rollup-rows.ts';
import { eventsPage, firstSeqFrom, type EventFilter, type EventPage } from './event-query.ts';
import { reportingMinutes } from './reporting-minutes.ts';
import { advice, openLog, readFloor, sayReplaced, type OpenResult } from './open-log.ts';
import { OpenRetry } from './open-retry.ts';
import { syncEvents } from './sync-events.ts';
import type { WalSyncEvents } from './wal-sync.ts';
import { drain, scheduleStoreJobs } from './jobs.ts';
import { DEFAULT_PENDING_LIMIT } from './pending.ts';
import { ReadingBuffer, type ReadingBatch } from './readings.ts';
import { pruneSteps } from './retention.ts';
import { rollupSteps } from './rollup.ts';
import { SCHEMA_VERSION } from './schema.ts';
import { EVENT_TYPES, type DegradeReason, type EventStoreOptions, type EventType, type PruneCounts, type ReadingRow, type StoredEvent, type StoreHealth } from './types.ts';

export { EVENT_TYPES, StoreError };
export type { DegradeReason, EventStoreOptions, EventType, HistoryQuery, HistoryRow, PruneCounts, ReadingRow, SnapshotRecord, StoredEvent, StoredSnapshot, StoreHealth };
export type { StoreErrorCode } from './errors.ts';

/** The snapshot row, replaced, covering the events up to `seq` (a commit without a sync of its own). */
function putSnapshot(conn: Connection, snap: SnapshotRecord, seq: number, atWall: number): void {
  conn.bulk(() => conn.st.putSnapshot.run(snap.version, seq, Math.round(atWall), snap.body));
}

/**
 * Raw readings wait at most this long for their batch's commit (or until 1,000 wait). Every
 * commit rewrites the readings table's and its index's last pages as new WAL frames, whole 4 KiB
 * pages, however few rows it carries: at a realistic site (50 sensors polled every 10 s, about 5
 * readings a second, spread out) 200 ms meant a commit per reading and about 100 MB an hour
 * written to the SD card for 1 MB of data (sd-wear bench). 2 s is a tenth of the commits; what
 * kill -9 can take is then 2 s of raw samples, which are samples, never events (a rain total
 * comes with the next reading; a river's rise is judged over minutes). A power cut could already
 * take more: raw readings have no fsync of their own (connection.ts bulk).
 */
export const READING_FLUSH_MS = 2000;

/** A hung disk (a dying SD card can hold an fsync for minutes) must not hold the box's stop. */
export const STOP_SYNC_MS = 5000;

export class EventStore implements Module {
  readonly name = 'store';
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly cfg: StoreConfig;
  private readonly path: string;
  private readonly dir: string;
  private started = false;
  /** Null only while degraded, when a reopen failed; the retry tries again. */
  private conn: Connection | null = null;
  private last = 0;
  private retainAfter = Number.POSITIVE_INFINITY;
  private readonly readings: ReadingBuffer;
  private readonly fault: FaultMode;
  private readonly retryMs: number;
  private retryTimer: NodeJS.Timeout | null = null;
  private cancelJobs: (() => void) | null = null;
  /** Without WAL every commit is FULL: then what is written is durable. */
  private syncedTo = 0;
  private readonly syncEvents: WalSyncEvents<EventRecord>;
  private readonly durableListeners: ((seq: number) => void)[] = [];
  /** A snapshot that came while the disk refused writes: written once it takes them again. */
  private heldSnapshot: SnapshotRecord | null = null;
  /**
   * Whether `last` is at or above every seq the open file holds or reserves. False from
   * start() until a file is opened (and after a damaged one is replaced): events held meanwhile
   * were numbered without knowing it, and are renumbered above it if they would collide.
   */
  private floorKnown = false;
  /** While the log cannot be opened: the retries, with backoff. */
  private readonly openRetry: OpenRetry;
  /** Where a damaged log was moved this run (health, and the box's status). */
  private replacedLog: string | null = null;

  constructor(
    ctx: Pick<BoxContext, 'config' | 'log' | 'clock'>,
    private readonly opts: EventStoreOptions = {},
  ) {
    this.log = ctx.log.child({ module: 'store' });
    this.clock = ctx.clock;
    this.cfg = ctx.config.store;
    this.path = resolve(opts.path ?? ctx.config.store.path);
    this.dir = dirname(this.path);
    this.readings = new ReadingBuffer(opts.readingFlushMs ?? READING_FLUSH_MS, opts.readingBatchMax ?? 1000, (rows) => this.writeReadings(rows));
    this.fault = new FaultMode(this.log, opts.pendingLimit ?? DEFAULT_PENDING_LIMIT);
    this.retryMs = opts.retryMs ?? 5000;
    this.openRetry = new OpenRetry(this.log, this.retryMs, opts.retryMaxMs ?? 60_000);
    const holdAgain = (recs: readonly EventRecord[], err: Error): void => {
      this.hold(recs);
      this.diskFailed(err);
    };
    const inner = syncEvents({ log: this.log, clock: this.clock, started: () => this.started, holdAgain });
    this.syncEvents = {
      synced: (seq, ms) => {
        inner.synced(seq, ms);
        for (const fn of this.durableListeners) fn(seq);
      },
      failed: inner.failed,
    };
  }

  /**
   * Opens (creating the directory and file), migrates, and resumes the seq after the last run.
   * Never fails for the file or the disk: a log that cannot be opened (read-only, full, damaged,
   * of a newer schema, …; see open-log.ts) leaves the store started and degraded, holding
   * events in memory and retrying with backoff until it opens.
   */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    this.stopRetry();
    this.fault.reset();
    this.floorKnown = false;
    this.replacedLog = null;
    this.openRetry.reset();
    this.tryOpen();
    if (this.opts.schedule !== false) {
      this.cancelJobs = scheduleStoreJobs({
        clock: this.clock,
        log: this.log,
        rollup: (now) => this.rollup(now),
        rollupSteps: (now) => {
          // Only readings of a complete minute are rolled: a batch of the current minute's waits
          // for its own commit instead of adding one every 5 s (each commit costs whole pages).
          if (this.readings.holdsBefore(Math.floor(now / 60_000) * 60_000)) this.flushReadings();
          return this.bulkSteps(rollupSteps(() => this.connection().db, now));
        },
        pruneSteps: (now) => this.bulkSteps(pruneSteps(() => this.connection().db, now, this.cfg, this.retainAfter)),
        guard: (what, fn) => this.guardJob(what, fn),
      });
    }
  }

  /** The highest seq the disk is known to have (fdatasync'd); events above it are written, not yet synced. */
  durableSeq(): number {
    const sync = this.conn?.walSync;
    if (!sync) return this.syncedTo;
    return sync.durable;
  }

  /**
   * Told each time the disk confirms events up to `seq` (from the fdatasync's callback, on the
   * main thread): the uplink forwards only durable events and waits for this instead of polling.
   * A listener must be cheap and must not throw.
   */
  onDurable(fn: (seq: number) => void): () => void {
    this.durableListeners.push(fn);
    return () => {
      const i = this.durableListeners.indexOf(fn);
      if (i >= 0) this.durableListeners.splice(i, 1);
    };
  }

  /**
   * How long the oldest write has waited for the disk to confirm it, ms (0: none waits). The
   * commit itself runs on the main thread (a stuck one holds the event loop); the fdatasync
   * behind it runs off it, and this says whether it returns (the systemd watchdog, watchdog.ts).
   * A degraded store is not stalled: it holds events in memory and answers at once.
   */
  syncStallMs(): number {
    return this.conn?.walSync?.busyMs() ?? 0;
  }

  /** Resolves when every event written so far was synced (or its sync failed). */
  async synced(): Promise<void> {
    await this.conn?.walSync?.settled();
  }

  private async syncedWithin(ms: number): Promise<void> {
    const outcome = await withDeadline(this.synced().then(() => 'synced' as const), ms, () => 'late' as const);
    if (outcome === 'late') {
      this.log.error({ durableSeq: this.durableSeq(), lastSeq: this.last, waitedMs: ms }, 'stopping although the disk has not confirmed the last events; they are written, not known to be on disk');
    }
  }

  private connectionOptions(): ConnectionOptions {
    const checkpointer = this.opts.checkpointInWorker === false ? undefined : { ...this.opts.checkpointer, log: this.log, failed: (err: Error) => this.checkpointFailed(err) };
    return { maxBytes: this.opts.maxDbBytes, syncFn: this.opts.syncFn, sync: this.syncEvents, checkpointer };
  }

  /**
   * A checkpoint in the worker failed: a fault of the medium degrades the store, as a failed
   * write of its own does. Not a lock the worker waited for in vain: that says nothing of
   * this connection (the next checkpoint tries again).
   */
  private checkpointFailed(err: Error): void {
    if (!this.started || this.fault.reason !== null) return;
    const reason = diskReason(err, this.dir);
    if (reason !== null && reason !== 'busy') this.diskFailed(err);
  }

  /** The connection of the moment (tests and benchmarks: its checkpointer). */
  get connectionNow(): Connection | null {
    return this.conn;
  }

  /** Opens the log and takes it into use; false (degraded, and a retry planned) when it cannot. */
  private tryOpen(): boolean {
    const opened = openLog(this.path, this.dir, this.connectionOptions(), this.clock);
    if (!opened.ok) {
      this.cannotOpen(opened.reason, opened.err);
      return false;
    }
    return this.attach(opened);
  }

  /**
   * Takes an opened log into use: the seq rule at open (connection.ts seqsAtOpen), then this
   * run's reservation on the disk before anything is written, as at any start.
   */
  private attach(opened: Extract<OpenResult, { ok: true }>): boolean {
    const { conn, replaced } = opened;
    this.conn = conn;
    this.openRetry.reset();
    if (conn.journalMode !== 'wal') this.log.warn({ journalMode: conn.journalMode }, 'WAL mode unavailable on this filesystem');
    const lastOnDisk = conn.lastSeqOnDisk();
    const floor = Math.max(lastOnDisk, conn.reserved, replaced?.floor ?? 0);
    let renumbered: { from: number; to: number; events: number } | null = null;
    const firstOpen = !this.floorKnown;
    if (firstOpen) {
      const held = this.fault.held;
      const lowest = held.all()[0]?.seq;
      const { last, shift } = seqsAtOpen(this.last, lowest, floor);
      if (shift > 0) {
        renumbered = { from: lowest!, to: lowest! + shift, events: held.size };
        held.renumber(shift);
      }
      this.last = last;
      this.floorKnown = true;
    }
    this.log.info({ path: this.path, schemaVersion: SCHEMA_VERSION, migratedFrom: conn.migratedFrom, lastSeq: this.last }, 'event store open');
    try {
      conn.reserveDurably(this.last + 2 * SEQ_RESERVE);
    } catch (err) {
      if (!this.diskFailed(err)) {
        this.detach();
        this.cannotOpen('cannot_open', err);
        return false;
      }
    }
    if (replaced) {
      this.replacedLog = replaced.movedTo;
      sayReplaced(this.log, this.path, replaced);
      this.append('storage', { what: 'log_replaced', reason: 'corrupt', moved_to: replaced.movedTo, error: replaced.error, seq_from: this.last + 1 });
    } else if (firstOpen && floor > lastOnDisk) {
      this.append('storage', { what: 'seq_skipped', from: lastOnDisk + 1, to: floor, why: 'the previous run did not stop cleanly; seqs it may have handed out are not reused' });
    }
    if (renumbered) this.append('storage', { what: 'seq_renumbered', ...renumbered, why: 'these events were held in memory before the log could be opened, and the log already used their seqs; none had been on disk' });
    return true;
  }

  /** The log cannot be opened: degraded for `reason` (said once, with what to do), events held, a retry planned. */
  private cannotOpen(reason: DegradeReason, err: unknown): void {
    if (!this.floorKnown) this.last = Math.max(this.last, readFloor(this.path) ?? 0);
    this.degradeFor(reason, err);
    this.openRetry.failed(reason, this.fault.health(), () => this.retryHeld(), this.started && !this.retryTimer);
  }

  /** Flushes readings, makes a last attempt at held events, stops the jobs and closes. Never rejects. */
  async stop(): Promise<void> {
    this.cancelJobs?.();
    this.cancelJobs = null;
    this.stopRetry();
    if (!this.started) return void this.detach();
    try {
      this.flushReadings();
      // A sync that fails now still hands its events to the held queue before the last words.
      await this.syncedWithin(this.opts.stopSyncMs ?? STOP_SYNC_MS);
      this.retryHeld();
      const held = this.fault.held;
      if (held.size > 0) {
        this.log.error({ reason: this.fault.reason, events: held.all().map(recordToEvent) }, 'stopping with events that never reached the disk; this log line is their only record');
      } else if (this.fault.reason === null) {
        this.conn?.reserve(this.last);
      }
    } catch (err) {
      this.log.error({ err }, 'event store did not stop cleanly');
    }
    this.stopRetry();
    this.started = false;
    this.detach();
    this.log.info({ lastSeq: this.last }, 'event store closed');
  }

  /**
   * Appends one event and commits it (written to the WAL: it survives kill -9; synced to the
   * disk right behind, see durableSeq) before returning its seq. Throws only
   * for the caller's mistakes (not started, unknown type, a payload without JSON form) — never
   * for a failing disk: then the event is held in memory with its seq and written later.
   */
  append(type: EventType, payload: unknown): number {
    return this.appendMany([{ type, payload }])[0]!;
  }

  /**
   * Appends several events in one transaction and returns their seqs, in order: what one
   * engine step produced is written together before any of it is acted on (and synced together),
   * with the core's snapshot after them if given (one row, replaced; see `snapshot`).
   */
  appendMany(events: readonly { type: EventType; payload: unknown }[], snapshot: SnapshotRecord | null = null): number[] {
    if (!this.started) throw notOpen();
    if (events.length === 0) return [];
    const recs = newRecords(this.clock, this.last, events);
    const seqs = recs.map((r) => r.seq);
    if (this.fault.reason !== null || !this.conn) {
      this.hold(recs);
      this.heldSnapshot = snapshot ?? this.heldSnapshot;
      return seqs;
    }
    try {
      this.conn.writeEvents(recs, false, snapshot);
      this.last = seqs.at(-1)!;
      if (!this.conn.walSync) this.syncedTo = this.last;
    } catch (err) {
      if (diskReason(err, this.dir) === null) throw err; // not a disk fault: the seqs stay unused
      this.hold(recs);
      this.heldSnapshot = snapshot ?? this.heldSnapshot;
      this.diskFailed(err);
    }
    return seqs;
  }

  /** Keeps events in memory (their seqs are handed out) until the disk takes writes again. */
  private hold(recs: readonly EventRecord[]): void {
    for (const r of recs) this.fault.hold(r);
    this.last = Math.max(this.last, recs.at(-1)?.seq ?? 0);
  }

  /**
   * If `err` is a failure of the medium, degrades (or changes the reason) and returns true. A
   * new degradation drops the raw readings waiting for a batch, starts the retries and holds
   * its `storage` event like any other.
   */
  private diskFailed(err: unknown): boolean {
    const reason = diskReason(err, this.dir);
    if (reason === null) return false;
    this.degradeFor(reason, err);
    // Also when degraded already: a log that just opened after a failed open may refuse writes.
    this.retryTimer ??= setInterval(() => this.retryHeld(), this.retryMs).unref();
    return true;
  }

  /** Degrades for `reason` (or changes it); true when this starts a degradation. */
  private degradeFor(reason: DegradeReason, err: unknown): boolean {
    const discarded = this.fault.reason === null ? this.readings.discard() : 0;
    const degraded = this.fault.degrade(reason, err, this.clock.mono(), discarded, advice(reason, this.path));
    if (degraded) this.hold(newRecords(this.clock, this.last, [{ type: 'storage', payload: degraded }]));
    return degraded !== null;
  }

  /** Writes held events in seq order; when none are left, the store is healthy again. */
  private retryHeld(): void {
    try {
      const step = this.started ? this.fault.retryStep(this.dir) : null;
      if (step === null) {
        if (!this.conn && this.started && this.fault.reason !== null) this.cannotOpen(this.fault.reason, new Error('the filesystem still refuses writes'));
        return;
      }
      if (step === 'reopen' || !this.conn) {
        // A read-only open (SQLite falls back to one on EROFS) or a broken handle needs a new
        // connection, and the old one is closed first: SQLite shares one file handle and one
        // shared-memory index per file within a process, so a new one next to it stays read-only.
        this.detach();
        if (!this.tryOpen()) return;
      }
      const conn = this.conn;
      if (!conn) return;
      try {
        conn.writeHeld(this.fault.held);
        this.writeHeldSnapshot(conn);
      } catch (err) {
        if (!this.diskFailed(err)) this.log.error({ err }, 'writing held events failed');
        return;
      }
      this.stopRetry();
      this.append('storage', this.fault.recover(this.clock.mono()));
    } catch (err) {
      this.log.error({ err }, 'retrying held events threw');
    }
  }

  private stopRetry(): void {
    if (this.retryTimer) clearInterval(this.retryTimer);
    this.retryTimer = null;
    this.openRetry.cancel();
  }

  /** A snapshot that came while the disk refused writes, written once the held events are. */
  private writeHeldSnapshot(conn: Connection): void {
    const snap = this.heldSnapshot;
    if (!snap) return;
    putSnapshot(conn, snap, this.last, this.clock.wall());
    this.heldSnapshot = null;
  }

  /**
   * The core's snapshot alone, covering every event written so far: for a step whose events were
   * committed without it so the siren did not wait for it (engine-runner). While the disk
   * refuses writes it is held, as `appendMany` holds one.
   */
  saveSnapshot(snapshot: SnapshotRecord): void {
    if (!this.started) throw notOpen();
    const conn = this.conn;
    if (this.fault.reason !== null || !conn) {
      this.heldSnapshot = snapshot;
      return;
    }
    try {
      putSnapshot(conn, snapshot, this.last, this.clock.wall());
    } catch (err) {
      if (diskReason(err, this.dir) === null) throw err;
      this.heldSnapshot = snapshot;
      this.diskFailed(err);
    }
  }

  /** The core's last snapshot (written with the events of a step), or null (also while the log cannot be opened). Throws if the disk cannot be read. */
  snapshot(): StoredSnapshot | null {
    if (this.started && !this.conn) return null;
    return this.connection().st.getSnapshot.get() ?? null;
  }

  /** The readings to rebuild windows from after a restart (history.ts); streamed. */
  history(q: HistoryQuery): IterableIterator<HistoryRow> {
    if (!this.conn) return ([] as HistoryRow[])[Symbol.iterator]();
    this.readings.flush();
    return historyRows(this.conn.db, q);
  }

  /** One bounded page of the log, filtered (event-query.ts); none while the log is not open. */
  eventsPage(f: EventFilter, afterSeq: number, limit: number, scanRows?: number): EventPage {
    if (!this.conn) return { events: [], next: null };
    return eventsPage(this.conn.db, f, afterSeq, limit, scanRows);
  }

  /** The first seq at or after a wall time (event-query.ts), or null. */
  firstSeqFrom(atWall: number): number | null {
    return this.conn ? firstSeqFrom(this.conn.db, atWall) : null;
  }

  /** One sensor's rollup rows of minutes in (after, through] (rollup-rows.ts). */
  sensorRollups(sensor: string, afterMinute: number, throughMinute: number): RollupRow[] {
    if (!this.conn) return [];
    this.readings.flush();
    return sensorRollupRows(this.conn.db, sensor, afterMinute, throughMinute);
  }

  /** One sensor's minutes with a value in (after, through] (reporting-minutes.ts), for the daily reporting check; none while the log is not open. */
  reportingMinutes(sensor: string, afterMinute: number, throughMinute: number): number[] {
    return this.conn ? reportingMinutes(this.conn.db, sensor, afterMinute, throughMinute) : [];
  }

  /** The rollup rows of minutes in (after, through] (rollup-rows.ts); none while the log is not open. */
  rollupRows(afterMinute: number, throughMinute: number): RollupRow[] {
    if (!this.conn) return [];
    return rollupRows(this.conn.db, afterMinute, throughMinute);
  }

  /** Queues a raw reading; dropped (and counted) while degraded or closed. */
  addReading(r: ReadingRow): void {
    if (!this.conn || this.fault.reason !== null) this.fault.droppedReadings++;
    else this.readings.add(r);
  }

  /** Commits the waiting readings in one transaction. */
  flushReadings(): void {
    this.readings.flush();
  }

  /**
   * Events with seq above `seq`, ascending, at most `limit` (default: all — page with a limit),
   * including events held in memory. Throws if the disk cannot be read.
   */
  since(seq: number, limit?: number): StoredEvent[] {
    if (!this.started) throw notOpen();
    const max = limit === undefined ? Number.POSITIVE_INFINITY : Math.max(0, Math.floor(limit));
    const out = this.conn ? this.conn.st.eventsSince.all(seq, Number.isFinite(max) ? max : -1).map(rowToEvent) : [];
    const held = this.fault.held;
    if (held.size === 0 || out.length >= max) return out;
    const top = out.length > 0 ? out[out.length - 1]!.seq : seq;
    for (const e of held.after(top, max - out.length)) out.push(recordToEvent(e));
    return out;
  }

  /**
   * How many events have a seq above `seq` (on disk and held in memory). Seqs are not dense (a
   * restart after a power cut skips the reservation, seq_skipped), so this is not lastSeq − seq.
   * It reads every row above `seq`: about 20 ns a row here (37 ms for 1,000,000), so callers
   * on the alarm path's thread ask rarely (uplink.ts).
   */
  countSince(seq: number): number {
    if (!this.started) throw notOpen();
    const onDisk = this.conn ? this.conn.st.countSince.get(seq)!.n : 0;
    const held = this.fault.held;
    return onDisk + (held.size === 0 ? 0 : held.after(seq, held.size).length);
  }

  /** The last seq handed out (on disk or held in memory). */
  lastSeq(): number {
    return this.last;
  }

  /** Rolls up every complete minute not yet rolled (see rollup.ts); returns rows written. */
  rollup(nowWall: number): number {
    this.flushReadings();
    const conn = this.connection();
    const rows = conn.bulk(() => drain(rollupSteps(() => conn.db, nowWall)));
    conn.checkpointIfDue();
    return rows;
  }

  /** Deletes what is older than the configured retention (see retention.ts). */
  prune(nowWall: number): PruneCounts {
    const conn = this.connection();
    return conn.bulk(() => drain(pruneSteps(() => conn.db, nowWall, this.cfg, this.retainAfter)));
  }

  /** Each step of a chunked job as a bulk write (Connection.bulk), on the connection of the moment. */
  private *bulkSteps<R>(steps: Generator<void, R>): Generator<void, R> {
    for (;;) {
      const conn = this.connection();
      const r = conn.bulk(() => steps.next());
      if (r.done) {
        conn.checkpointIfDue();
        return r.value;
      }
      yield;
    }
  }

  /**
   * A number kept in the log's meta table (the uplink's cursor). Null if never set; throws
   * (StoreError `unavailable`) while the log cannot be opened, so a caller never mistakes an
   * unreadable cursor for a fresh one.
   */
  metaNumber(key: string): number | null {
    return metaNumber(this.connection().st, key);
  }

  /**
   * Sets a meta number in a bulk write (no sync of its own: it survives kill -9 and reaches the
   * disk with the next event's sync). Returns false, never throws, when the log refuses it now.
   */
  setMetaNumber(key: string, value: number): boolean {
    if (!this.started || !this.conn || this.fault.reason !== null) return false;
    const conn = this.conn;
    try {
      conn.bulk(() => conn.st.setMeta.run(key, value));
      return true;
    } catch (err) {
      if (!this.diskFailed(err)) this.log.error({ err, key }, 'meta value not written');
      return false;
    }
  }

  /** Events with seq above this (the uplink's acknowledged seq) are never pruned. */
  setRetainAfterSeq(seq: number): void {
    this.retainAfter = seq;
  }

  health(): StoreHealth {
    return { ...this.fault.health(), replacedLog: this.replacedLog };
  }

  /** Called when `degraded` or `reason` changes (not for every held event). */
  onHealthChange(fn: (h: StoreHealth) => void): void {
    this.fault.onChange(fn);
  }

  private writeReadings(batch: ReadingBatch): void {
    if (!this.conn || this.fault.reason !== null) {
      this.fault.droppedReadings += batch.size;
      return;
    }
    try {
      this.conn.writeReadings(batch);
    } catch (err) {
      this.fault.droppedReadings += batch.size;
      if (!this.diskFailed(err)) this.log.error({ err, readings: batch.size }, 'reading batch not written');
    }
  }

  private detach(): void {
    try {
      this.conn?.close();
    } catch (err) {
      this.log.warn({ err }, 'closing the database failed');
    }
    this.conn = null;
  }

  private guardJob(what: string, fn: () => void): boolean {
    if (!this.conn || this.fault.reason !== null) return false;
    try {
      fn();
      return true;
    } catch (err) {
      if (!this.diskFailed(err)) this.log.error({ err, job: what }, 'store job failed');
      return false;
    }
  }

  private connection(): Connection {
    if (!this.started) throw notOpen();
    if (!this.conn) throw new StoreError('unavailable', `the event store's database at ${this.path} cannot be opened right now (${this.fault.reason})`);
    return this.conn;
  }
}

const notOpen = (): StoreError => new StoreError('not_open', 'the event store is not open (start() has not succeeded, or stop() was called)');
