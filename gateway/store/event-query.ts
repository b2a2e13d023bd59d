/**
 * The event log as the officer's panel reads it (GET /api/events): filtered by time, type and
 * zone, in seq order, in **bounded pages**. better-sqlite3 is synchronous, so one query over a
 * year of events (a million rows) would hold the event loop, and the alarm path with it, for a
 * second or more. A page examines at most `scanRows` consecutive seqs (SCAN_ROWS) (the primary key's range,
 * never a full scan) and returns where to go on; the caller yields to the event loop between
 * pages (panel/routes-events.ts).
 *
 * `since` finds its first seq by bisecting the primary key over `at_wall` (20 point lookups for
 * a million events), which assumes wall time grows with seq. It does once the clock is trusted;
 * events made before that (`clock_trusted` false, at boot without a time source) may sit out
 * of order and a `since` can miss some of them; `after_seq` paging never does.
 *
 * Zone: an event is in zone Z if its payload's `zone` is Z (transitions, effects) or its
 * `zones` or `command.zones` list holds Z (plans, officers' commands). Events held in memory
 * while the disk refuses writes are not in these pages (they are in `since()`).
 */
import type { Database } from 'better-sqlite3';
import { rowToEvent, type EventRow } from './database.ts';
import type { StoredEvent } from './types.ts';

export interface EventFilter {
  /** Wall ms, inclusive. */
  since?: number;
  /** Wall ms, exclusive. */
  until?: number;
  types?: readonly string[];
  zone?: string;
}

export interface EventPage {
  events: StoredEvent[];
  /** Continue with seqs above this; null when the log has no more. */
  next: number | null;
}

/**
 * Seqs one page examines at most. Measured (bench panel-api, this machine): a zone filter that
 * matches nearly every row costs about 2.3 µs a row (JSON parsed), so 2,500 rows ≈ 6 ms; a
 * type filter a tenth of that.
 */
export const SCAN_ROWS = 2500;

/**
 * Events one page returns at most: each is parsed from JSON and built into an object (about
 * 10 µs with its CSV line), so a page of a filter that matches everything stays near 5 ms.
 */
export const PAGE_EVENTS = 500;

/** The first seq at or after `atWall` (bisecting the key), or null if none is. */
export function firstSeqFrom(db: Database, atWall: number): number | null {
  const at = db.prepare<[number], { seq: number; at_wall: number }>('SELECT seq, at_wall FROM events WHERE seq >= ? ORDER BY seq LIMIT 1');
  const top = (db.prepare('SELECT max(seq) AS s FROM events').get() as { s: number | null }).s;
  if (top === null) return null;
  let lo = 0;
  let hi = top + 1; // invariant: every seq < lo is before atWall; a seq >= hi, if any, is at or after
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    const r = at.get(mid);
    if (!r) hi = mid;
    else if (r.at_wall < atWall) lo = r.seq + 1;
    else hi = mid;
  }
  const r = at.get(lo);
  return r ? r.seq : null;
}

export function eventsPage(db: Database, f: EventFilter, afterSeq: number, limit: number, scanRows = SCAN_ROWS): EventPage {
  const top = (db.prepare('SELECT max(seq) AS s FROM events').get() as { s: number | null }).s;
  if (top === null || afterSeq >= top) return { events: [], next: null };
  const where = ['seq > @after', 'seq <= @upto'];
  const args: Record<string, unknown> = { after: afterSeq, upto: afterSeq + scanRows, limit };
  if (f.since !== undefined) {
    where.push('at_wall >= @since');
    args.since = f.since;
  }
  if (f.until !== undefined) {
    where.push('at_wall < @until');
    args.until = f.until;
  }
  if (f.types?.length) {
    where.push(`type IN (${f.types.map((_t, i) => `@t${i}`).join(', ')})`);
    f.types.forEach((t, i) => (args[`t${i}`] = t));
  }
  if (f.zone !== undefined) {
    // instr() first: a plain substring test spares parsing the JSON of rows that cannot match
    // (a page of a zone few rows name: 11.7 → 5.3 ms per 5,000 rows, measured).
    where.push(`instr(payload, @quoted) > 0`);
    args.quoted = JSON.stringify(f.zone);
    where.push(`(json_extract(payload, '$.zone') = @zone
      OR EXISTS (SELECT 1 FROM json_each(payload, '$.zones') WHERE value = @zone)
      OR EXISTS (SELECT 1 FROM json_each(payload, '$.command.zones') WHERE value = @zone))`);
    args.zone = f.zone;
  }
  const rows = db.prepare(`SELECT seq, type, at_wall, at_mono, boot, clock_trusted, payload FROM events WHERE ${where.join(' AND ')} ORDER BY seq LIMIT @limit`).all(args) as EventRow[];
  const events = rows.map(rowToEvent);
  // A full page stops at its last event; otherwise the whole range was examined.
  const reached = events.length >= limit ? events[events.length - 1]!.seq : afterSeq + scanRows;
  return { events, next: reached >= top ? null : reached };
}
