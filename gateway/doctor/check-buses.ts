/**
 * Field buses: every RTU line's serial device exists and opens, every TCP gateway connects, and
 * every configured Modbus unit answers one read (its feed register, or a relay's confirm
 * register: the doctor reads, it never writes, so no siren sounds), with the round trip measured.
 *
 * **Never the running box's bus.** An RS-485 line is half-duplex with one master (Modbus over
 * serial line V1.02 §2.2); a second master's frames collide with the box's, the box sees CRC
 * errors and timeouts, marks healthy units down and raises false faults. serialport also locks
 * the device (flock), so the doctor could not open it anyway. A Modbus TCP gateway takes several
 * clients, but cheap ones (one connection at a time) drop the box's connection for the new one.
 * So while the box runs, a unit with sensors is judged from what the box itself logged in the
 * last minutes (its readings: the latest good one's age, failed polls), and a relay is skipped
 * (the box reads it back only when it drives it). `--bus-reads always` reads TCP buses anyway.
 */
import { existsSync, statSync } from 'node:fs';
import type Database from 'better-sqlite3';
import { ModbusSerialLink, type Link } from '../../drivers/modbus/link.ts';
import { linkConfig } from '../../drivers/modbus/field-buses.ts';
import { decode, engineering } from '../../drivers/modbus/decode.ts';
import { ModbusExceptionError, ModbusTransportError } from '../../drivers/modbus/errors.ts';
import type { DeviceProfile, RegisterDef } from '../../drivers/modbus/profile-types.ts';
import { planReads, wordsOf } from '../../drivers/modbus/read-plan.ts';
import { sensorRegister } from '../../drivers/modbus/sensor-register.ts';
import type { BusConfig } from '../config/types.ts';
import type { DoctorContext } from './context.ts';
import { modbusFailure, openFailure } from './modbus-words.ts';
import { holdersOf, type Holder } from './proc.ts';
import { said, type CheckResult } from './types.ts';

/** One unit on a bus and what the site uses it for. */
interface Unit {
  unit: number;
  profile: DeviceProfile;
  sensors: string[];
  actuators: string[];
  /** The register one read asks for. */
  register: RegisterDef;
  pollS: number;
}

function unitsOf(ctx: DoctorContext, bus: string): Unit[] {
  const out = new Map<number, Unit>();
  const entry = (unit: number, profileName: string, pollS: number): Unit | null => {
    const profile = ctx.profiles.get(profileName);
    if (!profile) return null;
    const u = out.get(unit) ?? { unit, profile, sensors: [], actuators: [], register: profile.registers[0]!, pollS };
    out.set(unit, u);
    u.pollS = Math.min(u.pollS, pollS);
    return u;
  };
  for (const s of ctx.config.sensors) {
    if (s.modbus?.bus !== bus) continue;
    const u = entry(s.modbus.unit, s.modbus.profile, s.modbus.pollS);
    const name = u && sensorRegister(u.profile, s.kind, s.modbus.register);
    const reg = name ? u.profile.registers.find((r) => r.name === name) : undefined;
    if (!u || !reg) continue;
    if (!u.sensors.length) u.register = reg;
    u.sensors.push(s.id);
  }
  // A speaker's amplifier power relay (drivers/speaker/amp-relay.ts) is a relay on a bus too.
  const relays: { id: string; modbus: { bus: string; unit: number; profile: string; coil: number } | null }[] = [
    ...ctx.config.actuators.map((a) => ({ id: a.id, modbus: a.modbus })),
    ...ctx.config.actuators.map((a) => ({ id: `${a.id}-amp`, modbus: a.audio?.amp ?? null })),
  ];
  for (const a of relays) {
    if (a.modbus?.bus !== bus) continue;
    const u = entry(a.modbus.unit, a.modbus.profile, 3600);
    if (!u) continue;
    const act = u.profile.actions.find((x) => x.name === 'siren_on') ?? u.profile.actions.find((x) => x.confirm);
    const confirm = act?.confirm ? u.profile.registers.find((r) => r.name === act.confirm) : undefined;
    if (!u.sensors.length && confirm) u.register = { ...confirm, address: confirm.address + a.modbus.coil };
    u.actuators.push(a.id);
  }
  return [...out.values()].sort((a, b) => a.unit - b.unit);
}

const whoOf = (u: Unit): string => [...u.sensors, ...u.actuators].join(', ');
const errnoOf = (message: string): string | undefined => /\b(E[A-Z]{3,})\b/.exec(message)?.[1] ?? (/permission denied/i.test(message) ? 'EACCES' : /cannot lock port|resource temporarily unavailable/i.test(message) ? 'EBUSY' : undefined);

