// One test walks every profile in hardware/profiles (evcc template_test.go builds each template
// through production code; this drives each profile through the box's own drivers): schema-valid
// and sound, no overlapping registers, golden vectors decode and golden writes encode; then over
// Modbus TCP and over RTU on a socat pty pair, against the simulator: every register is read by
// the box's poller (its read plan, decoding, decimals/unit codes, validity flags), every action
// is written with writeAction (the function code the siren driver uses) and confirmed, and every
// siren profile sounds a pattern through the relay siren driver. Adding a device adds no test code.
import { readFileSync, readdirSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeValue, encode, engineering } from '../../drivers/modbus/decode.ts';
import { ModbusPoller } from '../../drivers/modbus/poller.ts';
import type { ActionDef, DeviceProfile, RegisterDef } from '../../drivers/modbus/profile-types.ts';
import { PROFILE_DIR, findOverlaps, parseProfile, registerOf } from '../../drivers/modbus/profiles.ts';
import { RelaySirenDriver } from '../../drivers/modbus/relay-siren.ts';
import { actionValue, writeAction } from '../../drivers/modbus/write-action.ts';
import { SimulatedBus, SimulatedSlave, busOfAllProfiles, type SimulatedDevice } from '../../simulators/modbus/bus.ts';
import { closeMaster, readWords, rtuMaster, tcpMaster, type Master } from '../helpers/modbus-master.ts';
import { openDriverRig, type DriverRig } from '../helpers/driver-rig.ts';
import { sampleValues, tolerance } from '../helpers/modbus-values.ts';
import { until } from '../helpers/until.ts';

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

  it('encodes its golden writes as the manual gives them', () => {
    const p = profile as DeviceProfile;
    for (const g of p.goldenWrites) {
      const a = p.actions.find((x) => x.name === g.action) as ActionDef;
      expect(Number(actionValue(a, g.value)), `${g.action}(${g.value ?? ''})`).toBe(g.words[0]);
    }
  });
});

/** Registers another register takes its decimals or unit code from. */
const contextNames = (p: DeviceProfile): Set<string> => new Set(p.registers.flatMap((r) => [r.decimalsFrom, r.unitFrom].filter((x): x is string => x !== null)));

/** Values a context register may hold: the unit codes its dependents convert, or 0…4 decimals. */
function contextSamples(p: DeviceProfile, name: string): number[] {
  const codes = p.registers.flatMap((r) => (r.unitFrom === name ? Object.keys(r.unitCodes ?? {}).map(Number) : []));
  return codes.length ? [...new Set(codes)] : [1, 0, 2, 4, 3];
}

interface Expectation {
  sensor: string;
  reg: RegisterDef;
  /** null: the box must give an error reading (a validity flag says the value is not valid). */
  value: number | null;
  slack: number;
}

const sensorId = (p: DeviceProfile, r: RegisterDef) => `${p.model}:${r.name}`;

/** Sets round `k` of sample values on every device: context registers first, then the rest. */
function setRound(devices: SimulatedDevice[], k: number): Expectation[] {
  const out: Expectation[] = [];
  for (const d of devices) {
    const ctxNames = contextNames(d.profile);
    for (const name of ctxNames) {
      const values = contextSamples(d.profile, name);
      d.set(name, values[k % values.length] as number);
    }
    for (const r of d.profile.registers.filter((x) => !ctxNames.has(x.name))) {
      const ctx = d.context(r);
      const values = sampleValues(r, ctx);
      const value = values[k % values.length] as number;
      d.set(r.name, value);
      out.push({ sensor: sensorId(d.profile, r), reg: r, value, slack: tolerance(r, value, ctx) });
    }
    for (const name of ctxNames) out.push({ sensor: sensorId(d.profile, d.register(name)), reg: d.register(name), value: d.get(name), slack: 0 });
  }
  // A register that is valid only while its status register reads 0 must read as an error otherwise.
  for (const e of out) {
    if (!e.reg.validWhenZero) continue;
    const d = devices.find((x) => x.profile.registers.includes(e.reg)) as SimulatedDevice;
    if (d.raw(e.reg.validWhenZero) !== 0) e.value = null;
  }
  return out;
}

/** Counters one count past their wrap point, every other register as it is. */
function setWrapped(devices: SimulatedDevice[], before: Expectation[]): Expectation[] {
  const counters = new Map<string, number>();
  for (const d of devices) {
    for (const r of d.profile.registers.filter((x) => x.counterModulus > 0)) {
      d.setWords(r.name, encode(r.counterModulus - 1, r.type.replace('S_', 'U_') as RegisterDef['type']));
      d.increment(r.name, 2);
      counters.set(sensorId(d.profile, r), engineering(1, r, d.context(r).decimals, d.context(r).unitCode));
    }
  }
  return before.map((e) => (counters.has(e.sensor) ? { ...e, value: counters.get(e.sensor) as number } : e));
}

