/**
 * Polls Modbus sensors and turns their registers into readings. Each unit is polled on its own
 * interval through its bus's scheduler, each poll due one interval after the previous one was
 * due (not after it ended, so waiting for a try on the line does not push later polls back); a
 * failed read becomes a reading with quality `error` (the engine's health rules make it a
 * fault), never a number. A unit its bus has marked down (three failed polls in a row) is
 * polled once every `down_poll_s`, jittered, with one try, so one dead slave cannot hold the bus
 * for the others; it is polled at full speed again as soon as it answers (bus-queue.ts).
 */
import type { Logger } from 'pino';
import type { BoxContext, Module } from '../../gateway/shell/module.ts';
import { nextPollDue } from './bus-queue.ts';
import type { BusScheduler } from './bus-scheduler.ts';
import { decode, engineering } from './decode.ts';
import type { ModbusError } from './errors.ts';
import type { DeviceProfile, RegisterDef } from './profile-types.ts';
import { planReads, wordsOf, type ReadBlock } from './read-plan.ts';

/** One box sensor read from one register of one unit. */
export interface PolledSensor {
  sensor: string;
  bus: string;
  unit: number;
  profile: DeviceProfile;
  /** The register that feeds the sensor (default: the profile's `feeds` register). */
  register: string;
  pollMs: number;
}

interface UnitState {
  bus: string;
  unit: number;
  profile: DeviceProfile;
  sensors: { sensor: string; reg: RegisterDef }[];
  blocks: ReadBlock[];
  /** Values of `once` registers (decimals, unit codes), read when the unit is first reached. */
  once: Map<string, number> | null;
  pollMs: number;
  /** performance.now() ms when the current poll was due. */
  due: number;
  failures: number;
  timer: NodeJS.Timeout | null;
  lastError: string | null;
}

export class ModbusPoller implements Module {
  readonly name = 'modbus-poller';
  private readonly units: UnitState[] = [];
  private readonly log: Logger;
  private running = false;

  constructor(private readonly ctx: BoxContext, private readonly buses: Map<string, BusScheduler>, sensors: PolledSensor[]) {
    this.log = ctx.log.child({ module: 'modbus' });
    for (const s of sensors) {
      const reg = s.profile.registers.find((r) => r.name === s.register);
      if (!reg) throw new Error(`sensor ${s.sensor}: profile ${s.profile.model} has no register '${s.register}'`);
      let u = this.units.find((x) => x.bus === s.bus && x.unit === s.unit);
      if (!u) {
        u = { bus: s.bus, unit: s.unit, profile: s.profile, sensors: [], blocks: [], once: null, pollMs: s.pollMs, due: 0, failures: 0, timer: null, lastError: null };
        this.units.push(u);
      }
      u.sensors.push({ sensor: s.sensor, reg });
      u.pollMs = Math.min(u.pollMs, s.pollMs);
    }
    for (const u of this.units) {
      // Status registers that say whether a value is valid are read in the same poll.
      const status = u.sensors.flatMap((s) => (s.reg.validWhenZero ? u.profile.registers.filter((r) => r.name === s.reg.validWhenZero) : []));
      u.blocks = planReads([...u.sensors.map((s) => s.reg), ...status], undefined, u.profile.registers);
    }
  }

  async start(): Promise<void> {
    this.running = true;
    // Spread first polls over the interval so sixteen units do not all ask at once.
    const now = performance.now();
    this.units.forEach((u, i) => this.schedule(u, now + (u.pollMs * i) / Math.max(1, this.units.length)));
  }

  async stop(): Promise<void> {
    this.running = false;
    for (const u of this.units) if (u.timer) clearTimeout(u.timer);
  }

  /** For status displays and tests: units that are failing now. */
  failing(): { bus: string; unit: number; failures: number; lastError: string | null }[] {
    return this.units.filter((u) => u.failures > 0).map(({ bus, unit, failures, lastError }) => ({ bus, unit, failures, lastError }));
  }

  /**
   * Polls `u` when performance.now() reaches `due`: the timers are real, so their clock is too
   * (a test's fake `ctx.clock` that stands still must not stretch the cadence).
   */
  private schedule(u: UnitState, due: number): void {
    if (!this.running) return;
    u.due = due;
    u.timer = setTimeout(() => void this.poll(u), Math.max(0, due - performance.now()));
    u.timer.unref();
  }

  private async readOnce(u: UnitState, sched: BusScheduler): Promise<Map<string, number>> {
    const regs = u.profile.registers.filter((r) => r.once && u.sensors.some((s) => s.reg.decimalsFrom === r.name || s.reg.unitFrom === r.name));
    const values = new Map<string, number>();
    for (const b of planReads(regs, undefined, u.profile.registers)) {
      const data = await sched.request(u.unit, 'read', (l) => l.read(u.unit, b.table, b.address, b.count));
      for (const r of b.registers) values.set(r.name, decode(wordsOf(b, data, r), r.type));
    }
    return values;
  }

  private async poll(u: UnitState): Promise<void> {
    const sched = this.buses.get(u.bus);
    if (!sched || !this.running) return;
    try {
      u.once ??= await this.readOnce(u, sched);
      const values = new Map<string, number>();
      for (const b of u.blocks) {
        const data = await sched.request(u.unit, 'read', (l) => l.read(u.unit, b.table, b.address, b.count));
        for (const r of b.registers) {
          const decimals = r.decimalsFrom ? u.once.get(r.decimalsFrom) : undefined;
          const unitCode = r.unitFrom ? u.once.get(r.unitFrom) : undefined;
          values.set(r.name, engineering(decode(wordsOf(b, data, r), r.type), r, decimals, unitCode));
        }
      }
      if (u.failures > 0) this.log.info({ bus: u.bus, unit: u.unit, after_failures: u.failures }, 'unit answers again');
      u.failures = 0;
      u.lastError = null;
      for (const s of u.sensors) {
        const invalid = s.reg.validWhenZero !== null && values.get(s.reg.validWhenZero) !== 0;
        this.emit(s.sensor, invalid ? null : (values.get(s.reg.name) ?? null));
      }
    } catch (err) {
      const e = err as ModbusError;
      u.failures++;
      u.lastError = e.code ?? String(err);
      if (u.failures === 1 || u.failures % 20 === 0) this.log.warn({ bus: u.bus, unit: u.unit, code: u.lastError, failures: u.failures }, 'unit not answering');
      for (const s of u.sensors) this.emit(s.sensor, null);
    }
    this.schedule(u, nextPollDue(u.due, performance.now(), u.pollMs, sched.unitDown(u.unit), sched.downPollMs, Math.random()));
  }

  private emit(sensor: string, value: number | null): void {
    const good = value !== null && Number.isFinite(value);
    this.ctx.bus.emit('reading', { sensor, value: good ? value : null, at: this.ctx.clock.mono(), quality: good ? 'good' : 'error' });
  }
}
