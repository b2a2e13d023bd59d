/**
 * `shaobing doctor --config SITE.yaml`: the technician's one command on site. It checks, in
 * order: the config; whether the box runs; the field buses and every Modbus unit; the local
 * ports; the township broker; the audio device; the clock; the log's disk and the SD card's
 * wear; the log's integrity. It works while the box runs: it only reads the log (read-only
 * connection), never opens a serial port the box holds and never connects to a bus the box
 * uses (check-buses.ts says why), and never publishes.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type Database from 'better-sqlite3';
import type { DeviceProfile } from '../../drivers/modbus/profile-types.ts';
import type { SiteConfig } from '../config/types.ts';
import { audioChecks } from './check-audio.ts';
import { busChecks, type BusDeps } from './check-buses.ts';
import { clockChecks } from './check-clock.ts';
import { diskCheck, wearCheck } from './check-disk.ts';
import { logCheck, openLogReadOnly } from './check-log.ts';
import { portChecks } from './check-ports.ts';
import { townshipCheck } from './check-township.ts';
import { withDefaults, type DoctorContext, type DoctorOptions } from './context.ts';
import { holdersOf, processIo } from './proc.ts';
import { said, type CheckResult } from './types.ts';

export type { DoctorOptions } from './context.ts';

/** The config check: every problem at once, as check-config prints them. */
async function loadChecked(file: string): Promise<{ result: CheckResult; problems: string[]; config: SiteConfig | null; profiles: Map<string, DeviceProfile> }> {
  const what = said(`配置 ${file}`, `config ${file}`);
  const { checkConfigFile, problemLines } = await import('../config/load.ts');
  let checked: ReturnType<typeof checkConfigFile>;
  try {
    checked = checkConfigFile(file);
  } catch (err) {
    return { result: { id: 'config', status: 'fail', what, said: said(`读不到:${(err as Error).message}`, `cannot be read: ${(err as Error).message}`), fix: said('检查路径和权限', 'check the path and permissions') }, problems: [], config: null, profiles: new Map() };
  }
  if (!checked.config) {
    const problems = problemLines(file, checked.problems);
    return { result: { id: 'config', status: 'fail', what, said: said(`有 ${problems.length} 处错误(见下)`, `${problems.length} problems (below)`), fix: said('逐条改正后用 shaobing check-config 再查', 'fix each, then check again with shaobing check-config') }, problems, config: null, profiles: new Map() };
  }
  const config = checked.config;
  let profiles = new Map<string, DeviceProfile>();
  if (config.buses.length) {
    try {
      const { loadAllProfiles } = await import('../../drivers/modbus/profiles.ts');
      const { modbusDevices } = await import('../../drivers/modbus/field-buses.ts');
      profiles = new Map(loadAllProfiles().map((p) => [p.model, p]));
      modbusDevices(config, profiles); // throws for an unknown profile or a register it lacks
    } catch (err) {
      return { result: { id: 'config', status: 'fail', what, said: said(`设备型号文件有问题:${(err as Error).message}`, `device profiles: ${(err as Error).message}`), fix: said('改正配置里的 profile 名称(见 hardware/profiles/)', 'fix the profile name in the config (see hardware/profiles/)') }, problems: [], config: null, profiles };
    }
  }
  const n = { sensors: config.sensors.length, actuators: config.actuators.length, buses: config.buses.length };
  return { result: { id: 'config', status: 'pass', what, said: said(`有效(站点 ${config.site.id},${n.sensors} 个传感器,${n.actuators} 个执行器,${n.buses} 条总线)`, `valid (site ${config.site.id}; sensors ${n.sensors}, actuators ${n.actuators}, buses ${n.buses})`), figures: n }, problems: [], config, profiles };
}

