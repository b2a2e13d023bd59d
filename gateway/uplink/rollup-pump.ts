/**
 * Feeds the per-minute rollups (rollup-out.ts) to the uplink's side queue: one bounded page at
 * a time (rollupRange → store.rollupRows → rollupMessages), only while the event backlog is
 * (nearly) empty, so days of catch-up are not slowed by a year of minutes. The cursor (meta
 * `uplink_rollup_minute`) is written only once every message of the page has been PUBACKed:
 * at-least-once — a restart or a lost link before that sends the page again, and the township
 * keys rollups by (site, from, sensor).
 */
import type { Logger } from 'pino';
import type { RollupRow } from '../store/rollup-rows.ts';
import { initialRollupCursor, rollupMessages, rollupRange, type RollupCursor } from './rollup-out.ts';
import type { SideMessage } from './side-message.ts';

export const ROLLUP_CURSOR_KEY = 'uplink_rollup_minute';

export interface RollupStore {
  rollupRows(afterMinute: number, throughMinute: number): RollupRow[];
  metaNumber(key: string): number | null;
  setMetaNumber(key: string, value: number): boolean;
}

export class RollupPump {
  private cursor: RollupCursor | null = null;
  /** The page on its way: its message ids not yet acknowledged, and the cursor they complete. */
  private pending: { ids: Set<number>; cursor: RollupCursor } | null = null;

  constructor(
    private readonly store: RollupStore,
    private readonly site: { id: string; utcOffset: string },
    private readonly send: (msg: SideMessage) => number,
    private readonly log: Logger,
  ) {}

  /** Queues the next page if none is on its way. Pages without rows only move the cursor (a few per call). */
  pump(nowWall: number): void {
    for (let pages = 0; pages < 8 && !this.pending; pages++) {
      if (this.cursor === null) {
        try {
          this.cursor = this.store.metaNumber(ROLLUP_CURSOR_KEY);
        } catch (err) {
          this.log.warn({ err }, 'rollup cursor unreadable now; retrying');
          return;
        }
        if (this.cursor === null) {
          this.cursor = initialRollupCursor(nowWall);
          this.store.setMetaNumber(ROLLUP_CURSOR_KEY, this.cursor);
        }
      }
      const range = rollupRange(this.cursor, nowWall);
      if (!range) return;
      let rows: RollupRow[];
      try {
        rows = this.store.rollupRows(range.after, range.through);
      } catch (err) {
        this.log.warn({ err }, 'rollups unreadable now; retrying');
        return;
      }
      const out = rollupMessages(this.site, rows, this.cursor, nowWall);
      if (out.messages.length === 0) {
        this.commit(out.cursor);
        continue;
      }
      this.pending = { ids: new Set(out.messages.map((m) => this.send(m))), cursor: out.cursor };
    }
  }

  /** A side message was acknowledged (or refused: dropped, logged by the uplink); true if it was ours. */
  done(id: number): boolean {
    const p = this.pending;
    if (!p || !p.ids.delete(id)) return false;
    if (p.ids.size === 0) {
      this.pending = null;
      this.commit(p.cursor);
    }
    return true;
  }

  private commit(cursor: RollupCursor): void {
    this.cursor = cursor;
    this.store.setMetaNumber(ROLLUP_CURSOR_KEY, cursor);
  }
}
