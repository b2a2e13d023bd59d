/**
 * The field node's register map is written three times: firmware/src/registers.c (what the node
 * answers), firmware/README.md (for people) and hardware/profiles/shaobing-node.yaml (what the box
 * reads). This walks the profile against the firmware itself (AVR build, unmodified, in simavr on
 * a pty) through the box's own poller and relay siren driver: every register of the yaml is read
 * at its yaml address and must hold what the harness made physically true (three rain tips, 12 mA
 * on the loop, a smoke alarm, a sounding siren, configuration written with distinct values), so
 * an address that drifted from registers.c reads another value or an exception. Two static checks
 * close the gaps a value cannot show: the yaml covers exactly the input addresses registers.c
 * answers and the holding registers node.h declares, and the README tables say what the yaml says.
 */
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModbusPoller } from '../../drivers/modbus/poller.ts';
import { typeWidth, type DeviceProfile, type RegisterDef } from '../../drivers/modbus/profile-types.ts';
import { PROFILE_DIR, loadProfile, registerOf } from '../../drivers/modbus/profiles.ts';
import { RelaySirenDriver } from '../../drivers/modbus/relay-siren.ts';
import { openDriverRig, type DriverRig } from '../helpers/driver-rig.ts';
import { FIRMWARE, startNodeSim, type NodeSim } from '../helpers/node-sim.ts';
import { until } from '../helpers/until.ts';

const profile = loadProfile(join(PROFILE_DIR, 'shaobing-node.yaml'));
const source = (file: string) => readFileSync(join(FIRMWARE, file), 'utf8');
const configValue = (name: string): number => Number(new RegExp(`#define ${name} (\\d+)u`).exec(source('src/config.h'))?.[1] ?? NaN);

/** Every address a register of `table` covers, by type width. */
const addresses = (p: DeviceProfile, table: RegisterDef['table']) => p.registers.filter((r) => r.table === table).flatMap((r) => Array.from({ length: typeWidth(r.type) }, (_, i) => r.address + i)).sort((a, b) => a - b);

describe('shaobing-node.yaml against registers.c and the firmware README (static)', () => {
  it('covers exactly the input addresses registers.c answers, and the holding registers node.h declares', () => {
    const body = /static bool input_value\([\s\S]*?\n}\n/.exec(source('src/registers.c'))?.[0] ?? '';
    const cases = [...body.matchAll(/case (\d+):/g)].map((m) => Number(m[1])).sort((a, b) => a - b);
    expect(cases.length).toBeGreaterThan(20);
    expect(addresses(profile, 'input')).toEqual(cases);
    const enumBody = /HR_UNIT_ID = 0,([\s\S]*?)HR_COUNT/.exec(source('src/node.h'))?.[0] ?? '';
    const count = [...enumBody.matchAll(/\bHR_[A-Z0-9_]+/g)].length - 1; // HR_COUNT itself is not a register
    expect(addresses(profile, 'holding')).toEqual(Array.from({ length: count }, (_, i) => i));
  });

  it('the README register tables give the same address, type, scale and unit as the yaml', () => {
    const readme = source('README.md');
    const sections: [string, RegisterDef['table']][] = [['### Coils', 'coil'], ['### Input registers', 'input'], ['### Holding registers', 'holding']];
    const rows = sections.flatMap(([heading, table]) => {
      const text = readme.slice(readme.indexOf(heading)).split('\n### ')[0] as string;
      return [...text.matchAll(/^\| (\d+) \| `([a-z0-9_]+)` \| ([A-Z_]+) \| ([^|]+) \| ([^|]+) \|/gm)].map((m) => ({
        table,
        address: Number(m[1]),
        name: m[2] as string,
        type: m[3] as string,
        scale: m[4]!.trim() === '—' ? 1 : Number(m[4]),
        unit: m[5]!.trim() === '—' ? '' : m[5]!.trim(),
      }));
    });
    expect(rows.length).toBe(profile.registers.length);
    // The profile may deliver a README register in other units (level_mm in m): it says so in its description.
    const toYamlUnit: Record<string, number> = { 'mm→m': 0.001 };
    for (const row of rows) {
      const r = profile.registers.find((x) => x.table === row.table && x.address === row.address);
      expect(r, `${row.table} ${row.address} ${row.name} is in the yaml`).toBeDefined();
      expect(r!.name === row.name || r!.description.startsWith(`README ${row.name}`), `${row.name}: named as in the README`).toBe(true);
      expect(r!.type, row.name).toBe(row.type);
      if (r!.map) continue; // a mapped status word's values are the engine's codes, not the README's bits
      const factor = row.unit === r!.unit ? 1 : (toYamlUnit[`${row.unit}→${r!.unit}`] ?? NaN);
      expect(row.scale * factor, `${row.name}: scale ${row.scale} ${row.unit} = ${r!.scale} ${r!.unit}`).toBeCloseTo(r!.scale, 12);
    }
  });
});

const LINK = join(tmpdir(), `shaobing-node-walk-${process.pid}`);
let node: NodeSim;
let rig: DriverRig;
let sched: DriverRig['sched'];
let ctx: DriverRig['ctx'];
let readings: DriverRig['readings'];
let reports: DriverRig['reports'];

/** What each register must read, by name; `true` = any good value. */
type Check = (v: number) => boolean;
const near = (want: number, slack: number): Check => (v) => Math.abs(v - want) <= slack;
const is = (want: number): Check => (v) => v === want;

/** Configuration written with distinct values, so a shifted holding address reads the wrong one. */
const CONFIG = { rain_tip_mm: 0.25, level_span_mm: 4000, level_offset_mm: 100, siren_max_on_s: 170, siren_silence_s: 50 } as const;

