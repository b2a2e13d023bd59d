/**
 * Register decoding, pure: raw 16-bit words (or bits) ⇄ raw numbers ⇄ engineering values.
 *
 * Conventions, stated once (word order, byte order, sign and addressing are where decoders go wrong):
 * - A Modbus register is 16 bits sent high byte first (Modbus Application Protocol V1.1b3 §4.2);
 *   `words` here are those registers as unsigned integers 0…0xFFFF, lowest address first.
 * - Word order of 32-bit types is in the type name: `U_DWORD` = high word at the lower address,
 *   `U_DWORD_LE` = low word at the lower address. Signed types are two's complement.
 * - `BOOL` is one coil / discrete-input bit: words = [0] or [1].
 * - FLOAT32 NaN / ±Infinity are refused with `E_NOT_FINITE`: the device has no value to give,
 *   and the driver turns the error into a quality flag, never a number.
 * - Addresses are 0-based as on the wire; profiles never use 4xxxx "register numbers".
 */
import { typeWidth, type RegisterDef, type ValueType } from './profile-types.ts';

export type DecodeErrorCode =
  | 'E_BAD_WORDS' // wrong count, or a word outside 0…0xFFFF (a bit outside 0/1)
  | 'E_NOT_FINITE' // FLOAT32 NaN or ±Infinity
  | 'E_RANGE' // encode: value not representable in the type
  | 'E_DECIMALS' // decimal-places register out of 0…4, or not given
  | 'E_UNIT_CODE' // unit code the profile does not support, or not given
  | 'E_UNMAPPED'; // status word value the profile's map does not list

export class DecodeError extends Error {
  constructor(
    readonly code: DecodeErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'DecodeError';
  }
}

/** Values of the registers another register depends on (`decimalsFrom`, `unitFrom`). */
export interface ValueContext {
  decimals?: number | null;
  unitCode?: number | null;
}

const MAX_FLOAT32 = 3.4028234663852886e38;
/** QDY30A-style decimal-places registers go up to 4 ("#.####") in every manual variant seen. */
const MAX_DECIMALS = 4;

const RANGES: Partial<Record<ValueType, [number, number]>> = {
  BOOL: [0, 1],
  U_WORD: [0, 0xffff],
  S_WORD: [-0x8000, 0x7fff],
  U_DWORD: [0, 0xffffffff],
  U_DWORD_LE: [0, 0xffffffff],
  S_DWORD: [-0x80000000, 0x7fffffff],
  S_DWORD_LE: [-0x80000000, 0x7fffffff],
};

function isFloat(type: ValueType): boolean {
  return type === 'FLOAT32' || type === 'FLOAT32_LE';
}

/** True for the types whose words arrive low word first. */
function lowWordFirst(type: ValueType): boolean {
  return type.endsWith('_LE');
}

/** Raw words (or a bit) → the raw number the type means. Throws `DecodeError`. */
export function decode(words: readonly number[], type: ValueType): number {
  const width = typeWidth(type);
  if (!Array.isArray(words) || words.length !== width) {
    throw new DecodeError('E_BAD_WORDS', `${type} needs ${width} word(s), got ${Array.isArray(words) ? words.length : typeof words}`);
  }
  const top = type === 'BOOL' ? 1 : 0xffff;
  for (const w of words) {
    if (!Number.isInteger(w) || w < 0 || w > top) throw new DecodeError('E_BAD_WORDS', `${type}: word ${String(w)} is outside 0…${top}`);
  }
  const [w0, w1] = words as [number, number];
  switch (type) {
    case 'BOOL':
    case 'U_WORD':
      return w0;
    case 'S_WORD':
      return w0 >= 0x8000 ? w0 - 0x10000 : w0;
  }
  const [hi, lo] = lowWordFirst(type) ? [w1, w0] : [w0, w1];
  const u32 = hi * 0x10000 + lo;
  if (isFloat(type)) {
    const buf = Buffer.alloc(4);
    buf.writeUInt32BE(u32);
    const f = buf.readFloatBE(0);
    if (!Number.isFinite(f)) throw new DecodeError('E_NOT_FINITE', `${type}: 0x${u32.toString(16).padStart(8, '0')} is ${f}, not a value`);
    return f;
  }
  if (type === 'S_DWORD' || type === 'S_DWORD_LE') return u32 >= 0x80000000 ? u32 - 0x100000000 : u32;
  return u32;
}

