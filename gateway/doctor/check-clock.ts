/**
 * The clock. Events carry wall time, and a time that is wrong after a power cut makes a log a
 * court cannot read; the box flags events made before the clock is plausible
 * (`clock_trusted: false`, shell/clock.ts). Three findings:
 * - NTP: systemd's `timedatectl show -p NTPSynchronized`, else timesyncd's flag file
 *   /run/systemd/timesync/synchronized; neither in a container or without systemd: "unknown",
 *   never a guess.
 * - an RTC (/dev/rtc*): without one and without network the clock starts wrong after every
 *   power cut. Not a failure while NTP is synchronised (the network sets it within a minute).
 * - the log: events stamped while the clock was untrusted, and whether the newest one is.
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import type Database from 'better-sqlite3';
import { TRUSTED_AFTER } from '../shell/clock.ts';
import type { DoctorContext } from './context.ts';
import { said, type CheckResult } from './types.ts';

/** `yes`/`no` from timedatectl, or null when it cannot say (no systemd, no D-Bus, not installed). */
function timedatectl(cmd: string[] | null): Promise<boolean | null> {
  if (!cmd) return Promise.resolve(null);
  return new Promise((resolve) => {
    execFile(cmd[0]!, cmd.slice(1), { timeout: 5000 }, (err, stdout) => {
      const v = String(stdout).trim();
      if (err || (v !== 'yes' && v !== 'no')) resolve(null);
      else resolve(v === 'yes');
    });
  });
}

export async function clockChecks(ctx: DoctorContext, log: Database.Database | null): Promise<CheckResult[]> {
  const out: CheckResult[] = [];
  const byCtl = await timedatectl(ctx.o.timedatectl);
  const synced = byCtl ?? (existsSync(ctx.o.timesyncFile) ? true : null);
  const ntpWhat = said('时钟 NTP 同步', 'clock NTP sync');
  if (synced === true) out.push({ id: 'clock:ntp', status: 'pass', what: ntpWhat, said: said('已同步', 'synchronised'), figures: { synchronised: true } });
  else if (synced === false)
    out.push({ id: 'clock:ntp', status: 'fail', what: ntpWhat, said: said('未同步', 'not synchronised'), fix: said('检查网络和 NTP 服务器(timedatectl timesync-status);村里没网时装 RTC', 'check the network and the NTP server (timedatectl timesync-status); where there is no network, fit an RTC'), figures: { synchronised: false } });
  else
    out.push({
      id: 'clock:ntp',
      status: 'unknown',
      what: ntpWhat,
      said: said('无法判断:没有 systemd 的时间同步(容器里?)', 'cannot tell: no systemd time sync here (a container?)'),
      fix: said('在真机上运行;用 chrony 时看 chronyc tracking', 'run on the box itself; with chrony, see chronyc tracking'),
      figures: { synchronised: null },
    });

  let rtcs: string[] = [];
  try {
    rtcs = readdirSync(ctx.o.devDir).filter((f) => /^rtc\d*$/.test(f));
  } catch {
    rtcs = [];
  }
  const rtcWhat = said('实时时钟 RTC', 'real-time clock (RTC)');
  if (rtcs.length) out.push({ id: 'clock:rtc', status: 'pass', what: rtcWhat, said: said(`有 ${rtcs.map((r) => `/dev/${r}`).join(', ')}:断电后时间不丢`, `present (${rtcs.map((r) => `/dev/${r}`).join(', ')}): the time survives a power cut`) });
  else if (synced === true) out.push({ id: 'clock:rtc', status: 'info', what: rtcWhat, said: said('没有:时间来自网络;断电又断网时开机时间会错', 'none: the time comes from the network; after a power cut without network it starts wrong') });
  else
    out.push({
      id: 'clock:rtc',
      status: 'fail',
      what: rtcWhat,
      said: said('没有,时间也未从网络同步:断电后开机时间会错', 'none, and the time is not synchronised from the network: after a power cut the clock starts wrong'),
      fix: said('装 RTC 模块(如 DS3231,树莓派 config.txt 加 dtoverlay=i2c-rtc,ds3231),或接通网络', 'fit an RTC module (e.g. a DS3231; on a Raspberry Pi add dtoverlay=i2c-rtc,ds3231 to config.txt), or connect the network'),
    });

  const evWhat = said('日志时间戳', "the log's timestamps");
  const now = ctx.o.now();
  if (now < TRUSTED_AFTER) {
    out.push({ id: 'clock:events', status: 'fail', what: evWhat, said: said(`系统时间 ${new Date(now).toISOString()} 不可信:新事件都会标为 clock_trusted: false`, `the system time ${new Date(now).toISOString()} is not plausible: new events are marked clock_trusted: false`), fix: said('设好时间(联网,或 date -s 后 hwclock -w)', 'set the time (network, or date -s then hwclock -w)') });
    return out;
  }
  if (!log) {
    // No log yet (a new box) is nothing to judge; a log that exists and cannot be read is the log check's failure.
    out.push({ id: 'clock:events', status: existsSync(ctx.dbPath) ? 'unknown' : 'info', what: evWhat, said: existsSync(ctx.dbPath) ? said('日志打不开,无法查看', 'the log cannot be opened, so not looked at') : said('还没有日志', 'no log yet') });
    return out;
  }
  try {
    const n = (log.prepare('SELECT count(*) AS n FROM events WHERE clock_trusted = 0').get() as { n: number }).n;
    const newest = log.prepare('SELECT clock_trusted AS t FROM events ORDER BY seq DESC LIMIT 1').get() as { t: number } | undefined;
    const figures = { untrusted_events: n, newest_untrusted: newest ? newest.t === 0 : null };
    if (newest && newest.t === 0) out.push({ id: 'clock:events', status: 'fail', what: evWhat, said: said(`最新的事件标着 clock_trusted: false(共 ${n} 条)`, `the newest event is marked clock_trusted: false (${n} in all)`), fix: said('哨兵认为时钟不可信:设好时间后重启哨兵', 'the box does not trust its clock: set the time, then restart the box'), figures });
    else if (n > 0) out.push({ id: 'clock:events', status: 'pass', what: evWhat, said: said(`现在可信;以前有 ${n} 条事件是在时钟不可信时记下的,它们的时间不可靠`, `trusted now; ${n} earlier events were stamped while the clock was untrusted, and their times are unreliable`), figures });
    else out.push({ id: 'clock:events', status: 'pass', what: evWhat, said: said('所有事件的时间都可信', 'every event was stamped with a trusted clock'), figures });
  } catch (err) {
    out.push({ id: 'clock:events', status: 'unknown', what: evWhat, said: said(`读日志失败:${(err as Error).message}`, `reading the log failed: ${(err as Error).message}`) });
  }
  return out;
}
