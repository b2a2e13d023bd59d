/**
 * The event log's vocabulary. Everything that happens on the box is one `StoredEvent`,
 * appended with a strictly increasing `seq` before it is acted on or reported (DESIGN.md,
 * "Everything that happens is an event"); the uplink is a cursor over `seq`.
 */
import type { CheckpointerOptions } from './checkpointer.ts';
import type { SyncFn } from './wal-sync.ts';

export const EVENT_TYPES = ['transition', 'effect', 'command', 'fault', 'config', 'start', 'stop', 'observation', 'note', 'storage', 'threshold', 'escalation', 'report', 'session', 'panel_hw', 'selftest', 'recording'] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export interface StoredEvent {
  /** Strictly increasing, never reused, also across restarts (gaps are allowed and logged). */
  seq: number;
  type: EventType;
  /** Wall time, epoch ms, when the event was appended. Meaningless unless `clockTrusted`. */
  atWall: number;
  /** Monotonic ms since `boot` (the process start that made the event). */
  atMono: number;
  boot: string;
  /** Whether the wall clock was plausible when the event was made (records from before the clock is trusted are flagged). */
  clockTrusted: boolean;
  /** Whatever the caller appended, after a JSON round trip. */
  payload: unknown;
}

/**
 * Why the store cannot write. `disk_full` = SQLITE_FULL; `read_only` = SQLITE_READONLY or an
 * I/O error on a filesystem that refuses writes (EROFS, e.g. ext4 after `errors=remount-ro`);
 * `io_error` = other SQLITE_IOERR / SQLITE_CANTOPEN; `corrupt` = SQLITE_CORRUPT / NOTADB;
 * `busy` = another process holds the write lock past the busy timeout. Only when the file is
 * opened: `newer_schema` = written by a newer build (left untouched); `cannot_open` = anything
 * else (a path through a file, permissions, an unknown error).
 */
export type DegradeReason = 'disk_full' | 'read_only' | 'io_error' | 'corrupt' | 'busy' | 'newer_schema' | 'cannot_open';

export interface StoreHealth {
  /** Events are being held in memory because the database refuses writes. */
  degraded: boolean;
  reason: DegradeReason | null;
  /** Events held in memory, not yet on disk (they keep their seq and show in `since`). */
  pendingEvents: number;
  /** Raw readings thrown away since start (while degraded, or a batch that failed to write). */
  droppedReadings: number;
  /** Events thrown away since start because the in-memory queue was full (lowest priority first). */
  droppedEvents: number;
  /** Where this run moved a damaged log file (open-log.ts), for a technician to look at; null if it did not. */
  replacedLog?: string | null;
}

export interface ReadingRow {
  sensor: string;
  value: number | null;
  quality: string;
  atWall: number;
}

export interface PruneCounts {
  readings: number;
  rollups: number;
  events: number;
}

/** How an EventStore is built (tests shorten the times and inject the disk's faults). */
export interface EventStoreOptions {
  /** Overrides `config.store.path`. */
  path?: string;
  /** Raw readings are committed at the latest this long after the first of a batch. Default READING_FLUSH_MS (event-store.ts). */
  readingFlushMs?: number;
  /** …or as soon as this many are waiting. Default 1000. */
  readingBatchMax?: number;
  /** While degraded, held events are retried this often. Default 5000. */
  retryMs?: number;
  /** While the log cannot be opened, the retries start at `retryMs` and double up to this. Default 60 000. */
  retryMaxMs?: number;
  /** Events held in memory at most while degraded. Default 10 000. */
  pendingLimit?: number;
  /** Caps the database file's size (SQLite max_page_count); beyond it the store degrades as on a full disk. */
  maxDbBytes?: number;
  /** false: no node-schedule jobs (tests call rollup/prune themselves). */
  schedule?: boolean;
  /** The fdatasync behind each event commit (tests pass one that fails or waits). */
  syncFn?: SyncFn;
  /** stop() waits at most this long for the disk to confirm what was written. Default STOP_SYNC_MS. */
  stopSyncMs?: number;
  /** false: WAL checkpoints on the main thread (benchmarks' before; tests). Default true: in a worker thread (checkpointer.ts). */
  checkpointInWorker?: boolean;
  /** Tests only: the checkpointer's hang bound, restart backoff and worker hooks (checkpointer.ts). */
  checkpointer?: Omit<CheckpointerOptions, 'log' | 'failed'>;
}
