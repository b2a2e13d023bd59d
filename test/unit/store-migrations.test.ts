import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { migrate, MIGRATIONS, SCHEMA_VERSION, userVersion, type Migration } from '../../gateway/store/schema.ts';
import { openStore, peek, tempDir } from '../helpers/store-rig.ts';

let dir: string;
beforeEach(() => {
  dir = tempDir();
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const tables = (db: Database.Database): string[] =>
  (db.prepare("SELECT name FROM sqlite_master WHERE type IN ('table', 'index') AND name NOT LIKE 'sqlite_%' ORDER BY name").all() as { name: string }[]).map((r) => r.name);

describe('store migrations', () => {
  it('migrates an empty database to the current version, once', () => {
    const db = new Database(join(dir, 'm.db'));
    expect(userVersion(db)).toBe(0);
    expect(migrate(db)).toEqual({ from: 0, to: SCHEMA_VERSION });
    expect(userVersion(db)).toBe(SCHEMA_VERSION);
    expect(tables(db)).toEqual(['events', 'meta', 'readings', 'readings_1m', 'readings_1m_minute', 'readings_at_wall', 'snapshot']);
    expect(migrate(db)).toEqual({ from: SCHEMA_VERSION, to: SCHEMA_VERSION });
    db.close();
  });

  it('migration 2 (incremental rollups) upgrades a version-1 database with its data', () => {
    const db = new Database(join(dir, 'v1.db'));
    migrate(db, MIGRATIONS.slice(0, 1));
    db.prepare("INSERT INTO readings VALUES ('rg1', 60000, 1, 'good'), ('rg1', 130000, 2, 'good')").run();
    db.prepare("INSERT INTO meta VALUES ('rollup_minute', 1)").run(); // minutes 0 and 1 were rolled
    expect(migrate(db)).toEqual({ from: 1, to: SCHEMA_VERSION });
    expect(db.prepare("SELECT key, value FROM meta ORDER BY key").all()).toEqual([{ key: 'rollup_rowid', value: 1 }]);
    expect(db.prepare('SELECT last_at FROM readings_1m').all()).toEqual([]);
    db.close();
  });

  it('a further migration is one more array entry, and only it runs on a current database', () => {
    const db = new Database(join(dir, 'm.db'));
    migrate(db);
    db.prepare("INSERT INTO events VALUES (1, 'note', 0, 0, 'b', 1, '\"kept\"')").run();
    const next: Migration = { version: SCHEMA_VERSION + 1, description: 'events by type', up: (d) => d.exec('CREATE INDEX events_type ON events (type)') };
    expect(migrate(db, [...MIGRATIONS, next])).toEqual({ from: SCHEMA_VERSION, to: SCHEMA_VERSION + 1 });
    expect(userVersion(db)).toBe(SCHEMA_VERSION + 1);
    expect(tables(db)).toContain('events_type');
    expect(db.prepare('SELECT payload FROM events').pluck().get()).toBe('"kept"');
    db.close();
  });

  it('a migration that fails leaves the database at the version before it', () => {
    const db = new Database(join(dir, 'm.db'));
    migrate(db);
    const bad: Migration = {
      version: SCHEMA_VERSION + 1,
      description: 'fails half-way',
      up: (d) => {
        d.exec('CREATE TABLE half (x)');
        throw new Error('boom');
      },
    };
    expect(() => migrate(db, [...MIGRATIONS, bad])).toThrow('boom');
    expect(userVersion(db)).toBe(SCHEMA_VERSION);
    expect(tables(db)).not.toContain('half');
    db.close();
  });

  it('rejects a list whose versions do not count up from 1', () => {
    const db = new Database(':memory:');
    expect(() => migrate(db, [{ ...MIGRATIONS[0]!, version: 2 }])).toThrow(/expected 1/);
    db.close();
  });

  it('refuses a database written by a newer build, with a clear error, and leaves it untouched', async () => {
    const path = join(dir, 'new.db');
    const db = new Database(path);
    migrate(db);
    db.pragma('user_version = 7');
    db.close();
    const before = readFileSync(path);
    expect(() => migrate(new Database(path, { readonly: true }))).toThrow(
      expect.objectContaining({
        name: 'StoreError',
        code: 'schema_too_new',
        message: expect.stringMatching(new RegExp(`schema version 7 but this build knows versions up to ${SCHEMA_VERSION}; refusing to open it`)),
      }),
    );
    // The store starts degraded on it, holding events in memory, and does not write to it.
    const { store } = await openStore(path);
    expect(store.health()).toMatchObject({ degraded: true, reason: 'newer_schema' });
    store.append('note', 'held');
    await store.stop();
    expect(peek(path, (d) => userVersion(d))).toBe(7);
    expect(readFileSync(path).equals(before)).toBe(true);
  });

  it('the store migrates a new file when it starts', async () => {
    const path = join(dir, 'fresh.db');
    const { store } = await openStore(path);
    await store.stop();
    expect(peek(path, (d) => [userVersion(d), d.pragma('journal_mode', { simple: true })])).toEqual([SCHEMA_VERSION, 'wal']);
  });
});
