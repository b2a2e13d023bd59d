import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CHECKPOINT_ROWS, Connection } from '../../gateway/store/connection.ts';
import type { EventRecord } from '../../gateway/store/database.ts';
import { T0, tempDir } from '../helpers/store-rig.ts';
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

const FULL = 2;
const event = (seq: number): EventRecord => ({ seq, type: 'note', atWall: T0, atMono: seq, boot: 'b', clockTrusted: true, json: '{}' });
const rows = (n: number) => rowsBatch(Array.from({ length: n }, (_, i) => ({ sensor: 'rg1', value: i, quality: 'good', atWall: T0 + i })));
/** Frames in the WAL now (a PASSIVE checkpoint reports them; it also copies them back). */
const walFrames = (): number => (conn.db.pragma('wal_checkpoint(PASSIVE)') as { log: number }[])[0]!.log;

describe('the log commits events with fsync, bulk writes without, and checkpoints outside event commits', () => {
  it('events are committed with synchronous=FULL before and after a batch of readings (NORMAL)', () => {
    expect(conn.db.pragma('synchronous', { simple: true })).toBe(FULL);
    const seen: number[] = [];
    conn.bulk(() => seen.push(conn.db.pragma('synchronous', { simple: true }) as number));
    expect(seen).toEqual([1]);
    conn.writeReadings(rows(10));
    expect(conn.db.pragma('synchronous', { simple: true })).toBe(FULL);
    expect(() => conn.bulk(() => {
      throw new Error('boom');
    })).toThrow('boom');
    expect(conn.db.pragma('synchronous', { simple: true })).toBe(FULL);
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
