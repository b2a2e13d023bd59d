/**
 * The store's durable mark and a disk that refuses the fdatasync behind an event commit
 * (EIO, what a dying SD card answers). The sync is gated (test/helpers/gated-sync.ts): an I/O
 * error on demand would need a device-mapper target and root; the real fdatasync runs in the
 * first test and in store-sync.test.ts.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { EventStoreOptions } from '../../gateway/store/event-store.ts';
import { eio, gatedSync } from '../helpers/gated-sync.ts';
import { SLOW_SYNC_MS, syncEvents } from '../../gateway/store/sync-events.ts';
import { captureLog, fakeClock, openStore, tempDir } from '../helpers/store-rig.ts';
import { until } from '../helpers/until.ts';

let dir: string;
beforeEach(() => {
  dir = tempDir();
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** A store whose fdatasync answers only when the test says (and a log to read). */
async function gatedStore(opts: EventStoreOptions) {
  const gate = gatedSync();
  const { log, lines } = captureLog();
  const { store } = await openStore(join(dir, 'log.db'), { syncFn: gate.fn, log, ...opts });
  return { gate, lines, store };
}

describe('the durable mark', () => {
  it('follows the seqs written once their sync returned (real fdatasync)', async () => {
    const { store } = await openStore(join(dir, 'log.db'));
    for (let i = 0; i < 20; i++) store.append('note', { i });
    await store.synced();
    expect(store.durableSeq()).toBe(store.lastSeq());
    await store.stop();
  });

  it('stays behind while the disk has not answered: the event was acted on meanwhile, not lost', async () => {
    const gate = gatedSync();
    const { store } = await openStore(join(dir, 'log.db'), { syncFn: gate.fn });
    gate.release();
    await store.synced();
    const before = store.durableSeq();
    const seq = store.append('transition', { alert: 'wl1/stage/3', level: 'orange' });
    expect(store.since(seq - 1).map((e) => e.seq)).toEqual([seq]);
    expect(store.durableSeq()).toBe(before);
    gate.release();
    await store.synced();
    expect(store.durableSeq()).toBe(seq);
    await store.stop();
  });
});

describe('an fdatasync that fails (EIO)', () => {
  it('degrades the store with io_error, holds the unconfirmed events again, keeps acting, and recovers through the retry', async () => {
    const { gate, lines, store } = await gatedStore({ retryMs: 50 });
    gate.release();
    await store.synced();
    const durable = store.durableSeq();
    const s1 = store.append('transition', { alert: 'wl1/stage/3', level: 'orange' });
    const s2 = store.append('effect', { siren: 'z1', pattern: 'air_raid_alarm' });
    gate.release(eio());
    await store.synced();

    expect(store.health()).toMatchObject({ degraded: true, reason: 'io_error' });
    expect(store.durableSeq()).toBe(durable);
    // Written before the failure, they stay readable: unconfirmed is not lost.
    expect(store.since(durable, 2).map((e) => e.seq)).toEqual([s1, s2]);
    const failed = lines.find((l) => String(l.msg).startsWith('fdatasync of the log failed'));
    expect(failed).toMatchObject({ durableSeq: durable, writtenSeq: s2 });
    expect(failed!.msg).toContain(`events ${durable + 1}–${s2} were written but the disk did not confirm them; they are held again`);
    expect(store.health()).toMatchObject({ pendingEvents: 3 }); // s1, s2 and the 'degraded' event
    // The degradation is itself an event, held until the disk takes writes again.
    const storage = store.since(s2);
    expect(storage[0]).toMatchObject({ type: 'storage', payload: { what: 'degraded', reason: 'io_error' } });
    expect(String((storage[0]!.payload as { error: string }).error)).toContain('fdatasync failed (EIO)');
    // Appends go on: the box keeps acting while degraded.
    const s3 = store.append('effect', { siren: 'z1', pattern: 'steady' });
    expect(s3).toBeGreaterThan(s2);

    // The retry reopens the database and writes what was held; the new connection syncs again.
    await until('the store recovers', () => !store.health().degraded, 5000);
    gate.open();
    await store.synced();
    expect(store.durableSeq()).toBe(store.lastSeq());
    expect(store.since(s2).map((e) => e.type)).toEqual(['storage', 'effect', 'storage']);
    // Re-written with OR IGNORE: each once, with its payload.
    expect(store.since(durable, 2).map((e) => [e.seq, e.payload])).toEqual([
      [s1, { alert: 'wl1/stage/3', level: 'orange' }],
      [s2, { siren: 'z1', pattern: 'air_raid_alarm' }],
    ]);
    await store.stop();
  });
});

describe('a disk that never answers the fdatasync', () => {
  it('does not hold stop() past its deadline, and says which events were not confirmed', async () => {
    const { gate, lines, store } = await gatedStore({ stopSyncMs: 200 });
    const seq = store.append('transition', { alert: 'wl1/stage/3', level: 'orange' });
    const t0 = performance.now();
    await store.stop();
    expect(performance.now() - t0).toBeLessThan(5000);
    expect(lines.find((l) => String(l.msg).startsWith('stopping although the disk has not confirmed'))).toMatchObject({ durableSeq: 0, lastSeq: seq, waitedMs: 200 });
    // A late failure finds the store closed: the events go to the log line, nothing throws.
    gate.release(eio());
    await new Promise((r) => setTimeout(r, 20));
    const late = lines.find((l) => String(l.msg).startsWith('fdatasync of the log failed after it was closed'));
    expect((late?.events as Array<{ seq: number }>).map((e) => e.seq)).toContain(seq);
  });
});

describe('a slow disk', () => {
  it('an fdatasync over SLOW_SYNC_MS is warned about, at most once a minute', () => {
    const { log, lines } = captureLog();
    const clock = fakeClock();
    const on = syncEvents({ log, clock, started: () => true, holdAgain: () => undefined });
    const slow = (): number => lines.filter((l) => String(l.msg).startsWith("the log's disk is slow")).length;
    on.synced(1, SLOW_SYNC_MS - 1);
    expect(slow()).toBe(0);
    on.synced(2, 1500);
    expect(lines.at(-1)).toMatchObject({ level: 40, ms: 1500 });
    clock.advance(59_000);
    on.synced(3, 4000);
    expect(slow()).toBe(1);
    clock.advance(1_000);
    on.synced(4, 2000);
    expect(slow()).toBe(2);
  });
});
