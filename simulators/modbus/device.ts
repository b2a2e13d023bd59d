/**
 * One simulated Modbus device (one unit id) serving a device profile's registers: its memory,
 * value scripting in engineering units, counters, the coil/holding write log and fault injection.
 * Transports (TCP, RTU on a pty, an in-memory port) hand it request PDUs through `handle()`.
 */
import { performance } from 'node:perf_hooks';
import { encode, encodeValue, decode, decodeValue, type ValueContext } from '../../drivers/modbus/decode.ts';
import { typeWidth, type ActionDef, type DeviceProfile, type RegisterDef, type Table } from '../../drivers/modbus/profile-types.ts';
import { handlePdu } from './pdu.ts';

/**
 * Faults, injected per device (STYLE.md: a fault-injecting port per unit id). `count` limits a
 * fault to that many requests to this unit, after which the device answers normally again;
 * without it the fault lasts until `restore()`.
 */
export type Fault =
  | { kind: 'timeout'; count?: number } // no answer to the request
  | { kind: 'bad_crc'; count?: number } // RTU: the reply's CRC is corrupted (TCP has no CRC: answered normally)
  | { kind: 'exception'; code: 1 | 2 | 3 | 4; count?: number } // Modbus exception instead of the answer
  | { kind: 'short_frame'; count?: number } // the reply is cut short
  | { kind: 'delay'; ms: number; count?: number } // the reply comes late
  | { kind: 'disappear' } // answers nothing at all until restore()
  | { kind: 'stuck'; count?: number }; // acknowledges writes without doing them (a welded or dead relay)

/** One write seen by the device: from the master, or the device's own timer (a pulse ending). */
export interface WriteRecord {
  /** Wall clock (ms since epoch) and monotonic clock (performance.now(), ms). */
  at: number;
  mono: number;
  unit: number;
  /** 5, 6, 15 or 16 for the master's writes; 0 for the device's own changes. */
  fc: number;
  table: 'coil' | 'holding';
  address: number;
  /** The profile register at that address, or the action for vendor writes (flash), else null. */
  register: string | null;
  action: string | null;
  /** The bit (coils) or the 16-bit value written. */
  value: number | boolean;
  source: 'master' | 'device';
}

/** What the transport should do with one request. `pdu: null` = send nothing. */
export interface Reply {
  pdu: Buffer | null;
  delayMs: number;
  badCrc: boolean;
  short: boolean;
}

export class SimulatedDevice {
  readonly writes: WriteRecord[] = [];
  /** Requests this device has seen (answered or not), for tests of retries and backoff. */
  requests = 0;
  private readonly memory = new Map<Table, Map<number, number>>();
  private readonly byName = new Map<string, RegisterDef>();
  private fault_: Fault | null = null;
  private faultLeft = Infinity;
  private readonly timers = new Set<NodeJS.Timeout>();
  /** The pulse still running per target register: a new pulse of it replaces the old one's timer. */
  private readonly pulses = new Map<string, NodeJS.Timeout>();

  constructor(
    readonly profile: DeviceProfile,
    readonly unit: number,
  ) {
    if (!Number.isInteger(unit) || unit < 1 || unit > 247) throw new RangeError(`unit id ${unit} is outside 1…247`);
    for (const t of ['coil', 'discrete', 'input', 'holding'] as const) this.memory.set(t, new Map());
    for (const r of profile.registers) this.byName.set(r.name, r);
    // Context registers (decimals, unit codes) first, so dependent defaults convert with them.
    const ordered = [...profile.registers].sort((a, b) => Number(!!(a.decimalsFrom || a.unitFrom)) - Number(!!(b.decimalsFrom || b.unitFrom)));
    for (const r of ordered) {
      if (r.default === null) this.writeWords(r, encode(0, r.type));
      else this.set(r.name, r.default);
    }
  }

  register(name: string): RegisterDef {
    const r = this.byName.get(name);
    if (!r) throw new Error(`${this.profile.model} has no register ${name}`);
    return r;
  }

