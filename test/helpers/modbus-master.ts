/**
 * A test's Modbus master: modbus-serial's client over TCP, a pty (RTU) or an in-memory port,
 * with a deadline on every call so a silent slave fails the test instead of hanging it.
 */
import modbusSerial from 'modbus-serial';
import type { RegisterDef, Table } from '../../drivers/modbus/profile-types.ts';
import { typeWidth } from '../../drivers/modbus/profile-types.ts';

// CommonJS: the client class is module.exports, and module.exports.default for the typings.
const ModbusRTU = modbusSerial.default;
export type Master = InstanceType<typeof ModbusRTU>;

export const FC_BY_TABLE: Record<Table, 1 | 2 | 3 | 4> = { coil: 1, discrete: 2, holding: 3, input: 4 };

export function deadline<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no result in ${ms} ms`)), ms);
  });
  return Promise.race([p, limit]).finally(() => clearTimeout(timer));
}

export async function tcpMaster(host: string, port: number, timeoutMs = 1500): Promise<Master> {
  const m = new ModbusRTU();
  await deadline(m.connectTCP(host, { port }), 5000, `connect ${host}:${port}`);
  m.setTimeout(timeoutMs);
  return m;
}

export async function rtuMaster(path: string, timeoutMs = 1500): Promise<Master> {
  const m = new ModbusRTU();
  await deadline(m.connectRTUBuffered(path, { baudRate: 9600 }), 5000, `open ${path}`);
  m.setTimeout(timeoutMs);
  return m;
}

/** A master over any modbus-serial-compatible port object (e.g. `bus.memoryPort()`). */
export async function portMaster(port: unknown, timeoutMs = 500): Promise<Master> {
  const m = new ModbusRTU(port);
  await new Promise<void>((resolve, reject) => m.open((err: Error | null) => (err ? reject(err) : resolve())));
  m.setTimeout(timeoutMs);
  return m;
}

/** Reads a register's words (bits as 0/1 for coils and discrete inputs) with the table's FC. */
export async function readWords(m: Master, unit: number, reg: RegisterDef): Promise<number[]> {
  m.setID(unit);
  const n = typeWidth(reg.type);
  const what = `unit ${unit} ${reg.table} ${reg.address}`;
  switch (reg.table) {
    case 'coil':
      return (await deadline(m.readCoils(reg.address, n), 5000, what)).data.slice(0, n).map(Number);
    case 'discrete':
      return (await deadline(m.readDiscreteInputs(reg.address, n), 5000, what)).data.slice(0, n).map(Number);
    case 'holding':
      return (await deadline(m.readHoldingRegisters(reg.address, n), 5000, what)).data;
    case 'input':
      return (await deadline(m.readInputRegisters(reg.address, n), 5000, what)).data;
  }
}

/** FC05 with a raw 16-bit value field (vendor extensions such as Waveshare's flash-on). */
export async function writeCoilRaw(m: Master, unit: number, address: number, value: number): Promise<void> {
  const data = [address >> 8, address & 0xff, value >> 8, value & 0xff];
  await deadline(
    new Promise<void>((resolve, reject) => m.writeCustomFC(unit, 5, data, (err: Error | null) => (err ? reject(err) : resolve()))),
    5000,
    `FC05 raw to ${address}`,
  );
}

/** Closes the client; resolves within a second whatever the port does. */
export async function closeMaster(m: Master | null | undefined): Promise<void> {
  if (!m) return;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, 1000);
    try {
      m.close(() => {
        clearTimeout(timer);
        resolve();
      });
    } catch {
      clearTimeout(timer);
      resolve();
    }
  });
}
