/**
 * One physical Modbus link (an RS-485 line or a TCP connection) over modbus-serial, with every
 * open, close and request bounded by a deadline (a `close()` that never calls
 * back must not hang the box).
 */
import modbusSerial from 'modbus-serial';
import { withDeadline } from '../../gateway/shell/timing.ts';
import { classify, ModbusTransportError, noAnswer } from './errors.ts';
import type { Table } from './profile-types.ts';

// CommonJS: the client class is module.exports, and module.exports.default for the typings.
const ModbusRTU = modbusSerial.default;

export interface LinkConfig {
  id: string;
  type: 'rtu' | 'tcp';
  /** Serial device for RTU, e.g. /dev/ttyUSB0 or a pty. */
  path?: string;
  host?: string;
  port?: number;
  baud: number;
  parity: 'none' | 'even' | 'odd';
  dataBits: 7 | 8;
  stopBits: 1 | 2;
  /** Per-request timeout: a dead unit must not hold the line long. */
  timeoutMs: number;
}

/** What the scheduler needs of a link; tests may pass a fake. */
export interface Link {
  readonly config: LinkConfig;
  isOpen(): boolean;
  open(): Promise<void>;
  close(): Promise<void>;
  read(unit: number, table: Table, address: number, count: number): Promise<number[]>;
  writeCoil(unit: number, address: number, on: boolean): Promise<void>;
  /** FC05 with a raw 16-bit value (Waveshare relays read 0x02XX as "on for XX × 100 ms"). */
  writeCoilRaw(unit: number, address: number, value: number): Promise<void>;
  writeRegister(unit: number, address: number, value: number): Promise<void>;
}

const OPEN_DEADLINE_MS = 5000;
const CLOSE_DEADLINE_MS = 2000;

/**
 * A client whose port errors are handled. modbus-serial re-emits the serial port's errors (a
 * write to a pty or USB adapter that went away: EBADF, EIO, `disconnect: true`) as the client's
 * 'error' event, and an 'error' nobody listens to is an uncaught exception that kills the box.
 * The request caught by it fails on its own (its callback or our deadline) and the bus
 * scheduler reopens a link that is no longer open, so nothing more is needed here.
 */
function newClient(): InstanceType<typeof ModbusRTU> {
  const client = new ModbusRTU();
  client.on('error', () => undefined);
  return client;
}

export class ModbusSerialLink implements Link {
  private client = newClient();

  constructor(readonly config: LinkConfig) {}

  isOpen(): boolean {
    return this.client.isOpen;
  }

  async open(): Promise<void> {
    const c = this.config;
    this.client = newClient();
    const opening =
      c.type === 'tcp'
        ? this.client.connectTCP(c.host ?? '127.0.0.1', { port: c.port ?? 502 })
        : this.client.connectRTUBuffered(c.path!, { baudRate: c.baud, parity: c.parity, dataBits: c.dataBits, stopBits: c.stopBits });
    try {
      await withDeadline(opening, OPEN_DEADLINE_MS, noAnswer(`open ${c.id}`));
    } catch (err) {
      void this.close();
      throw classify(err);
    }
    this.client.setTimeout(c.timeoutMs);
  }

  async close(): Promise<void> {
    const client = this.client;
    await withDeadline(new Promise<void>((resolve) => client.close(() => resolve())), CLOSE_DEADLINE_MS, () => undefined);
  }

  private async call<T>(unit: number, what: string, op: () => Promise<T>): Promise<T> {
    if (!this.client.isOpen) throw new ModbusTransportError('E_PORT', `${this.config.id} is not open`, unit);
    this.client.setID(unit);
    try {
      // modbus-serial has its own timeout; ours is the backstop if it never calls back.
      return await withDeadline(op(), this.config.timeoutMs + 1000, noAnswer(what, unit));
    } catch (err) {
      throw classify(err, unit);
    }
  }

  async read(unit: number, table: Table, address: number, count: number): Promise<number[]> {
    const what = `read ${table} ${address}+${count} unit ${unit}`;
    switch (table) {
      case 'coil':
        return this.call(unit, what, async () => (await this.client.readCoils(address, count)).data.slice(0, count).map(Number));
      case 'discrete':
        return this.call(unit, what, async () => (await this.client.readDiscreteInputs(address, count)).data.slice(0, count).map(Number));
      case 'input':
        return this.call(unit, what, async () => (await this.client.readInputRegisters(address, count)).data);
      case 'holding':
        return this.call(unit, what, async () => (await this.client.readHoldingRegisters(address, count)).data);
    }
  }

  async writeCoil(unit: number, address: number, on: boolean): Promise<void> {
    await this.call(unit, `write coil ${address} unit ${unit}`, () => this.client.writeCoil(address, on));
  }

  async writeCoilRaw(unit: number, address: number, value: number): Promise<void> {
    const data = [(address >> 8) & 0xff, address & 0xff, (value >> 8) & 0xff, value & 0xff];
    await this.call(
      unit,
      `write coil ${address}=0x${value.toString(16)} unit ${unit}`,
      () => new Promise<void>((resolve, reject) => this.client.writeCustomFC(unit, 5, data, (err: Error | null) => (err ? reject(err) : resolve()))),
    );
  }

  async writeRegister(unit: number, address: number, value: number): Promise<void> {
    await this.call(unit, `write holding ${address} unit ${unit}`, () => this.client.writeRegister(address, value));
  }
}
