// simulators/modbus: profile devices behind modbus-serial's own client, through the in-memory
// RTU port (no socat): values, exception rules, fault injection, the write log, the Waveshare
// flash-on pulse, broadcast, counters and sixteen units on one line.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { decodeValue } from '../../drivers/modbus/decode.ts';
import { loadAllProfiles } from '../../drivers/modbus/profiles.ts';
import { SimulatedBus, type SimulatedDevice } from '../../simulators/modbus/bus.ts';
import { RtuFramer, crc16, withCrc } from '../../simulators/modbus/rtu-frame.ts';
import { closeMaster, portMaster, readWords, writeCoilRaw, type Master } from '../helpers/modbus-master.ts';

const profiles = new Map(loadAllProfiles().map((p) => [p.model, p]));
const profile = (model: string) => profiles.get(model) ?? expect.unreachable(model);

let bus: SimulatedBus;
let master: Master;
let gauge: SimulatedDevice;
let relay: SimulatedDevice;
let level: SimulatedDevice;

async function failure(p: Promise<unknown>): Promise<{ message: string; modbusCode?: number }> {
  try {
    await p;
  } catch (err) {
    return err as { message: string; modbusCode?: number };
  }
  return { message: 'no error' };
}

beforeEach(async () => {
  bus = new SimulatedBus({ transport: 'rtu' });
  gauge = bus.add(profile('xunchip-xm9505'), 1);
  relay = bus.add(profile('waveshare-modbus-rtu-relay'), 2);
  level = bus.add(profile('qdy30a'), 3);
  master = await portMaster(bus.memoryPort(), 500);
});

afterEach(async () => {
  await closeMaster(master);
  await bus.stop();
});

describe('values', () => {
  it('serves engineering values set in the simulator, converted with its own decimals and unit code', async () => {
    gauge.set('rainfall_mm', 53.6);
    expect(await readWords(master, 1, gauge.register('rainfall_mm'))).toEqual([0x0218]);
    level.set('unit_code', 2);
    level.set('decimals', 0);
    level.set('level', -0.75);
    expect(await readWords(master, 3, level.register('level'))).toEqual([0x10000 - 750]);
    const r = level.register('level');
    expect(decodeValue(await readWords(master, 3, r), r, level.context(r))).toBe(-0.75);
  });

  it('wraps counters at counter_modulus and resets them', () => {
    gauge.setWords('rainfall_mm', [0xffff]);
    expect(gauge.increment('rainfall_mm')).toBe(0);
    expect(gauge.increment('rainfall_mm', 3)).toBe(3);
    expect(gauge.get('rainfall_mm')).toBeCloseTo(0.3);
    gauge.reset('rainfall_mm');
    expect(gauge.raw('rainfall_mm')).toBe(0);
  });

  it('answers sixteen units on one line, each with its own value', async () => {
    const line = new SimulatedBus({ transport: 'rtu' });
    const gauges = Array.from({ length: 16 }, (_, i) => line.add(profile('xunchip-xm9505'), i + 1));
    gauges.forEach((g, i) => g.set('rainfall_mm', i * 1.5));
    const m = await portMaster(line.memoryPort(), 500);
    try {
      for (const g of gauges) expect(await readWords(m, g.unit, g.register('rainfall_mm'))).toEqual([g.unit * 15 - 15]);
      expect((await failure(readWords(m, 17, gauges[0]!.register('rainfall_mm')))).message).toMatch(/Timed out/);
      expect(line.foreign).toBe(1);
    } finally {
      await closeMaster(m);
      await line.stop();
    }
  });
});

describe('exception rules', () => {
  it('02 for an address no register covers, or a write to a read-only register', async () => {
    master.setID(1);
    expect((await failure(master.readHoldingRegisters(1, 1))).modbusCode).toBe(2);
    expect((await failure(master.readHoldingRegisters(0x64, 5))).modbusCode).toBe(2); // 0x64…0x68 runs into a gap
    expect((await failure(master.writeRegister(0, 5))).modbusCode).toBe(2);
    expect((await failure(master.readInputRegisters(0, 1))).modbusCode).toBe(2);
  });

  it('01 for a function code the device does not have', async () => {
    const err = await failure(new Promise((resolve, reject) => master.writeCustomFC(1, 8, [0, 0, 0, 0], (e: Error | null, r: unknown) => (e ? reject(e) : resolve(r)))));
    expect(err.modbusCode).toBe(1);
  });

  it('a refused multi-register write changes nothing', async () => {
    master.setID(1);
    const before = gauge.get('device_address');
    expect((await failure(master.writeRegisters(0x65, [9, 9]))).modbusCode).toBe(2); // 0x65 is read-only
    expect(gauge.get('device_address')).toBe(before);
    await master.writeRegisters(0x66, [7, 2]);
    expect([gauge.get('device_address'), gauge.get('baud_rate_code')]).toEqual([7, 2]);
  });
});

