/**
 * What the store does when the fdatasync behind its commits answers (wal-sync.ts): a slow one
 * is warned about, at most once a minute (a worn SD card); a failed one puts the events it did
 * not confirm back into the held queue and degrades the store, so an event the box acted on is
 * on disk or held (and in the stop's last words), never neither.
 */
import type { Logger } from 'pino';
import type { Clock } from '../shell/clock.ts';
import { recordToEvent, type EventRecord } from './database.ts';
import type { WalSyncEvents } from './wal-sync.ts';

/** An fdatasync slower than this is logged (at most once a minute): the SD card may be wearing out. */
export const SLOW_SYNC_MS = 1000;

export interface SyncHost {
  log: Logger;
  clock: Clock;
  started(): boolean;
  /** Holds events whose sync failed (as if never written) and degrades the store for `err`. */
  holdAgain(unconfirmed: readonly EventRecord[], err: Error): void;
}

export function syncEvents(host: SyncHost): WalSyncEvents<EventRecord> {
  let lastSlowWarn = Number.NEGATIVE_INFINITY;
  return {
    synced: (_seq, ms) => {
      if (ms < SLOW_SYNC_MS) return;
      const now = host.clock.mono();
      if (now - lastSlowWarn < 60_000) return;
      lastSlowWarn = now;
      host.log.warn({ ms: Math.round(ms) }, "the log's disk is slow: one fdatasync took over a second (a worn SD card?)");
    },
    failed: (err, durable, written, unconfirmed) => {
      if (!host.started()) {
        // Closed meanwhile (stop() did not wait longer for the disk): this line is their only sure record.
        host.log.error({ err, durableSeq: durable, writtenSeq: written, events: unconfirmed.map(recordToEvent) }, 'fdatasync of the log failed after it was closed; these events may not be on disk');
        return;
      }
      const unsure = `events ${durable + 1}–${written} were written but the disk did not confirm them; they are held again`;
      host.log.error({ err, durableSeq: durable, writtenSeq: written }, `fdatasync of the log failed: ${unsure}`);
      // Held as if never written (the retry writes them with OR IGNORE, so one that did land is
      // not doubled), and degraded: whatever the fsync said, the disk is not to be trusted.
      const code = err.code === 'ENOSPC' || err.code === 'EDQUOT' || err.code === 'EROFS' ? err.code : 'EIO';
      host.holdAgain(unconfirmed, Object.assign(new Error(`fdatasync failed (${err.code ?? err.message}): ${unsure}`), { code }));
    },
  };
}
