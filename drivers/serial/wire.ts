/**
 * The two wire formats simple serial sensors speak to the box, in one place: the parsers read
 * them, the simulator (simulators/serial/line-device.ts) writes them.
 *
 * ## ASCII lines (smoke detector panels and small sensors)
 *
 *     SMK,<id>,<state>,<dbm>     a smoke detector: <state> is a name or a number 0–5 in
 *                                SMOKE_STATES order (normal, alarm, dirty, removed, low_battery,
 *                                tamper); <dbm> is the obscuration in dB/m, may be empty
 *     VAL,<id>,<value>           any other sensor, <value> in the sensor's engineering unit
 *
 * 7-bit printable ASCII, fields separated by `,`, spaces around fields ignored, keyword and
 * state names case-insensitive; a line ends at LF, CRLF or a lone CR and is at most LINE_MAX
 * bytes. Numbers are plain decimals (`12`, `-0.5`, `.25`): no exponents, no `NaN`.
 * There is no checksum, so a record must match the grammar as a whole or it is discarded;
 * noise glued in front of a line is skipped up to the line's last `SMK,` or `VAL,`.
 *
 * ## Framed binary (for links with noise: long RS-485 runs, radio modems)
 *
 *     +------+-----+------------------------------+--------+--------+------+
 *     | 0x7E | LEN | PAYLOAD (LEN bytes)          | CRC lo | CRC hi | 0x7E |
 *     +------+-----+------------------------------+--------+--------+------+
 *                   \____ CRC-16/MODBUS over LEN and PAYLOAD ____/
 *
 *     PAYLOAD, KIND 0x01 smoke (LEN 7):
 *     +----+------+-------+---------------------------------------+
 *     | ID | 0x01 | STATE | DBM: int32 big-endian, dB/m × 1000    |
 *     +----+------+-------+---------------------------------------+
 *       STATE 0–5 in SMOKE_STATES order; DBM 0x80000000 (INT32_MIN) = no value (the empty field)
 *
 *     PAYLOAD, KIND 0x02 value (LEN 6):
 *     +----+------+---------------------------------------+
 *     | ID | 0x02 | VALUE: int32 big-endian, unit × 1000  |
 *     +----+------+---------------------------------------+
 *
 * ID is the device number 0–255 (the key `"7"` in the driver's device map). The CRC is the
 * Modbus one (Modbus over serial line V1.02 §6.2.2: polynomial 0xA001 reflected, initial 0xFFFF)
 * sent low byte first, as Modbus RTU does. There is no byte stuffing: LEN says where the frame
 * ends, and the closing flag plus the CRC reject a false start on a 0x7E inside garbage or
 * inside a payload, after which the receiver resynchronises on the next 0x7E. Two flags in a
 * row are allowed (the closing flag of one frame and the opening flag of the next), and so is a
 * single flag shared between frames.
 */
import { SMOKE_STATES, type SmokeState } from '../../gateway/engine/types.ts';
import { SerialError } from './types.ts';

/** Longest ASCII line accepted, terminator excluded. */
export const LINE_MAX = 256;

export const FLAG = 0x7e;
/** LEN values outside 1..MAX_PAYLOAD are not a frame start (the 0x7E was noise). */
export const MAX_PAYLOAD = 32;
/** Bytes around the payload: flag, LEN, CRC lo, CRC hi, flag. */
export const FRAME_OVERHEAD = 5;

export const KIND_SMOKE = 0x01;
export const KIND_VALUE = 0x02;
export const SMOKE_PAYLOAD_LEN = 7;
export const VALUE_PAYLOAD_LEN = 6;
/** DBM field meaning "no obscuration value" (the ASCII line's empty field). */
export const NO_VALUE = -0x80000000;
/** Fixed-point scale of the int32 fields. */
export const SCALE = 1000;

/** CRC-16/MODBUS of `bytes[start, end)`; check value for ASCII "123456789" is 0x4B37. */
export function crc16Modbus(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let crc = 0xffff;
  for (let i = start; i < end; i++) {
    crc ^= bytes[i]!;
    for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? (crc >>> 1) ^ 0xa001 : crc >>> 1;
  }
  return crc;
}

function fixed(value: number, what: string): number {
  const raw = Math.round(value * SCALE);
  if (!Number.isFinite(value) || raw <= NO_VALUE || raw > 0x7fffffff) {
    throw new SerialError('E_SERIAL_VALUE', `${what} ${value} does not fit an int32 × ${SCALE}`);
  }
  return raw;
}

function frame(payload: Buffer): Buffer {
  const out = Buffer.alloc(payload.length + FRAME_OVERHEAD);
  out[0] = FLAG;
  out[1] = payload.length;
  payload.copy(out, 2);
  const crc = crc16Modbus(out, 1, 2 + payload.length);
  out.writeUInt16LE(crc, 2 + payload.length);
  out[out.length - 1] = FLAG;
  return out;
}

function deviceByte(id: number): number {
  if (!Number.isInteger(id) || id < 0 || id > 255) throw new SerialError('E_SERIAL_VALUE', `device id ${id} is not 0–255`);
  return id;
}

function stateIndexOf(state: SmokeState | number): number {
  const index = typeof state === 'number' ? state : SMOKE_STATES.indexOf(state);
  if (!Number.isInteger(index) || index < 0 || index > 255) throw new SerialError('E_SERIAL_VALUE', `smoke state ${state} is not a byte`);
  return index;
}

/** A smoke frame; `dbm` null sends NO_VALUE. Any state byte is allowed so tests can send bad ones. */
export function smokeFrame(id: number, state: SmokeState | number, dbm: number | null = null): Buffer {
  const p = Buffer.alloc(SMOKE_PAYLOAD_LEN);
  p[0] = deviceByte(id);
  p[1] = KIND_SMOKE;
  p[2] = stateIndexOf(state);
  p.writeInt32BE(dbm === null ? NO_VALUE : fixed(dbm, 'dbm'), 3);
  return frame(p);
}

export function valueFrame(id: number, value: number): Buffer {
  const p = Buffer.alloc(VALUE_PAYLOAD_LEN);
  p[0] = deviceByte(id);
  p[1] = KIND_VALUE;
  p.writeInt32BE(fixed(value, 'value'), 2);
  return frame(p);
}

/** Any payload in a correct frame (for tests of unknown kinds and lengths). */
export function rawFrame(payload: ArrayLike<number>): Buffer {
  if (payload.length < 1 || payload.length > 255) throw new SerialError('E_SERIAL_VALUE', 'payload must be 1–255 bytes');
  return frame(Buffer.from(Array.from(payload)));
}

/** A plain decimal, never an exponent form (which the line grammar rejects). */
function decimal(n: number): string {
  const s = String(n);
  return /e/i.test(s) ? n.toFixed(6) : s;
}

export function smokeLine(id: string, state: SmokeState | number, dbm: number | null = null): string {
  return `SMK,${id},${state},${dbm === null ? '' : decimal(dbm)}\r\n`;
}

export function valueLine(id: string, value: number): string {
  return `VAL,${id},${decimal(value)}\r\n`;
}
