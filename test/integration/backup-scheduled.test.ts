/**
 * The daily backup module on a real log and real folders: a tmpfs as the "USB stick" (another
 * disk than the log's), keeping N copies; a missing folder and a folder on the log's own disk
 * are visible faults (a `storage` event, a status problem), never a crash, and clear once a
 * backup succeeds. And the seq floor rules of `restore` (restore.ts) on real files.
 */
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inspectBackup } from '../../gateway/backup/backup-file.ts';
import { restoreLog } from '../../gateway/backup/restore.ts';
import { backupName, ScheduledBackup } from '../../gateway/backup/scheduled-backup.ts';
import type { BackupConfig } from '../../gateway/config/types.ts';
import { Bus } from '../../gateway/shell/bus.ts';
import { SEQ_RESERVE } from '../../gateway/store/connection.ts';
import { startBoxRig } from '../helpers/box-rig.ts';
import { mountTmpfs, openStore, peek, storeSite, tempDir, unmount, type StoreRig } from '../helpers/store-rig.ts';
import { until } from '../helpers/until.ts';

const stick = mountTmpfs('8m');
const dir = tempDir('sb-backup-sched-');
afterAll(() => {
  if (stick) unmount(stick);
  rmSync(dir, { recursive: true, force: true });
});

function module(rig: StoreRig, cfg: Partial<BackupConfig>): ScheduledBackup {
  const log = pino({ level: 'silent' });
  const config = { ...storeSite(), site: { ...storeSite().site, id: 'demo' } };
  const full: BackupConfig = { folder: join(stick!, 'shaobing'), keep: 2, atHour: 3, atMinute: 40, allowSameDisk: false, ...cfg };
  return new ScheduledBackup({ config, log, clock: rig.clock, bus: new Bus(log) }, rig.store, full, rig.path);
}

const storage = (rig: StoreRig): Record<string, unknown>[] => rig.store.since(0).filter((e) => e.type === 'storage').map((e) => e.payload as Record<string, unknown>);

describe('the daily backup', () => {
  let rig: StoreRig;
  beforeAll(async () => {
    expect(stick, 'mount -t tmpfs failed: run the tests as root').toBeTruthy();
    rig = await openStore(join(dir, 'log.db'));
    for (let i = 0; i < 100; i++) rig.store.append('note', { i });
  });
  afterAll(async () => rig.store.stop());

  it('is scheduled at its local time, keeps `keep` copies, each whole and checked', async () => {
    mkdirSync(join(stick!, 'shaobing'));
    const b = module(rig, {});
    await b.start();
    const next = b.nextRun()!;
    expect([next.getHours(), next.getMinutes(), next.getSeconds()]).toEqual([3, 40, 0]);
    expect(b.problems()).toEqual([]);
    const made: string[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await b.runNow();
      expect(r.ok).toBe(true);
      made.push(r.file!);
      rig.store.append('note', { after: i });
      rig.clock.advance(24 * 3600_000);
    }
    await b.stop();
    const left = readdirSync(join(stick!, 'shaobing')).sort();
    expect(left).toEqual(made.slice(1).map((f) => f.split('/').pop()).sort());
    expect(left[0]).toBe(backupName('demo', rig.clock.wall() - 2 * 24 * 3600_000));
    expect(left[0]).toMatch(/^shaobing-demo-\d{8}T\d{6}Z\.db$/);
    for (const f of left) expect(inspectBackup(join(stick!, 'shaobing', f)).events).toBeGreaterThan(100);
    const done = storage(rig).filter((p) => p.what === 'backup');
    expect(done).toHaveLength(3);
    expect(done[2]).toMatchObject({ file: made[2], kept: 2, deleted: [made[0]!.split('/').pop()] });
  });

  it('is a visible fault when the folder is missing, once, and clears when the stick is back', async () => {
    const folder = join(stick!, 'later');
    const b = module(rig, { folder });
    const changes: string[][] = [];
    b.onChange(() => changes.push(b.problems()));
    await b.start(); // looked at when the box starts, not only at 03:40
    expect(b.problems()).toEqual(['backup_failed:folder_missing']);
    expect((await b.runNow()).reason).toBe('folder_missing');
    const failures = storage(rig).filter((p) => p.what === 'backup_failed' && p.folder === folder);
    expect(failures).toHaveLength(1);
    expect(failures[0]!.advice).toContain('USB stick');
    mkdirSync(folder);
    expect((await b.runNow()).ok).toBe(true);
    expect(b.problems()).toEqual([]);
    expect(changes).toEqual([['backup_failed:folder_missing'], []]);
    await b.stop();
  });

  it('refuses a folder on the log’s own disk (an unmounted stick’s mount point) unless allowed', async () => {
    const folder = join(dir, 'media-usb');
    mkdirSync(folder);
    const b = module(rig, { folder });
    expect((await b.runNow()).reason).toBe('same_disk');
    expect(b.problems()).toEqual(['backup_failed:same_disk']);
    expect(readdirSync(folder)).toEqual([]);
    const allowed = module(rig, { folder, allowSameDisk: true });
    expect((await allowed.runNow()).ok).toBe(true);
  });

  it('is a fault, not a crash, when the stick fills up', async () => {
    const small = mountTmpfs('64k');
    try {
      const b = module(rig, { folder: small! });
      const r = await b.runNow();
      expect(r).toEqual({ ok: false, reason: 'disk_full' });
      expect(readdirSync(small!)).toEqual([]); // nothing half-written left
    } finally {
      if (small) unmount(small);
    }
  });
});