describe('fault injection', () => {
  it.each([1, 2, 3, 4] as const)('exception %i', async (code) => {
    gauge.fault({ kind: 'exception', code, count: 1 });
    master.setID(1);
    expect((await failure(master.readHoldingRegisters(0, 1))).modbusCode).toBe(code);
    expect((await master.readHoldingRegisters(0, 1)).data).toEqual([0]); // count: 1 → answers again
  });

  it('timeout for `count` requests, then answers', async () => {
    gauge.fault({ kind: 'timeout', count: 2 });
    master.setID(1);
    expect((await failure(master.readHoldingRegisters(0, 1))).message).toMatch(/Timed out/);
    expect((await failure(master.readHoldingRegisters(0, 1))).message).toMatch(/Timed out/);
    expect((await master.readHoldingRegisters(0, 1)).data).toEqual([0]);
  });

  it('disappear until restore(), while the other units still answer', async () => {
    gauge.fault({ kind: 'disappear' });
    master.setID(1);
    for (let i = 0; i < 3; i++) expect((await failure(master.readHoldingRegisters(0, 1))).message).toMatch(/Timed out/);
    master.setID(2);
    expect((await master.readCoils(0, 8)).data.slice(0, 8)).toEqual(Array(8).fill(false));
    gauge.restore();
    master.setID(1);
    expect((await master.readHoldingRegisters(0, 1)).data).toEqual([0]);
  });

  it('bad_crc: the reply arrives with a broken CRC', async () => {
    gauge.fault({ kind: 'bad_crc', count: 1 });
    master.setID(1);
    expect((await failure(master.readHoldingRegisters(0, 1))).message).toMatch(/CRC error/);
  });

  it('short_frame: the reply is cut short', async () => {
    gauge.fault({ kind: 'short_frame', count: 1 });
    master.setID(1);
    expect((await failure(master.readHoldingRegisters(0, 1))).message).toMatch(/Data length error/);
  });

  it('delay: the reply comes late', async () => {
    gauge.fault({ kind: 'delay', ms: 150, count: 1 });
    master.setID(1);
    const t0 = performance.now();
    await master.readHoldingRegisters(0, 1);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(140);
    expect(gauge.activeFault).toBeNull();
  });
});

