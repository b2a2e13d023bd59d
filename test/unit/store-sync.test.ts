import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CHECKPOINT_ROWS, Connection } from '../../gateway/store/connection.ts';
import { CACHE_KIB, type EventRecord } from '../../gateway/store/database.ts';
import { peek, T0, tempDir } from '../helpers/store-rig.ts';
import { gatedSync } from '../helpers/gated-sync.ts';
import { rowsBatch } from '../../gateway/store/readings.ts';

let dir: string;
let conn: Connection;
beforeEach(() => {
  dir = tempDir();
  conn = Connection.open(join(dir, 'log.db'));
});
afterEach(() => {
  conn.close();
  rmSync(dir, { recursive: true, force: true });
});

const NORMAL = 1;
const event = (seq: number): EventRecord => ({ seq, type: 'note', atWall: T0, atMono: seq, boot: 'b', clockTrusted: true, json: '{}' });
const rows = (n: number) => rowsBatch(Array.from({ length: n }, (_, i) => ({ sensor: 'rg1', value: i, quality: 'good', atWall: T0 + i })));
/** Frames in the WAL now (a PASSIVE checkpoint reports them; it also copies them back). */
const walFrames = (): number => (conn.db.pragma('wal_checkpoint(PASSIVE)') as { log: number }[])[0]!.log;
/** The WAL header's checkpoint sequence number (big-endian at byte 12): SQLite adds one each time it starts the WAL over. */
const walRestarts = (): number => readFileSync(join(dir, 'log.db-wal')).readUInt32BE(12);

describe('the log writes events before they are acted on and syncs them right behind, off the main thread', () => {
  it('the page cache is CACHE_KIB, not the 16 MB better-sqlite3 builds SQLite with (it grew the box past its RSS budget)', () => {
    expect(conn.db.pragma('cache_size', { simple: true })).toBe(-CACHE_KIB);
  });

  it('every commit, events and bulk writes alike, runs with synchronous=NORMAL: no fsync of its own on the main thread', () => {
    expect(conn.db.pragma('synchronous', { simple: true })).toBe(NORMAL);
    conn.writeReadings(rows(10));
    conn.writeEvents([event(1)], false);
    expect(conn.db.pragma('synchronous', { simple: true })).toBe(NORMAL);
  });

  it('an event is readable by another connection when writeEvents returns, and durable once the sync behind it returns', async () => {
    conn.close();
    const gate = gatedSync();
    conn = Connection.open(join(dir, 'log.db'), { syncFn: gate.fn });
    conn.writeEvents([event(1), event(2)], false);
    expect(peek(join(dir, 'log.db'), (db) => db.prepare('SELECT count(*) FROM events').pluck().get())).toBe(2);
    expect(conn.walSync!.durable).toBe(0);
    expect(gate.calls).toBe(1);
    gate.release();
    await conn.walSync!.settled();
    expect(conn.walSync!.durable).toBe(2);
  });

  it('with the real fdatasync on the WAL file, durable reaches the last seq written', async () => {
    for (let seq = 1; seq <= 50; seq++) conn.writeEvents([event(seq)], false);
    await conn.walSync!.settled();
    expect(conn.walSync!.durable).toBe(50);
  });

  it('a reopened log first syncs what the last run left written (it may have been killed before its sync)', async () => {
    conn.writeEvents([event(1), event(2), event(3)], false);
    await conn.walSync!.settled();
    conn.close();
    const gate = gatedSync();
    conn = Connection.open(join(dir, 'log.db'), { syncFn: gate.fn });
    expect(gate.calls).toBe(1);
    gate.release();
    await conn.walSync!.settled();
    expect(conn.walSync!.durable).toBe(3);
  });

  it('the checkpoint starts the WAL over itself, so the first event after it does not fsync the new WAL header', () => {
    conn.writeEvents([event(1)], false);
    const before = walRestarts();
    conn.writeReadings(rows(CHECKPOINT_ROWS));
    expect(walRestarts()).toBe(before + 1);
    conn.writeEvents([event(2)], false);
    expect(walRestarts()).toBe(before + 1);
  });

  it('event commits never run a checkpoint, however large the WAL grows', () => {
    for (let seq = 1; seq <= 1500; seq++) conn.writeEvents([event(seq)], false);
    // SQLite's default would have checkpointed (and restarted the WAL) at 1,000 pages.
    expect(walFrames()).toBeGreaterThanOrEqual(1500);
  });

  it('a batch of readings that brings the rows since the last checkpoint to CHECKPOINT_ROWS checkpoints', () => {
    for (let seq = 1; seq <= 1500; seq++) conn.writeEvents([event(seq)], false);
    conn.writeReadings(rows(CHECKPOINT_ROWS - 1500 - 1));
    conn.writeEvents([event(1501)], false);
    expect(walFrames()).toBeGreaterThan(1500);
    conn.writeEvents([event(1502)], false);
    conn.writeReadings(rows(CHECKPOINT_ROWS));
    // Checkpointed: the next commit starts the WAL over, so it holds only that commit's frames.
    conn.writeEvents([event(1503)], false);
    expect(walFrames()).toBeLessThan(10);
  });
});
