/**
 * Opening the database file and the statements on the hot paths (one event, one batch of
 * readings). Everything else prepares its statements when it runs (once a minute or a day).
 */
import Database from 'better-sqlite3';
import type { Database as Db, Statement } from 'better-sqlite3';
import type { Clock } from '../shell/clock.ts';
import { errorMessage, StoreError } from './errors.ts';
import { refuseNewer } from './schema.ts';
import { EVENT_TYPES, type EventType, type StoredEvent } from './types.ts';

/** How long a writer waits for another connection's lock before SQLITE_BUSY. */
export const BUSY_TIMEOUT_MS = 2000;

/**
 * SQLite's page cache for the log's connection, in KiB. better-sqlite3 builds SQLite with 16 MB
 * (DEFAULT_CACHE_SIZE=-16000): as the readings table grew, the box's native heap grew by about
 * 4 MB a minute at 1,000 sensors until the cache was full, and took the box past its 120 MB
 * (e2e bench over 300 s: peak RSS 130–133 MB). What the box touches per minute is the tails of
 * the tables and their indexes plus about one readings_1m leaf per sensor (~4 MB at 1,000
 * sensors); a page outside the cache comes back from the OS's page cache in microseconds.
 */
export const CACHE_KIB = 4000;

/**
 * Opens `path` in WAL mode with `synchronous=NORMAL`: a commit is written to the WAL (it
 * survives kill -9) without an fsync of its own; checkpoints still sync. Events are made durable
 * right behind the commit by WalSync (wal-sync.ts), off the main thread. Where WAL is not
 * available (a filesystem without shared memory), `FULL`: every commit fsyncs, on the main
 * thread (sqlite.org/pragma.html#pragma_synchronous). A database of a newer schema is refused
 * first (schema.ts refuseNewer): setting the journal mode would already write to it.
 */
export function openDatabase(path: string): { db: Db; journalMode: string } {
  const db = new Database(path);
  try {
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    refuseNewer(db);
    db.pragma(`cache_size = -${CACHE_KIB}`);
    const journalMode = String(db.pragma('journal_mode = WAL', { simple: true }));
    db.pragma(journalMode === 'wal' ? 'synchronous = NORMAL' : 'synchronous = FULL');
    return { db, journalMode };
  } catch (err) {
    db.close();
    throw err;
  }
}

export interface EventRow {
  seq: number;
  type: string;
  at_wall: number;
  at_mono: number;
  boot: string;
  clock_trusted: number;
  payload: string;
}

/** An event ready to write: its payload already JSON text. */
export interface EventRecord extends Omit<StoredEvent, 'payload'> {
  json: string;
}

export interface Statements {
  insertEvent: Statement<[number, string, number, number, string, number, string]>;
  /** For the retry of held events: a row that did reach the disk (fsync reported failure but the write landed) is not a conflict. */
  insertEventOrIgnore: Statement<[number, string, number, number, string, number, string]>;
  insertReading: Statement<[string, number, number | null, string]>;
  eventsSince: Statement<[number, number], EventRow>;
  countSince: Statement<[number], { n: number }>;
  maxSeq: Statement<[], { seq: number | null }>;
  getMeta: Statement<[string], { value: unknown }>;
  setMeta: Statement<[string, number | string]>;
  putSnapshot: Statement<[number, number, number, string]>;
  getSnapshot: Statement<[], StoredSnapshot>;
}

/** The core's snapshot as the log keeps it (one row; core-snapshot.ts reads the body). */
export interface StoredSnapshot {
  version: number;
  seq: number;
  atWall: number;
  body: string;
}

/** What a step hands the store to keep with its events. */
export interface SnapshotRecord {
  version: number;
  body: string;
}

export function prepareStatements(db: Db): Statements {
  const cols = '(seq, type, at_wall, at_mono, boot, clock_trusted, payload) VALUES (?, ?, ?, ?, ?, ?, ?)';
  return {
    insertEvent: db.prepare(`INSERT INTO events ${cols}`),
    insertEventOrIgnore: db.prepare(`INSERT OR IGNORE INTO events ${cols}`),
    insertReading: db.prepare('INSERT INTO readings (sensor, at_wall, value, quality) VALUES (?, ?, ?, ?)'),
    eventsSince: db.prepare('SELECT seq, type, at_wall, at_mono, boot, clock_trusted, payload FROM events WHERE seq > ? ORDER BY seq LIMIT ?'),
    countSince: db.prepare('SELECT count(*) AS n FROM events WHERE seq > ?'),
    maxSeq: db.prepare('SELECT max(seq) AS seq FROM events'),
    getMeta: db.prepare('SELECT value FROM meta WHERE key = ?'),
    setMeta: db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value'),
    putSnapshot: db.prepare('INSERT OR REPLACE INTO snapshot (id, version, seq, at_wall, body) VALUES (1, ?, ?, ?, ?)'),
    getSnapshot: db.prepare('SELECT version, seq, at_wall AS atWall, body FROM snapshot WHERE id = 1'),
  };
}

/** The payload as JSON text; a StoreError for an unknown type or a payload with no JSON form. */
export function payloadJson(type: EventType, payload: unknown): string {
  if (!EVENT_TYPES.includes(type)) throw new StoreError('unknown_type', `unknown event type ${JSON.stringify(type)}`);
  let json: string | undefined;
  try {
    json = JSON.stringify(payload);
  } catch (err) {
    throw new StoreError('unserialisable_payload', `payload of a ${type} event cannot be serialised: ${errorMessage(err)}`, { cause: err });
  }
  if (json === undefined) throw new StoreError('unserialisable_payload', `payload of a ${type} event has no JSON form`);
  return json;
}

/** The records of new events, numbered from `afterSeq + 1`, stamped now on `clock`. */
export function newRecords(clock: Clock, afterSeq: number, events: readonly { type: EventType; payload: unknown }[]): EventRecord[] {
  const atWall = Math.round(clock.wall());
  const atMono = clock.mono();
  return events.map((e, i) => ({ seq: afterSeq + 1 + i, type: e.type, atWall, atMono, boot: clock.boot, clockTrusted: clock.trusted(), json: payloadJson(e.type, e.payload) }));
}

export function eventArgs(e: EventRecord): [number, string, number, number, string, number, string] {
  return [e.seq, e.type, Math.round(e.atWall), e.atMono, e.boot, e.clockTrusted ? 1 : 0, e.json];
}

export function rowToEvent(r: EventRow): StoredEvent {
  return {
    seq: r.seq,
    type: r.type as StoredEvent['type'],
    atWall: r.at_wall,
    atMono: r.at_mono,
    boot: r.boot,
    clockTrusted: r.clock_trusted === 1,
    payload: JSON.parse(r.payload) as unknown,
  };
}

export function recordToEvent(e: EventRecord): StoredEvent {
  const { json, ...rest } = e;
  return { ...rest, atWall: Math.round(e.atWall), payload: JSON.parse(json) as unknown };
}

export function metaNumber(s: Statements, key: string): number | null {
  const row = s.getMeta.get(key);
  return row && typeof row.value === 'number' ? row.value : null;
}
