import { describe, expect, it } from 'vitest';
import { SerialError } from '../../drivers/serial/types.ts';
import { crc16Modbus, smokeFrame, smokeLine, valueFrame, valueLine } from '../../drivers/serial/wire.ts';

describe('serial wire formats', () => {
  it('CRC-16/MODBUS matches the catalogue check value and a textbook Modbus request', () => {
    expect(crc16Modbus(Buffer.from('123456789'))).toBe(0x4b37);
    // 01 03 00 00 00 0A is sent with CRC bytes C5 CD (low byte first).
    expect(crc16Modbus(Buffer.from('01030000000a', 'hex'))).toBe(0xcdc5);
  });

  it('golden frames: flag, LEN, payload big-endian ×1000, CRC low byte first, flag', () => {
    expect(smokeFrame(7, 'alarm', 1.234).toString('hex')).toBe('7e' + '07' + '07' + '01' + '01' + '000004d2' + 'c9a1' + '7e');
    expect(smokeFrame(3, 'normal').toString('hex')).toBe('7e' + '07' + '03' + '01' + '00' + '80000000' + '1afc' + '7e');
    expect(valueFrame(200, -2.5).toString('hex')).toBe('7e' + '06' + 'c8' + '02' + 'fffff63c' + '531d' + '7e');
  });

  it('golden lines', () => {
    expect(smokeLine('1', 'alarm', 0.25)).toBe('SMK,1,alarm,0.25\r\n');
    expect(smokeLine('1', 3)).toBe('SMK,1,3,\r\n');
    expect(smokeLine('1', 'normal', 1e-7)).toBe('SMK,1,normal,0.000000\r\n');
    expect(valueLine('rg', 12.5)).toBe('VAL,rg,12.5\r\n');
  });

  it('refuses what a frame cannot carry, with a code', () => {
    expect(() => valueFrame(256, 1)).toThrow(SerialError);
    expect(() => valueFrame(1, 3e6)).toThrow(expect.objectContaining({ code: 'E_SERIAL_VALUE' }));
    expect(() => valueFrame(1, Number.NaN)).toThrow(expect.objectContaining({ code: 'E_SERIAL_VALUE' }));
    expect(() => smokeFrame(1, 'alarm', -2147483.648)).toThrow(expect.objectContaining({ code: 'E_SERIAL_VALUE' }));
  });
});
