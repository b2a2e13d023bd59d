import { describe, expect, it } from 'vitest';
import { AsciiLineParser } from '../../drivers/serial/ascii-parser.ts';
import type { DeviceEntry, ParseResult } from '../../drivers/serial/types.ts';
import { LINE_MAX } from '../../drivers/serial/wire.ts';
import { SMOKE_STATES } from '../../gateway/engine/types.ts';

const DEVICES = new Map<string, DeviceEntry>([
  ['1', { sensor: 'sm1', mode: 'state' }],
  ['A2', { sensor: 'sm2', mode: 'analog' }],
  ['rg', { sensor: 'rg1', mode: 'state' }],
]);

const parser = (): AsciiLineParser => new AsciiLineParser(DEVICES);
const feed = (text: string | Buffer, p = parser()): ParseResult => p.push(typeof text === 'string' ? Buffer.from(text, 'latin1') : text);
const reasons = (r: ParseResult): string[] => r.discards.map((d) => d.reason);
const values = (r: ParseResult): (number | null)[] => r.samples.map((s) => s.value);

describe('ASCII line parser: smoke lines', () => {
  it.each(SMOKE_STATES.map((s, i) => [s, i] as const))('state name %s is index %i (state mode)', (name, index) => {
    const r = feed(`SMK,1,${name},0.12\r\n`);
    expect(r.samples).toEqual([{ sensor: 'sm1', value: index, quality: 'good', device: '1' }]);
    expect(r.discards).toEqual([]);
    expect(r.lines).toBe(1);
  });

  it.each(SMOKE_STATES.map((_, i) => [i]))('state number %i is itself', (i) => {
    expect(values(feed(`SMK,1,${i},\r\n`))).toEqual([i]);
  });

  it('state names are case-insensitive, fields may be padded', () => {
    expect(values(feed('smk, 1 , ALARM , \r\n'))).toEqual([1]);
  });

  it('accepts an empty dbm and a missing dbm field in state mode', () => {
    expect(values(feed('SMK,1,alarm,\r\nSMK,1,normal\r\n'))).toEqual([1, 0]);
  });

  it('analog mode gives the obscuration in dB/m', () => {
    expect(feed('SMK,A2,normal,0.125\r\n').samples).toEqual([{ sensor: 'sm2', value: 0.125, quality: 'good', device: 'A2' }]);
    expect(values(feed('SMK,A2,alarm,2\r\nSMK,A2,dirty,.5\r\nSMK,A2,low_battery,0.\r\n'))).toEqual([2, 0.5, 0]);
  });

  it('analog mode without an obscuration, or with the head removed or opened, is an error sample, never a number', () => {
    const r = feed('SMK,A2,normal,\r\nSMK,A2,removed,0.00\r\nSMK,A2,tamper,0.01\r\nSMK,A2,3\r\n');
    expect(r.samples.map((s) => [s.value, s.quality])).toEqual([
      [null, 'error'],
      [null, 'error'],
      [null, 'error'],
      [null, 'error'],
    ]);
    expect(r.discards).toEqual([]);
  });

  it('rejects unknown states and numbers out of range as bad_value', () => {
    const r = feed('SMK,1,burning,\r\nSMK,1,6,\r\nSMK,1,-1,\r\nSMK,1,1.0,\r\nSMK,1,,\r\n');
    expect(r.samples).toEqual([]);
    expect(reasons(r)).toEqual(['bad_value', 'bad_value', 'bad_value', 'bad_value', 'bad_value']);
    expect(r.discards[0]!.device).toBe('1');
  });

  it('rejects an unparsable dbm even in state mode (no checksum: the line is suspect)', () => {
    expect(reasons(feed('SMK,1,normal,0.1x\r\nSMK,1,normal,NaN\r\nSMK,A2,normal,1e3\r\nSMK,A2,normal,Infinity\r\n'))).toEqual(['bad_value', 'bad_value', 'bad_value', 'bad_value']);
  });
});

describe('ASCII line parser: generic values', () => {
  it('maps VAL lines to the configured sensor', () => {
    expect(feed('VAL,rg,123.4\r\nVAL,rg,-0.5\n').samples).toEqual([
      { sensor: 'rg1', value: 123.4, quality: 'good', device: 'rg' },
      { sensor: 'rg1', value: -0.5, quality: 'good', device: 'rg' },
    ]);
  });

  it.each(['', 'abc', '1e3', '0x10', '1,2', '--1', '.', 'NaN'])('rejects value %j', (v) => {
    const r = feed(`VAL,rg,${v}\r\n`);
    expect(r.samples).toEqual([]);
    expect(reasons(r)).toEqual([v === '1,2' ? 'garbage' : 'bad_value']);
  });

  it('counts an id not in the device map as unknown_id', () => {
    const r = feed('VAL,zz,1\r\nSMK,9,alarm,\r\n');
    expect(r.discards.map((d) => [d.reason, d.device])).toEqual([
      ['unknown_id', 'zz'],
      ['unknown_id', '9'],
    ]);
  });
});

