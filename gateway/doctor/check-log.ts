/**
 * The log, read only: opened with SQLite's read-only flag (never a write, so never a checkpoint
 * or a WAL deleted under the running box; store/open-log.ts says why a read-write look at a
 * damaged file is harmful), its schema version, its last seq, and `PRAGMA quick_check` (every
 * page and B-tree readable and well-formed; it skips the index-content cross-check of
 * integrity_check, which costs a full pass per index). Its read transaction holds the WAL from
 * being restarted while it runs; the box goes on committing meanwhile.
 */
import { existsSync } from 'node:fs';
import Database from 'better-sqlite3';
import { SCHEMA_VERSION } from '../store/schema.ts';
import type { DoctorContext } from './context.ts';
import { said, type CheckResult } from './types.ts';

/** Opens the log read-only, or says why not. */
export function openLogReadOnly(path: string): { db: Database.Database } | { error: string } {
  if (!existsSync(path)) return { error: 'missing' };
  try {
    const db = new Database(path, { readonly: true, fileMustExist: true });
    db.pragma('busy_timeout = 2000');
    return { db };
  } catch (err) {
    return { error: (err as Error).message };
  }
}

export function logCheck(ctx: DoctorContext, opened: ReturnType<typeof openLogReadOnly>): CheckResult {
  const what = said(`事件日志 ${ctx.dbPath}`, `event log ${ctx.dbPath}`);
  if ('error' in opened) {
    if (opened.error === 'missing') {
      return ctx.box
        ? { id: 'log', status: 'fail', what, said: said('文件不存在,但哨兵在运行', 'the file does not exist, yet the box runs'), fix: said('哨兵可能在用另一个配置:核对 store.path', 'the box may run with another config: check store.path') }
        : { id: 'log', status: 'info', what, said: said('还没有:哨兵第一次启动时创建', 'not there yet: the box creates it at its first start') };
    }
    return { id: 'log', status: 'fail', what, said: said(`打不开:${opened.error}`, `cannot be opened: ${opened.error}`), fix: said('检查文件权限;损坏时哨兵会把它改名保留并新建日志', 'check its permissions; a damaged log is renamed and kept by the box, which starts a new one') };
  }
  const db = opened.db;
  try {
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version > SCHEMA_VERSION) {
      return { id: 'log', status: 'fail', what, said: said(`结构版本 ${version} 比这个版本的哨兵新(${SCHEMA_VERSION})`, `schema version ${version} is newer than this build knows (${SCHEMA_VERSION})`), fix: said('装回写它的那个新版本;旧版本不会写它', 'install the newer build that wrote it again; this one will not write it') };
    }
    const t0 = performance.now();
    const rows = db.pragma('quick_check') as { quick_check: string }[];
    const ms = Math.round(performance.now() - t0);
    const last = (db.prepare('SELECT max(seq) AS s FROM events').get() as { s: number | null }).s;
    const figures = { quick_check_ms: ms, last_seq: last, schema_version: version };
    if (rows.length === 1 && rows[0]!.quick_check === 'ok') {
      return { id: 'log', status: 'pass', what, said: said(`完整性检查通过(quick_check,${ms} ms),最新 seq ${last ?? '无'}`, `integrity check passed (quick_check, ${ms} ms), last seq ${last ?? 'none'}`), figures };
    }
    const first = rows.slice(0, 3).map((r) => r.quick_check).join('; ');
    return {
      id: 'log',
      status: 'fail',
      what,
      said: said(`完整性检查失败:${first}`, `integrity check failed: ${first}`),
      fix: said('先备份(shaobing backup),停哨兵,用 sqlite3 <文件> .recover 救出数据;查 SD 卡', 'back it up first (shaobing backup), stop the box, rescue what can be with sqlite3 <file> .recover; check the SD card'),
      figures,
    };
  } catch (err) {
    const message = (err as Error).message;
    return { id: 'log', status: 'fail', what, said: said(`读取失败:${message}`, `reading failed: ${message}`), fix: said('文件可能已损坏:停哨兵,用 sqlite3 <文件> .recover;查 SD 卡', 'the file may be damaged: stop the box, try sqlite3 <file> .recover; check the SD card') };
  }
}
