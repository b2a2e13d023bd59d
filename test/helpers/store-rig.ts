/**
 * Test helpers for the event store: a site config, a fake clock, temp directories, a store
 * opened on a file, a second plain SQLite connection to look at that file, and the real
 * filesystems the disk-fault tests fill up or turn read-only (tmpfs, ext4 on a loop device).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pino, { type Logger } from 'pino';
import type { SiteConfig, StoreConfig } from '../../gateway/config/types.ts';
import type { Clock } from '../../gateway/shell/clock.ts';
import { EventStore, type EventStoreOptions } from '../../gateway/store/event-store.ts';
import { site } from './site.ts';

export const DAY = 86_400_000;
export const MIN = 60_000;
/** A trusted wall time (after 2025-01-01), on a minute boundary. */
export const T0 = Date.parse('2026-07-20T08:00:00+08:00');

export function storeSite(store: Partial<StoreConfig> = {}): SiteConfig {
  const config = site(`
site: { id: demo, name: 示范社区 }
sensors:
  - { id: rg1, kind: rain }
store: { path: data/unused.db, raw_retention_days: 7, rollup_retention_days: 400, event_retention_days: 365 }
`);
  return { ...config, store: { ...config.store, ...store } };
}

export interface FakeClock extends Clock {
  t: number;
  m: number;
  isTrusted: boolean;
  advance(ms: number): void;
}

export function fakeClock(t = T0, boot = 'boot-test'): FakeClock {
  const c: FakeClock = {
    t,
    m: 0,
    isTrusted: true,
    boot,
    wall: () => c.t,
    mono: () => c.m,
    trusted: () => c.isTrusted,
    advance(ms) {
      c.t += ms;
      c.m += ms;
    },
  };
  return c;
}

export function tempDir(prefix = 'sb-store-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export interface StoreRig {
  store: EventStore;
  clock: FakeClock;
  path: string;
}

export async function openStore(path: string, opts: EventStoreOptions & { clock?: FakeClock; store?: Partial<StoreConfig>; log?: Logger } = {}): Promise<StoreRig> {
  const clock = opts.clock ?? fakeClock();
  const store = new EventStore({ config: storeSite(opts.store), log: opts.log ?? pino({ level: 'silent' }), clock }, { schedule: false, ...opts, path });
  await store.start();
  return { store, clock, path };
}

/** A logger that keeps its JSON lines, to check what was logged. */
export function captureLog(): { log: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const log = pino({ level: 'debug' }, { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) });
  return { log, lines };
}

/** A second, plain connection to look at what is really on disk. */
export function peek<T>(path: string, fn: (db: Database.Database) => T): T {
  const db = new Database(path, { readonly: true });
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

export function count(path: string, table: 'events' | 'readings' | 'readings_1m'): number {
  return peek(path, (db) => (db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n);
}

function sh(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Mounts a tmpfs of `size` (e.g. '1m') on a new directory; null when this machine will not let us. */
export function mountTmpfs(size: string): string | null {
  const dir = tempDir('sb-tmpfs-');
  try {
    sh('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0755`, 'tmpfs', dir]);
    return dir;
  } catch {
    rmSync(dir, { recursive: true, force: true });
    return null;
  }
}

export function remount(dir: string, mode: 'ro' | 'rw'): void {
  sh('mount', ['-o', `remount,${mode}`, dir]);
}

export function unmount(dir: string): void {
  try {
    sh('umount', [dir]);
  } catch {
    sh('umount', ['-l', dir]);
  }
  rmSync(dir, { recursive: true, force: true });
}

/** Writes zeros into `file` until the filesystem is full; returns the bytes written. */
export function fillDisk(file: string): number {
  const chunk = Buffer.alloc(4096);
  let n = 0;
  try {
    for (;;) {
      writeFileSync(file, chunk, { flag: 'a' });
      n += chunk.length;
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
  }
  return n;
}

/**
 * An ext4 filesystem in an image file on a loop device, mounted with `errors=remount-ro` (what a
 * Raspberry Pi's root filesystem uses). `failFs` makes the kernel record a filesystem error,
 * which remounts it read-only at once, open files and all — what a failing SD card does, and
 * the one way to take writes away from a process that holds the files open (`mount -o
 * remount,ro` refuses with EBUSY while any file is open for writing).
 */
export interface Ext4 {
  dir: string;
  failFs(): void;
  /** Unmounts, repairs with e2fsck and mounts again read-write. */
  repair(): void;
  destroy(): void;
}

export function mountExt4(sizeMb = 16): Ext4 | null {
  const base = tempDir('sb-ext4-');
  const img = join(base, 'fs.img');
  const dir = join(base, 'mnt');
  mkdirSync(dir);
  const mount = (): void => void sh('mount', ['-o', 'loop,errors=remount-ro', img, dir]);
  try {
    sh('truncate', ['-s', `${sizeMb}M`, img]);
    sh('mkfs.ext4', ['-q', '-F', img]);
    mount();
  } catch {
    rmSync(base, { recursive: true, force: true });
    return null;
  }
  const device = (): string => sh('findmnt', ['-no', 'SOURCE', dir]).trim().split('/').pop()!;
  const trigger = (): string => `/sys/fs/ext4/${device()}/trigger_fs_error`;
  if (!existsSync(trigger())) {
    unmount(dir);
    rmSync(base, { recursive: true, force: true });
    return null;
  }
  return {
    dir,
    failFs: () => writeFileSync(trigger(), 'shaobing store test: simulated SD card failure'),
    repair() {
      unmount(dir);
      mkdirSync(dir);
      try {
        sh('e2fsck', ['-f', '-y', img]);
      } catch {
        // e2fsck exits 1 when it fixed something; the mount below tells if it is usable.
      }
      mount();
    },
    destroy() {
      try {
        unmount(dir);
      } finally {
        rmSync(base, { recursive: true, force: true });
      }
    },
  };
}