describe('ASCII line parser: framing', () => {
  it('accepts CRLF, LF and lone CR terminators and skips blank lines', () => {
    const r = feed('SMK,1,alarm,\r\nSMK,1,dirty,\nSMK,1,tamper,\r\r\n\n');
    expect(values(r)).toEqual([1, 2, 5]);
    expect(r.discards).toEqual([]);
    expect(r.lines).toBe(3);
  });

  it('reassembles a line split into single bytes, including between CR and LF', () => {
    const p = parser();
    const all = [...Buffer.from('VAL,rg,7.5\r\nSMK,1,alarm,0.1\r\n')].flatMap((b) => p.push(Uint8Array.of(b)).samples);
    expect(all.map((s) => s.value)).toEqual([7.5, 1]);
    expect(p.pending()).toBe(false);
  });

  it('reassembles a line split across two chunks', () => {
    const p = parser();
    expect(feed('SMK,1,al', p).samples).toEqual([]);
    expect(p.pending()).toBe(true);
    expect(values(feed('arm,0.2\r\n', p))).toEqual([1]);
  });

  it('discards a garbage line before and after good ones, and a record with the wrong shape', () => {
    const r = feed('%$#!junk\r\nSMK,1,alarm,\r\nhello\r\nSMK,1\r\nVAL,rg\r\nVAL,rg,1,2\r\nSMK,1,a,b,c\r\n,1,2\r\nSMK,,alarm,\r\n');
    expect(values(r)).toEqual([1]);
    expect(reasons(r)).toEqual(Array(8).fill('garbage'));
  });

  it('drops non-printable noise in front of a line, counts it, and still reads the line', () => {
    const r = feed(Buffer.concat([Buffer.from([0x00, 0xff, 0x1b]), Buffer.from('SMK,1,alarm,\r\n')]));
    expect(values(r)).toEqual([1]);
    expect(reasons(r)).toEqual(['garbage']);
    expect(r.discards[0]!.sample).toBe('\\x00\\xff\\x1b');
  });

  it('reads a line from its last keyword when noise is glued to its front', () => {
    const r = feed(Buffer.concat([Buffer.from([0x13, 0x37, 0x00, 0xff]), Buffer.from('xSMK,1,alSMK,1,alarm,\r\nzzVAL,rg,2\r\n')]));
    expect(values(r)).toEqual([1, 2]);
    expect(reasons(r)).toEqual(['garbage', 'garbage']);
    expect(r.discards[1]!.sample).toBe('zz');
  });

  it('discards a line with a non-printable byte inside as garbage', () => {
    const r = feed(Buffer.concat([Buffer.from('SMK,1,al'), Buffer.from([0x80]), Buffer.from('arm,\r\nSMK,1,normal,\r\n')]));
    expect(values(r)).toEqual([0]);
    expect(reasons(r)).toEqual(['garbage']);
  });

  it('caps a line at LINE_MAX bytes: one too_long discard, the rest of it skipped, the next line read', () => {
    const p = parser();
    const long = 'X'.repeat(LINE_MAX + 500);
    const r1 = feed(long.slice(0, 300), p);
    const r2 = feed(`${long.slice(300)}SMK,1,alarm,\r\nSMK,1,normal,\r\n`, p);
    expect(reasons(r1)).toEqual(['too_long']);
    expect(r2.discards).toEqual([]);
    // The record glued to the overlong line is lost with it; the next is read.
    expect(values(r2)).toEqual([0]);
  });

  it('accepts a line of exactly LINE_MAX bytes', () => {
    const line = `VAL,rg,${'0'.repeat(LINE_MAX - 8)}1`;
    expect(line.length).toBe(LINE_MAX);
    expect(values(feed(`${line}\r\n`))).toEqual([1]);
  });

  it('flush() discards an unfinished line as partial and starts clean', () => {
    const p = parser();
    feed('SMK,1,ala', p);
    const f = p.flush();
    expect(reasons(f)).toEqual(['partial']);
    expect(f.discards[0]!.sample).toBe('SMK,1,ala');
    expect(p.pending()).toBe(false);
    expect(values(feed('rm,\r\nSMK,1,alarm,\r\n', p))).toEqual([1]);
  });

  it('flush() after an overlong line resets without counting it twice', () => {
    const p = parser();
    feed('Y'.repeat(LINE_MAX + 10), p);
    expect(p.pending()).toBe(true);
    expect(p.flush().discards).toEqual([]);
    expect(values(feed('SMK,1,alarm,\r\n', p))).toEqual([1]);
  });

  it('flush() with nothing held discards nothing', () => {
    const p = parser();
    feed('SMK,1,alarm,\r\n', p);
    expect(p.flush().discards).toEqual([]);
  });
});
