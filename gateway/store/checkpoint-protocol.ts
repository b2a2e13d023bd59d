/** What the main thread (checkpointer.ts) and the checkpoint worker (checkpoint-worker.ts) say to each other. */

/** `state[0]`: the worker has not opened its connection (and may still)… */
export const CKPT_STARTING = 0;
/** …it may have it open… */
export const CKPT_OPEN = 1;
/** …it is closed, or will never be opened. */
export const CKPT_CLOSED = 2;

export interface CheckpointWorkerData {
  path: string;
  /** One Int32 on a SharedArrayBuffer: CKPT_STARTING, CKPT_OPEN or CKPT_CLOSED. */
  state: Int32Array;
  /** Tests only: each checkpoint first hangs this long (a disk that holds an fsync). */
  test?: { hangMs?: number };
}

export type CheckpointRequest = { op: 'checkpoint' } | { op: 'close' };

export type CheckpointReply =
  | { op: 'ready' }
  | { op: 'failed'; error: { message: string; code?: string } }
  /**
   * `frames`: in the WAL when it began; `copied`: copied back; `restarted`: the worker's own
   * commit started the WAL over (so no main-thread commit fsyncs its header); `commitAt`
   * (epoch ms, 0: none) and `commitMs`: that commit, during which the main thread's writes wait
   * for its lock.
   */
  | { op: 'done'; frames: number; copied: number; busy: boolean; restarted: boolean; attempts: number; ms: number; commitAt: number; commitMs: number }
  | { op: 'error'; error: { message: string; code?: string }; ms: number };
