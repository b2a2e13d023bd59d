/**
 * The relay siren driver fed by the real planner, over Modbus TCP to simulated relays: what an
 * escalation writes to the relay (issue 14: orange → red wrote off, then on 2 ms later), and the
 * log line a successful write leaves (the MQTT actuators' "command sent … latency_ms").
 */
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FieldBuses } from '../../drivers/modbus/field-buses.ts';
import { loadAllProfiles } from '../../drivers/modbus/profiles.ts';
import type { AlertTransition, Level } from '../../gateway/engine/types.ts';
import { plan } from '../../gateway/planner/plan.ts';
import { createPlannerState, type PlannerState } from '../../gateway/planner/state.ts';
import { Bus, type ActuatorReport } from '../../gateway/shell/bus.ts';
import { systemClock } from '../../gateway/shell/clock.ts';
import { SimulatedBus, type SimulatedDevice } from '../../simulators/modbus/bus.ts';
import { rainTransition, site, T0 } from '../helpers/site.ts';
import { until } from '../helpers/until.ts';

const profiles = new Map(loadAllProfiles().map((p) => [p.model, p]));
const sim = new SimulatedBus({ transport: 'tcp' });
let flashRelay: SimulatedDevice;
let coilRelay: SimulatedDevice;
let commandRelay: SimulatedDevice;
let field: FieldBuses;
let bus: Bus;
let planner: PlannerState;
const logs: Record<string, unknown>[] = [];
const reports: ActuatorReport[] = [];

const transition = (kind: AlertTransition['transition'], level: Level, previousLevel: Level | null): AlertTransition => rainTransition(kind, level, { previousLevel });

/** The planner's effects for a transition, emitted as the engine runner does (with `since`). */
function step(t: AlertTransition, at: number): void {
  const since = performance.now();
  for (const e of plan(planner, { type: 'transition', transition: t }, at).effects) bus.emit('effect', e, { since });
}

const masterWrites = (d: SimulatedDevice, from: number) => d.writes.slice(from).filter((w) => w.source === 'master');

beforeAll(async () => {
  flashRelay = sim.add(profiles.get('waveshare-modbus-rtu-relay')!, 1);
  coilRelay = sim.add(profiles.get('shaobing-node')!, 2);
  commandRelay = sim.add(profiles.get('r421a08-relay')!, 3);
  await sim.start();
  const config = site(`
site: { id: rs, name: 测试 }
buses:
  - { id: net1, type: tcp, host: 127.0.0.1, port: ${sim.endpoint.port}, timeout_ms: 500 }
sensors:
  - { id: rg1, kind: rain }
actuators:
  - { id: siren1, kind: siren, zones: [site], modbus: { bus: net1, unit: 1, profile: waveshare-modbus-rtu-relay } }
  - { id: siren2, kind: siren, zones: [site], modbus: { bus: net1, unit: 2, profile: shaobing-node } }
  - { id: siren3, kind: siren, zones: [site], modbus: { bus: net1, unit: 3, profile: r421a08-relay } }
`);
  const log = pino({ level: 'info' }, { write: (line: string) => void logs.push(JSON.parse(line)) });
  bus = new Bus(log);
  bus.on('actuatorReport', (r) => reports.push(r));
  field = new FieldBuses({ config, bus, log, clock: systemClock() }, profiles);
  await field.start();
  planner = createPlannerState(config);
});

afterAll(async () => {
  await field?.stop();
  await sim.stop();
});

describe('relay sirens driven by the planner', () => {
  it('an orange → red escalation goes straight from one pattern to the next: no off write between', async () => {
    const relays = [flashRelay, coilRelay, commandRelay];
    const from = relays.map((d) => d.writes.length);
    step(transition('raised', 'orange', null), T0);
    await until('the pre-alert on every relay', () => relays.every((d, i) => masterWrites(d, from[i]!).length >= 1));
    const at = relays.map((d) => d.writes.length);
    step(transition('escalated', 'red', 'orange'), T0 + 2000);
    await until('the alarm on every relay', () => relays.every((d, i) => masterWrites(d, at[i]!).length >= 1));
    await new Promise((r) => setTimeout(r, 200)); // anything else the escalation would write
    // Waveshare: the red pattern's first on-step as one flash-on (6 s in 100 ms counts), nothing else.
    expect(masterWrites(flashRelay, at[0]!).map((w) => [w.action ?? w.register, w.value])).toEqual([['flash_on', 60]]);
    // Our node's plain coil: renewed on, never written off.
    expect(masterWrites(coilRelay, at[1]!).map((w) => [w.register, w.value])).toEqual([['siren_on', true]]);
    // R421A08: one FC06 delay command, 6 s.
    expect(masterWrites(commandRelay, at[2]!).map((w) => [w.action, w.fc, w.value])).toEqual([['flash_on', 6, 6]]);
  });

  it('a relay board switched by holding-register commands is driven with FC06, and follows', async () => {
    const from = commandRelay.writes.length;
    const faults = reports.length;
    bus.emit('effect', { type: 'siren', at: 0, actuator: 'siren3', zone: 'site', activity: 'act-fc06', priority: 'alarm', source: 'engine', by: 'engine', alert: 'x/1', drill: false, pattern: 'p', steps: [1, 1, 1], clamped: false });
    // 0x0601 (on 1 s), 0x0200 (off), 0x0601, then 0x0200 at the end; each read back with FC03.
    await until('the pattern written', () => masterWrites(commandRelay, from).length >= 4, 10_000);
    const writes = masterWrites(commandRelay, from).slice(0, 4);
    expect(writes.map((w) => [w.fc, w.address, w.action, w.value])).toEqual([
      [6, 1, 'flash_on', 1],
      [6, 1, 'siren_off', 0x0200],
      [6, 1, 'flash_on', 1],
      [6, 1, 'siren_off', 0x0200],
    ]);
    expect(writes[1]!.mono - writes[0]!.mono).toBeGreaterThan(900);
    expect(commandRelay.get('relay_1')).toBe(0);
    expect(reports.slice(faults)).toEqual([]);
  });

  it('a siren write the relay took is logged with the command, the actuator and latency_ms', async () => {
    const from = logs.length;
    step(transition('cleared', 'red', 'red'), T0 + 4000); // plays the all-clear
    const line = await until('the command line', () => logs.slice(from).find((l) => l.actuator === 'siren1' && l.effect === 'siren'));
    expect(line).toMatchObject({ module: 'relay-sirens', level: 30, msg: 'siren command sent to siren1', bus: 'net1', unit: 1 });
    expect(typeof line.activity).toBe('string');
    expect(line.latency_ms).toBeGreaterThan(0);
    expect(line.latency_ms).toBeLessThan(2000);
    // Clearing stops the alarm pattern first: the off write is logged the same way.
    const off = await until('the off line', () => logs.slice(from).find((l) => l.actuator === 'siren2' && l.effect === 'siren_off'));
    expect(off).toMatchObject({ msg: 'siren_off command sent to siren2', unit: 2 });
    expect(off.latency_ms).toBeGreaterThan(0);
  });
});