/** One read of a unit's register (its `once` context registers first, as the poller reads them), timed. */
async function readUnit(link: Link, u: Unit): Promise<{ value: number; ms: number; tries: number }> {
  const reg = u.register;
  const context = u.profile.registers.filter((r) => r.once && (r.name === reg.decimalsFrom || r.name === reg.unitFrom));
  const once = new Map<string, number>();
  let tries = 0;
  // Two tries, as the box's default `retries: 1`: one lost frame is noise, two is a finding.
  const attempt = async <T>(fn: () => Promise<T>): Promise<T> => {
    for (let i = 0; ; i++) {
      tries++;
      try {
        return await fn();
      } catch (err) {
        if (err instanceof ModbusExceptionError || i >= 1) throw err;
      }
    }
  };
  for (const b of planReads(context, undefined, u.profile.registers)) {
    const data = await attempt(() => link.read(u.unit, b.table, b.address, b.count));
    for (const r of b.registers) once.set(r.name, decode(wordsOf(b, data, r), r.type));
  }
  const [block] = planReads([reg], undefined, u.profile.registers);
  const t0 = performance.now();
  const data = await attempt(() => link.read(u.unit, block!.table, block!.address, block!.count));
  const ms = performance.now() - t0;
  const raw = decode(wordsOf(block!, data, reg), reg.type);
  const value = reg.decimalsFrom || reg.unitFrom || reg.scale !== 1 ? engineering(raw, reg, once.get(reg.decimalsFrom ?? ''), once.get(reg.unitFrom ?? '')) : raw;
  return { value, ms, tries };
}

function unitWhat(bus: BusConfig, u: Unit): CheckResult['what'] {
  return said(`Modbus ${bus.id} 地址 ${u.unit}(${whoOf(u)})`, `Modbus ${bus.id} unit ${u.unit} (${whoOf(u)})`);
}

async function readUnits(bus: BusConfig, link: Link, units: Unit[]): Promise<CheckResult[]> {
  const out: CheckResult[] = [];
  for (const u of units) {
    const id = `modbus:${bus.id}:${u.unit}`;
    try {
      const r = await readUnit(link, u);
      const v = `${Math.round(r.value * 1000) / 1000}${u.register.unit ? ` ${u.register.unit}` : ''}`;
      const again = r.tries > 1 ? said(`,重试后`, ', after a retry') : said('', '');
      out.push({
        id,
        status: 'pass',
        what: unitWhat(bus, u),
        said: said(`应答 ${u.register.name} = ${v},往返 ${r.ms.toFixed(1)} ms${again.zh}`, `answered ${u.register.name} = ${v}, round trip ${r.ms.toFixed(1)} ms${again.en}`),
        figures: { round_trip_ms: Math.round(r.ms * 10) / 10, value: r.value, tries: r.tries },
      });
    } catch (err) {
      const code = err instanceof ModbusExceptionError || err instanceof ModbusTransportError ? err.code : 'E_PORT';
      const w = modbusFailure(code, { unit: u.unit, rtu: bus.type === 'rtu', timeoutMs: bus.timeoutMs, profile: u.profile.model });
      out.push({ id, status: 'fail', what: unitWhat(bus, u), said: w.said, fix: w.fix, figures: { code } });
    }
  }
  return out;
}

/** Per sensor, over the last `sinceMs`: good and failed readings the box logged and the newest good one. */
export function loggedReadings(db: Database.Database, sinceWall: number): Map<string, { good: number; failed: number; lastGoodAt: number | null }> {
  const rows = db
    .prepare<[number], { sensor: string; good: number; failed: number; last_good: number | null }>(
      "SELECT sensor, sum(quality = 'good') AS good, sum(quality != 'good') AS failed, max(CASE WHEN quality = 'good' THEN at_wall END) AS last_good FROM readings WHERE at_wall >= ? GROUP BY sensor",
    )
    .all(sinceWall);
  return new Map(rows.map((r) => [r.sensor, { good: r.good, failed: r.failed, lastGoodAt: r.last_good }]));
}

