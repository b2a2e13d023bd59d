/**
 * Worker thread of scheduled-backup.ts: one backup (backup-file.ts) and one answer. The copy is
 * one SQLite step holding a read transaction for the whole file (seconds for a large log on a USB
 * stick); in the box's main thread that would stall alarms, here it stalls nothing.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { backupLog, BackupError } from './backup-file.ts';

export type BackupReply = { ok: true; file: string; bytes: number; lastSeq: number; events: number; ms: number } | { ok: false; code: string; message: string };

const { source, out } = workerData as { source: string; out: string };
let reply: BackupReply;
try {
  reply = { ok: true, ...(await backupLog(source, out)) };
} catch (err) {
  reply = { ok: false, code: err instanceof BackupError ? err.code : ((err as NodeJS.ErrnoException).code ?? 'write_failed'), message: (err as Error).message };
}
parentPort!.postMessage(reply);
