/**
 * The database schema as a list of migrations, versioned by SQLite's `PRAGMA user_version`.
 * Migration N runs when user_version < N, in one transaction with `user_version = N`, so a
 * crash mid-migration leaves the previous version intact. Changing the schema means adding
 * one entry to `MIGRATIONS`, never editing a shipped one.
 */
import type { Database } from 'better-sqlite3';
import { StoreError } from './errors.ts';

export interface Migration {
  /** Equals its position in the list plus one. */
  version: number;
  description: string;
  up(db: Database): void;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'events, raw readings, 1-minute rollups, meta',
    up(db) {
      db.exec(`
        CREATE TABLE events (
          seq INTEGER PRIMARY KEY,
          type TEXT NOT NULL,
          at_wall INTEGER NOT NULL,
          at_mono REAL NOT NULL,
          boot TEXT NOT NULL,
          clock_trusted INTEGER NOT NULL,
          payload TEXT NOT NULL
        );
        CREATE TABLE readings (
          sensor TEXT NOT NULL,
          at_wall INTEGER NOT NULL,
          value REAL,
          quality TEXT NOT NULL
        );
        -- Serves both the rollup (a time range) and retention (older than a cutoff).
        CREATE INDEX readings_at_wall ON readings (at_wall);
        -- n: readings with a value; errors: readings without one (quality missing/error).
        -- min/max/mean/last cover valued readings only and are NULL when n = 0.
        CREATE TABLE readings_1m (
          sensor TEXT NOT NULL,
          minute INTEGER NOT NULL,
          n INTEGER NOT NULL,
          errors INTEGER NOT NULL,
          min REAL,
          max REAL,
          mean REAL,
          last REAL,
          PRIMARY KEY (sensor, minute)
        );
        CREATE INDEX readings_1m_minute ON readings_1m (minute);
        CREATE TABLE meta (key TEXT PRIMARY KEY, value) WITHOUT ROWID;
      `);
    },
  },
  {
    version: 2,
    description: 'incremental rollups: last_at per rollup row, a rowid mark instead of a minute mark',
    up(db) {
      db.exec(`
        ALTER TABLE readings_1m ADD COLUMN last_at INTEGER;
        INSERT INTO meta (key, value) SELECT 'rollup_rowid', coalesce(max(rowid), 0) FROM readings
          WHERE at_wall < (coalesce((SELECT value FROM meta WHERE key = 'rollup_minute'), -1) + 1) * 60000;
        DELETE FROM meta WHERE key = 'rollup_minute';
      `);
    },
  },
  {
    version: 3,
    description: "the core's snapshot: active alerts, silences, drill (one row, rewritten with the events of each step that changes them)",
    up(db) {
      db.exec(`
        CREATE TABLE snapshot (
          id INTEGER PRIMARY KEY CHECK (id = 1),
          -- The document's format (core-snapshot.ts SNAPSHOT_VERSION), apart from the schema's.
          version INTEGER NOT NULL,
          -- The last event written with it: the state is the one after that event.
          seq INTEGER NOT NULL,
          at_wall INTEGER NOT NULL,
          body TEXT NOT NULL
        );
      `);
    },
  },
];

export const SCHEMA_VERSION = MIGRATIONS.length;

export function userVersion(db: Database): number {
  return db.pragma('user_version', { simple: true }) as number;
}

/**
 * Refuses (StoreError `schema_too_new`) a database written by a newer build: guessing at a
 * schema we do not know could corrupt the log. Checked before anything else is done to the
 * file (openDatabase: before even the journal mode is set), so such a file is left as it was.
 */
export function refuseNewer(db: Database, known = MIGRATIONS.length): void {
  const found = userVersion(db);
  if (found <= known) return;
  throw new StoreError(
    'schema_too_new',
    `database ${db.name} has schema version ${found} but this build knows versions up to ${known}; refusing to open it (was it written by a newer Shaobing?)`,
  );
}

/** Brings `db` up to the last of `migrations` (refusing a newer database, see refuseNewer). */
export function migrate(db: Database, migrations: readonly Migration[] = MIGRATIONS): { from: number; to: number } {
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) throw new Error(`migration at index ${i} has version ${m.version}, expected ${i + 1}`);
  });
  refuseNewer(db, migrations.length);
  const from = userVersion(db);
  for (const m of migrations.slice(from)) {
    db.transaction(() => {
      m.up(db);
      db.pragma(`user_version = ${m.version}`);
    }).immediate();
  }
  return { from, to: migrations.length };
}
