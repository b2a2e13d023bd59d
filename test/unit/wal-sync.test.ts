/**
 * WalSync: the fdatasync behind each event commit (gateway/store/wal-sync.ts). The sync here is
 * gated (test/helpers/gated-sync.ts) so what happens while the disk has not answered is seen;
 * the real fdatasync on a real WAL runs in store-sync.test.ts.
 */
import { fstatSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WalSync, type WalSyncEvents } from '../../gateway/store/wal-sync.ts';
import { eio, gatedSync, type GatedSync } from '../helpers/gated-sync.ts';
import { tempDir } from '../helpers/store-rig.ts';

let dir: string;
let wal: string;
let gate: GatedSync;
let said: string[];
const events: WalSyncEvents<{ seq: number }> = {
  synced: (seq) => void said.push(`synced ${seq}`),
  failed: (err, durable, written, unconfirmed) => void said.push(`failed ${err.code} ${durable} ${written} [${unconfirmed.map((r) => r.seq).join(',')}]`),
};
const recs = (...seqs: number[]): Array<{ seq: number }> => seqs.map((seq) => ({ seq }));
beforeEach(() => {
  dir = tempDir();
  wal = join(dir, 'log.db-wal');
  writeFileSync(wal, 'x');
  gate = gatedSync();
  said = [];
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('WalSync', () => {
  it('groups the requests made while a sync runs into one more sync that covers the highest', async () => {
    const s = new WalSync(wal, 0, events, gate.fn);
    s.request(1);
    s.request(2);
    s.request(3);
    expect(gate.calls).toBe(1);
    gate.release();
    await tick();
    // The first covered only seq 1; 2 and 3 came while it ran: one more, for both.
    expect(said).toEqual(['synced 1']);
    expect(s.durable).toBe(1);
    expect(gate.calls).toBe(2);
    gate.release();
    await s.settled();
    expect(said).toEqual(['synced 1', 'synced 3']);
    expect(s.durable).toBe(3);
    expect(gate.calls).toBe(2);
  });

  it('a request at or below what is durable or asked for starts nothing new', async () => {
    const s = new WalSync(wal, 5, events, gate.fn);
    s.request(7);
    s.request(6);
    gate.release();
    await s.settled();
    expect(s.durable).toBe(7);
    expect(gate.calls).toBe(1);
  });

  it('a failed sync hands back every record not confirmed yet, keeps durable where it was and does not loop', async () => {
    const s = new WalSync(wal, 0, events, gate.fn);
    s.request(4, recs(3, 4));
    gate.release();
    await s.settled();
    s.request(7, recs(5, 6, 7));
    s.request(9, recs(8, 9)); // while the sync for 7 runs
    gate.release(eio());
    await s.settled();
    expect(said).toEqual(['synced 4', 'failed EIO 4 9 [5,6,7,8,9]']);
    expect(s.durable).toBe(4);
    expect(gate.calls).toBe(2);
    // The next request (after the store reopened, say) tries again.
    s.request(10);
    expect(gate.calls).toBe(3);
  });

  it('records are let go once a sync covers them, and only those', async () => {
    const s = new WalSync(wal, 0, events, gate.fn);
    s.request(2, recs(1, 2));
    s.request(3, recs(3)); // while the sync for 2 runs
    gate.release();
    await new Promise((r) => setImmediate(r));
    expect(said).toEqual(['synced 2']);
    gate.release(eio());
    await s.settled();
    expect(said).toEqual(['synced 2', 'failed EIO 2 3 [3]']);
  });

  it('a missing WAL file is reported as a failure, not thrown at the writer', async () => {
    rmSync(wal);
    const s = new WalSync(wal, 0, events, gate.fn);
    expect(() => s.request(1, recs(1))).not.toThrow();
    await s.settled();
    expect(said).toEqual(['failed ENOENT 0 1 [1]']);
    expect(gate.calls).toBe(0);
  });

  it('close() while a sync runs keeps the fd open until it returns, then closes it; later requests are ignored', async () => {
    let fd = -1;
    const s = new WalSync(wal, 0, events, (f, done) => {
      fd = f;
      gate.fn(f, done);
    });
    s.request(1);
    s.close();
    expect(() => fstatSync(fd)).not.toThrow();
    gate.release();
    await s.settled();
    expect(said).toEqual(['synced 1']);
    expect(() => fstatSync(fd)).toThrow(/EBADF/);
    s.request(2);
    expect(gate.calls).toBe(1);
  });
});
