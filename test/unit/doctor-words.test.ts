/**
 * The doctor's pure parts: the line format and exit code, CONNACK codes and Modbus failures in
 * words, which processes count as the box, and the silent test WAV.
 */
import { describe, expect, it } from 'vitest';
import { silentWav } from '../../gateway/doctor/check-audio.ts';
import { codeText, connackMeaning } from '../../gateway/doctor/connack.ts';
import { modbusFailure, openFailure } from '../../gateway/doctor/modbus-words.ts';
import { isBoxCommand } from '../../gateway/doctor/proc.ts';
import { exitCode, line, summary } from '../../gateway/doctor/report.ts';
import { said, type CheckResult, type CheckStatus } from '../../gateway/doctor/types.ts';

const r = (status: CheckStatus, fix = false): CheckResult => ({ id: status, status, what: said('时钟', 'clock'), said: said('未同步', 'not synchronised'), ...(fix ? { fix: said('联网', 'connect the network') } : {}) });

describe('report', () => {
  it('writes one line per check: mark, Chinese · English, the fix on the same line', () => {
    expect(line(r('pass'))).toBe('✓ 时钟 · clock: 未同步 · not synchronised');
    expect(line(r('fail', true))).toBe('✗ 时钟 · clock: 未同步 · not synchronised — 处理: 联网 · fix: connect the network');
    expect(line(r('unknown')).startsWith('? ')).toBe(true);
    expect(line(r('skipped')).startsWith('– ')).toBe(true);
    expect(line(r('info')).startsWith('i ')).toBe(true);
    expect(line(r('fail', true))).not.toContain('\n');
  });

  it('exits 0 only when every check passed; 1 for any failure; 3 when something could not be checked', () => {
    expect(exitCode([r('pass'), r('info')])).toBe(0);
    expect(exitCode([r('pass'), r('fail'), r('unknown')])).toBe(1);
    expect(exitCode([r('pass'), r('unknown')])).toBe(3);
    expect(exitCode([r('pass'), r('skipped')])).toBe(3);
    expect(exitCode([])).toBe(0);
  });

  it('sums up in both languages', () => {
    expect(summary([r('pass'), r('pass'), r('fail'), r('skipped'), r('info')])).toBe('有问题,见 ✗ 行 · problems found, see the ✗ lines: 通过 2 · 2 passed, 失败 1 · 1 failed, 未检查 1 · 1 not checked');
    expect(summary([r('pass')]).startsWith('全部通过 · all passed')).toBe(true);
  });
});

describe('CONNACK codes in words', () => {
  it('says MQTT 5 reason codes and what to do', () => {
    expect(connackMeaning(0x86, 5).said.en).toBe('bad user name or password');
    expect(connackMeaning(0x86, 5).fix.en).toContain('uplink.username');
    expect(connackMeaning(0x87, 5).said.en).toBe('not authorized');
    expect(connackMeaning(0x87, 5).fix.en).toContain('password file');
    expect(connackMeaning(0x85, 5).fix.en).toContain('-doctor');
    expect(connackMeaning(0x84, 5).fix.en).toContain('protocol_version: 4');
    expect(connackMeaning(0x8a, 5).said.zh).toBe('已被封禁');
    expect(codeText(0x86, 5)).toBe('0x86');
  });

  it('says MQTT 3.1.1 return codes', () => {
    expect(connackMeaning(4, 4).said.en).toBe('bad user name or password');
    expect(connackMeaning(5, 4).said.en).toBe('not authorised');
    expect(connackMeaning(2, 4).said.en).toBe('identifier rejected');
    expect(codeText(4, 4)).toBe('4');
  });

  it('never leaves a code unexplained', () => {
    expect(connackMeaning(0x42, 5).said.en).toBe('unknown return code 66');
    expect(connackMeaning(9, 4).said.en).toBe('unknown return code 9');
  });
});

