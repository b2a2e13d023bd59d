/**
 * The log's disk and what the log costs it: free space and how long it lasts at the growth
 * the log itself shows (rows of the last hour and day, at their measured size), where the log
 * levels off under retention (raw readings are pruned after `raw_retention_days`, rollups and
 * events after theirs), and the SD card's wear: bytes the running box writes per hour, from the
 * kernel's own count (`write_bytes` of /proc/PID/io, every thread of the box: commits, the
 * checkpointer, backups), against a budget.
 */
import { existsSync, statfsSync } from 'node:fs';
import { dirname } from 'node:path';
import type Database from 'better-sqlite3';
import { firstSeqFrom } from '../store/event-query.ts';
import type { DoctorContext } from './context.ts';
import { processIo } from './proc.ts';
import { said, type CheckResult } from './types.ts';

/**
 * Bytes a row costs in the log, with its index entries and the B-tree's slack, measured on the
 * sd-wear bench's log (dbstat, 4 KiB pages; sensor ids of 3–4 characters): a raw reading 38 B
 * plus its id, a rollup row 75 B plus its id (a row and an index entry each carry it), an
 * event 60 B plus its JSON payload.
 */
export const READING_BYTES = 38;
export const ROLLUP_BYTES = 75;
export const EVENT_BYTES = 60;

const MB = 1024 * 1024;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

export interface Growth {
  readingsPerDay: number;
  rollupsPerDay: number;
  eventsPerDay: number;
  bytesPerDay: number;
  /** The log's size once retention prunes as fast as it grows, at these rates. */
  levelsOffBytes: number;
  /** Bytes the log's pages take now (page_count × page_size, free pages included). */
  nowBytes: number;
}

/** Growth per day from the log's last hour of readings and rollups and last day of events. */
export function logGrowth(db: Database.Database, now: number, retention: { rawDays: number; rollupDays: number; eventDays: number }): Growth {
  const one = <T>(sql: string, ...args: unknown[]): T => db.prepare(sql).get(...args) as T;
  const r = one<{ n: number; id: number | null }>('SELECT count(*) AS n, avg(length(sensor)) AS id FROM readings WHERE at_wall >= ?', now - HOUR);
  const minuteFrom = Math.floor((now - HOUR) / 60_000);
  const u = one<{ n: number; id: number | null }>('SELECT count(*) AS n, avg(length(sensor)) AS id FROM readings_1m WHERE minute >= ?', minuteFrom);
  // The first event of the last day by bisecting the key over at_wall (events have no time index).
  const from = firstSeqFrom(db, now - DAY);
  const e = from === null ? { n: 0, bytes: 0 } : one<{ n: number; bytes: number | null }>('SELECT count(*) AS n, sum(length(payload)) AS bytes FROM events WHERE seq >= ?', from);
  const readingsPerDay = r.n * 24;
  const rollupsPerDay = u.n * 24;
  const readingBytes = READING_BYTES + (r.id ?? 4);
  const rollupBytes = ROLLUP_BYTES + 2 * (u.id ?? 4);
  const eventDay = e.n * EVENT_BYTES + (e.bytes ?? 0);
  const pages = one<{ n: number }>('SELECT page_count * page_size AS n FROM pragma_page_count(), pragma_page_size()').n;
  return {
    readingsPerDay,
    rollupsPerDay,
    eventsPerDay: e.n,
    bytesPerDay: readingsPerDay * readingBytes + rollupsPerDay * rollupBytes + eventDay,
    levelsOffBytes: readingsPerDay * readingBytes * retention.rawDays + rollupsPerDay * rollupBytes * retention.rollupDays + eventDay * retention.eventDays,
    nowBytes: pages,
  };
}

const gb = (b: number): string => (b >= 10 * 1024 * MB ? `${(b / 1024 / MB).toFixed(0)} GB` : b >= 1024 * MB ? `${(b / 1024 / MB).toFixed(1)} GB` : `${(b / MB).toFixed(0)} MB`);

