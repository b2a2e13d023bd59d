/**
 * The Modbus PDU rules of a simulated device (Modbus Application Protocol V1.1b3 §6): function
 * codes 01, 02, 03, 04, 05, 06, 15 and 16 against the profile's registers, with the exception
 * rules a real slave follows. Framing (MBAP, RTU address + CRC) is the transport's job.
 *
 * - Any address that no profile register covers, or a write to a read-only register: 02.
 * - Quantity out of range, byte count wrong, PDU length wrong, FC05 value not 0xFF00/0x0000: 03.
 * - A function code not listed above: 01. A refused multi-write changes nothing.
 * - FC05 to the address of a profile action with `encoding: raw` and a `pulse` (Waveshare
 *   flash-on at 0x0200): the value field is the count of `unit_ms`; 0 is refused with 03.
 * - FC06 to the address of holding-register actions (R421A08: 0x0100 on, 0x0200 off, 0x0600 +
 *   seconds delay) is a command, not stored: the action's `confirm` register takes its `state`
 *   (or runs its `pulse`). A value no action there knows is refused with 03.
 */
import type { ActionDef, RegisterDef, Table } from '../../drivers/modbus/profile-types.ts';

/** What pdu.ts needs from a device (implemented by SimulatedDevice). */
export interface PduTarget {
  cell(table: Table, address: number): number | undefined;
  registerAt(table: Table, address: number): RegisterDef | undefined;
  commandsAt(table: 'coil' | 'holding', address: number): ActionDef[];
  actionFor(table: 'coil' | 'holding', address: number, value: number): ActionDef | undefined;
  store(table: 'coil' | 'holding', address: number, value: number, fc: number): void;
  command(action: ActionDef, value: number, fc: number): void;
  pulse(action: ActionDef, count: number, fc: number): void;
}

export const ILLEGAL_FUNCTION = 1;
export const ILLEGAL_DATA_ADDRESS = 2;
export const ILLEGAL_DATA_VALUE = 3;

const READ_TABLE: Record<number, Table> = { 1: 'coil', 2: 'discrete', 3: 'holding', 4: 'input' };

export function exception(fc: number, code: number): Buffer {
  return Buffer.from([fc | 0x80, code]);
}

function readBits(t: PduTarget, fc: number, pdu: Buffer): Buffer {
  if (pdu.length !== 5) return exception(fc, ILLEGAL_DATA_VALUE);
  const address = pdu.readUInt16BE(1);
  const qty = pdu.readUInt16BE(3);
  if (qty < 1 || qty > 2000) return exception(fc, ILLEGAL_DATA_VALUE);
  const table = READ_TABLE[fc] as Table;
  const bytes = Buffer.alloc(Math.ceil(qty / 8));
  for (let i = 0; i < qty; i++) {
    const bit = t.cell(table, address + i);
    if (bit === undefined) return exception(fc, ILLEGAL_DATA_ADDRESS);
    if (bit) bytes[i >> 3] = (bytes[i >> 3] as number) | (1 << (i & 7));
  }
  return Buffer.concat([Buffer.from([fc, bytes.length]), bytes]);
}

function readWords(t: PduTarget, fc: number, pdu: Buffer): Buffer {
  if (pdu.length !== 5) return exception(fc, ILLEGAL_DATA_VALUE);
  const address = pdu.readUInt16BE(1);
  const qty = pdu.readUInt16BE(3);
  if (qty < 1 || qty > 125) return exception(fc, ILLEGAL_DATA_VALUE);
  const table = READ_TABLE[fc] as Table;
  const out = Buffer.alloc(2 + qty * 2);
  out[0] = fc;
  out[1] = qty * 2;
  for (let i = 0; i < qty; i++) {
    const w = t.cell(table, address + i);
    if (w === undefined) return exception(fc, ILLEGAL_DATA_ADDRESS);
    out.writeUInt16BE(w, 2 + i * 2);
  }
  return out;
}

function writable(t: PduTarget, table: 'coil' | 'holding', address: number): boolean {
  return t.cell(table, address) !== undefined && t.registerAt(table, address)?.writable === true;
}

function writeCoil(t: PduTarget, pdu: Buffer): Buffer {
  if (pdu.length !== 5) return exception(5, ILLEGAL_DATA_VALUE);
  const address = pdu.readUInt16BE(1);
  const value = pdu.readUInt16BE(3);
  const action = t.actionFor('coil', address, value);
  if (action?.pulse) {
    if (value === action.valueBase) return exception(5, ILLEGAL_DATA_VALUE);
    t.pulse(action, value - action.valueBase, 5);
    return Buffer.from(pdu);
  }
  if (!writable(t, 'coil', address)) return exception(5, ILLEGAL_DATA_ADDRESS);
  if (value !== 0xff00 && value !== 0x0000) return exception(5, ILLEGAL_DATA_VALUE);
  t.store('coil', address, value === 0xff00 ? 1 : 0, 5);
  return Buffer.from(pdu);
}

function writeRegister(t: PduTarget, pdu: Buffer): Buffer {
  if (pdu.length !== 5) return exception(6, ILLEGAL_DATA_VALUE);
  const address = pdu.readUInt16BE(1);
  const value = pdu.readUInt16BE(3);
  if (t.commandsAt('holding', address).length) {
    const action = t.actionFor('holding', address, value);
    if (!action || (action.pulse && value === action.valueBase)) return exception(6, ILLEGAL_DATA_VALUE);
    if (action.pulse) t.pulse(action, value - action.valueBase, 6);
    else if (action.state !== null) t.command(action, value, 6);
    else t.store('holding', address, value, 6);
    return Buffer.from(pdu);
  }
  if (!writable(t, 'holding', address)) return exception(6, ILLEGAL_DATA_ADDRESS);
  t.store('holding', address, value, 6);
  return Buffer.from(pdu);
}

function writeMultiple(t: PduTarget, fc: 15 | 16, pdu: Buffer): Buffer {
  if (pdu.length < 6) return exception(fc, ILLEGAL_DATA_VALUE);
  const address = pdu.readUInt16BE(1);
  const qty = pdu.readUInt16BE(3);
  const byteCount = pdu[5] as number;
  const max = fc === 15 ? 0x7b0 : 123;
  const expected = fc === 15 ? Math.ceil(qty / 8) : qty * 2;
  if (qty < 1 || qty > max || byteCount !== expected || pdu.length !== 6 + byteCount) return exception(fc, ILLEGAL_DATA_VALUE);
  const table = fc === 15 ? 'coil' : 'holding';
  for (let i = 0; i < qty; i++) if (!writable(t, table, address + i)) return exception(fc, ILLEGAL_DATA_ADDRESS);
  for (let i = 0; i < qty; i++) {
    const value = fc === 15 ? (((pdu[6 + (i >> 3)] as number) >> (i & 7)) & 1) : pdu.readUInt16BE(6 + i * 2);
    t.store(table, address + i, value, fc);
  }
  return pdu.subarray(0, 5);
}

/** One request PDU (function code first) → the response PDU, an exception PDU included. */
export function handlePdu(t: PduTarget, pdu: Buffer): Buffer {
  const fc = pdu[0] ?? 0;
  switch (fc) {
    case 1:
    case 2:
      return readBits(t, fc, pdu);
    case 3:
    case 4:
      return readWords(t, fc, pdu);
    case 5:
      return writeCoil(t, pdu);
    case 6:
      return writeRegister(t, pdu);
    case 15:
    case 16:
      return writeMultiple(t, fc, pdu);
    default:
      return exception(fc, ILLEGAL_FUNCTION);
  }
}
