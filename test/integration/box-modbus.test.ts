/**
 * The whole box against Modbus field devices: a simulated QDY30A level transmitter and a
 * Waveshare relay on a real TCP bus. A river crossing its guaranteed stage sounds the siren on
 * the relay; a transmitter that disappears becomes a sensor fault, and comes back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AlertTransition } from '../../gateway/engine/types.ts';
import type { Box } from '../../gateway/box.ts';
import { SimulatedBus, type SimulatedDevice } from '../../simulators/modbus/bus.ts';
import { addRiverProbe, profiles, startBoxOnBus } from '../helpers/box-modbus-rig.ts';
import { until as untilDefault } from '../helpers/until.ts';

const until = <T>(what: string, get: () => T | undefined | false, ms = 20_000): Promise<T> => untilDefault(what, get, ms);

const sim = new SimulatedBus({ transport: 'tcp' });
let level: SimulatedDevice;
let relay: SimulatedDevice;
let box: Box;
const transitions: AlertTransition[] = [];

beforeAll(async () => {
  level = addRiverProbe(sim, 3, 1.2);
  relay = sim.add(profiles.get('waveshare-modbus-rtu-relay')!, 1);
  await sim.start();
  box = await startBoxOnBus(sim, (port, store) => `
site: { id: mb, name: 测试 }
buses:
  # down_poll_s: the dead transmitter, down after three failed polls, is asked every 2 s (not 30 s) so its recovery fits the test.
  - { id: net1, type: tcp, host: 127.0.0.1, port: ${port}, timeout_ms: 300, retries: 0, down_poll_s: 2 }
sensors:
  - id: wl1
    kind: water_level
    stages: { warning: 2.5, guaranteed: 3.0 }
    raise_after_s: 0
    interval_s: 1
    error_window: 4
    modbus: { bus: net1, unit: 3, profile: qdy30a, poll_s: 0.2 }
actuators:
  - { id: siren1, kind: siren, zones: [site], modbus: { bus: net1, unit: 1, profile: waveshare-modbus-rtu-relay } }
mqtt: { host: 127.0.0.1 }
store: { path: '${store}' }
`);
  box.ctx.bus.on('transition', (t) => transitions.push(t));
});

afterAll(async () => {
  await box?.stop();
  await sim.stop();
});

describe('the box on a Modbus bus', () => {
  it('a river over its guaranteed stage sounds the siren on the relay', async () => {
    const start = relay.coilWrites().length;
    level.set('level', 3.2);
    const t = await until('an orange stage alert', () => transitions.find((x) => x.alert.startsWith('wl1/stage') && x.level === 'orange'));
    expect(t.values.water_level_m).toBeCloseTo(3.2, 2);
    const flash = await until('a flash-on write', () => relay.coilWrites().slice(start).find((w) => w.source === 'master' && w.action === 'flash_on'));
    expect(flash.value).toBe(360); // the pre-alert's first on-step: 36 s in 100 ms counts
  });

  it('a transmitter that stops answering becomes a fault, and the fault clears when it answers', async () => {
    level.fault({ kind: 'disappear' });
    const fault = await until('a fault', () => transitions.find((x) => x.kind === 'fault' && x.sensors[0] === 'wl1' && x.transition === 'raised'));
    expect(['error_rate', 'stale']).toContain(fault.rule);
    level.restore();
    await until('the fault cleared', () => transitions.find((x) => x.alert === fault.alert && x.transition === 'cleared'));
  });
});