describe('the box with a daily backup', () => {
  it('says backup_failed:<reason> in its retained status while the stick is missing, and not once a backup succeeds', async () => {
    const folder = join(stick!, 'box-stick');
    const rig = await startBoxRig(`backup: { folder: '${folder}' }`);
    try {
      const viewer = await rig.connect('viewer');
      const statuses: { problems: string[] }[] = [];
      viewer.on('message', (_t, p) => statuses.push(JSON.parse(p.toString()) as { problems: string[] }));
      await viewer.subscribeAsync('sb/v1/itest/status', { qos: 1 });
      await until('the problem in the status', () => statuses.some((s) => s.problems.includes('backup_failed:folder_missing')));
      mkdirSync(folder);
      expect((await rig.box.backup!.runNow()).ok).toBe(true);
      await until('the status without it', () => statuses.at(-1)!.problems.length === 0);
      expect(readdirSync(folder)).toHaveLength(1);
    } finally {
      await rig.stop();
    }
  }, 60_000);
});

describe('the seq floor of a restore', () => {
  it('takes the previous log’s seqs when they are above the backup’s', async () => {
    const path = join(dir, 'floor1.db');
    const backup = join(dir, 'floor1-backup.db');
    const a = await openStore(path);
    for (let i = 0; i < 10; i++) a.store.append('note', { i });
    await a.store.stop(); // a clean stop: the reservation comes back to the last seq (10)
    const { backupLog } = await import('../../gateway/backup/backup-file.ts');
    await backupLog(path, backup);
    const b = await openStore(path);
    for (let i = 0; i < 25; i++) b.store.append('note', { later: i });
    const lastBefore = b.store.lastSeq();
    await b.store.stop();
    const r = restoreLog(path, backup);
    expect(r).toMatchObject({ backupLastSeq: 10, floorFrom: 'previous_log', floor: lastBefore });
    expect(existsSync(r.movedTo!)).toBe(true);
    const c = await openStore(path);
    const seq = c.store.append('note', { restored: true });
    expect(seq).toBe(lastBefore + 2); // seq_skipped took lastBefore + 1
    expect(c.store.since(10).map((e) => [e.type, (e.payload as { what?: string }).what])).toEqual([
      ['storage', 'seq_skipped'],
      ['note', undefined],
    ]);
    await c.store.stop();
  });

  it('uses the wall clock’s epoch ms when the previous log is gone, refuses without a trusted clock, and takes --seq-floor', async () => {
    const path = join(dir, 'floor2.db');
    const backup = join(dir, 'floor2-backup.db');
    const a = await openStore(path);
    a.store.append('note', { i: 1 });
    await a.store.stop();
    const { backupLog } = await import('../../gateway/backup/backup-file.ts');
    await backupLog(path, backup);
    for (const f of [path, `${path}-wal`, `${path}-shm`]) rmSync(f, { force: true });
    expect(() => restoreLog(path, backup, { now: Date.parse('1970-01-02T00:00:00Z') })).toThrow(/--seq-floor/);
    expect(existsSync(path)).toBe(false);
    const now = Date.parse('2026-08-01T00:00:00Z');
    expect(restoreLog(path, backup, { now })).toMatchObject({ floorFrom: 'clock', floor: now, movedTo: null });
    expect(peek(path, (db) => db.prepare("SELECT value FROM meta WHERE key = 'seq_reserved'").pluck().get())).toBe(now);
    rmSync(path);
    expect(restoreLog(path, backup, { seqFloor: 5 * SEQ_RESERVE })).toMatchObject({ floorFrom: 'given', floor: 5 * SEQ_RESERVE });
  });
});