/** The log's folder, or the nearest one above it that exists (the box creates the rest at its first start). */
function existingDir(path: string): string {
  let dir = dirname(path);
  while (!existsSync(dir) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}

export function diskCheck(ctx: DoctorContext, log: Database.Database | null): CheckResult {
  const dir = existingDir(ctx.dbPath);
  const what = said(`日志磁盘 ${dir}`, `log disk ${dir}`);
  let free: number;
  let total: number;
  try {
    if (ctx.o.statfs) ({ freeBytes: free, totalBytes: total } = ctx.o.statfs(dir));
    else {
      const s = statfsSync(dir);
      free = s.bavail * s.bsize;
      total = s.blocks * s.bsize;
    }
  } catch (err) {
    return { id: 'disk', status: 'fail', what, said: said(`读不到磁盘信息:${(err as Error).message}`, `cannot read the disk: ${(err as Error).message}`), fix: said('目录不存在?检查 store.path 和挂载', 'does the folder exist? check store.path and the mount') };
  }
  const { store } = ctx.config;
  let g: Growth | null = null;
  if (log) {
    try {
      g = logGrowth(log, ctx.o.now(), { rawDays: store.rawRetentionDays, rollupDays: store.rollupRetentionDays, eventDays: store.eventRetentionDays });
    } catch {
      g = null;
    }
  }
  const minFree = ctx.o.minFreeMb * MB;
  const figures: Record<string, number | null> = { free_mb: Math.round(free / MB), total_mb: Math.round(total / MB), growth_mb_per_day: g ? Math.round((g.bytesPerDay / MB) * 10) / 10 : null, levels_off_mb: g ? Math.round(g.levelsOffBytes / MB) : null, days_left: null };
  const head = said(`剩余 ${gb(free)} / ${gb(total)}`, `${gb(free)} of ${gb(total)} free`);
  if (free < minFree) {
    return { id: 'disk', status: 'fail', what, said: said(`${head.zh},不足 ${ctx.o.minFreeMb} MB`, `${head.en}, under ${ctx.o.minFreeMb} MB`), fix: said('删掉不需要的文件(旧备份、日志文件 journalctl --vacuum-size=50M),或换更大的卡', 'delete what is not needed (old backups, journal: journalctl --vacuum-size=50M), or fit a bigger card'), figures };
  }
  if (!g || g.bytesPerDay === 0) {
    return { id: 'disk', status: 'pass', what, said: said(`${head.zh};日志最近没有增长,无法估算天数`, `${head.en}; the log has not grown lately, so no estimate of days`), figures };
  }
  // Growth stops where retention prunes as fast as rows come: only what is still to come counts.
  const toCome = Math.max(0, g.levelsOffBytes - g.nowBytes);
  const days = (free - minFree) / g.bytesPerDay;
  figures.days_left = Math.round(days);
  const rate = said(`日志每天增长约 ${(g.bytesPerDay / MB).toFixed(1)} MB`, `the log grows about ${(g.bytesPerDay / MB).toFixed(1)} MB a day`);
  if (toCome < free - minFree) {
    return { id: 'disk', status: 'pass', what, said: said(`${head.zh};${rate.zh},按保留期最终约 ${gb(g.levelsOffBytes)},空间够用`, `${head.en}; ${rate.en} and levels off at about ${gb(g.levelsOffBytes)} under retention: enough room`), figures };
  }
  const ok = days >= ctx.o.minDays;
  return {
    id: 'disk',
    status: ok ? 'pass' : 'fail',
    what,
    said: said(`${head.zh};${rate.zh},约 ${Math.round(days)} 天后写满`, `${head.en}; ${rate.en}: full in about ${Math.round(days)} days`),
    ...(ok ? {} : { fix: said(`换更大的卡,或缩短 store.raw_retention_days(现在 ${store.rawRetentionDays} 天)`, `fit a bigger card, or shorten store.raw_retention_days (now ${store.rawRetentionDays} days)`) }),
    figures,
  };
}

/** The running box's writes per hour since it started, against the budget. */
export function wearCheck(ctx: DoctorContext): CheckResult {
  const what = said('SD 卡磨损(每小时写入)', 'SD card wear (written per hour)');
  const budget = ctx.o.wearBudgetMbPerH;
  if (!ctx.box) {
    return { id: 'wear', status: 'info', what, said: said('哨兵没有运行,无从测量', 'the box is not running: nothing to measure'), figures: { budget_mb_per_h: budget } };
  }
  const io = processIo(ctx.box.pid, ctx.o.procRoot);
  if (!io) {
    return { id: 'wear', status: 'unknown', what, said: said(`读不到哨兵(pid ${ctx.box.pid})的 I/O 计数`, `cannot read the box's (pid ${ctx.box.pid}) I/O counters`), fix: said('用 root 运行 doctor(sudo)', 'run the doctor as root (sudo)') };
  }
  const minutes = io.uptimeS / 60;
  if (io.uptimeS < ctx.o.wearMinUptimeS) {
    return { id: 'wear', status: 'unknown', what, said: said(`哨兵才运行 ${minutes.toFixed(0)} 分钟,启动时的写入还占大头`, `the box has run only ${minutes.toFixed(0)} min; start-up writes still dominate`), fix: said(`${Math.ceil(ctx.o.wearMinUptimeS / 60)} 分钟后再运行 doctor`, `run the doctor again after ${Math.ceil(ctx.o.wearMinUptimeS / 60)} min`) };
  }
  const mbPerH = io.writeBytes / MB / (io.uptimeS / 3600);
  const figures = { mb_per_h: Math.round(mbPerH * 10) / 10, budget_mb_per_h: budget, over_minutes: Math.round(minutes) };
  const found = said(`${mbPerH.toFixed(1)} MB/h(运行 ${minutes.toFixed(0)} 分钟的平均),预算 ${budget} MB/h`, `${mbPerH.toFixed(1)} MB/h (average over ${minutes.toFixed(0)} min of running), budget ${budget} MB/h`);
  if (mbPerH <= budget) return { id: 'wear', status: 'pass', what, said: found, figures };
  return {
    id: 'wear',
    status: 'fail',
    what,
    said: found,
    fix: said('超出预算:查看是否有传感器发得过快(每秒多次),或有程序在同一张卡上大量写入;用工业级 SD 卡或 SSD', 'over budget: look for sensors sending too fast (several times a second) or another program writing to this card; use an industrial SD card or an SSD'),
    figures,
  };
}
