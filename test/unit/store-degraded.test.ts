/**
 * The degraded path without root: the database is capped with `maxDbBytes` (SQLite
 * max_page_count), so writes fail with SQLITE_FULL exactly as on a full disk. The same path on
 * a real full filesystem (tmpfs) and a real read-only one (ext4 remounted read-only by the
 * kernel) is in test/integration/store-disk.test.ts.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { EventRecord } from '../../gateway/store/database.ts';
import type { StoreHealth } from '../../gateway/store/event-store.ts';
import { keepRank, PendingQueue } from '../../gateway/store/pending.ts';
import type { EventType } from '../../gateway/store/types.ts';
import { count, DAY, openStore, peek, T0, tempDir } from '../helpers/store-rig.ts';

let dir: string;
beforeEach(() => {
  dir = tempDir();
});
afterEach(() => {
  vi.useRealTimers();
  rmSync(dir, { recursive: true, force: true });
});

const rec = (seq: number, type: EventType): EventRecord => ({ seq, type, atWall: 0, atMono: 0, boot: 'b', clockTrusted: true, json: String(seq) });

type OpenStore = Awaited<ReturnType<typeof openStore>>;

/** Month-old raw readings until the capped file is full and the store degrades. */
function fillWithOldReadings(store: OpenStore['store']): void {
  let i = 0;
  while (!store.health().degraded && i < 100_000) {
    for (let k = 0; k < 10; k++, i++) store.addReading({ sensor: 'rg1', value: i, quality: 'good', atWall: T0 - 30 * DAY + i });
  }
}

/** Retention prunes the month-old readings, and the next retry finds room. */
function freeRoom(store: OpenStore['store'], clock: OpenStore['clock']): void {
  clock.advance(1000);
  store.prune(T0);
  vi.advanceTimersByTime(1000);
}

describe('held-event queue', () => {
  it('ranks alerts, effects and commands last to go, observations and notes first', () => {
    expect((['observation', 'note', 'fault', 'config', 'start', 'stop', 'storage', 'transition', 'effect', 'command'] as const).map(keepRank)).toEqual([0, 0, 1, 1, 1, 1, 1, 2, 2, 2]);
  });

  it('when full, drops the oldest of the lowest rank, or the newcomer if it ranks below all', () => {
    const q = new PendingQueue(3);
    q.push(rec(1, 'transition'));
    q.push(rec(2, 'observation'));
    q.push(rec(3, 'fault'));
    expect(q.push(rec(4, 'note'))!.seq).toBe(2); // oldest rank-0 goes, the newer note stays
    expect(q.push(rec(5, 'effect'))!.seq).toBe(4);
    expect(q.push(rec(6, 'command'))!.seq).toBe(3);
    expect(q.push(rec(7, 'observation'))!.seq).toBe(7); // below everything held: the newcomer goes
    expect(q.push(rec(8, 'transition'))!.seq).toBe(1); // all alerts: the oldest goes
    expect(q.all().map((e) => e.seq)).toEqual([5, 6, 8]);
    expect(q.dropped).toBe(5);
    expect(q.after(5, 10).map((e) => e.seq)).toEqual([6, 8]);
    q.shift(2);
    expect(q.all().map((e) => e.seq)).toEqual([8]);
  });
});

describe('held-event queue, events handed back by a failed sync', () => {
  it('go in seq order below later ones, and the bound still drops by rank', () => {
    const q = new PendingQueue(4);
    q.push(rec(5, 'storage'));
    q.push(rec(6, 'note'));
    q.push(rec(3, 'transition'));
    q.push(rec(4, 'observation'));
    expect(q.all().map((e) => e.seq)).toEqual([3, 4, 5, 6]);
    expect(q.push(rec(2, 'effect'))!.seq).toBe(4); // the oldest rank-0 goes
    expect(q.all().map((e) => e.seq)).toEqual([2, 3, 5, 6]);
    expect(q.after(2, 10).map((e) => e.seq)).toEqual([3, 5, 6]);
  });
});