/** A unit judged from the running box's own readings (no frame of ours on its bus). */
function fromLog(bus: BusConfig, u: Unit, logged: ReturnType<typeof loggedReadings> | null, now: number, windowMs: number, box: Holder): CheckResult {
  const id = `modbus:${bus.id}:${u.unit}`;
  const what = unitWhat(bus, u);
  if (!u.sensors.length || !logged) {
    return {
      id,
      status: 'skipped',
      what,
      said: said(`未读:哨兵(pid ${box.pid})正在使用此总线,继电器只在驱动时回读`, `not read: the box (pid ${box.pid}) is using this bus, and reads a relay back only when it drives it`),
      fix: said('要完整检查,先停哨兵(systemctl stop shaobing)再运行 doctor', 'for a full check, stop the box (systemctl stop shaobing) and run the doctor again'),
    };
  }
  const stats = u.sensors.map((s) => logged.get(s) ?? { good: 0, failed: 0, lastGoodAt: null });
  const good = stats.reduce((n, s) => n + s.good, 0);
  const failed = stats.reduce((n, s) => n + s.failed, 0);
  const newest = Math.max(...stats.map((s) => s.lastGoodAt ?? 0));
  const ageS = newest > 0 ? Math.round((now - newest) / 1000) : null;
  const win = Math.round(windowMs / 1000);
  const figures = { good_polls: good, failed_polls: failed, last_good_age_s: ageS, window_s: win };
  if (ageS !== null && ageS <= 3 * u.pollS + 5) {
    const tail = failed ? said(`,另有 ${failed} 次失败`, `, ${failed} failed`) : said('', '');
    return { id, status: 'pass', what, said: said(`哨兵在用:${win} s 内 ${good} 次读数正常${tail.zh},最新 ${ageS} s 前`, `in use by the box: ${good} good readings in ${win} s${tail.en}, the newest ${ageS} s ago`), figures };
  }
  const w = modbusFailure('E_TIMEOUT', { unit: u.unit, rtu: bus.type === 'rtu', timeoutMs: bus.timeoutMs, profile: u.profile.model });
  const seen = failed ? said(`哨兵 ${win} s 内读它失败 ${failed} 次,无正常读数`, `the box's reads failed ${failed} times in ${win} s, none good`) : said(`哨兵 ${win} s 内没有它的读数`, `the box logged no reading of it in ${win} s`);
  return { id, status: 'fail', what, said: seen, fix: w.fix, figures };
}

export interface BusDeps {
  /** The log, read-only (for the running box's readings); null when it cannot be opened. */
  log: Database.Database | null;
  makeLink?: (b: BusConfig) => Link;
}

export async function busChecks(ctx: DoctorContext, deps: BusDeps): Promise<CheckResult[]> {
  const out: CheckResult[] = [];
  const now = ctx.o.now();
  const maxPoll = Math.max(10, ...ctx.config.sensors.map((s) => s.modbus?.pollS ?? 0));
  const windowMs = Math.min(600_000, Math.max(60_000, (3 * maxPoll + 5) * 1000));
  let logged: ReturnType<typeof loggedReadings> | null = null;
  if (ctx.box && deps.log) {
    try {
      logged = loggedReadings(deps.log, now - windowMs);
    } catch {
      logged = null;
    }
  }
  const rtuPaths = ctx.config.buses.filter((b) => b.type === 'rtu').map((b) => b.path!);
  const held = holdersOf([...rtuPaths, ...ctx.config.serial.map((s) => s.path)], ctx.o.procRoot).byTarget;
  for (const bus of ctx.config.buses) {
    const units = unitsOf(ctx, bus.id);
    const rtu = bus.type === 'rtu';
    const where = rtu ? bus.path! : `${bus.host}:${bus.port}`;
    const what = rtu ? said(`串口 ${where}(总线 ${bus.id})`, `serial port ${where} (bus ${bus.id})`) : said(`Modbus TCP 网关 ${where}(总线 ${bus.id})`, `Modbus TCP gateway ${where} (bus ${bus.id})`);
    const id = `bus:${bus.id}`;
    if (ctx.boxUnseen) {
      out.push({ id, status: 'skipped', what, said: said('未碰:哨兵可能在运行而看不到', 'left alone: the box may be running unseen'), fix: said('用 root 运行 doctor(sudo)', 'run the doctor as root (sudo)') });
      for (const u of units) out.push({ id: `modbus:${bus.id}:${u.unit}`, status: 'skipped', what: unitWhat(bus, u), said: said('未读', 'not read') });
      continue;
    }
    if (rtu) {
      let looked: NodeJS.ErrnoException | null = null;
      try {
        statSync(bus.path!);
      } catch (err) {
        looked = err as NodeJS.ErrnoException;
      }
      if (looked && looked.code !== 'ENOENT') {
        out.push({ id, status: 'fail', what, said: said(`看不了(${looked.code})`, `cannot be looked at (${looked.code})`), fix: said('用 root 运行 doctor(sudo)', 'run the doctor as root (sudo)') });
        for (const u of units) out.push({ id: `modbus:${bus.id}:${u.unit}`, status: 'skipped', what: unitWhat(bus, u), said: said('未读', 'not read') });
        continue;
      }
      if (looked) {
        out.push({ id, status: 'fail', what, said: said('不存在', 'does not exist'), fix: said('插好 USB-RS485 转换器;用 ls -l /dev/serial/by-id/ 找到它,配置里写 by-id 路径(重插后不变)', 'plug in the USB-RS485 adapter; find it with ls -l /dev/serial/by-id/ and put that path in the config (it survives replugging)') });
        for (const u of units) out.push({ id: `modbus:${bus.id}:${u.unit}`, status: 'skipped', what: unitWhat(bus, u), said: said('未读:串口不存在', 'not read: the serial port does not exist') });
        continue;
      }
      if (!statSync(bus.path!).isCharacterDevice()) {
        out.push({ id, status: 'fail', what, said: said('不是串口设备', 'is not a serial device'), fix: said('配置的路径写错了:用 ls -l /dev/serial/by-id/ 找到转换器', 'the configured path is wrong: find the adapter with ls -l /dev/serial/by-id/') });
        continue;
      }
    }
    const holders = rtu ? (held.get(bus.path!) ?? []).filter((h) => !h.ptyPeer) : [];
    const other = holders.find((h) => !h.box);
    if (other) {
      out.push({ id, status: 'fail', what, said: said(`被另一个程序占用(pid ${other.pid}: ${other.command.slice(0, 60)})`, `held by another program (pid ${other.pid}: ${other.command.slice(0, 60)})`), fix: said('停止那个程序:一条 RS-485 线只能有一个主站', 'stop that program: an RS-485 line has one master') });
      continue;
    }
    const box = ctx.box;
    if (box && (rtu || ctx.o.busReads !== 'always')) {
      const by = rtu ? said(`存在;由哨兵(pid ${box.pid})占用`, `exists; held by the box (pid ${box.pid})`) : said(`未连接:哨兵(pid ${box.pid})正在使用`, `not connected: the box (pid ${box.pid}) is using it`);
      out.push({ id, status: rtu ? 'pass' : 'skipped', what, said: by, ...(rtu ? {} : { fix: said('各地址的状况见下面(来自哨兵的读数);要直接读,加 --bus-reads always', "each unit's state is below, from the box's readings; to read it directly, add --bus-reads always") }) });
      for (const u of units) out.push(fromLog(bus, u, logged, now, windowMs, box));
      continue;
    }
    const link = deps.makeLink ? deps.makeLink(bus) : new ModbusSerialLink(linkConfig(bus));
    try {
      await link.open();
    } catch (err) {
      const message = (err as Error).message;
      const w = openFailure(errnoOf(message), message, { path: where, rtu });
      out.push({ id, status: 'fail', what, said: w.said, fix: w.fix });
      for (const u of units) out.push({ id: `modbus:${bus.id}:${u.unit}`, status: 'skipped', what: unitWhat(bus, u), said: said('未读:总线打不开', 'not read: the bus does not open') });
      await link.close();
      continue;
    }
    out.push({ id, status: 'pass', what, said: rtu ? said(`存在,可以打开(${bus.baud} ${bus.parity})`, `exists and opens (${bus.baud} baud, parity ${bus.parity})`) : said('可以连接', 'connects') });
    try {
      out.push(...(await readUnits(bus, link, units)));
    } finally {
      await link.close();
    }
  }
  out.push(...(await serialLineChecks(ctx, held)));
  return out;
}

