/**
 * The box's Modbus drivers (link, per-bus scheduler, poller, relay sirens) against the
 * simulated slaves over real TCP and a real RTU pseudo-terminal, with faults injected.
 */
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until as untilDefault } from '../helpers/until.ts';

const until = <T>(what: string, get: () => T | undefined | false, ms = 15_000): Promise<T> => untilDefault(what, get, ms);
import { parseConfig, formatProblem } from '../../gateway/config/load.ts';
import type { Reading } from '../../gateway/engine/types.ts';
import type { Effect } from '../../gateway/planner/types.ts';
import { Bus, type ActuatorReport } from '../../gateway/shell/bus.ts';
import { systemClock } from '../../gateway/shell/clock.ts';
import { FieldBuses } from '../../drivers/modbus/field-buses.ts';
import { loadAllProfiles } from '../../drivers/modbus/profiles.ts';
import { SimulatedBus, type SimulatedDevice } from '../../simulators/modbus/bus.ts';

const profiles = new Map(loadAllProfiles().map((p) => [p.model, p]));
const rtu = new SimulatedBus({ transport: 'rtu' });
const tcp = new SimulatedBus({ transport: 'tcp' });
let relay: SimulatedDevice;
let gauge: SimulatedDevice;
let level: SimulatedDevice;
let node: SimulatedDevice;
let field: FieldBuses;
const readings: Reading[] = [];
const reports: ActuatorReport[] = [];
let bus: Bus;

const since = (sensor: string, from: number): Reading[] => readings.slice(from).filter((r) => r.sensor === sensor);

beforeAll(async () => {
  relay = rtu.add(profiles.get('waveshare-modbus-rtu-relay')!, 1);
  gauge = rtu.add(profiles.get('xunchip-xm9505')!, 2);
  level = tcp.add(profiles.get('qdy30a')!, 3);
  node = tcp.add(profiles.get('shaobing-node')!, 4);
  await Promise.all([rtu.start(), tcp.start()]);
  gauge.set('rainfall_mm', 53.6);
  level.set('unit_code', 1); // cm
  level.set('decimals', 1);
  level.set('level', 2.345);
  node.set('level', 1.5);
  const { config, problems } = parseConfig(`
site: { id: mb, name: 测试 }
buses:
  # down_poll_s: a unit that goes down while faulted here is asked again within 2 s, not 30 s.
  - { id: line1, type: rtu, path: '${rtu.path}', baud: 9600, timeout_ms: 300, retries: 1, down_poll_s: 2 }
  - { id: net1, type: tcp, host: 127.0.0.1, port: ${tcp.endpoint.port}, timeout_ms: 500 }
sensors:
  - { id: rg1, kind: rain, modbus: { bus: line1, unit: 2, profile: xunchip-xm9505, poll_s: 0.2 } }
  - { id: wl1, kind: water_level, stages: { warning: 2.5 }, modbus: { bus: net1, unit: 3, profile: qdy30a, poll_s: 0.2 } }
  - { id: wl2, kind: water_level, stages: { warning: 2.5 }, modbus: { bus: net1, unit: 4, profile: shaobing-node, poll_s: 0.2 } }
actuators:
  - { id: siren1, kind: siren, zones: [site], modbus: { bus: line1, unit: 1, profile: waveshare-modbus-rtu-relay } }
`);
  if (!config) throw new Error(problems.map(formatProblem).join('\n'));
  bus = new Bus(pino({ level: 'silent' }));
  bus.on('reading', (r) => readings.push({ ...r }));
  bus.on('actuatorReport', (r) => reports.push(r));
  field = new FieldBuses({ config, bus, log: pino({ level: 'silent' }), clock: systemClock() }, profiles);
  await field.start();
});

afterAll(async () => {
  await field?.stop();
  await Promise.all([rtu.stop(), tcp.stop()]);
});