  /** The decimals / unit code currently in the device for a register that depends on them. */
  context(reg: RegisterDef): ValueContext {
    return {
      decimals: reg.decimalsFrom ? this.raw(reg.decimalsFrom) : null,
      unitCode: reg.unitFrom ? this.raw(reg.unitFrom) : null,
    };
  }

  /** Sets a register to an engineering value (converted with the device's own decimals / unit code). */
  set(name: string, value: number | boolean): void {
    const r = this.register(name);
    this.writeWords(r, encodeValue(value, r, this.context(r)));
  }

  /** The engineering value of a register. */
  get(name: string): number {
    const r = this.register(name);
    return decodeValue(this.words(name), r, this.context(r));
  }

  /** The raw number in a register (before scale). */
  raw(name: string): number {
    const r = this.register(name);
    return decode(this.words(name), r.type);
  }

  words(name: string): number[] {
    const r = this.register(name);
    const table = this.memory.get(r.table) as Map<number, number>;
    return Array.from({ length: typeWidth(r.type) }, (_, i) => table.get(r.address + i) ?? 0);
  }

  setWords(name: string, words: number[]): void {
    const r = this.register(name);
    decode(words, r.type === 'FLOAT32' || r.type === 'FLOAT32_LE' ? 'U_DWORD' : r.type); // shape check only
    this.writeWords(r, words);
  }

  /** Counters: adds `rawDelta` counts, wrapping at `counter_modulus` (else the type's range). */
  increment(name: string, rawDelta = 1): number {
    const r = this.register(name);
    const modulus = r.counterModulus || 2 ** (16 * typeWidth(r.type));
    const next = (((this.raw(name) + rawDelta) % modulus) + modulus) % modulus;
    this.writeWords(r, encode(next, r.type.startsWith('S_') ? r.type.replace('S_', 'U_') as RegisterDef['type'] : r.type));
    return next;
  }

  /** A counter restarting from 0 (a power cycle). */
  reset(name: string): void {
    this.writeWords(this.register(name), encode(0, this.register(name).type));
  }

  fault(f: Fault): void {
    this.fault_ = f;
    this.faultLeft = 'count' in f && f.count !== undefined ? f.count : Infinity;
  }

  restore(): void {
    this.fault_ = null;
    this.faultLeft = Infinity;
  }

  get activeFault(): Fault | null {
    return this.fault_;
  }

  /** Coil writes only (the siren's record): `[{at, address, value, source}]`. */
  coilWrites(): WriteRecord[] {
    return this.writes.filter((w) => w.table === 'coil');
  }

  /** Handles one request PDU addressed to this unit (`broadcast`: execute, never answer). */
  handle(pdu: Buffer, broadcast = false): Reply {
    this.requests++;
    const f = this.fault_;
    if (f && !broadcast) {
      if (f.kind !== 'disappear' && --this.faultLeft <= 0) this.restore();
      if (f.kind === 'timeout' || f.kind === 'disappear') return { pdu: null, delayMs: 0, badCrc: false, short: false };
      if (f.kind === 'exception') return { pdu: Buffer.from([(pdu[0] ?? 0) | 0x80, f.code]), delayMs: 0, badCrc: false, short: false };
      // A write echoed as if done (FC05/06 echo the request, FC15/16 its first five bytes).
      const fc = pdu[0] ?? 0;
      if (f.kind === 'stuck' && (fc === 5 || fc === 6 || fc === 15 || fc === 16)) {
        return { pdu: Buffer.from(fc === 5 || fc === 6 ? pdu : pdu.subarray(0, 5)), delayMs: 0, badCrc: false, short: false };
      }
    }
    const answer = handlePdu(this, pdu);
    if (broadcast) return { pdu: null, delayMs: 0, badCrc: false, short: false };
    return { pdu: answer, delayMs: f?.kind === 'delay' ? f.ms : 0, badCrc: f?.kind === 'bad_crc', short: f?.kind === 'short_frame' };
  }

