/**
 * `shaobing export --config SITE.yaml [--since T] [--until T] [--format csv|jsonl] [--type a,b]
 * [--zone Z] [--out FILE]`: the log's events for a time range, read from a read-only connection
 * (works while the box runs) in the panel's bounded pages (store/event-query.ts, panel
 * routes-events.ts `matching`), written as the panel's CSV (UTF-8 with a BOM, RFC 4180, formula
 * cells defused: panel/csv.ts) or as JSON lines in the township's wire form (uplink/event-wire.ts,
 * without `live`). To stdout unless `--out`; `--out` writes FILE.partial and renames it when
 * complete, so a half-written export never looks finished.
 */
import { closeSync, fsyncSync, openSync, renameSync, writeSync } from 'node:fs';
import Database from 'better-sqlite3';
import { parseArgs } from 'node:util';
import { BOM, csvRow } from '../panel/csv.ts';
import { CSV_HEADER, csvLine, matching, type EventPages } from '../panel/routes-events.ts';
import { eventsPage, firstSeqFrom, type EventFilter } from '../store/event-query.ts';
import { EVENT_TYPES } from '../store/types.ts';
import { eventWire } from '../uplink/event-wire.ts';
import { logPathOf, UsageError, type Io } from './args.ts';

export const EXPORT_USAGE = 'usage: shaobing export --config SITE.yaml|--db PATH [--since 2026-07-20T00:00:00+08:00] [--until …] [--format csv|jsonl] [--type transition,effect] [--zone Z] [--out FILE]';

/** ISO 8601 with a date and, if it has a time, an offset (a time without one would be read as UTC). */
export function exportTime(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const t = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?$/.test(v) ? Date.parse(v) : Number.NaN;
  if (!Number.isFinite(t)) throw new UsageError(`--${name}: must be an ISO 8601 time with an offset, e.g. 2026-07-20T08:00:00+08:00 (not '${v}')`);
  return t;
}

/** Pages of a log opened read-only, as the panel reads the running store's. */
function pagesOf(db: Database.Database): EventPages {
  return {
    eventsPage: (f, after, limit, scan) => eventsPage(db, f, after, limit, scan),
    firstSeqFrom: (t) => firstSeqFrom(db, t),
    lastSeq: () => (db.prepare('SELECT coalesce(max(seq), 0) AS s FROM events').get() as { s: number }).s,
  };
}

export async function exportCommand(args: string[], io: Io): Promise<number> {
  const { values } = parseArgs({ args, options: { config: { type: 'string' }, db: { type: 'string' }, site: { type: 'string' }, since: { type: 'string' }, until: { type: 'string' }, format: { type: 'string' }, type: { type: 'string' }, zone: { type: 'string' }, out: { type: 'string' } } });
  const format = values.format ?? 'csv';
  if (format !== 'csv' && format !== 'jsonl') throw new UsageError(`--format: csv or jsonl, not '${format}'`);
  const types = values.type?.split(',').filter(Boolean);
  for (const t of types ?? []) if (!(EVENT_TYPES as readonly string[]).includes(t)) throw new UsageError(`--type: unknown event type '${t}' (known: ${EVENT_TYPES.join(', ')})`);
  if (values.zone !== undefined && !/^[a-z0-9][a-z0-9_-]{0,31}$/.test(values.zone)) throw new UsageError(`--zone: not a zone id: '${values.zone}'`);
  const f: EventFilter = { since: exportTime('since', values.since), until: exportTime('until', values.until), ...(types?.length ? { types } : {}), ...(values.zone ? { zone: values.zone } : {}) };
  const where = await logPathOf(values, io);
  if (!where) return 1;
  let db: Database.Database;
  try {
    db = new Database(where.path, { readonly: true, fileMustExist: true });
  } catch (err) {
    io.err(`${where.path}: cannot open the log: ${(err as Error).message}`);
    return 1;
  }
  const out = values.out ? openSync(`${values.out}.partial`, 'wx') : null;
  const write = async (s: string): Promise<void> => {
    if (out !== null) writeSync(out, s);
    else if (io.write) await io.write(s);
    else io.out(s.replace(/\r?\n$/, ''));
  };
  let n = 0;
  try {
    const { site, utcOffset } = where;
    if (format === 'csv') await write(BOM + csvRow(CSV_HEADER));
    for await (const page of matching(pagesOf(db), f, 0, Number.MAX_SAFE_INTEGER)) {
      let chunk = '';
      for (const e of page) {
        if (format === 'csv') chunk += csvLine(e, utcOffset, site);
        else {
          const w = eventWire(e, site, utcOffset, false);
          delete w.live;
          chunk += `${JSON.stringify(w)}\n`;
        }
      }
      n += page.length;
      await write(chunk);
    }
  } finally {
    db.close();
    if (out !== null) {
      fsyncSync(out);
      closeSync(out);
    }
  }
  if (values.out) renameSync(`${values.out}.partial`, values.out);
  io.err(`exported ${n} events${values.out ? ` to ${values.out}` : ''}`);
  return 0;
}
