/**
 * Test values for any register of any profile: engineering values derived from the edges of the
 * register's raw type (0, max, min, a mixed bit pattern), so they are exactly representable and
 * exercise sign and word order. Adding a device adds no test code.
 */
import { engineering, resolution, type ValueContext } from '../../drivers/modbus/decode.ts';
import type { RegisterDef, ValueType } from '../../drivers/modbus/profile-types.ts';

const RAW: Record<ValueType, number[]> = {
  BOOL: [1, 0],
  U_WORD: [0, 1, 0x1234, 0xffff],
  S_WORD: [0, 1234, -1, -32768, 32767],
  U_DWORD: [0, 65536, 0x12345678, 0xffffffff],
  U_DWORD_LE: [0, 65536, 0x12345678, 0xffffffff],
  S_DWORD: [0, -1, -2147483648, 2147483647, 0x12345678],
  S_DWORD_LE: [0, -1, -2147483648, 2147483647, 0x12345678],
  FLOAT32: [0, 1, -1.5, Math.fround(1234.5677), Math.fround(-3.0e38)],
  FLOAT32_LE: [0, 1, -1.5, Math.fround(1234.5677), Math.fround(-3.0e38)],
};

/** Engineering values the register can hold at this context. */
export function sampleValues(reg: RegisterDef, ctx: ValueContext = {}): number[] {
  if (reg.map) return [...new Set(Object.values(reg.map))];
  return RAW[reg.type].map((raw) => engineering(raw, reg, ctx.decimals, ctx.unitCode));
}

/** How far a value may move through a round trip: half a count, or float32 rounding. */
export function tolerance(reg: RegisterDef, value: number, ctx: ValueContext = {}): number {
  if (reg.type.startsWith('FLOAT')) return Math.abs(value) * 1e-6;
  return resolution(reg, ctx) / 2 + Math.abs(value) * 1e-12;
}

/** Raw 16-bit words mbpoll prints as `[ref]: value` (or `[ref]: value (signed)`), in order. */
export function parseMbpoll(stdout: string): number[] {
  return [...stdout.matchAll(/^\[(\d+)\]:\s+(-?\d+)/gm)].map((m) => Number(m[2]));
}
