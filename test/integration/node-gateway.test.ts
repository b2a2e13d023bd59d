/**
 * Our field-node firmware (AVR build, unmodified, in simavr on a pty) driven by the box's own
 * Modbus RTU drivers: the poller reads its rain counter, the relay siren driver sounds its
 * siren coil, and the node's own safety limits hold: it turns the siren off when the gateway
 * falls silent, and never runs it past its maximum on-time however the gateway insists.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until as untilDefault } from '../helpers/until.ts';

const until = <T>(what: string, get: () => T | undefined | false, ms = 30_000): Promise<T> => untilDefault(what, get, ms);
import { FieldBuses } from '../../drivers/modbus/field-buses.ts';
import { loadAllProfiles } from '../../drivers/modbus/profiles.ts';
import { formatProblem, parseConfig } from '../../gateway/config/load.ts';
import type { SiteConfig } from '../../gateway/config/types.ts';
import type { Reading } from '../../gateway/engine/types.ts';
import type { Effect } from '../../gateway/planner/types.ts';
import { Bus, type ActuatorReport } from '../../gateway/shell/bus.ts';
import { systemClock } from '../../gateway/shell/clock.ts';
import { startNodeSim, type NodeSim } from '../helpers/node-sim.ts';

const LINK = join(tmpdir(), `shaobing-node-gw-${process.pid}`);
const HR = { sirenMaxOnS: 8, sirenSilenceS: 9 } as const;
const profiles = new Map(loadAllProfiles().map((p) => [p.model, p]));
let node: NodeSim;
let config: SiteConfig;
const readings: Reading[] = [];
const reports: ActuatorReport[] = [];

function field(): { fb: FieldBuses; bus: Bus } {
  const bus = new Bus(pino({ level: 'silent' }));
  bus.on('reading', (r) => readings.push({ ...r }));
  bus.on('actuatorReport', (r) => reports.push(r));
  return { fb: new FieldBuses({ config, bus, log: pino({ level: 'silent' }), clock: systemClock() }, profiles), bus };
}

const siren = (activity: string, steps: number[]): Effect => ({ type: 'siren', at: 0, actuator: 'siren1', zone: 'site', activity, priority: 'alarm', source: 'engine', by: 'engine', alert: 'x/1', drill: false, pattern: 'p', steps, clamped: false });

beforeAll(async () => {
  node = await startNodeSim(LINK);
  const parsed = parseConfig(`
site: { id: node, name: 节点 }
buses:
  - { id: rs485, type: rtu, path: '${LINK}', baud: 9600, timeout_ms: 2000, retries: 1 }
sensors:
  - { id: rg1, kind: rain, modbus: { bus: rs485, unit: 1, profile: shaobing-node, poll_s: 0.5 } }
actuators:
  - { id: siren1, kind: siren, zones: [site], modbus: { bus: rs485, unit: 1, profile: shaobing-node } }
`);
  if (!parsed.config) throw new Error(parsed.problems.map(formatProblem).join('\n'));
  config = parsed.config;
}, 180_000);

afterAll(async () => {
  await node?.stop();
});

describe('the field node driven by the box Modbus RTU drivers', () => {
  it('polls the rain counter: three tips of the reed switch are 0.6 mm more', async () => {
    const { fb } = field();
    await fb.start();
    try {
      const first = await until('a rain reading', () => readings.find((r) => r.sensor === 'rg1' && r.quality === 'good'));
      node.child.stdin.write('rain 3\n');
      const later = await until('three more tips', () => readings.find((r) => r.sensor === 'rg1' && r.quality === 'good' && r.value! >= first.value! + 0.6 - 1e-9));
      expect(later.value! - first.value!).toBeCloseTo(0.6, 6);
    } finally {
      await fb.stop();
    }
  }, 90_000);

  it('sounds the siren, and the node turns it off by itself when the gateway falls silent', async () => {
    const { fb, bus } = field();
    await fb.start();
    const sched = fb.schedulers.get('rs485')!;
    await sched.request(1, 'write', (l) => l.writeRegister(1, HR.sirenSilenceS, 3));
    const from = node.edges.length;
    bus.emit('effect', siren('act-silence', [120]));
    const on = await node.relayEdge(true, from, 30_000);
    await fb.stop(); // the gateway dies mid-pattern: no more polls, no more renewals
    const off = await node.relayEdge(false, on.index, 30_000);
    const heldMs = off.edge.simMs - on.edge.simMs;
    expect(heldMs).toBeGreaterThan(2500);
    expect(heldMs).toBeLessThan(120_000);
  }, 120_000);

  it('never runs the siren past the node maximum, although the driver keeps renewing', async () => {
    const { fb, bus } = field();
    await fb.start();
    const sched = fb.schedulers.get('rs485')!;
    await sched.request(1, 'write', (l) => l.writeRegister(1, HR.sirenSilenceS, 60));
    await sched.request(1, 'write', (l) => l.writeRegister(1, HR.sirenMaxOnS, 4));
    const from = node.edges.length;
    bus.emit('effect', siren('act-max', [30]));
    const on = await node.relayEdge(true, from, 30_000);
    const off = await node.relayEdge(false, on.index, 30_000);
    expect(off.edge.simMs - on.edge.simMs).toBeGreaterThanOrEqual(3900);
    expect(off.edge.simMs - on.edge.simMs).toBeLessThanOrEqual(4300);
    // The renewals that follow are refused by the node, and the box hears of it as a fault.
    await until('a fault report', () => reports.find((r) => r.actuator === 'siren1' && r.report === 'fault'));
    expect(node.edges.slice(off.index).filter((e) => e.on)).toEqual([]);
    bus.emit('effect', { type: 'siren_off', at: 0, actuator: 'siren1', zone: 'site', activity: 'act-max', reason: 'stopped', by: 'test' });
    await fb.stop();
  }, 120_000);
});