  /** Clears the device's own timers (pulses). Safe to call twice. */
  stop(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.pulses.clear();
  }

  // --- used by pdu.ts -------------------------------------------------------------------------

  /** Memory cell, or undefined when no profile register covers the address. */
  cell(table: Table, address: number): number | undefined {
    return this.memory.get(table)?.get(address);
  }

  /** The register covering an address, if any. */
  registerAt(table: Table, address: number): RegisterDef | undefined {
    return this.profile.registers.find((r) => r.table === table && address >= r.address && address < r.address + typeWidth(r.type));
  }

  /** Actions whose value field is a command the device carries out (raw encodings), at an address. */
  commandsAt(table: 'coil' | 'holding', address: number): ActionDef[] {
    return this.profile.actions.filter((a) => a.table === table && a.encoding === 'raw' && a.address === address);
  }

  /**
   * The raw action a write of `value` to `address` is: a fixed value equal to it, or a caller
   * value whose `value_base` + count range holds it (Waveshare flash: any count; R421A08 delay:
   * 0x0600 … 0x06FF).
   */
  actionFor(table: 'coil' | 'holding', address: number, value: number): ActionDef | undefined {
    return this.commandsAt(table, address).find((a) => {
      if (a.value !== null) return Number(a.value) === value;
      const max = a.valueMax === null ? 0xffff : Math.round(a.valueMax / a.valueScale);
      return value >= a.valueBase && value <= a.valueBase + max;
    });
  }

  /** A master's write to one cell (already checked by pdu.ts). */
  store(table: 'coil' | 'holding', address: number, value: number, fc: number): void {
    (this.memory.get(table) as Map<number, number>).set(address, value);
    this.log(table, address, table === 'coil' ? value === 1 : value, fc, 'master', null);
  }

  /** A command write that sets the action's `confirm` register to its `state` (R421A08 on / off). */
  command(action: ActionDef, value: number, fc: number): void {
    const target = this.register(action.confirm as string);
    this.log(action.table, action.address, value, fc, 'master', action.name);
    this.setState(target, action.state as boolean);
  }

  /**
   * A write the device times itself (Waveshare flash-on, R421A08 delay): `confirm` goes to
   * `pulse.state` now and back after count × `unit_ms`. A new pulse of the same register restarts
   * the timer instead of running beside it (assumed: the relay keeps one timer per channel).
   */
  pulse(action: ActionDef, count: number, fc: number): void {
    const target = this.register(action.confirm as string);
    const pulse = action.pulse as NonNullable<ActionDef['pulse']>;
    this.log(action.table, action.address, count, fc, 'master', action.name);
    this.endPulse(target.name);
    this.setState(target, pulse.state);
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.pulses.delete(target.name);
      this.setState(target, !pulse.state);
    }, count * pulse.unitMs);
    this.timers.add(timer);
    this.pulses.set(target.name, timer);
  }

  private endPulse(register: string | undefined): void {
    const t = register === undefined ? undefined : this.pulses.get(register);
    if (t === undefined) return;
    clearTimeout(t);
    this.timers.delete(t);
    this.pulses.delete(register as string);
  }

  private setState(target: RegisterDef, state: boolean): void {
    (this.memory.get(target.table) as Map<number, number>).set(target.address, state ? 1 : 0);
    this.log(target.table as 'coil' | 'holding', target.address, target.table === 'coil' ? state : Number(state), 0, 'device', null);
  }

  private log(table: 'coil' | 'holding', address: number, value: number | boolean, fc: number, source: WriteRecord['source'], action: string | null): void {
    const register = action ? null : (this.registerAt(table, address)?.name ?? null);
    this.writes.push({ at: Date.now(), mono: performance.now(), unit: this.unit, fc, table, address, register, action, value, source });
  }

  private writeWords(r: RegisterDef, words: number[]): void {
    const table = this.memory.get(r.table) as Map<number, number>;
    words.forEach((w, i) => table.set(r.address + i, w));
  }
}
