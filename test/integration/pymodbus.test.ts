// Against Modbus implementations nobody here wrote:
// 1. Debian's pymodbus (3.0.0rc1, /usr/bin/python3, zero_mode=True) serves every profile's
//    registers over TCP; modbus-serial reads them and our decode must give the values we put in.
// 2. mbpoll (libmodbus) polls OUR simulators as master, over TCP and over RTU on the socat pty:
//    its 16-bit words must be ours, and its own 32-bit decoding (-t 3:int, -B for high word first)
//    must agree with decode() — an independent check of word order that a round trip through our
//    own encode/decode cannot give.
// Only 127.0.0.1; every process started here is ended in afterAll.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decode, decodeValue, type ValueContext } from '../../drivers/modbus/decode.ts';
import { typeWidth, type DeviceProfile, type RegisterDef } from '../../drivers/modbus/profile-types.ts';
import { loadAllProfiles } from '../../drivers/modbus/profiles.ts';
import { busOfAllProfiles, type SimulatedBus, type SimulatedDevice } from '../../simulators/modbus/bus.ts';
import { closeMaster, readWords, tcpMaster, type Master } from '../helpers/modbus-master.ts';
import { PYTHON, memoryImage, startPymodbusSlave, type PymodbusSlave } from '../helpers/modbus-pymodbus.ts';
import { parseMbpoll, sampleValues, tolerance } from '../helpers/modbus-values.ts';

const profiles = loadAllProfiles();

/** Puts a non-trivial sample value in every register that no other register depends on. */
function fill(bus: SimulatedBus): void {
  for (const d of bus.devices()) {
    const context = new Set(d.profile.registers.flatMap((r) => [r.decimalsFrom, r.unitFrom]));
    for (const r of d.profile.registers) {
      if (context.has(r.name)) continue;
      const values = sampleValues(r, d.context(r));
      d.set(r.name, values[Math.min(2, values.length - 1)] as number);
    }
  }
}

async function wireContext(m: Master, unit: number, d: SimulatedDevice, r: RegisterDef): Promise<ValueContext> {
  const raw = async (name: string | null) => (name ? decode(await readWords(m, unit, d.register(name)), 'U_WORD') : null);
  return { decimals: await raw(r.decimalsFrom), unitCode: await raw(r.unitFrom) };
}

describe('pymodbus as the slave, modbus-serial + decode as the master', () => {
  let expected: SimulatedBus; // only a source of values and memory images; never started
  let slave: PymodbusSlave | null = null;
  let master: Master | null = null;

  beforeAll(async () => {
    expect(existsSync('/usr/lib/python3/dist-packages/pymodbus'), 'apt-get install python3-pymodbus').toBe(true);
    expected = busOfAllProfiles({ transport: 'tcp' }, profiles);
    fill(expected);
    slave = await startPymodbusSlave(memoryImage(expected.devices()));
    master = await tcpMaster('127.0.0.1', slave.port, 2000);
  });

  afterAll(async () => {
    await closeMaster(master);
    await slave?.stop();
    await expected?.stop();
  });

  it.each(profiles)('$model: every register reads back as set', async (p) => {
    const d = expected.devices().find((x) => x.profile === p) as SimulatedDevice;
    const m = master as Master;
    for (const r of p.registers) {
      const ctx = await wireContext(m, d.unit, d, r);
      const words = await readWords(m, d.unit, r);
      expect(words, `${r.name} words`).toEqual(d.words(r.name));
      const want = d.get(r.name);
      expect(Math.abs(decodeValue(words, r, ctx) - want), `${r.name} = ${want}`).toBeLessThanOrEqual(tolerance(r, want, ctx));
    }
  });

  it(`runs under ${PYTHON}`, () => {
    expect(slave?.pid).toBeGreaterThan(0);
  });
});

function mbpoll(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('mbpoll', args, { timeout: 15_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`mbpoll ${args.join(' ')}: ${stderr.trim() || err.message}`));
      else resolve(stdout);
    });
  });
}

const TYPE_FLAG = { coil: '0', discrete: '1', input: '3', holding: '4' } as const;

describe.each(['tcp', 'rtu'] as const)('mbpoll as the master against our simulator over %s', (transport) => {
  let bus: SimulatedBus;
  let target: string[];

  beforeAll(async () => {
    await expect(mbpoll(['-V'])).resolves.toMatch(/\d/);
    bus = busOfAllProfiles({ transport }, profiles);
    fill(bus);
    await bus.start();
    // -0: references are 0-based (PDU addresses); -1: poll once; -o: time-out in s.
    target = transport === 'tcp' ? ['-m', 'tcp', '-p', String(bus.endpoint.port), '-o', '2', '-0', '-1', '127.0.0.1'] : ['-m', 'rtu', '-b', '9600', '-P', 'none', '-o', '2', '-0', '-1', bus.path];
  });

  afterAll(async () => {
    await bus?.stop();
  });

  const poll = (unit: number, r: RegisterDef, type: string, count: number) =>
    mbpoll(['-a', String(unit), '-r', String(r.address), '-c', String(count), '-t', type, ...target]);

  it.each(profiles)('$model: mbpoll reads our words, and decodes 32-bit values as we do', async (p: DeviceProfile) => {
    const d = bus.devices().find((x) => x.profile === p) as SimulatedDevice;
    for (const r of p.registers) {
      const words = parseMbpoll(await poll(d.unit, r, TYPE_FLAG[r.table], typeWidth(r.type)));
      expect(words, `${r.name} (${r.table} ${r.address})`).toEqual(d.words(r.name));
      if (typeWidth(r.type) !== 2) continue;
      const float = r.type.startsWith('FLOAT');
      const flag = `${TYPE_FLAG[r.table]}:${float ? 'float' : 'int'}`;
      const args = r.type.endsWith('_LE') ? [flag] : [flag, '-B']; // mbpoll's default word order is low word first
      const out = await mbpoll(['-a', String(d.unit), '-r', String(r.address), '-c', '1', '-t', ...args, ...target]);
      const theirs = Number(out.match(/^\[\d+\]:\s+(\S+)/m)?.[1]);
      const ours = decode(d.words(r.name), r.type);
      if (float) expect(Math.abs(theirs - ours), r.name).toBeLessThanOrEqual(Math.abs(ours) * 1e-5);
      else expect(theirs >>> 0, `${r.name}: mbpoll ${theirs}, decode ${ours}`).toBe(ours >>> 0);
    }
  });
});