/** A raw number → words for the type (inverse of `decode`). Throws `DecodeError` `E_RANGE`. */
export function encode(value: number | boolean, type: ValueType): number[] {
  const v = typeof value === 'boolean' ? Number(value) : value;
  if (isFloat(type)) {
    if (!Number.isFinite(v)) throw new DecodeError('E_NOT_FINITE', `${type}: cannot encode ${v}`);
    if (Math.abs(v) > MAX_FLOAT32) throw new DecodeError('E_RANGE', `${type}: ${v} is beyond the float32 range`);
    const buf = Buffer.alloc(4);
    buf.writeFloatBE(v);
    return order(buf.readUInt16BE(0), buf.readUInt16BE(2), type);
  }
  const [min, max] = RANGES[type] as [number, number];
  if (!Number.isInteger(v) || v < min || v > max) throw new DecodeError('E_RANGE', `${type}: ${v} is not an integer in ${min}…${max}`);
  if (typeWidth(type) === 1) return [v < 0 ? v + 0x10000 : v];
  const u32 = v < 0 ? v + 0x100000000 : v;
  return order(Math.floor(u32 / 0x10000), u32 % 0x10000, type);
}

function order(hi: number, lo: number, type: ValueType): number[] {
  return lowWordFirst(type) ? [lo, hi] : [hi, lo];
}

/** Removes binary-fraction noise from one multiplication (536 × 0.1 → 53.6), keeps 15 digits. */
function tidy(x: number): number {
  return x === 0 ? 0 : Number(x.toPrecision(15));
}

function decimalsFactor(reg: RegisterDef, decimals: number | null | undefined): number {
  if (!reg.decimalsFrom) return 1;
  if (decimals === undefined || decimals === null) throw new DecodeError('E_DECIMALS', `${reg.name}: needs the value of ${reg.decimalsFrom}`);
  if (!Number.isInteger(decimals) || decimals < 0 || decimals > MAX_DECIMALS) {
    throw new DecodeError('E_DECIMALS', `${reg.name}: ${reg.decimalsFrom} = ${decimals} is outside 0…${MAX_DECIMALS}`);
  }
  return 10 ** decimals;
}

function unitFactor(reg: RegisterDef, unitCode: number | null | undefined): number {
  if (!reg.unitFrom) return 1;
  const supported = Object.keys(reg.unitCodes ?? {}).join(', ');
  if (unitCode === undefined || unitCode === null) throw new DecodeError('E_UNIT_CODE', `${reg.name}: needs the value of ${reg.unitFrom}`);
  const f = reg.unitCodes?.[String(unitCode)];
  if (f === undefined) {
    throw new DecodeError('E_UNIT_CODE', `${reg.name}: ${reg.unitFrom} = ${unitCode} is not a unit this profile converts to ${reg.unit} (supported codes: ${supported})`);
  }
  return f;
}

/**
 * Raw number → engineering value: map lookup for status words, else
 * raw ÷ 10^decimals × unit factor × scale. BOOL gives 0 or 1.
 */
export function engineering(raw: number, reg: RegisterDef, decimals?: number | null, unitCode?: number | null): number {
  if (reg.map) {
    const v = reg.map[String(raw)];
    if (v === undefined) throw new DecodeError('E_UNMAPPED', `${reg.name}: raw ${raw} is not in the profile's map (${Object.keys(reg.map).join(', ')})`);
    return v;
  }
  if (reg.type === 'BOOL') return raw ? 1 : 0;
  return tidy((raw / decimalsFactor(reg, decimals)) * unitFactor(reg, unitCode) * reg.scale);
}

/**
 * Engineering value → raw number (inverse of `engineering`, for simulators and writes):
 * integer types round to the nearest count. Throws `DecodeError`.
 */
export function rawOf(value: number | boolean, reg: RegisterDef, decimals?: number | null, unitCode?: number | null): number {
  const v = typeof value === 'boolean' ? Number(value) : value;
  if (reg.map) {
    const key = Object.keys(reg.map).find((k) => reg.map?.[k] === v);
    if (key === undefined) throw new DecodeError('E_UNMAPPED', `${reg.name}: ${v} is no value of the profile's map`);
    return Number(key);
  }
  if (reg.type === 'BOOL') return v ? 1 : 0;
  const x = ((v / reg.scale / unitFactor(reg, unitCode)) * decimalsFactor(reg, decimals));
  return isFloat(reg.type) ? x : Math.round(tidy(x));
}

/** Words → engineering value in one step. */
export function decodeValue(words: readonly number[], reg: RegisterDef, ctx: ValueContext = {}): number {
  return engineering(decode(words, reg.type), reg, ctx.decimals, ctx.unitCode);
}

/** Engineering value → words in one step. */
export function encodeValue(value: number | boolean, reg: RegisterDef, ctx: ValueContext = {}): number[] {
  return encode(rawOf(value, reg, ctx.decimals, ctx.unitCode), reg.type);
}

/**
 * The smallest step of a register's engineering value at this context (|scale| × factors), i.e.
 * how far a round trip may move a value. 0 for floats and maps (exact).
 */
export function resolution(reg: RegisterDef, ctx: ValueContext = {}): number {
  if (reg.map || reg.type === 'BOOL' || isFloat(reg.type)) return 0;
  return Math.abs((reg.scale * unitFactor(reg, ctx.unitCode)) / decimalsFactor(reg, ctx.decimals));
}