describe('Modbus drivers against simulated slaves', () => {
  it('polls RTU and TCP units and decodes their registers into readings', async () => {
    const rain = await until('a rain reading', () => readings.find((r) => r.sensor === 'rg1' && r.quality === 'good'));
    expect(rain.value).toBeCloseTo(53.6, 5);
    // QDY30A: unit code (cm) and decimals read once, then the value in metres.
    const wl = await until('a level reading', () => readings.find((r) => r.sensor === 'wl1' && r.quality === 'good'));
    expect(wl.value).toBeCloseTo(2.345, 3);
  });

  it('a node level whose status flags a broken 4-20 mA loop is an error reading, never a number', async () => {
    const ok = await until('a node level', () => readings.find((r) => r.sensor === 'wl2' && r.quality === 'good'));
    expect(ok.value).toBeCloseTo(1.5, 3);
    const from = readings.length;
    node.set('level_status', 1); // open loop: the firmware still reports a clamped level
    const bad = await until('an error reading', () => since('wl2', from).find((r) => r.quality === 'error'));
    expect(bad.value).toBeNull();
    const back = readings.length;
    node.set('level_status', 0);
    await until('good again', () => since('wl2', back).find((r) => r.quality === 'good'));
  });

  it('a unit that stops answering gives error readings, never numbers, and recovers by itself', async () => {
    const from = readings.length;
    gauge.fault({ kind: 'disappear' });
    await until('error readings', () => since('rg1', from).filter((r) => r.quality === 'error').length >= 2);
    expect(since('rg1', from).filter((r) => r.quality === 'error').every((r) => r.value === null)).toBe(true);
    // The other unit on the same line keeps being served meanwhile: the relay still answers.
    expect(field.poller.failing().map((f) => f.unit)).toEqual([2]);
    const back = readings.length;
    gauge.restore();
    gauge.set('rainfall_mm', 60.2);
    const good = await until('recovery', () => since('rg1', back).find((r) => r.quality === 'good'));
    expect(good.value).toBeCloseTo(60.2, 5);
  });

  it('a CRC error and a Modbus exception are errors, classified, and retried or not', async () => {
    const from = readings.length;
    const sched = field.schedulers.get('line1')!;
    const before = { ...sched.stats.byCode };
    gauge.fault({ kind: 'bad_crc', count: 4 });
    await until('CRC failures', () => (sched.stats.byCode.E_CRC ?? 0) > (before.E_CRC ?? 0));
    gauge.fault({ kind: 'exception', code: 2, count: 1 });
    await until('an exception', () => (sched.stats.byCode.E_EXCEPTION_2 ?? 0) > (before.E_EXCEPTION_2 ?? 0));
    gauge.restore();
    await until('good readings again', () => since('rg1', from).some((r, i, all) => r.quality === 'good' && all.slice(0, i).some((x) => x.quality === 'error')));
  });

  it('a siren pattern becomes timed flash-on writes the relay ends by itself, read back', async () => {
    const start = relay.coilWrites().length;
    const effect: Effect = { type: 'siren', at: 0, actuator: 'siren1', zone: 'site', activity: 'act-t1', priority: 'alarm', source: 'engine', by: 'engine', alert: 'x/1', drill: false, pattern: 'p', steps: [0.5, 0.5, 0.5], clamped: false };
    bus.emit('effect', effect);
    const flashOf = (w: ReturnType<SimulatedDevice['coilWrites']>) => w.filter((x) => x.source === 'master' && x.action === 'flash_on');
    // Two on-steps, each ended by the relay itself (a device-side write back to off).
    const writes = await until('two flashes and their ends', () => {
      const w = relay.coilWrites().slice(start);
      const second = flashOf(w)[1];
      return second && w.some((x) => x.source === 'device' && x.value === false && x.mono > second.mono) && w;
    });
    const flashes = flashOf(writes);
    expect(flashes.map((f) => f.value)).toEqual([5, 5]); // 0.5 s = 5 × 100 ms, FC05 to 0x0200
    expect(flashes.every((f) => f.address === 0x0200 && f.fc === 5)).toBe(true);
    expect(reports.filter((r) => r.report === 'fault')).toEqual([]);
  });

  it('a relay that acknowledges writes but does not switch is reported as not following', async () => {
    const before = reports.length;
    relay.fault({ kind: 'stuck' });
    bus.emit('effect', { type: 'siren', at: 0, actuator: 'siren1', zone: 'site', activity: 'act-t3', priority: 'alarm', source: 'engine', by: 'engine', alert: 'x/3', drill: false, pattern: 'p', steps: [1], clamped: false });
    const fault = await until('a fault report', () => reports.slice(before).find((r) => r.report === 'fault'));
    expect(fault).toMatchObject({ actuator: 'siren1', detail: { reason: 'relay_did_not_follow', wanted: true, read_back: false } });
    relay.restore();
  });

  it('a relay that answers writes with an exception is reported as a fault', async () => {
    relay.fault({ kind: 'exception', code: 4, count: 3 });
    bus.emit('effect', { type: 'siren', at: 0, actuator: 'siren1', zone: 'site', activity: 'act-t2', priority: 'alarm', source: 'engine', by: 'engine', alert: 'x/2', drill: false, pattern: 'p', steps: [1], clamped: false });
    const fault = await until('a fault report', () => reports.find((r) => r.report === 'fault' && r.detail?.reason === 'write_failed'));
    expect(fault).toMatchObject({ actuator: 'siren1', detail: { reason: 'write_failed', code: 'E_EXCEPTION_4' } });
    relay.restore();
  });
});
