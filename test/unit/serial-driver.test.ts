import pino, { type Logger } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { SerialSensorDriver, type SerialSensorOptions } from '../../drivers/serial/driver.ts';
import { smokeFrame, valueFrame } from '../../drivers/serial/wire.ts';
import { mockSerial, type MockSerial } from '../helpers/serial-mock.ts';
import { SERIAL_SITE, serialRig, type SerialRig } from '../helpers/serial-rig.ts';

const PATH = '/dev/ttyMOCK0';
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

let drivers: SerialSensorDriver[] = [];
afterEach(async () => {
  await Promise.all(drivers.map((d) => d.stop()));
  drivers = [];
});

function setup(over: Partial<SerialSensorOptions> = {}, log?: Logger): { rig: SerialRig; mock: MockSerial; driver: SerialSensorDriver } {
  const rig = serialRig(SERIAL_SITE, log);
  const mock = mockSerial(PATH);
  const driver = new SerialSensorDriver(rig.ctx, {
    path: PATH,
    baudRate: 9600,
    protocol: 'ascii',
    devices: { '1': { sensor: 'sm1' }, '2': { sensor: 'sm2' }, rg: { sensor: 'rg1' } },
    binding: mock.binding,
    reopenMs: 20,
    maxReopenMs: 80,
    openTimeoutMs: 200,
    closeTimeoutMs: 200,
    silenceMs: 100,
    ...over,
  });
  drivers.push(driver);
  return { rig, mock, driver };
}

/** Waits until `check` holds, polling. */
async function until(check: () => boolean, timeoutMs = 3000): Promise<void> {
  const t0 = Date.now();
  while (!check()) {
    if (Date.now() - t0 > timeoutMs) throw new Error('condition not met in time');
    await sleep(5);
  }
}