describe('writes', () => {
  it('records coil and register writes with wall and monotonic time', async () => {
    master.setID(2);
    await master.writeCoil(0, true);
    await master.writeCoil(0, false);
    master.setID(1);
    await master.writeRegister(0x66, 5);
    expect(relay.coilWrites().map((w) => [w.register, w.value, w.fc, w.source])).toEqual([
      ['relay_1', true, 5, 'master'],
      ['relay_1', false, 5, 'master'],
    ]);
    expect(gauge.writes.map((w) => [w.register, w.value, w.fc])).toEqual([['device_address', 5, 6]]);
    const [a, b] = relay.coilWrites();
    expect(b!.mono).toBeGreaterThanOrEqual(a!.mono);
    expect(Math.abs(a!.at - Date.now())).toBeLessThan(5000);
  });

  it('refuses an FC05 value other than 0xFF00 / 0x0000 on a plain coil (03)', async () => {
    expect((await failure(writeCoilRaw(master, 2, 0, 0x0205))).modbusCode).toBe(3);
    expect(relay.get('relay_1')).toBe(0);
  });

  it('flash-on: FC05 to 0x0200 with a count of 100 ms turns relay 1 on, and off by itself', async () => {
    await writeCoilRaw(master, 2, 0x0200, 2);
    expect(relay.get('relay_1')).toBe(1);
    master.setID(2);
    expect((await master.readCoils(0, 1)).data[0]).toBe(true);
    const t0 = performance.now();
    while (relay.get('relay_1') === 1 && performance.now() - t0 < 5000) await new Promise((r) => setTimeout(r, 20));
    expect(relay.get('relay_1')).toBe(0);
    const w = relay.coilWrites();
    expect(w.map((x) => [x.source, x.action ?? x.register, x.value])).toEqual([
      ['master', 'flash_on', 2],
      ['device', 'relay_1', true],
      ['device', 'relay_1', false],
    ]);
    expect(w[2]!.mono - w[1]!.mono).toBeGreaterThanOrEqual(195);
    expect((await failure(writeCoilRaw(master, 2, 0x0200, 0))).modbusCode).toBe(3);
  });

  it('R421A08: FC06 command words switch relay 1 (not stored), delay ends by itself, unknown commands 03', async () => {
    const board = bus.add(profile('r421a08-relay'), 5);
    master.setID(5);
    await master.writeRegister(1, 0x0100);
    expect((await master.readHoldingRegisters(1, 1)).data).toEqual([1]);
    await master.writeRegister(1, 0x0200);
    expect((await master.readHoldingRegisters(1, 1)).data).toEqual([0]);
    await master.writeRegister(1, 0x0601); // on for 1 s
    expect(board.get('relay_1')).toBe(1);
    const t0 = performance.now();
    while (board.get('relay_1') === 1 && performance.now() - t0 < 5000) await new Promise((r) => setTimeout(r, 20));
    expect(performance.now() - t0).toBeGreaterThanOrEqual(950);
    expect(board.writes.map((w) => [w.source, w.fc, w.action ?? w.register, w.value])).toEqual([
      ['master', 6, 'siren_on', 0x0100],
      ['device', 0, 'relay_1', 1],
      ['master', 6, 'siren_off', 0x0200],
      ['device', 0, 'relay_1', 0],
      ['master', 6, 'flash_on', 1],
      ['device', 0, 'relay_1', 1],
      ['device', 0, 'relay_1', 0],
    ]);
    master.setID(5);
    for (const v of [0x0300, 0x0600, 0x0001]) expect((await failure(master.writeRegister(1, v))).modbusCode, `0x${v.toString(16)}`).toBe(3);
    expect((await failure(master.writeRegister(9, 0x0100))).modbusCode).toBe(2);
    expect((await failure(master.writeCoil(0, true))).modbusCode).toBe(2); // no coils: FC05 is the wrong function
  });

  it('broadcast (unit 0): every unit executes the write, nobody answers', async () => {
    const other = bus.add(profile('waveshare-modbus-rtu-relay'), 4);
    master.setID(0);
    expect((await failure(master.writeCoil(3, true))).message).toMatch(/Timed out/);
    expect([relay.get('relay_4'), other.get('relay_4')]).toEqual([1, 1]);
  });

  it('stop() clears pending pulses and can be called twice', async () => {
    await writeCoilRaw(master, 2, 0x0200, 2);
    await bus.stop();
    await bus.stop();
    await new Promise((r) => setTimeout(r, 400));
    expect(relay.coilWrites().at(-1)).toMatchObject({ source: 'device', value: true });
  });
});

describe('RTU framing (rtu-frame.ts)', () => {
  const frames: Buffer[] = [];
  const framer = () => new RtuFramer((f) => frames.push(f), 5);
  const read = (unit: number, fc: number, address: number, qty: number) => withCrc(unit, Buffer.from([fc, address >> 8, address & 0xff, qty >> 8, qty & 0xff]));

  beforeEach(() => {
    frames.length = 0;
    vi.useFakeTimers();
  });
  afterEach(() => vi.useRealTimers());

  it('joins a frame split across chunks and splits two frames in one chunk', () => {
    const f = framer();
    const a = read(1, 3, 0, 1);
    f.push(a.subarray(0, 3));
    f.push(a.subarray(3));
    f.push(Buffer.concat([read(2, 4, 8, 2), read(3, 1, 0, 8)]));
    expect(frames.map((x) => [x[0], x[1]])).toEqual([[1, 3], [2, 4], [3, 1]]);
    expect(f.stats).toEqual({ framesOk: 3, crcErrors: 0 });
  });

  it('drops a frame with a bad CRC at the silence and counts it', () => {
    const f = framer();
    const bad = read(1, 3, 0, 1);
    bad[7] = (bad[7] as number) ^ 0xff;
    f.push(bad);
    expect(frames).toEqual([]);
    vi.advanceTimersByTime(10);
    expect(f.stats).toEqual({ framesOk: 0, crcErrors: 1 });
    f.push(read(1, 3, 0, 1));
    expect(frames).toHaveLength(1);
  });

  it('cuts a function code of unknown length at the silence', () => {
    const f = framer();
    f.push(withCrc(5, Buffer.from([0x2b, 0x0e, 0x01, 0x00])));
    expect(frames).toEqual([]);
    vi.advanceTimersByTime(10);
    expect(frames.map((x) => x.toString('hex'))).toEqual([withCrc(5, Buffer.from([0x2b, 0x0e, 0x01, 0x00])).toString('hex')]);
    expect(crc16(Buffer.from([0x01, 0x03, 0x00, 0x00, 0x00, 0x01]))).toBe(0x0a84); // "01 03 00 00 00 01 84 0A" (XM9505 page)
  });
});
