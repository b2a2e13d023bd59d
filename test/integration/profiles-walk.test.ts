// One test walks every profile in hardware/profiles (evcc template_test.go): schema-valid and
// sound, no overlapping registers, golden vectors decode, and every register round-trips through
// the simulator over Modbus TCP and over RTU on a socat pty pair, read by modbus-serial as master
// with the table's function code. Adding a device adds no test code.
import { readFileSync, readdirSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decode, decodeValue, encode, type ValueContext } from '../../drivers/modbus/decode.ts';
import type { DeviceProfile, RegisterDef } from '../../drivers/modbus/profile-types.ts';
import { PROFILE_DIR, findOverlaps, parseProfile, registerOf } from '../../drivers/modbus/profiles.ts';
import { SimulatedBus, SimulatedSlave, busOfAllProfiles, type SimulatedDevice } from '../../simulators/modbus/bus.ts';
import { closeMaster, readWords, rtuMaster, tcpMaster, writeCoilRaw, type Master } from '../helpers/modbus-master.ts';
import { sampleValues, tolerance } from '../helpers/modbus-values.ts';

const files = readdirSync(PROFILE_DIR).filter((f) => /\.ya?ml$/.test(f)).sort();
const parsed = files.map((file) => ({ file, ...parseProfile(readFileSync(join(PROFILE_DIR, file), 'utf8'), basename(file, extname(file))) }));
const profiles = parsed.flatMap((p) => (p.profile ? [p.profile] : []));

describe.each(parsed)('$file', ({ profile, problems }) => {
  it('is schema-valid and passes the cross-field rules', () => {
    expect(problems.map((p) => `${p.path}: ${p.message}`)).toEqual([]);
  });

  it('has no overlapping registers', () => {
    expect(findOverlaps(profile?.registers ?? [])).toEqual([]);
  });

  it('decodes its golden vectors, and has one for every register that feeds a reading', () => {
    const p = profile as DeviceProfile;
    for (const g of p.golden) {
      const r = registerOf(p, g.register);
      expect(decodeValue(g.words, r, { decimals: g.decimals, unitCode: g.unitCode }), `${g.register} ${JSON.stringify(g.words)}`).toBe(Number(g.value));
    }
    for (const r of p.registers.filter((x) => x.feeds)) expect(p.golden.some((g) => g.register === r.name), r.name).toBe(true);
  });
});

/** Reads the context registers over the wire, as a driver does before decoding. */
async function wireContext(m: Master, d: SimulatedDevice, r: RegisterDef): Promise<ValueContext> {
  const raw = async (name: string | null) => (name ? decode(await readWords(m, d.unit, d.register(name)), 'U_WORD') : null);
  return { decimals: await raw(r.decimalsFrom), unitCode: await raw(r.unitFrom) };
}