describe('serial sensor driver over the mock binding', () => {
  it('turns ASCII lines into readings on the bus, stamped with the monotonic clock, mode from the config', async () => {
    const { rig, mock, driver } = setup();
    const before = rig.ctx.clock.mono();
    await driver.start();
    expect(driver.connected).toBe(true);
    mock.latest().emitData('SMK,1,alarm,0.31\r\nSMK,2,normal,0.12\r\nVAL,rg,42.5\r\n');
    const got = await rig.waitFor(3);
    expect(got.map((r) => [r.sensor, r.value, r.quality])).toEqual([
      ['sm1', 1, 'good'],
      ['sm2', 0.12, 'good'],
      ['rg1', 42.5, 'good'],
    ]);
    expect(got[0]!.at).toBeGreaterThanOrEqual(before);
    expect(got[1]!.at).toBeGreaterThan(got[0]!.at);
    expect(driver.stats()).toMatchObject({ lines: 3, frames: 0, readings: 3, opens: 1 });
  });

  it('gives two readings of one sensor in one chunk strictly increasing times (the engine drops a repeat)', async () => {
    const { rig, mock, driver } = setup();
    await driver.start();
    mock.latest().emitData('SMK,1,normal,\r\nSMK,1,alarm,\r\n');
    const [a, b] = await rig.waitFor(2);
    expect(b!.at).toBeGreaterThan(a!.at);
    expect(b!.value).toBe(1);
  });

  it('reads framed input', async () => {
    const { rig, mock, driver } = setup({ protocol: 'framed', devices: { '1': { sensor: 'sm1' }, '200': { sensor: 'rg1' } } });
    await driver.start();
    mock.latest().emitData(Buffer.concat([Buffer.from([0x00, 0x7e]), smokeFrame(1, 'dirty'), valueFrame(200, 3.25)]));
    const got = await rig.waitFor(2);
    expect(got.map((r) => r.value)).toEqual([2, 3.25]);
    expect(driver.stats()).toMatchObject({ frames: 2, readings: 2, discarded: { garbage: 1 } });
  });

  it('reassembles a line split across chunks, and discards a partial one after a silence', async () => {
    const { rig, mock, driver } = setup({ silenceMs: 150 });
    await driver.start();
    mock.latest().emitData('SMK,1,ala');
    await sleep(40);
    mock.latest().emitData('rm,\r\nSMK,1,norm');
    await rig.waitFor(1);
    await until(() => driver.stats().discarded.partial === 1);
    mock.latest().emitData('al,\r\nSMK,1,tamper,\r\n');
    await rig.waitFor(2);
    expect(rig.readings.map((r) => r.value)).toEqual([1, 5]);
    expect(driver.stats().discarded).toEqual({ garbage: 1, partial: 1, too_long: 0, bad_crc: 0, unknown_id: 0, bad_value: 0 });
  });

  it('counts every kind of bad input and lets none of it reach the bus', async () => {
    const { rig, mock, driver } = setup();
    await driver.start();
    mock.latest().emitData(`junk\r\n${'Z'.repeat(400)}\r\nSMK,9,alarm,\r\nSMK,1,smoky,\r\nVAL,rg,abc\r\nSMK,1,alarm,\r\n`);
    await rig.waitFor(1);
    expect(rig.readings).toHaveLength(1);
    expect(driver.stats().discarded).toEqual({ garbage: 1, partial: 0, too_long: 1, bad_crc: 0, unknown_id: 1, bad_value: 2 });
  });

  it('logs every discard at debug but warns about discards at most once a minute', async () => {
    const logged: { level: number; msg: string; reason?: string }[] = [];
    const log = pino({ level: 'debug' }, { write: (line: string) => logged.push(JSON.parse(line)) });
    const { rig, mock, driver } = setup({}, log);
    await driver.start();
    mock.latest().emitData('junk\r\nSMK,9,alarm,\r\n');
    await until(() => driver.stats().discarded.unknown_id === 1);
    mock.latest().emitData('more junk\r\nSMK,1,alarm,\r\n');
    await rig.waitFor(1);
    const discards = logged.filter((l) => l.msg.startsWith('serial input discarded'));
    expect(discards.filter((l) => l.level === 20).map((l) => l.reason)).toEqual(['garbage', 'unknown_id', 'garbage']);
    expect(discards.filter((l) => l.level === 40)).toHaveLength(1);
  });

  it('reopens by itself after the adapter is pulled, and readings flow again', async () => {
    const { rig, mock, driver } = setup();
    await driver.start();
    mock.latest().emitData('SMK,1,normal,\r\n');
    await rig.waitFor(1);
    mock.failOpens = 2;
    mock.unplug();
    await until(() => !driver.connected);
    await mock.waitForOpens(2);
    await until(() => driver.connected);
    mock.latest().emitData('SMK,1,alarm,\r\n');
    await rig.waitFor(2);
    expect(rig.readings.map((r) => r.value)).toEqual([0, 1]);
    expect(driver.stats().opens).toBe(2);
  });

  it('discards a partial line cut by the unplug instead of gluing it to the next line', async () => {
    const { rig, mock, driver } = setup();
    await driver.start();
    mock.latest().emitData('SMK,1,al');
    await sleep(20);
    mock.unplug();
    await mock.waitForOpens(2);
    await until(() => driver.connected);
    mock.latest().emitData('SMK,1,normal,\r\n');
    await rig.waitFor(1);
    expect(rig.readings.map((r) => r.value)).toEqual([0]);
    expect(driver.stats().discarded.partial).toBe(1);
  });

  it('reopens a port that went quiet when idleReopenMs is set', async () => {
    const { rig, mock, driver } = setup({ idleReopenMs: 100 });
    await driver.start();
    await mock.waitForOpens(2);
    await until(() => driver.connected);
    mock.latest().emitData('VAL,rg,1\r\n');
    await rig.waitFor(1);
    expect(driver.stats().opens).toBeGreaterThanOrEqual(2);
  });

  it('start() rejects with a code when the port is missing or hangs, and leaves nothing running', async () => {
    const a = setup({ path: '/dev/ttyNOPE' });
    await expect(a.driver.start()).rejects.toMatchObject({ code: 'E_SERIAL_OPEN' });
    expect(a.driver.connected).toBe(false);
    const b = setup({ openTimeoutMs: 50 });
    b.mock.hangOpens = true;
    const t0 = Date.now();
    await expect(b.driver.start()).rejects.toMatchObject({ code: 'E_SERIAL_TIMEOUT' });
    expect(Date.now() - t0).toBeLessThan(1000);
    // The supervisor's retry: start() again once the port works.
    b.mock.hangOpens = false;
    await b.driver.start();
    expect(b.driver.connected).toBe(true);
  });

  it('stop() resolves within its deadline even when close() never calls back', async () => {
    const { mock, driver } = setup({ closeTimeoutMs: 100 });
    await driver.start();
    mock.hangCloses = true;
    const t0 = Date.now();
    await driver.stop();
    expect(Date.now() - t0).toBeLessThan(500);
    expect(driver.connected).toBe(false);
  });

  it('stop() cancels pending reopen attempts', async () => {
    const { mock, driver } = setup({ reopenMs: 50 });
    await driver.start();
    mock.failOpens = 1000;
    mock.unplug();
    await until(() => !driver.connected);
    await driver.stop();
    const opens = mock.opened.length;
    const failuresLeft = mock.failOpens;
    await sleep(300);
    expect(mock.opened.length).toBe(opens);
    expect(mock.failOpens).toBe(failuresLeft);
  });

  it('stop() during an open closes the late port and start() rejects as stopped', async () => {
    const { mock, driver } = setup({ openTimeoutMs: 1000 });
    const starting = driver.start();
    await driver.stop();
    await expect(starting).rejects.toMatchObject({ code: 'E_SERIAL_STOPPED' });
    await sleep(20);
    expect(mock.opened.every((p) => !p.isOpen)).toBe(true);
  });

  it('refuses options it cannot work with, with a code', () => {
    const { rig } = setup();
    const base = { path: PATH, baudRate: 9600, protocol: 'framed' as const, devices: { '1': { sensor: 'sm1' } } };
    expect(() => new SerialSensorDriver(rig.ctx, { ...base, devices: { A: { sensor: 'sm1' } } })).toThrow(expect.objectContaining({ code: 'E_SERIAL_CONFIG' }));
    expect(() => new SerialSensorDriver(rig.ctx, { ...base, devices: { '256': { sensor: 'sm1' } } })).toThrow(expect.objectContaining({ code: 'E_SERIAL_CONFIG' }));
    expect(() => new SerialSensorDriver(rig.ctx, { ...base, protocol: 'ascii', devices: { 'a,b': { sensor: 'sm1' } } })).toThrow(expect.objectContaining({ code: 'E_SERIAL_CONFIG' }));
    expect(() => new SerialSensorDriver(rig.ctx, { ...base, devices: {} })).toThrow(expect.objectContaining({ code: 'E_SERIAL_CONFIG' }));
    expect(() => new SerialSensorDriver(rig.ctx, { ...base, baudRate: 0 })).toThrow(expect.objectContaining({ code: 'E_SERIAL_CONFIG' }));
  });

  it('an explicit mode overrides the config', async () => {
    const { rig, mock, driver } = setup({ devices: { '2': { sensor: 'sm2', mode: 'state' } } });
    await driver.start();
    mock.latest().emitData('SMK,2,alarm,0.9\r\n');
    expect((await rig.waitFor(1))[0]!.value).toBe(1);
  });
});