/** Serial sensor lines (drivers/serial): the device exists and opens; the box's own, if it runs, is left alone. */
async function serialLineChecks(ctx: DoctorContext, held: Map<string, Holder[]>): Promise<CheckResult[]> {
  const out: CheckResult[] = [];
  for (const line of ctx.config.serial) {
    const id = `serial:${line.id}`;
    const what = said(`串口 ${line.path}(传感器线 ${line.id})`, `serial port ${line.path} (sensor line ${line.id})`);
    if (!existsSync(line.path)) {
      out.push({ id, status: 'fail', what, said: said('不存在', 'does not exist'), fix: said('插好转换器;用 ls -l /dev/serial/by-id/ 找到它', 'plug in the adapter; find it with ls -l /dev/serial/by-id/') });
      continue;
    }
    const holders = (held.get(line.path) ?? []).filter((h) => !h.ptyPeer);
    const box = holders.find((h) => h.box);
    const other = holders.find((h) => !h.box);
    if (other) {
      out.push({ id, status: 'fail', what, said: said(`被另一个程序占用(pid ${other.pid})`, `held by another program (pid ${other.pid})`), fix: said('停止那个程序', 'stop that program') });
      continue;
    }
    if (box) {
      out.push({ id, status: 'pass', what, said: said(`存在;由哨兵(pid ${box.pid})占用`, `exists; held by the box (pid ${box.pid})`) });
      continue;
    }
    const { openPort, closePort } = await import('../../drivers/serial/port.ts');
    try {
      const port = await openPort({ path: line.path, baudRate: line.baud }, 5000);
      await closePort(port, 2000);
      out.push({ id, status: 'pass', what, said: said(`存在,可以打开(${line.baud})`, `exists and opens (${line.baud} baud)`) });
    } catch (err) {
      const message = (err as Error).message;
      const w = openFailure(errnoOf(message), message, { path: line.path, rtu: true });
      out.push({ id, status: 'fail', what, said: w.said, fix: w.fix });
    }
  }
  return out;
}