describe('Modbus failures in words', () => {
  const o = { unit: 7, rtu: true, timeoutMs: 300, profile: 'qdy30a' };
  it('tells an exception (alive, wrong register) from a timeout (wiring, power, unit id)', () => {
    const ex = modbusFailure('E_EXCEPTION_2', o);
    expect(ex.said.en).toBe('answered with a Modbus exception: illegal data address: the device has no such register');
    expect(ex.fix.en).toContain('qdy30a');
    expect(ex.fix.en).toContain('unit id 7');
    const t = modbusFailure('E_TIMEOUT', o);
    expect(t.said.en).toBe('no answer within 300 ms');
    expect(t.fix.en).toContain('unit id 7');
    expect(t.fix.en).toContain('120 Ω');
    expect(modbusFailure('E_TIMEOUT', { ...o, rtu: false }).fix.en).toContain('gateway');
  });

  it('says a device failure is the sensor, not the line; CRC is noise or a second master', () => {
    expect(modbusFailure('E_EXCEPTION_4', o).fix.en).toContain('the sensor itself');
    expect(modbusFailure('E_CRC', o).fix.en).toContain('only one master');
    expect(modbusFailure('E_WRONG_UNIT', o).fix.en).toContain('share unit id 7');
    expect(modbusFailure('E_EXCEPTION_11', o).said.en).toContain('exception 11');
  });

  it('explains why a port or gateway does not open', () => {
    expect(openFailure('EACCES', 'Permission denied', { path: '/dev/ttyUSB0', rtu: true }).fix.en).toContain('dialout');
    expect(openFailure('EBUSY', 'Cannot lock port', { path: '/dev/ttyUSB0', rtu: true }).fix.en).toContain('fuser /dev/ttyUSB0');
    expect(openFailure('ECONNREFUSED', 'connect ECONNREFUSED', { path: '10.0.0.9:502', rtu: false }).fix.en).toContain('502');
    expect(openFailure(undefined, 'weird', { path: '/dev/x', rtu: true }).said.en).toBe('cannot open: weird');
  });
});

describe('which process is the box', () => {
  it('is `shaobing start|demo`, however it is started', () => {
    expect(isBoxCommand(['/usr/bin/node', '/opt/shaobing/bin/shaobing.mjs', 'start', '--config', 'x.yaml'])).toBe(true);
    expect(isBoxCommand(['node', '--max-old-space-size=96', 'bin/shaobing.mjs', 'demo'])).toBe(true);
    expect(isBoxCommand(['/usr/bin/shaobing', 'start', '--config', '/etc/shaobing/site.yaml'])).toBe(true);
    expect(isBoxCommand(['node', 'dist/gateway/cli.js', 'start'])).toBe(true);
  });
  it('is not the doctor, a backup, or another program', () => {
    expect(isBoxCommand(['node', 'bin/shaobing.mjs', 'doctor', '--config', 'x.yaml'])).toBe(false);
    expect(isBoxCommand(['node', 'bin/shaobing.mjs', 'backup', '--out', 'x'])).toBe(false);
    expect(isBoxCommand(['/usr/sbin/mosquitto', '-c', '/etc/mosquitto/mosquitto.conf'])).toBe(false);
    expect(isBoxCommand(['sqlite3', 'start'])).toBe(false);
  });
});

describe('the silent test sound', () => {
  it('is a valid 16-bit mono PCM WAV of zeros', () => {
    const w = silentWav(200, 16_000);
    expect(w.length).toBe(44 + 6400);
    expect(w.toString('ascii', 0, 4)).toBe('RIFF');
    expect(w.readUInt32LE(4)).toBe(w.length - 8);
    expect(w.toString('ascii', 8, 16)).toBe('WAVEfmt ');
    expect([w.readUInt16LE(20), w.readUInt16LE(22), w.readUInt32LE(24), w.readUInt16LE(34)]).toEqual([1, 1, 16_000, 16]);
    expect(w.readUInt32LE(40)).toBe(6400);
    expect(w.subarray(44).every((b) => b === 0)).toBe(true);
  });
});
