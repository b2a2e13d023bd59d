/**
 * The event store on real failing filesystems (needs root, as CI and the box run; without it
 * these tests fail rather than skip):
 *
 * - full: a 2 MiB tmpfs filled with a ballast file — SQLite gets ENOSPC → SQLITE_FULL.
 *   Deleting the ballast is the operator (or logrotate) freeing space.
 * - read-only while running: ext4 on a loop device, mounted `errors=remount-ro`, then told to
 *   record a filesystem error (/sys/fs/ext4/<dev>/trigger_fs_error) — the kernel remounts it
 *   read-only under the open database, as it does when an SD card fails. `mount -o
 *   remount,ro` cannot do this (EBUSY while a file is open for writing), and chmod does not
 *   stop root; a better-sqlite3 `{ readonly: true }` handle tests SQLite, not the disk.
 * - read-only at start: a tmpfs remounted read-only while the store is closed, holding the
 *   files a crash left behind (-wal, -shm); SQLite then opens read-only and writes fail with
 *   SQLITE_READONLY until the filesystem is writable again and the store reopens.
 *
 * Without root, test/unit/store-degraded.test.ts covers the same code with SQLite's
 * max_page_count.
 */
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { StoreHealth } from '../../gateway/store/event-store.ts';
import { captureLog, fakeClock, fillDisk, mountExt4, mountTmpfs, openStore, peek, remount, unmount, type Ext4 } from '../helpers/store-rig.ts';

async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
}

const cleanups: Array<() => void> = [];
afterAll(() => {
  for (const fn of cleanups.reverse()) {
    try {
      fn();
    } catch {
      // best effort: a test that failed half-way may have unmounted already
    }
  }
});

const tmpfs = mountTmpfs('2m');
if (tmpfs) cleanups.push(() => unmount(tmpfs));
const ext4: Ext4 | null = mountExt4(16);
if (ext4) cleanups.push(() => ext4.destroy());

describe('the machine can make the failing disks these tests need', () => {
  it('mounts a tmpfs and an ext4 loop device (root)', () => {
    expect(tmpfs, 'mount -t tmpfs failed: run the tests as root').toBeTruthy();
    expect(ext4, 'no ext4 loop device with trigger_fs_error: run as root with losetup and mkfs.ext4').toBeTruthy();
  });
});

