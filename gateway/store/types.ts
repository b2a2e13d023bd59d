/**
 * The event log's vocabulary. Everything that happens on the box is one `StoredEvent`,
 * appended with a strictly increasing `seq` before it is acted on or reported (DESIGN.md,
 * "Everything that happens is an event"); the uplink is a cursor over `seq`.
 */

export const EVENT_TYPES = ['transition', 'effect', 'command', 'fault', 'config', 'start', 'stop', 'observation', 'note', 'storage'] as const;
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
  /** Whether the wall clock was plausible when the event was made (peer lesson 10). */
  clockTrusted: boolean;
  /** Whatever the caller appended, after a JSON round trip. */
  payload: unknown;
}

/**
 * Why the store cannot write. `disk_full` = SQLITE_FULL; `read_only` = SQLITE_READONLY or an
 * I/O error on a filesystem that refuses writes (EROFS, e.g. ext4 after `errors=remount-ro`);
 * `io_error` = other SQLITE_IOERR / SQLITE_CANTOPEN; `corrupt` = SQLITE_CORRUPT / NOTADB;
 * `busy` = another process holds the write lock past the busy timeout.
 */
export type DegradeReason = 'disk_full' | 'read_only' | 'io_error' | 'corrupt' | 'busy';

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
