// drivers/modbus/decode.ts: every value type at its edges, word order, the refusals, engineering
// scaling (scale, decimals, unit codes, maps) and every profile's golden vectors.
import { describe, expect, it } from 'vitest';
import { DecodeError, decode, decodeValue, encode, encodeValue, engineering, rawOf, resolution } from '../../drivers/modbus/decode.ts';
import { VALUE_TYPES, type RegisterDef, type ValueType } from '../../drivers/modbus/profile-types.ts';
import { loadAllProfiles, registerOf } from '../../drivers/modbus/profiles.ts';

function reg(over: Partial<RegisterDef>): RegisterDef {
  return {
    name: 'r', table: 'holding', address: 0, type: 'U_WORD', scale: 1, unit: '', feeds: false, role: null, counterModulus: 0,
    decimalsFrom: null, unitFrom: null, validWhenZero: null, unitCodes: null, map: null, once: false, writable: true, default: null, description: '', ...over,
  };
}

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(DecodeError);
    return (err as DecodeError).code;
  }
  return 'no error';
}

// [type, words (lowest address first), raw value]
const VECTORS: [ValueType, number[], number][] = [
  ['BOOL', [0], 0],
  ['BOOL', [1], 1],
  ['U_WORD', [0x0000], 0],
  ['U_WORD', [0xffff], 65535],
  ['U_WORD', [0x0218], 536],
  ['S_WORD', [0x7fff], 32767],
  ['S_WORD', [0x8000], -32768],
  ['S_WORD', [0xffff], -1],
  ['U_DWORD', [0x0001, 0x0000], 65536],
  ['U_DWORD', [0x0000, 0x0001], 1],
  ['U_DWORD', [0xffff, 0xffff], 4294967295],
  ['U_DWORD', [0x1234, 0x5678], 0x12345678],
  ['U_DWORD_LE', [0x5678, 0x1234], 0x12345678],
  ['U_DWORD_LE', [0x86a0, 0x0001], 100000],
  ['S_DWORD', [0xffff, 0xffff], -1],
  ['S_DWORD', [0x8000, 0x0000], -2147483648],
  ['S_DWORD', [0x7fff, 0xffff], 2147483647],
  ['S_DWORD_LE', [0x0000, 0x8000], -2147483648],
  ['S_DWORD_LE', [0xfffe, 0xffff], -2],
  ['FLOAT32', [0x3f80, 0x0000], 1],
  ['FLOAT32', [0xc2c8, 0x0000], -100],
  ['FLOAT32', [0x0000, 0x0000], 0],
  ['FLOAT32', [0x7f7f, 0xffff], 3.4028234663852886e38],
  ['FLOAT32', [0x0000, 0x0001], 1.401298464324817e-45],
  ['FLOAT32_LE', [0x0000, 0x3f80], 1],
  ['FLOAT32_LE', [0x0000, 0x4120], 10],
];

describe('decode / encode', () => {
  it.each(VECTORS)('%s %j ⇄ %d', (type, words, raw) => {
    expect(decode(words, type)).toBe(raw);
    expect(encode(raw, type)).toEqual(words);
  });

  it('covers every value type', () => {
    expect(new Set(VECTORS.map(([t]) => t))).toEqual(new Set(VALUE_TYPES));
  });

  it('keeps the sign of -0 in floats and encodes booleans', () => {
    expect(encode(-0, 'FLOAT32')).toEqual([0x8000, 0x0000]);
    expect(Object.is(decode([0x8000, 0x0000], 'FLOAT32'), -0)).toBe(true);
    expect(encode(true, 'BOOL')).toEqual([1]);
  });

  it('refuses NaN and ±Infinity: no value is not a number', () => {
    expect(code(() => decode([0x7fc0, 0x0000], 'FLOAT32'))).toBe('E_NOT_FINITE');
    expect(code(() => decode([0x7f80, 0x0000], 'FLOAT32'))).toBe('E_NOT_FINITE');
    expect(code(() => decode([0x0000, 0xff80], 'FLOAT32_LE'))).toBe('E_NOT_FINITE');
    expect(code(() => encode(Number.NaN, 'FLOAT32'))).toBe('E_NOT_FINITE');
    expect(code(() => encode(4e38, 'FLOAT32'))).toBe('E_RANGE');
  });

  it('refuses malformed words', () => {
    expect(code(() => decode([1, 2], 'U_WORD'))).toBe('E_BAD_WORDS');
    expect(code(() => decode([1], 'U_DWORD'))).toBe('E_BAD_WORDS');
    expect(code(() => decode([0x10000], 'U_WORD'))).toBe('E_BAD_WORDS');
    expect(code(() => decode([-1], 'S_WORD'))).toBe('E_BAD_WORDS');
    expect(code(() => decode([1.5], 'U_WORD'))).toBe('E_BAD_WORDS');
    expect(code(() => decode([2], 'BOOL'))).toBe('E_BAD_WORDS');
  });

  it('refuses values the type cannot hold', () => {
    expect(code(() => encode(65536, 'U_WORD'))).toBe('E_RANGE');
    expect(code(() => encode(-1, 'U_DWORD'))).toBe('E_RANGE');
    expect(code(() => encode(32768, 'S_WORD'))).toBe('E_RANGE');
    expect(code(() => encode(-2147483649, 'S_DWORD_LE'))).toBe('E_RANGE');
    expect(code(() => encode(1.5, 'U_WORD'))).toBe('E_RANGE');
    expect(code(() => encode(2, 'BOOL'))).toBe('E_RANGE');
  });
});

