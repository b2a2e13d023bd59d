/**
 * A polled sensor that dies is a fault within three poll intervals, with no health keys in the
 * config, and stays a fault while its bus has it down (asked once every `down_poll_s`): the box,
 * its Modbus poller and a simulated QDY30A on a real TCP bus.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AlertTransition } from '../../gateway/engine/types.ts';
import type { Box } from '../../gateway/box.ts';
import { SimulatedBus, type SimulatedDevice } from '../../simulators/modbus/bus.ts';
import { addRiverProbe, startBoxOnBus } from '../helpers/box-modbus-rig.ts';
import { until } from '../helpers/until.ts';

const POLL_S = 1;
const DOWN_POLL_S = 2;
const sim = new SimulatedBus({ transport: 'tcp' });
let level: SimulatedDevice;
let box: Box;
const transitions: { t: AlertTransition; wall: number }[] = [];
const goodReadings: number[] = [];
const errorReadings: number[] = [];

beforeAll(async () => {
  level = addRiverProbe(sim, 3, 1.2);
  await sim.start();
  // No interval_s, stale_intervals, error_window: the defaults must catch a dead unit.
  box = await startBoxOnBus(sim, (port, store) => `
site: { id: dead, name: 测试 }
buses:
  - { id: net1, type: tcp, host: 127.0.0.1, port: ${port}, down_poll_s: ${DOWN_POLL_S} }
sensors:
  - { id: wl1, kind: water_level, stages: { warning: 2.5 }, modbus: { bus: net1, unit: 3, profile: qdy30a, poll_s: ${POLL_S} } }
mqtt: { host: 127.0.0.1 }
store: { path: '${store}' }
`);
  box.ctx.bus.on('transition', (t) => transitions.push({ t, wall: Date.now() }));
  box.ctx.bus.on('reading', (r) => void (r.quality === 'good' ? goodReadings : errorReadings).push(Date.now()));
});

afterAll(async () => {
  await box?.stop();
  await sim.stop();
});

describe('a dead polled unit', () => {
  it('is a sensor fault within three poll intervals of its last answer', async () => {
    await until('two good readings', () => goodReadings.length >= 2);
    level.fault({ kind: 'disappear' });
    const died = Date.now();
    const fault = await until('a fault', () => transitions.find((x) => x.t.kind === 'fault' && x.t.transition === 'raised'), 20_000);
    const lastGood = goodReadings.filter((at) => at <= fault.wall).at(-1)!;
    // Three polls plus the engine's 1 s tick that notices the silence, plus slack for a loaded machine.
    expect(fault.wall - lastGood).toBeLessThanOrEqual(3 * POLL_S * 1000 + 1000 + 1500);
    expect(fault.wall - died).toBeLessThanOrEqual(3 * POLL_S * 1000 + 1000 + 1500);
    expect(fault.t.textEn).toMatch(/^Fault: sensor wl1 (has sent no data for \d s|failed \d+ of its last \d+ reads)/);
  }, 30_000);

  it('stays a fault while its bus has it down: asked every down_poll_s, each answer an error, never cleared', async () => {
    // Three failed polls (two tries of 1 s each at the TCP defaults) put it down; then watch
    // three down intervals.
    await new Promise((r) => setTimeout(r, 3 * (POLL_S * 1000 + 2 * 1000)));
    const from = Date.now();
    const errorsBefore = errorReadings.length;
    await new Promise((r) => setTimeout(r, 3 * DOWN_POLL_S * 1000));
    expect(errorReadings.length - errorsBefore).toBeGreaterThanOrEqual(1);
    expect(goodReadings.filter((at) => at >= from)).toEqual([]);
    const raised = transitions.filter((x) => x.t.kind === 'fault' && x.t.transition === 'raised');
    expect(raised.length).toBeGreaterThanOrEqual(1);
    expect(transitions.filter((x) => x.t.kind === 'fault' && x.t.transition === 'cleared' && raised.some((r) => r.t.alert === x.t.alert))).toEqual([]);
  }, 30_000);
});
