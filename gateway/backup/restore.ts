/**
 * `shaobing restore --config SITE.yaml --from BACKUP [--seq-floor N]`: puts a backup back as the
 * box's log, with the box stopped.
 *
 * 1. Refuses while a process holds the log open (the box): stop it first.
 * 2. Checks the backup (inspectBackup: opens, quick_check, a schema this build knows).
 * 3. Moves the current log and its `-wal` / `-shm` aside as `<log>.before-restore-<UTC time>`,
 *    never deleting them (`-wal` first: a WAL left beside a different database would be applied
 *    to it).
 * 4. Copies the backup in as `<log>.restoring`, sets its seq floor, syncs, renames it into place.
 *
 * **The seq floor.** After the backup was made the box went on numbering events, and the uplink
 * sent some of them to the township, which dedupes by (site, seq): a restored log that handed
 * those seqs out again would have its new events taken for old ones and dropped. So the restored
 * log's seq reservation (meta `seq_reserved`, connection.ts) is raised to the highest seq the old
 * log holds or reserved; the box then starts above it and logs one `storage` event
 * `seq_skipped` (from the backup's last seq + 1 to the floor), the store's own rule for a run
 * that did not stop cleanly. Where the old log is gone or unreadable (a dead SD card), its floor
 * is unknown, and the store's rule for a replaced log applies: the wall clock's epoch ms, far
 * above any seq an event counter reaches (event-store.ts). That needs a trusted clock; otherwise,
 * or to set it yourself (the township's highest seq for the site), `--seq-floor N`.
 */
import { copyFileSync, existsSync, renameSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { holdersOf } from '../doctor/proc.ts';
import { TRUSTED_AFTER } from '../shell/clock.ts';
import { readFloor } from '../store/open-log.ts';
import { BackupError, inspectBackup, syncDir } from './backup-file.ts';
import { logPathOf, UsageError, type Io } from './args.ts';

export const RESTORE_USAGE = 'usage: shaobing restore --config SITE.yaml|--db PATH --from BACKUP [--seq-floor N]';

export interface RestoreResult {
  /** Where the previous log was moved (null: there was none). */
  movedTo: string | null;
  backupLastSeq: number;
  /** The reservation the restored log starts from; the box's next seq is above it. */
  floor: number;
  floorFrom: 'backup' | 'previous_log' | 'clock' | 'given';
}

const stamp = (now: number): string => new Date(now).toISOString().replace(/[:.]/g, '-');

export function restoreLog(dbPath: string, backup: string, o: { seqFloor?: number; now?: number; procRoot?: string } = {}): RestoreResult {
  const now = o.now ?? Date.now();
  const holders = holdersOf([dbPath, `${dbPath}-wal`], o.procRoot).byTarget;
  const holding = [...holders.values()].flat();
  if (holding.length) throw new BackupError('write_failed', `the log is open in pid ${holding[0]!.pid} (${holding[0]!.command.slice(0, 80)}): stop the box first (systemctl stop shaobing)`);
  const seen = inspectBackup(backup);
  const previous = existsSync(dbPath) ? readFloor(dbPath) : null;
  let floor = seen.reserved;
  let floorFrom: RestoreResult['floorFrom'] = 'backup';
  if (o.seqFloor !== undefined) {
    floor = Math.max(floor, o.seqFloor);
    floorFrom = 'given';
  } else if (previous !== null) {
    if (previous > floor) (floor = previous), (floorFrom = 'previous_log');
  } else {
    if (now < TRUSTED_AFTER) throw new BackupError('write_failed', `the previous log is gone or unreadable, so the seqs it sent to the township are unknown, and the clock (${new Date(now).toISOString()}) cannot stand in for them: set the time, or give --seq-floor N (the township's highest seq for this site)`);
    floor = Math.max(floor, now);
    floorFrom = 'clock';
  }
  let movedTo: string | null = null;
  if (existsSync(dbPath) || existsSync(`${dbPath}-wal`)) {
    movedTo = `${dbPath}.before-restore-${stamp(now)}`;
    for (const suffix of ['-wal', '-shm', '']) if (existsSync(`${dbPath}${suffix}`)) renameSync(`${dbPath}${suffix}`, `${movedTo}${suffix}`);
  }
  const restoring = `${dbPath}.restoring`;
  copyFileSync(backup, restoring);
  const db = new Database(restoring);
  try {
    // A commit in rollback-journal mode with synchronous FULL: on the disk when it returns.
    db.pragma('synchronous = FULL');
    db.prepare("INSERT INTO meta (key, value) VALUES ('seq_reserved', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value").run(floor);
  } finally {
    db.close();
  }
  renameSync(restoring, dbPath);
  syncDir(dirname(dbPath));
  return { movedTo, backupLastSeq: seen.lastSeq, floor, floorFrom };
}

export async function restoreCommand(args: string[], io: Io): Promise<number> {
  const { values } = parseArgs({ args, options: { config: { type: 'string' }, db: { type: 'string' }, from: { type: 'string' }, 'seq-floor': { type: 'string' } } });
  if (!values.from) throw new UsageError('give --from BACKUP');
  const floor = values['seq-floor'] === undefined ? undefined : Number(values['seq-floor']);
  if (floor !== undefined && !(Number.isSafeInteger(floor) && floor >= 0)) throw new UsageError(`--seq-floor: a whole number ≥ 0, not '${values['seq-floor']}'`);
  const where = await logPathOf(values, io);
  if (!where) return 1;
  try {
    const r = restoreLog(where.path, values.from, { seqFloor: floor });
    io.out(`restored ${values.from} (last seq ${r.backupLastSeq}) to ${where.path}`);
    if (r.movedTo) io.out(`the previous log is kept as ${r.movedTo} (nothing was deleted)`);
    const why = { backup: 'the backup’s own reservation', previous_log: 'the previous log’s highest seq', clock: 'the wall clock’s epoch ms (the previous log is gone)', given: '--seq-floor' }[r.floorFrom];
    io.out(`the box will number from ${r.floor + 1} (floor from ${why}); at its start it logs one storage event seq_skipped for the gap`);
    return 0;
  } catch (err) {
    io.err(`restore refused: ${(err as Error).message}`);
    return 1;
  }
}