function boxLine(ctx: DoctorContext): CheckResult {
  const what = said('哨兵进程', 'the box');
  const b = ctx.box;
  if (!b && ctx.boxUnseen) {
    return { id: 'box', status: 'unknown', what, said: said(`看不出是否在运行:有 ${ctx.unreadable} 个进程看不到,日志旁有 WAL;总线不碰`, `cannot tell whether it runs: ${ctx.unreadable} processes could not be looked into and the log has a WAL beside it; the buses are left alone`), fix: said('用 root 运行:sudo shaobing doctor --config …', 'run it as root: sudo shaobing doctor --config …'), figures: { running: null } };
  }
  if (!b) {
    const unseen = ctx.unreadable ? said(`(有 ${ctx.unreadable} 个进程看不到:用 root 运行)`, ` (${ctx.unreadable} processes could not be looked into: run as root)`) : said('', '');
    return { id: 'box', status: 'info', what, said: said(`没有运行:总线会直接读${unseen.zh}`, `not running: the buses are read directly${unseen.en}`), figures: { running: false } };
  }
  const up = processIo(b.pid, ctx.o.procRoot)?.uptimeS;
  const upText = up === undefined ? said('', '') : said(`,已运行 ${(up / 3600).toFixed(1)} 小时`, `, up ${(up / 3600).toFixed(1)} h`);
  return { id: 'box', status: 'info', what, said: said(`正在运行(pid ${b.pid}${upText.zh}):只读日志,不碰它的总线`, `running (pid ${b.pid}${upText.en}): the log is only read and its buses are left alone`), figures: { running: true, pid: b.pid } };
}

export interface DoctorRun {
  results: CheckResult[];
  /** Problem lines of an invalid config (as check-config prints them). */
  configProblems: string[];
}

/** Runs every check; never throws for what it finds (a check that throws is a failed check). */
export async function runDoctor(configFile: string, options: DoctorOptions = {}, deps: Omit<BusDeps, 'log'> = {}): Promise<DoctorRun> {
  const o = withDefaults(options);
  const loaded = await loadChecked(configFile);
  const results: CheckResult[] = [loaded.result];
  if (!loaded.config) return { results, configProblems: loaded.problems };
  const config = loaded.config;
  const dbPath = resolve(config.store.path);
  const seen = holdersOf([dbPath], o.procRoot);
  const holders = seen.byTarget.get(dbPath) ?? [];
  const box = holders.find((h) => h.box) ?? null;
  const boxUnseen = !box && seen.unreadable > 0 && existsSync(`${dbPath}-wal`);
  const ctx: DoctorContext = { configFile, config, profiles: loaded.profiles, dbPath, box, otherLogHolders: holders.filter((h) => !h.box), unreadable: seen.unreadable, boxUnseen, o };
  results.push(boxLine(ctx));
  const opened = openLogReadOnly(dbPath);
  const log: Database.Database | null = 'db' in opened ? opened.db : null;
  const guard = async (id: string, what: CheckResult['what'], fn: () => Promise<CheckResult | CheckResult[]> | CheckResult | CheckResult[]): Promise<void> => {
    try {
      const r = await fn();
      results.push(...(Array.isArray(r) ? r : [r]));
    } catch (err) {
      results.push({ id, status: 'fail', what, said: said(`检查出错:${(err as Error).message}`, `the check itself failed: ${(err as Error).message}`) });
    }
  };
  try {
    await guard('buses', said('现场总线', 'field buses'), () => busChecks(ctx, { ...deps, log }));
    await guard('ports', said('本地端口', 'local ports'), () => portChecks(ctx));
    await guard('township', said('乡镇服务器', 'township broker'), () => townshipCheck(ctx));
    await guard('audio', said('声音', 'sound'), () => audioChecks(ctx));
    await guard('clock', said('时钟', 'clock'), () => clockChecks(ctx, log));
    await guard('disk', said('日志磁盘', 'log disk'), () => diskCheck(ctx, log));
    await guard('wear', said('SD 卡磨损', 'SD card wear'), () => wearCheck(ctx));
    await guard('log', said('事件日志', 'event log'), () => logCheck(ctx, opened));
    if (ctx.otherLogHolders.length) {
      const h = ctx.otherLogHolders[0]!;
      // A sqlite3 shell looking at it is harmless; anything else (a second box) is not.
      results.push({ id: 'log:holders', status: /(^|\/)sqlite3(\s|$)/.test(h.command) ? 'info' : 'fail', what: said('事件日志的使用者', "the log's users"), said: said(`另一个程序打开着日志(pid ${h.pid}: ${h.command.slice(0, 60)})`, `another program has the log open (pid ${h.pid}: ${h.command.slice(0, 60)})`), fix: said('两个哨兵不能共用一个日志;关掉它(sqlite3 的只读查看可以)', 'two boxes must not share one log: close it (a read-only sqlite3 look is fine)') });
    }
  } finally {
    log?.close();
  }
  return { results, configProblems: [] };
}