describe('a full database (max_page_count)', () => {
  it('holds events with their seqs, drops readings, and writes everything in order once there is room', async () => {
    vi.useFakeTimers();
    const path = join(dir, 'log.db');
    const { store, clock } = await openStore(path, { maxDbBytes: 256 * 1024, retryMs: 1000, readingBatchMax: 10 });
    const changes: StoreHealth[] = [];
    store.onHealthChange((h) => changes.push(h));
    store.append('start', {});
    // Old raw readings fill the database until a batch fails.
    let i = 0;
    while (!store.health().degraded && i < 100_000) {
      for (let k = 0; k < 10; k++, i++) store.addReading({ sensor: 'rg1', value: i, quality: 'good', atWall: T0 - 30 * DAY + i });
    }
    expect(store.health()).toMatchObject({ degraded: true, reason: 'disk_full', droppedReadings: 10 });
    expect(changes).toEqual([{ degraded: true, reason: 'disk_full', pendingEvents: 0, droppedReadings: 10, droppedEvents: 0 }]);

    // append() neither throws nor loses: the seq is handed out, the event is held and visible.
    // (Its text needs new pages, so the retries below fail while the database is full.)
    const text = '红色预警 '.repeat(2000);
    const s1 = store.append('transition', { alert: 'wl1/stage/1', level: 'red', text });
    const s2 = store.append('effect', { siren: 'z1', pattern: 'air_raid_alarm' });
    store.addReading({ sensor: 'rg1', value: 1, quality: 'good', atWall: T0 });
    expect(store.health()).toMatchObject({ pendingEvents: 3, droppedReadings: 11 });
    const seen = store.since(1);
    expect(seen.map((e) => [e.seq, e.type])).toEqual([
      [2, 'storage'],
      [s1, 'transition'],
      [s2, 'effect'],
    ]);
    expect(seen[0]!.payload).toMatchObject({ what: 'degraded', reason: 'disk_full' });
    expect(store.since(s1, 1).map((e) => e.seq)).toEqual([s2]);
    expect(peek(path, (db) => db.prepare('SELECT max(seq) FROM events').pluck().get())).toBe(1);

    // Retries keep failing while full.
    vi.advanceTimersByTime(3000);
    expect(store.health()).toMatchObject({ degraded: true, pendingEvents: 3 });

    // Retention frees pages; the next retry writes the held events in seq order.
    clock.advance(1000);
    const stored = count(path, 'readings');
    expect(store.prune(T0).readings).toBe(stored);
    vi.advanceTimersByTime(1000);
    expect(store.health()).toMatchObject({ degraded: false, reason: null, pendingEvents: 0 });
    expect(changes.at(-1)).toEqual({ degraded: false, reason: null, pendingEvents: 0, droppedReadings: 11, droppedEvents: 0 });
    expect(changes).toHaveLength(2);
    const onDisk = peek(path, (db) => db.prepare('SELECT seq, type FROM events ORDER BY seq').all());
    expect(onDisk).toEqual([
      { seq: 1, type: 'start' },
      { seq: 2, type: 'storage' },
      { seq: s1, type: 'transition' },
      { seq: s2, type: 'effect' },
      { seq: s2 + 1, type: 'storage' },
    ]);
    expect(store.since(s1, 1)[0]!.seq).toBe(s2);
    expect(store.since(s1 - 1, 1)[0]!.payload).toEqual({ alert: 'wl1/stage/1', level: 'red', text });
    expect(store.since(s2)[0]!.payload).toMatchObject({ what: 'recovered', reason: 'disk_full', degradedMs: 1000, droppedEvents: 0, droppedReadings: 1 });
    // Writes work normally again.
    expect(store.append('note', 'after')).toBe(s2 + 2);
    store.addReading({ sensor: 'rg1', value: 2, quality: 'good', atWall: T0 });
    store.flushReadings();
    expect(count(path, 'readings')).toBe(1);
    await store.stop();
  });

  // The snapshot goes in the commit of a command's events, or on its own right after an alarm's
  // (engine-runner): either way it covers the events before it, and waits in memory while full.
  type Write = (store: OpenStore['store'], body: string, pad?: string) => number;
  const inCommit: Write = (store, body, pad = '') => store.appendMany([{ type: 'command', payload: { type: 'silence', pad } }], { version: 1, body })[0]!;
  const alone: Write = (store, body, pad = '') => {
    const seq = store.append('transition', { alert: 'wl1/stage/1', pad });
    store.saveSnapshot({ version: 1, body });
    return seq;
  };
  it.each([
    ['in its events\' commit', inCommit],
    ['saved on its own after them', alone],
  ])("keeps the core's snapshot %s; one that came while full is written once there is room", async (_how, write) => {
    vi.useFakeTimers();
    const path = join(dir, 'log.db');
    const { store, clock } = await openStore(path, { maxDbBytes: 256 * 1024, retryMs: 1000, readingBatchMax: 10 });
    const s1 = write(store, '{"n":1}');
    expect(store.snapshot()).toEqual({ version: 1, seq: s1, atWall: T0, body: '{"n":1}' });
    fillWithOldReadings(store);
    const s2 = write(store, '{"n":2}', '静音 '.repeat(2000));
    expect(store.snapshot()!.body).toBe('{"n":1}');
    freeRoom(store, clock);
    expect(store.health().degraded).toBe(false);
    expect(store.snapshot()).toMatchObject({ version: 1, body: '{"n":2}' });
    expect(store.snapshot()!.seq).toBeGreaterThanOrEqual(s2);
    await store.stop();
  });

  it('past the queue bound, drops observations before alerts and counts what it dropped', async () => {
    vi.useFakeTimers();
    const path = join(dir, 'log.db');
    const { store } = await openStore(path, { maxDbBytes: 64 * 1024, pendingLimit: 4, retryMs: 1000 });
    let n = 0;
    while (!store.health().degraded && n < 10_000) store.append('observation', { n: n++, pad: 'x'.repeat(200) });
    const firstHeld = store.lastSeq() - 1; // the failed observation, then the 'degraded' storage event
    const alerts = [store.append('transition', { a: 1 }), store.append('observation', { late: true }), store.append('command', { c: 1 }), store.append('transition', { a: 2 })];
    expect(store.health()).toMatchObject({ pendingEvents: 4, droppedEvents: 2 });
    expect(store.since(firstHeld - 1).map((e) => e.seq)).toEqual([firstHeld + 1, alerts[0], alerts[2], alerts[3]]);
    await store.stop(); // still full: the held events go to the log line, and stop still resolves
  });
});
