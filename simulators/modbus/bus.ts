/**
 * Simulated Modbus slaves serving hardware/profiles (DESIGN.md: simulators plug in at the port).
 *
 * - `SimulatedBus`: one physical line — a Modbus TCP endpoint on 127.0.0.1:<ephemeral> or one
 *   RS-485 line on a socat pty pair — answering for any number of unit ids (16 slaves on one
 *   RTU line is fine). Each unit is a `SimulatedDevice` with its own faults and write log.
 * - `SimulatedSlave`: the same with one device, for tests that need just one.
 *
 * Unit 0 is the broadcast address (Modbus over serial line V1.02 §2.1): writes reach every unit,
 * nobody answers. A unit id no device has gets no answer, as on a real line.
 * `start()` and `stop()` always settle; `stop()` never rejects and ends socat.
 */
import { loadAllProfiles } from '../../drivers/modbus/profiles.ts';
import type { DeviceProfile } from '../../drivers/modbus/profile-types.ts';
import { SimulatedDevice, type Fault, type Reply, type WriteRecord } from './device.ts';
import { MemoryRtuPort, RtuTransport } from './rtu.ts';
import type { RtuStats } from './rtu-frame.ts';
import { TcpTransport } from './tcp.ts';

export type { Fault, Reply, WriteRecord } from './device.ts';
export { SimulatedDevice } from './device.ts';

export type Transport = 'tcp' | 'rtu';

export interface BusOptions {
  transport: Transport;
  /** RTU only: quiet time that ends a frame whose length the function code does not give. */
  silenceMs?: number;
}

export class SimulatedBus {
  readonly transport: Transport;
  private readonly units = new Map<number, SimulatedDevice>();
  private tcp: TcpTransport | null = null;
  private rtu: RtuTransport | null = null;
  private readonly ports = new Set<MemoryRtuPort>();
  /** Requests for unit ids no device on this bus has. */
  foreign = 0;

  constructor(private readonly options: BusOptions) {
    this.transport = options.transport;
  }

  /** Adds a device serving `profile` at `unit` (default: the profile's factory unit id). */
  add(profile: DeviceProfile, unit: number = profile.bus.defaultUnit): SimulatedDevice {
    if (this.units.has(unit)) throw new Error(`unit ${unit} is already on this bus (${this.units.get(unit)?.profile.model})`);
    const device = new SimulatedDevice(profile, unit);
    this.units.set(unit, device);
    return device;
  }

  device(unit: number): SimulatedDevice {
    const d = this.units.get(unit);
    if (!d) throw new Error(`no unit ${unit} on this bus`);
    return d;
  }

  devices(): SimulatedDevice[] {
    return [...this.units.values()];
  }

  /** Routes one request PDU; null = nobody answers (unknown unit, or a broadcast). */
  dispatch(unit: number, pdu: Buffer): Reply | null {
    if (unit === 0) {
      for (const d of this.units.values()) d.handle(pdu, true);
      return null;
    }
    const d = this.units.get(unit);
    if (!d) {
      this.foreign++;
      return null;
    }
    return d.handle(pdu);
  }

  async start(): Promise<void> {
    const dispatch = (unit: number, pdu: Buffer) => this.dispatch(unit, pdu);
    if (this.transport === 'tcp') {
      this.tcp = new TcpTransport(dispatch);
      await this.tcp.start();
    } else {
      this.rtu = new RtuTransport(dispatch, this.options.silenceMs);
      await this.rtu.start();
    }
  }

  /** TCP: where a master connects. */
  get endpoint(): { host: string; port: number } {
    if (!this.tcp?.port) throw new Error('this bus has no TCP endpoint (not started, or RTU)');
    return { host: this.tcp.host, port: this.tcp.port };
  }

  /** RTU: the pty path a master opens. */
  get path(): string {
    if (!this.rtu) throw new Error('this bus has no RTU line (not started, or TCP)');
    return this.rtu.path;
  }

  /** RTU line statistics (frames seen, CRC errors). */
  get rtuStats(): RtuStats {
    return this.rtu?.stats ?? { framesOk: 0, crcErrors: 0 };
  }

  /**
   * An in-memory RTU port onto this bus's devices for `new ModbusRTU(port)`; needs no start()
   * and no socat — the unit-test path.
   */
  memoryPort(): MemoryRtuPort {
    const port = new MemoryRtuPort((unit, pdu) => this.dispatch(unit, pdu));
    this.ports.add(port);
    return port;
  }

  /** Stops the transport, every device timer and every memory port. Never rejects. */
  async stop(): Promise<void> {
    for (const d of this.units.values()) d.stop();
    for (const p of this.ports) if (p.isOpen) p.close();
    this.ports.clear();
    const results = await Promise.allSettled([this.tcp?.stop(), this.rtu?.stop()]);
    void results;
    this.tcp = null;
    this.rtu = null;
  }
}

/** One device on its own bus: `new SimulatedSlave(profile, {transport: 'rtu'})`. */
export class SimulatedSlave extends SimulatedBus {
  readonly sim: SimulatedDevice;

  constructor(profile: DeviceProfile, options: BusOptions & { unit?: number }) {
    super(options);
    this.sim = this.add(profile, options.unit ?? profile.bus.defaultUnit);
  }

  get unit(): number {
    return this.sim.unit;
  }
  set(register: string, value: number | boolean): void {
    this.sim.set(register, value);
  }
  get(register: string): number {
    return this.sim.get(register);
  }
  increment(register: string, rawDelta = 1): number {
    return this.sim.increment(register, rawDelta);
  }
  fault(f: Fault): void {
    this.sim.fault(f);
  }
  restore(): void {
    this.sim.restore();
  }
  get writes(): WriteRecord[] {
    return this.sim.writes;
  }
}

/** A bus with one device per profile in hardware/profiles, units 1, 2, 3… in model order. */
export function busOfAllProfiles(options: BusOptions, profiles: DeviceProfile[] = loadAllProfiles()): SimulatedBus {
  const bus = new SimulatedBus(options);
  profiles.forEach((p, i) => bus.add(p, i + 1));
  return bus;
}