describe('a real full disk (tmpfs)', () => {
  it('keeps every event in order with its seq, drops readings, and writes them when space returns', async () => {
    const dir = join(tmpfs!, 'full');
    mkdirSync(dir);
    const path = join(dir, 'log.db');
    const { store } = await openStore(path, { retryMs: 100 });
    const changes: StoreHealth[] = [];
    store.onHealthChange((h) => changes.push(h));
    store.append('start', { run: 1 });
    for (let i = 0; i < 50; i++) store.addReading({ sensor: 'rg1', value: i, quality: 'good', atWall: Date.now() });
    store.flushReadings();

    const ballast = join(tmpfs!, 'ballast');
    expect(fillDisk(ballast)).toBeGreaterThan(0);
    const acted: Array<[number, unknown]> = [];
    for (let i = 0; i < 500 && !store.health().degraded; i++) {
      const payload = { alert: `wl1/stage/${i}`, level: 'red', text: '水位超过保证水位 '.repeat(40) };
      acted.push([store.append('transition', payload), payload]);
    }
    expect(store.health()).toMatchObject({ degraded: true, reason: 'disk_full' });
    // While full: more alerts are accepted, readings are dropped, nothing throws.
    for (let i = 0; i < 20; i++) {
      const payload = { effect: 'siren', zone: 'z1', i };
      acted.push([store.append('effect', payload), payload]);
      store.addReading({ sensor: 'rg1', value: i, quality: 'good', atWall: Date.now() });
    }
    expect(store.health().droppedReadings).toBeGreaterThanOrEqual(20);
    expect(store.health().pendingEvents).toBeGreaterThan(20);
    const visible = new Map(store.since(0).map((e) => [e.seq, e.payload]));
    for (const [seq, payload] of acted) expect(visible.get(seq)).toEqual(payload);
    await new Promise((r) => setTimeout(r, 300)); // retries fail while full
    expect(store.health().degraded).toBe(true);

    rmSync(ballast);
    await until(() => !store.health().degraded);
    expect(changes.map((h) => [h.degraded, h.reason])).toEqual([
      [true, 'disk_full'],
      [false, null],
    ]);
    await store.stop();

    const again = await openStore(path);
    const events = again.store.since(0);
    const seqs = events.map((e) => e.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    const byseq = new Map(events.map((e) => [e.seq, e.payload]));
    for (const [seq, payload] of acted) expect(byseq.get(seq)).toEqual(payload);
    expect(events.filter((e) => e.type === 'storage').map((e) => (e.payload as { what: string }).what)).toEqual(['degraded', 'recovered']);
    expect(again.store.lastSeq()).toBe(seqs.at(-1));
    expect(peek(path, (db) => db.pragma('integrity_check', { simple: true }))).toBe('ok');
    await again.store.stop();
  });
});

describe('a filesystem that is read-only when the box starts (tmpfs)', () => {
  it('starts degraded from the files a crash left, holds events, and writes them once the filesystem is writable', async () => {
    const crashed = join(tmpfs!, 'crashed');
    const boot = join(tmpfs!, 'boot');
    mkdirSync(crashed);
    mkdirSync(boot);
    const first = await openStore(join(crashed, 'log.db'));
    for (let i = 1; i <= 3; i++) first.store.append('transition', { i });
    // What kill -9 leaves on disk: the database, its WAL and shared-memory index.
    for (const f of ['log.db', 'log.db-wal', 'log.db-shm']) copyFileSync(join(crashed, f), join(boot, f));
    await first.store.stop();
    remount(tmpfs!, 'ro');
    try {
      const { store } = await openStore(join(boot, 'log.db'), { retryMs: 100 });
      expect(store.health()).toMatchObject({ degraded: true, reason: 'read_only' });
      expect(store.since(0).slice(0, 3).map((e) => e.payload)).toEqual([{ i: 1 }, { i: 2 }, { i: 3 }]);
      const seq = store.append('transition', { after: 'boot' });
      expect(seq).toBeGreaterThan(3);
      await new Promise((r) => setTimeout(r, 300));
      expect(store.health().degraded).toBe(true);
      remount(tmpfs!, 'rw');
      await until(() => !store.health().degraded);
      expect(peek(join(boot, 'log.db'), (db) => db.prepare('SELECT payload FROM events WHERE seq = ?').pluck().get(seq))).toBe('{"after":"boot"}');
      await store.stop();
    } finally {
      remount(tmpfs!, 'rw');
    }
  });
});

describe('a disk the kernel turns read-only under the running store (ext4 errors=remount-ro)', () => {
  it('holds events without throwing, logs them at stop, and never reuses their seqs after repair', async () => {
    const path = join(ext4!.dir, 'log.db');
    const { log, lines } = captureLog();
    const clock = fakeClock();
    const first = await openStore(path, { retryMs: 100, log, clock });
    const started = first.store.append('start', {});
    // Acted on at once. Its fdatasync waits behind the one for 'start', which can only return
    // after this synchronous code: so it runs after the failure below, and fails.
    const racing = first.store.append('transition', { level: 'orange' });

    ext4!.failFs();
    const held = [first.store.append('transition', { level: 'red' }), first.store.append('command', { silence: 'z1' })];
    expect(first.store.health()).toMatchObject({ degraded: true, reason: 'read_only' });
    expect(first.store.since(racing).map((e) => e.seq)).toEqual([held[0], held[0]! + 1, held[1]]); // + the 'degraded' storage event
    await first.store.synced();
    await new Promise((r) => setTimeout(r, 300));
    expect(first.store.health()).toMatchObject({ degraded: true });
    await first.store.stop();
    const lastWords = lines.find((l) => String(l.msg).startsWith('stopping with events that never reached the disk'));
    const spoken = (lastWords?.events as Array<{ seq: number }>).map((e) => e.seq);
    expect(spoken).toEqual([...spoken].sort((a, b) => a - b));
    expect(spoken.filter((s) => s !== racing && s !== started)).toEqual([held[0], held[0]! + 1, held[1]]);

    ext4!.repair();
    const second = await openStore(path, { clock });
    const onDisk = second.store.since(0).map((e) => e.seq);
    // The events acted on before the failure: confirmed on disk, or handed back by their failed
    // sync and in the last words — never neither.
    const where = [started, racing].map((a) => (onDisk.includes(a) ? 'on disk' : spoken.includes(a) ? 'in the last words' : 'LOST'));
    expect(where, `seqs ${started}, ${racing}`).not.toContain('LOST');
    console.log(`store-disk: the events acted on before the failure: ${where.join(', ')}`);
    // The held seqs were lost with the process, but a new event never takes one of them.
    expect(second.store.append('note', 'after repair')).toBeGreaterThan(held[1]!);
    expect(peek(path, (db) => db.pragma('integrity_check', { simple: true }))).toBe('ok');
    await second.store.stop();
  });
});