describe.each(['tcp', 'rtu'] as const)('every profile over %s, through the box drivers', (transport) => {
  let sim: SimulatedBus;
  let rig: DriverRig;
  const device = (p: DeviceProfile) => sim.devices().find((d) => d.profile === p) as SimulatedDevice;

  beforeAll(async () => {
    sim = busOfAllProfiles({ transport }, profiles);
    await sim.start();
    rig = await openDriverRig({ id: 'walk', type: transport, timeoutMs: 1500, ...(transport === 'tcp' ? { host: sim.endpoint.host, port: sim.endpoint.port } : { path: sim.path }) });
  });

  afterAll(async () => {
    await rig?.close();
    await sim?.stop();
  });

  /** One fresh poller over every register of every device (a fresh one rereads `once` registers). */
  async function pollRound(expected: Expectation[]): Promise<void> {
    const sensors = sim.devices().flatMap((d) => d.profile.registers.map((r) => ({ sensor: sensorId(d.profile, r), bus: 'walk', unit: d.unit, profile: d.profile, register: r.name, pollMs: 50 })));
    const { readings } = rig;
    const poller = new ModbusPoller(rig.ctx, new Map([['walk', rig.sched]]), sensors);
    const from = readings.length;
    const wrong = (): string[] =>
      expected.flatMap((e) => {
        const got = readings.slice(from).filter((r) => r.sensor === e.sensor).at(-1);
        const ok = got !== undefined && (e.value === null ? got.value === null : got.value !== null && Math.abs(got.value - e.value) <= e.slack);
        return ok ? [] : [`${e.sensor}: wanted ${e.value}, read ${got === undefined ? 'nothing' : got.value}`];
      });
    await poller.start();
    try {
      await until('every register read as set', () => wrong().length === 0, 15_000).catch(() => undefined);
    } finally {
      await poller.stop();
    }
    expect(wrong()).toEqual([]);
  }

  it('the poller reads every register of every profile as the device holds it', async () => {
    const rounds = Math.max(...sim.devices().flatMap((d) => d.profile.registers.map((r) => sampleValues(r, d.context(r)).length)));
    let last: Expectation[] = [];
    for (let k = 0; k < rounds; k++) await pollRound((last = setRound(sim.devices(), k)));
    await pollRound(setWrapped(sim.devices(), last)); // counters past their wrap point
  }, 120_000);

  it.each(profiles.filter((p) => p.actions.length > 0))('$model: writeAction sends every action, and its register confirms it', async (p) => {
    const d = device(p);
    for (const a of p.actions) {
      const golden = p.goldenWrites.find((g) => g.action === a.name);
      const value = a.value === null ? (golden?.value ?? (a.valueMin as number)) : null;
      const from = d.writes.length;
      const written = await rig.sched.request(d.unit, 'write', (l) => writeAction(l, d.unit, a, value));
      if (golden) expect(Number(written), `${a.name} golden`).toBe(golden.words[0]);
      const mine = d.writes.slice(from).find((w) => w.source === 'master');
      expect(mine, a.name).toMatchObject({ fc: a.table === 'holding' ? 6 : 5, address: a.address });
      if (!a.confirm) continue;
      const confirm = d.register(a.confirm);
      const read = async () => (await rig.sched.request(d.unit, 'read', (l) => l.read(d.unit, confirm.table, confirm.address, 1)))[0];
      const expected = Number(a.pulse ? a.pulse.state : (a.state ?? written));
      expect(await read(), `${a.name} → ${a.confirm}`).toBe(expected);
      if (!a.pulse) continue;
      // The device ends a pulse by itself, after the time written.
      const t0 = performance.now();
      while ((await read()) === expected) {
        expect(performance.now() - t0, `${a.name} ends by itself`).toBeLessThan(10_000);
        await new Promise((r) => setTimeout(r, 20));
      }
      const edges = d.writes.slice(from).filter((w) => w.source === 'device');
      expect(edges.at(-1)!.mono - edges.at(-2)!.mono, `${a.name} lasts its time`).toBeGreaterThanOrEqual((Number(written) - a.valueBase) * a.pulse.unitMs - 5);
    }
  }, 60_000);

  it.each(profiles.filter((p) => p.actions.some((a) => a.name === 'siren_on') && p.actions.some((a) => a.name === 'siren_off')))(
    '$model: the relay siren driver sounds a pattern on it, read back, without a fault',
    async (p) => {
      const d = device(p);
      const driver = new RelaySirenDriver(rig.ctx, new Map([['walk', rig.sched]]), [{ actuator: `walk-${p.model}`, zones: ['site'], bus: 'walk', unit: d.unit, profile: p, coil: 0 }]);
      await driver.start();
      const from = d.writes.length;
      const faults = rig.reports.length;
      try {
        rig.ctx.bus.emit('effect', { type: 'siren', at: 0, actuator: `walk-${p.model}`, zone: 'site', activity: `walk-${p.model}`, priority: 'alarm', source: 'engine', by: 'engine', alert: null, drill: false, pattern: 'walk', steps: [1, 1, 1], clamped: false });
        await until('the pattern written', () => d.writes.slice(from).filter((w) => w.source === 'master').length >= 4, 15_000);
      } finally {
        await driver.stop();
      }
      const on = p.actions.find((a) => a.name === 'flash_on' && a.pulse) ?? (p.actions.find((a) => a.name === 'siren_on') as ActionDef);
      const off = p.actions.find((a) => a.name === 'siren_off') as ActionDef;
      const fc = (a: ActionDef) => (a.table === 'holding' ? 6 : 5);
      const wire = d.writes.slice(from).filter((w) => w.source === 'master').slice(0, 4).map((w) => [w.fc, w.address]);
      expect(wire).toEqual([on, off, on, off].map((a) => [fc(a), a.address]));
      expect(rig.reports.slice(faults)).toEqual([]);
      expect(d.raw(off.confirm as string)).toBe(0);
    },
    30_000,
  );
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
