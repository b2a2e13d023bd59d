/**
 * The serial driver over REAL pseudo-terminals (socat), the simulator writing on the other end:
 * both protocols, chunked and noisy input, and socat killed and restarted under a running
 * driver (a USB adapter pulled and plugged back), which must reconnect by itself.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SerialSensorDriver } from '../../drivers/serial/driver.ts';
import { LineDevice } from '../../simulators/serial/line-device.ts';
import { ptyPair, type PtyPair } from '../helpers/serial-pty.ts';
import { serialRig, type SerialRig } from '../helpers/serial-rig.ts';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const t0 = Date.now();
  while (!check()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(10);
  }
}

describe.each(['ascii', 'framed'] as const)('serial driver over a real pty pair (%s)', (protocol) => {
  let pty: PtyPair;
  let rig: SerialRig;
  let driver: SerialSensorDriver;
  let device: LineDevice;

  const newDevice = async (): Promise<LineDevice> => {
    const d = new LineDevice({ path: pty.a, baudRate: 9600, protocol });
    await d.open();
    return d;
  };

  beforeAll(async () => {
    pty = ptyPair();
    await pty.start();
    rig = serialRig();
    driver = new SerialSensorDriver(rig.ctx, {
      path: pty.b,
      baudRate: 9600,
      protocol,
      devices: { '1': { sensor: 'sm1' }, '2': { sensor: 'sm2' }, '30': { sensor: 'rg1' } },
      reopenMs: 100,
      maxReopenMs: 400,
      silenceMs: 300,
    });
    await driver.start();
    device = await newDevice();
  });

  afterAll(async () => {
    await driver?.stop();
    await device?.close();
    await pty?.dispose();
  });

  it('delivers readings written by the simulator', async () => {
    await device.smoke(1, 'alarm', 0.8);
    await device.smoke(2, 'normal', 0.07);
    await device.value(30, 12.5);
    const got = await rig.waitFor(3);
    expect(got.map((r) => [r.sensor, r.value, r.quality])).toEqual([
      ['sm1', 1, 'good'],
      ['sm2', 0.07, 'good'],
      ['rg1', 12.5, 'good'],
    ]);
  });

  it('reassembles records written in small chunks with gaps, and skips noise around them', async () => {
    const n = rig.readings.length;
    await device.write(Buffer.from([0x13, 0x37, 0x00, 0xff]));
    await device.smoke(1, 'dirty', null, { chunkSize: 3, gapMs: 15 });
    await device.write(protocol === 'ascii' ? 'noise\r\n' : Buffer.from('noise'));
    await device.smoke(1, 'normal');
    await rig.waitFor(n + 2);
    expect(rig.readings.slice(n).map((r) => r.value)).toEqual([2, 0]);
    expect(driver.stats().discarded.garbage).toBeGreaterThanOrEqual(2);
  });

  it('discards a record cut short by a silence as partial', async () => {
    const partial = driver.stats().discarded.partial;
    const whole = protocol === 'ascii' ? Buffer.from('SMK,1,alarm,\r\n') : Buffer.from([0x7e, 0x07, 0x01, 0x01, 0x01]);
    await device.write(whole.subarray(0, 5));
    await until(() => driver.stats().discarded.partial === partial + 1, 'partial counted');
    const n = rig.readings.length;
    await device.smoke(1, 'low_battery');
    await rig.waitFor(n + 1);
    expect(rig.readings.at(-1)!.value).toBe(4);
  });

  it('reconnects by itself when socat is killed and started again', async () => {
    const opens = driver.stats().opens;
    await pty.kill();
    await until(() => !driver.connected, 'driver noticed the lost pty');
    await device.close();
    // Down for a while: several reopen attempts fail meanwhile.
    await sleep(600);
    await pty.start();
    await until(() => driver.connected, 'driver reopened the pty');
    expect(driver.stats().opens).toBe(opens + 1);
    device = await newDevice();
    const n = rig.readings.length;
    await device.smoke(1, 'alarm', 1.1);
    await device.value(30, 13);
    await rig.waitFor(n + 2, 5000);
    expect(rig.readings.slice(n).map((r) => [r.sensor, r.value])).toEqual([
      ['sm1', 1],
      ['rg1', 13],
    ]);
  });

  it('stops promptly and stays stopped', async () => {
    const t0 = Date.now();
    await driver.stop();
    expect(Date.now() - t0).toBeLessThan(2500);
    expect(driver.connected).toBe(false);
    await sleep(300);
    expect(driver.connected).toBe(false);
  });
});