/** Reads every register of the profile with a fresh poller until each passes its check. */
async function walk(checks: Record<string, Check>): Promise<void> {
  const sensors = profile.registers.map((r) => ({ sensor: r.name, bus: 'rs485', unit: 1, profile, register: r.name, pollMs: 300 }));
  const poller = new ModbusPoller(ctx, new Map([['rs485', sched]]), sensors);
  const from = readings.length;
  const wrong = (): string[] =>
    profile.registers.flatMap((r) => {
      const got = readings.slice(from).filter((x) => x.sensor === r.name).at(-1);
      const check = checks[r.name] ?? (() => true);
      return got?.value !== null && got?.value !== undefined && check(got.value) ? [] : [`${r.name} (${r.table} ${r.address}) read ${got === undefined ? 'nothing' : got.value}`];
    });
  await poller.start();
  try {
    await until('every register as the firmware holds it', () => wrong().length === 0, 60_000, 100).catch(() => undefined);
  } finally {
    await poller.stop();
  }
  expect(wrong()).toEqual([]);
}

describe('shaobing-node.yaml walked against the firmware in simavr, through the box drivers', () => {
  beforeAll(async () => {
    node = await startNodeSim(LINK);
    // simavr on a loaded 2-core machine lags real time: generous timeouts, values not timing.
    rig = await openDriverRig({ id: 'rs485', type: 'rtu', path: LINK, timeoutMs: 5000 });
    ({ sched, ctx, readings, reports } = rig);
    for (const [name, value] of Object.entries(CONFIG)) {
      const r = registerOf(profile, name);
      await sched.request(1, 'write', (l) => l.writeRegister(1, r.address, Math.round(value / r.scale)));
    }
    // Two reads of an address in the gap between the health and rain blocks: two exceptions sent.
    for (let i = 0; i < 2; i++) await expect(sched.request(1, 'read', (l) => l.read(1, 'input', 10, 1))).rejects.toMatchObject({ code: 'E_EXCEPTION_2' });
    node.child.stdin.write('rain 3\nadc 1800\nalarm 1\n'); // 3 tips; 1800 mV on 150 Ω = 12 mA; smoke alarm
  }, 180_000);

  afterAll(async () => {
    await rig?.close();
    await node?.stop();
  });

  it('every register reads what the node holds at its yaml address', async () => {
    const mA = 1800 / 150;
    const levelM = (CONFIG.level_offset_mm + ((mA - 4) / 16) * CONFIG.level_span_mm) / 1000;
    await walk({
      siren_on: is(0),
      fw_version: is((configValue('FW_VERSION_MAJOR') << 8) | configValue('FW_VERSION_MINOR')),
      uptime_s: (v) => v >= 1 && v < 3600,
      reset_cause: (v) => v >= 0 && v <= 0x0f,
      watchdog_resets: is(0),
      crc_errors: is(0),
      framing_errors: is(0),
      overrun_errors: is(0),
      frames_ok: (v) => v > 10,
      exceptions_sent: is(2),
      rain_tips: is(3),
      rain_total_mm: near(3 * CONFIG.rain_tip_mm, 1e-9),
      level: near(levelM, 0.03),
      level_current_ma: near(mA, 0.1),
      level_status: is(0),
      level_adc_raw: near((1800 / 5000) * 1024, 4),
      smoke_status: is(1),
      smoke_alarm_count: is(1),
      siren_status: is(0),
      siren_on_s: is(0),
      siren_rest_s: is(0),
      siren_max_on_ceiling_s: is(configValue('SIREN_MAX_ON_CEILING_S')),
      unit_id: is(1),
      baud_rate: is(9600),
      parity: is(0),
      roles: is(15),
      rain_tip_mm: is(CONFIG.rain_tip_mm),
      level_span_mm: is(CONFIG.level_span_mm),
      level_offset_mm: is(CONFIG.level_offset_mm),
      siren_pattern: is(0),
      siren_max_on_s: is(CONFIG.siren_max_on_s),
      siren_silence_s: is(CONFIG.siren_silence_s),
    });
  }, 120_000);

  it('the siren driver sounds the siren through the profile, and the siren registers follow', async () => {
    const driver = new RelaySirenDriver(ctx, new Map([['rs485', sched]]), [{ actuator: 'siren1', zones: ['site'], bus: 'rs485', unit: 1, profile, coil: 0 }]);
    await driver.start();
    const faults = reports.length;
    const from = node.edges.length;
    try {
      ctx.bus.emit('effect', { type: 'siren', at: 0, actuator: 'siren1', zone: 'site', activity: 'walk', priority: 'alarm', source: 'engine', by: 'engine', alert: null, drill: false, pattern: 'walk', steps: [60], clamped: false });
      await node.relayEdge(true, from, 30_000);
      // Running (bit1) and energised (bit0) in steady pattern; seconds into the run count up.
      await walk({ siren_on: is(1), siren_status: is(0x03), siren_on_s: (v) => v >= 1 && v <= 60, siren_rest_s: is(0), siren_max_on_ceiling_s: is(configValue('SIREN_MAX_ON_CEILING_S')) });
      ctx.bus.emit('effect', { type: 'siren_off', at: 0, actuator: 'siren1', zone: 'site', activity: 'walk', reason: 'stopped', by: 'test' });
      await node.relayEdge(false, from, 30_000);
      expect(reports.slice(faults)).toEqual([]);
    } finally {
      await driver.stop();
    }
  }, 150_000);
});
