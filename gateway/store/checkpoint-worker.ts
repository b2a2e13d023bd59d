/**
 * Worker thread of checkpointer.ts: the log's WAL checkpoints, on a connection of its own to
 * the same file, so the main thread (which runs every alarm) never copies the WAL back into the
 * database nor waits for the two fsyncs that takes.
 *
 * A PASSIVE checkpoint never takes the write lock: the main thread keeps committing while it
 * runs (sqlite.org/c3ref/wal_checkpoint_v2.html). Once it has copied every frame, the first
 * commit of any connection starts the WAL over and, with synchronous=NORMAL, fsyncs the new
 * WAL header inside that commit (sqlite.org/wal.html, "WAL reset"; wal.c syncs the header after
 * a restart against out-of-order writes). That commit is made here, right after the
 * checkpoint: one small meta row (`checkpoint_at`, wall ms), so the header's fsync is the
 * worker's, not an alarm's. A main-thread commit that slipped in between leaves the WAL
 * appended to instead; then the (now small) checkpoint is repeated, a few times at most.
 *
 * `state` (shared with the main thread) says whether this thread's connection may still be
 * open, so the main thread can close the log and reopen it without a connection of ours left
 * on the file (SQLite shares one file handle per file within a process).
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { BUSY_TIMEOUT_MS } from './database.ts';
import { CKPT_CLOSED, CKPT_OPEN, CKPT_STARTING, type CheckpointReply, type CheckpointRequest, type CheckpointWorkerData } from './checkpoint-protocol.ts';

const { path, state, test } = workerData as CheckpointWorkerData;
const port = parentPort!;
/** Checkpoint and restart write, tried again this often when a main-thread commit came between them. */
const ATTEMPTS = 3;
/** The checkpointer's page cache, KiB: it reads little (the WAL index) and writes one row. */
const CACHE_KIB = 256;

let db: Database.Database | null = null;
let walFd: number | null = null;
let setMeta: Database.Statement<[string, number]> | null = null;

function send(reply: CheckpointReply): void {
  port.postMessage(reply);
}

function describe(err: unknown): { message: string; code?: string } {
  const e = err as { message?: unknown; code?: unknown };
  return { message: String(e?.message ?? err), ...(typeof e?.code === 'string' ? { code: e.code } : {}) };
}

function close(): void {
  try {
    db?.close();
  } catch {
    // The process's handles go with it; nothing is left to write through this connection.
  }
  db = null;
  if (walFd !== null) {
    try {
      closeSync(walFd);
    } catch {
      // As above.
    }
    walFd = null;
  }
  Atomics.store(state, 0, CKPT_CLOSED);
  Atomics.notify(state, 0);
}

/** The WAL header's checkpoint sequence (big-endian at byte 12): SQLite adds one at each restart. */
function walRestarts(): number {
  walFd ??= openSync(`${path}-wal`, 'r');
  const b = Buffer.alloc(4);
  return readSync(walFd, b, 0, 4, 12) === 4 ? b.readUInt32BE(0) : -1;
}

function open(): void {
  // The main thread may have closed the log before this thread got going: then never open it.
  if (Atomics.compareExchange(state, 0, CKPT_STARTING, CKPT_OPEN) !== CKPT_STARTING) return close();
  try {
    db = new Database(path, { fileMustExist: true });
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    const mode = String(db.pragma('journal_mode', { simple: true }));
    if (mode !== 'wal') throw new Error(`the log is not in WAL mode (${mode})`);
    db.pragma('synchronous = NORMAL');
    db.pragma('wal_autocheckpoint = 0');
    db.pragma(`cache_size = -${CACHE_KIB}`);
    setMeta = db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value');
    send({ op: 'ready' });
  } catch (err) {
    close();
    send({ op: 'failed', error: describe(err) });
  }
}

function checkpoint(): void {
  const t0 = performance.now();
  try {
    if (!db || !setMeta) throw new Error('the checkpointer has no open connection');
    if (test?.hangMs) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, test.hangMs);
    let frames = 0;
    let copied = 0;
    let busy = false;
    let restarted = false;
    let attempts = 0;
    let commitAt = 0;
    let commitMs = 0;
    while (attempts < ATTEMPTS && !restarted) {
      attempts++;
      const r = (db.pragma('wal_checkpoint(PASSIVE)') as { busy: number; log: number; checkpointed: number }[])[0]!;
      frames = Math.max(frames, r.log);
      copied += r.checkpointed;
      busy = r.busy !== 0;
      // Not all copied (a reader's snapshot, or another checkpoint): the WAL cannot start over yet.
      if (busy || r.log <= 0 || r.checkpointed < r.log) break;
      const before = walRestarts();
      const c0 = performance.now();
      setMeta.run('checkpoint_at', Date.now());
      commitMs = performance.now() - c0;
      commitAt = performance.timeOrigin + c0;
      restarted = walRestarts() !== before;
    }
    send({ op: 'done', frames, copied, busy, restarted, attempts, ms: performance.now() - t0, commitAt, commitMs });
  } catch (err) {
    send({ op: 'error', error: describe(err), ms: performance.now() - t0 });
  }
}

port.on('message', (m: CheckpointRequest) => {
  if (m.op === 'checkpoint') checkpoint();
  else if (m.op === 'close') {
    close();
    port.close();
  }
});
open();
