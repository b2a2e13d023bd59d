/**
 * An fdatasync stand-in for WalSync tests that returns only when told: to see what the store
 * does while the disk has not confirmed a write yet, or when it refuses (EIO). The real
 * fdatasync runs in the other tests of the same files.
 */
import type { SyncFn } from '../../gateway/store/wal-sync.ts';

export interface GatedSync {
  fn: SyncFn;
  /** Syncs started so far. */
  calls: number;
  /** Syncs started and not yet returned. */
  waiting: number;
  /** Returns every waiting sync, with `err` if given. */
  release(err?: NodeJS.ErrnoException): void;
  /** Returns every waiting sync, and every later one at once (a disk that answers again). */
  open(): void;
  /** After open(): later syncs wait again until release() or open(). */
  hold(): void;
}

export function gatedSync(): GatedSync {
  const queue: Array<(err: NodeJS.ErrnoException | null) => void> = [];
  let opened = false;
  const g: GatedSync = {
    calls: 0,
    get waiting() {
      return queue.length;
    },
    fn: (_fd, done) => {
      g.calls++;
      if (opened) setImmediate(() => done(null));
      else queue.push(done);
    },
    release(err) {
      for (const done of queue.splice(0)) setImmediate(() => done(err ?? null));
    },
    open() {
      opened = true;
      g.release();
    },
    hold() {
      opened = false;
    },
  };
  return g;
}

export const eio = (): NodeJS.ErrnoException => Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO', errno: -5, syscall: 'fdatasync' });