describe.each(['tcp', 'rtu'] as const)('every profile over %s', (transport) => {
  let bus: SimulatedBus;
  let master: Master;
  const device = (p: DeviceProfile) => bus.devices().find((d) => d.profile === p) as SimulatedDevice;

  beforeAll(async () => {
    bus = busOfAllProfiles({ transport }, profiles);
    await bus.start();
    master = transport === 'tcp' ? await tcpMaster(bus.endpoint.host, bus.endpoint.port) : await rtuMaster(bus.path);
  });

  afterAll(async () => {
    await closeMaster(master);
    await bus?.stop();
  });

  it.each(profiles)('$model: every register round-trips', async (p) => {
    const d = device(p);
    for (const r of p.registers) {
      const saved = d.words(r.name);
      for (const value of sampleValues(r, d.context(r))) {
        d.set(r.name, value);
        const ctx = await wireContext(master, d, r);
        const got = decodeValue(await readWords(master, d.unit, r), r, ctx);
        expect(Math.abs(got - value), `${r.name} = ${value}, read ${got}`).toBeLessThanOrEqual(tolerance(r, value, ctx));
      }
      d.setWords(r.name, saved);
    }
  });

  it.each(profiles)('$model: counters wrap at counter_modulus', async (p) => {
    const d = device(p);
    for (const r of p.registers.filter((x) => x.counterModulus > 0)) {
      const saved = d.words(r.name);
      d.setWords(r.name, encode(r.counterModulus - 1, r.type.replace('S_', 'U_') as RegisterDef['type']));
      d.increment(r.name, 2);
      expect(decode(await readWords(master, d.unit, r), r.type), r.name).toBe(1);
      d.setWords(r.name, saved);
    }
  });

  it.each(profiles.filter((p) => p.actions.length > 0))('$model: every action is confirmed by its register', async (p) => {
    const d = device(p);
    for (const a of p.actions) {
      const given = a.value ?? (a.valueMin as number);
      const raw = typeof given === 'boolean' ? Number(given) : a.value === null ? Math.round(given / a.valueScale) : given;
      master.setID(d.unit);
      if (a.table === 'holding') await master.writeRegister(a.address, raw);
      else if (a.encoding === 'raw') await writeCoilRaw(master, d.unit, a.address, raw);
      else await master.writeCoil(a.address, Boolean(given));
      expect(d.writes.at(a.pulse ? -2 : -1), a.name).toMatchObject({ source: 'master', address: a.address });
      if (!a.confirm) continue;
      const confirm = d.register(a.confirm);
      const expected = a.pulse ? Number(a.pulse.state) : raw;
      expect(decode(await readWords(master, d.unit, confirm), confirm.type), `${a.name} → ${a.confirm}`).toBe(expected);
      if (!a.pulse) continue;
      const t0 = performance.now();
      while (decode(await readWords(master, d.unit, confirm), confirm.type) === expected) {
        expect(performance.now() - t0, `${a.name} ends by itself`).toBeLessThan(10_000);
        await new Promise((r) => setTimeout(r, 20));
      }
      const [on, off] = d.coilWrites().slice(-2);
      expect(off!.mono - on!.mono, `${a.name} lasts raw × unit_ms`).toBeGreaterThanOrEqual(raw * a.pulse.unitMs - 5);
    }
  });
});

describe('the simulated line', () => {
  const gauge = profiles.find((p) => p.kind === 'rain') as DeviceProfile;
  const feed = gauge.registers.find((r) => r.feeds) as RegisterDef;

  it('answers sixteen units on one RTU pty line, and nothing for a seventeenth', async () => {
    const line = new SimulatedBus({ transport: 'rtu' });
    const units = Array.from({ length: 16 }, (_, i) => line.add(gauge, i + 1));
    units.forEach((u) => u.set(feed.name, u.unit));
    let m: Master | null = null;
    try {
      await line.start();
      m = await rtuMaster(line.path, 1000);
      for (const u of units) expect(decodeValue(await readWords(m, u.unit, feed), feed), `unit ${u.unit}`).toBe(u.unit);
      await expect(readWords(m, 17, feed)).rejects.toThrow(/Timed out/);
      expect(line.foreign).toBe(1);
      expect(line.rtuStats.crcErrors).toBe(0);
    } finally {
      await closeMaster(m);
      await line.stop();
    }
  });

  it.each(['tcp', 'rtu'] as const)('injects faults on the wire (%s)', async (transport) => {
    const slave = new SimulatedSlave(gauge, { transport, unit: 7 });
    let m: Master | null = null;
    try {
      await slave.start();
      m = transport === 'tcp' ? await tcpMaster(slave.endpoint.host, slave.endpoint.port, 1000) : await rtuMaster(slave.path, 1000);
      slave.fault({ kind: 'exception', code: 4, count: 1 });
      await expect(readWords(m, 7, feed)).rejects.toMatchObject({ modbusCode: 4 });
      slave.fault({ kind: 'timeout', count: 1 });
      await expect(readWords(m, 7, feed)).rejects.toThrow(/Timed out/);
      if (transport === 'rtu') {
        slave.fault({ kind: 'bad_crc', count: 1 });
        await expect(readWords(m, 7, feed)).rejects.toThrow(/CRC error/);
      } else {
        slave.fault({ kind: 'short_frame', count: 1 });
        await expect(readWords(m, 7, feed)).rejects.toThrow(/Data length error/);
      }
      slave.set(feed.name, 12.5);
      expect(decodeValue(await readWords(m, 7, feed), feed)).toBe(12.5);
    } finally {
      await closeMaster(m);
      await slave.stop();
    }
  });
});