describe('engineering', () => {
  it('applies scale without binary noise', () => {
    expect(engineering(536, reg({ scale: 0.1 }))).toBe(53.6);
    expect(engineering(3, reg({ scale: 0.1 }))).toBe(0.3);
    expect(engineering(100000, reg({ scale: 0.0001 }))).toBe(10);
    expect(engineering(96, reg({ scale: 100 }))).toBe(9600);
    expect(engineering(1, reg({ type: 'BOOL', table: 'coil' }))).toBe(1);
  });

  it('applies decimals from another register, 0…4', () => {
    const r = reg({ type: 'S_WORD', decimalsFrom: 'decimals' });
    expect(engineering(1234, r, 3)).toBe(1.234);
    expect(engineering(-10, r, 1)).toBe(-1);
    expect(engineering(7, r, 0)).toBe(7);
    expect(code(() => engineering(7, r, 5))).toBe('E_DECIMALS');
    expect(code(() => engineering(7, r))).toBe('E_DECIMALS');
  });

  it('converts unit codes it knows and names the ones it does not', () => {
    const r = reg({ type: 'S_WORD', unit: 'm', decimalsFrom: 'decimals', unitFrom: 'unit_code', unitCodes: { '1': 0.01, '2': 0.001 } });
    expect(engineering(1234, r, 1, 1)).toBe(1.234);
    expect(engineering(1234, r, 0, 2)).toBe(1.234);
    expect(code(() => engineering(1234, r, 0, 5))).toBe('E_UNIT_CODE');
    expect(code(() => engineering(1234, r, 0))).toBe('E_UNIT_CODE');
    expect(() => engineering(1, r, 0, 4)).toThrow(/supported codes: 1, 2/);
  });

  it('maps status words and refuses values the map does not list', () => {
    const r = reg({ map: { '0': 0, '1': 1, '2': 3, '3': 3 } });
    expect(engineering(2, r)).toBe(3);
    expect(code(() => engineering(4, r))).toBe('E_UNMAPPED');
    expect(rawOf(3, r)).toBe(2);
    expect(code(() => rawOf(5, r))).toBe('E_UNMAPPED');
  });

  it('inverts with rawOf / encodeValue, rounding to the nearest count', () => {
    const r = reg({ scale: 0.1 });
    expect(rawOf(53.6, r)).toBe(536);
    expect(rawOf(53.64, r)).toBe(536);
    expect(encodeValue(53.66, r)).toEqual([537]);
    expect(decodeValue([537], r)).toBe(53.7);
    expect(resolution(r)).toBeCloseTo(0.1);
    const q = reg({ type: 'S_WORD', decimalsFrom: 'd', unitFrom: 'u', unitCodes: { '1': 0.01 } });
    expect(encodeValue(-1.5, q, { decimals: 1, unitCode: 1 })).toEqual([0xffff - 1500 + 1]);
    expect(resolution(q, { decimals: 1, unitCode: 1 })).toBeCloseTo(0.001);
    expect(code(() => encodeValue(400, q, { decimals: 1, unitCode: 1 }))).toBe('E_RANGE');
  });
});

describe('golden vectors of every profile', () => {
  const cases = loadAllProfiles().flatMap((p) => p.golden.map((g, i) => ({ name: `${p.model} golden[${i}] ${g.register}`, p, g })));
  it('there are golden vectors for every profile', () => {
    expect(new Set(cases.map((c) => c.p.model)).size).toBe(loadAllProfiles().length);
  });
  it.each(cases)('$name', ({ p, g }) => {
    const r = registerOf(p, g.register);
    const ctx = { decimals: g.decimals, unitCode: g.unitCode };
    expect(decodeValue(g.words, r, ctx)).toBe(Number(g.value));
    // …and back: the engineering value encodes to the same words.
    expect(encodeValue(g.value, r, ctx)).toEqual(g.words);
  });
});
