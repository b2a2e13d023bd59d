/**
 * `shaobing backup --config SITE.yaml --out FILE` (or `--db PATH`): a consistent copy of the log,
 * made while the box runs (backup-file.ts), checked before it gets its name. Exit 0 when the
 * copy is whole and checked, 1 when it could not be made (nothing half-written is left), 2 for a
 * usage error.
 */
import { parseArgs } from 'node:util';
import { backupLog } from './backup-file.ts';
import { logPathOf, UsageError, type Io } from './args.ts';

export const BACKUP_USAGE = 'usage: shaobing backup --config SITE.yaml|--db PATH --out FILE';

export async function backupCommand(args: string[], io: Io): Promise<number> {
  const { values } = parseArgs({ args, options: { config: { type: 'string' }, db: { type: 'string' }, out: { type: 'string' } } });
  if (!values.out) throw new UsageError('give --out FILE');
  const where = await logPathOf(values, io);
  if (!where) return 1;
  try {
    const r = await backupLog(where.path, values.out);
    io.out(`backed up ${where.path} to ${r.file}: ${r.events} events, last seq ${r.lastSeq}, ${(r.bytes / 1024 / 1024).toFixed(1)} MB, ${r.ms} ms; integrity check ok`);
    return 0;
  } catch (err) {
    io.err(`backup failed: ${(err as Error).message}`);
    return 1;
  }
}
