/**
 * A dead unit on a shared bus (issue 15): one bus carrying a healthy QDY30A probe polled every
 * second, a unit id configured as a sensor that nobody answers, a Waveshare relay siren and a
 * second siren whose relay is dead, through the box's own FieldBuses over real Modbus TCP and a
 * real RTU pty line.
 *
 * The bounds come from the protocol and the config, not from timings seen:
 * - a siren write sent while the dead unit's request is on the line waits for that one try at
 *   most: `timeout_ms`, plus the 3.5-character silence and the write's own frame. It must not
 *   wait for the dead unit's retries (old code: tries × timeout_ms = 3 × 500 ms), nor for a
 *   dead relay's write retries (which it still makes: retries + 1 tries, then a fault);
 * - the probe is read at its `poll_s`, each reading at most one try of the dead unit plus one
 *   siren turn late (old code: `poll_s` + tries × timeout_ms apart, because the poll waited
 *   behind every retry and the next poll was timed from its end);
 * - after three failed polls the dead unit is down: asked with one try every `down_poll_s`
 *   (jittered by ±10 %), and polled at full speed again as soon as it answers.
 * LOAD_MS is the slack for a loaded machine (2 cores shared by eight agents: event-loop lag and
 * timer lateness of a few hundred ms were seen in other tests); it is well under the 1000 ms
 * difference between one try and three, so the test still tells the old scheduler from the new.
 */
import { performance } from 'node:perf_hooks';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FieldBuses } from '../../drivers/modbus/field-buses.ts';
import { formatProblem, parseConfig } from '../../gateway/config/load.ts';
import type { Effect } from '../../gateway/planner/types.ts';
import { Bus, type ActuatorReport } from '../../gateway/shell/bus.ts';
import { systemClock } from '../../gateway/shell/clock.ts';
import { SimulatedBus, type SimulatedDevice } from '../../simulators/modbus/bus.ts';
import { addRiverProbe, profiles } from '../helpers/box-modbus-rig.ts';
import { until } from '../helpers/until.ts';

const TIMEOUT_MS = 500;
const RETRIES = 2; // three tries: the old scheduler held the line 1500 ms per dead poll
const POLL_MS = 1000;
const DOWN_POLL_S = 3;
const LOAD_MS = 300;
const DEAD = 9;
const PROBE = 3;
const RELAY = 1;
const DEAD_RELAY = 8;

/** Time on the wire of `bytes` at `baud` (11 bits a character); TCP: none worth counting. */
const wireMs = (transport: 'tcp' | 'rtu', bytes: number): number => (transport === 'rtu' ? (bytes * 11 * 1000) / 9600 : 0);

const siren = (actuator: string, activity: string, steps = [1]): Effect => ({ type: 'siren', at: 0, actuator, zone: 'site', activity, priority: 'alarm', source: 'engine', by: 'engine', alert: 'x/1', drill: false, pattern: 'p', steps, clamped: false });

describe.each(['tcp', 'rtu'] as const)('a dead unit on a shared %s bus', (transport) => {
  const sim = new SimulatedBus({ transport });
  let relay: SimulatedDevice;
  let field: FieldBuses;
  let bus: Bus;
  const probeReadings: number[] = [];
  const deadReadings: { at: number; good: boolean }[] = [];
  /** When each request for the dead unit reached the line (performance.now()). */
  const deadAsked: number[] = [];
  let onDeadAsked: (() => void) | null = null;
  const deadRelayAsked: number[] = [];
  let onDeadRelayAsked: (() => void) | null = null;
  const reports: ActuatorReport[] = [];

  beforeAll(async () => {
    addRiverProbe(sim, PROBE, 1.2);
    relay = sim.add(profiles.get('waveshare-modbus-rtu-relay')!, RELAY);
    // Watch the dead unit's requests arrive: the simulator routes every request through dispatch.
    const dispatch = sim.dispatch.bind(sim);
    sim.dispatch = (unit, pdu) => {
      if (unit === DEAD) {
        deadAsked.push(performance.now());
        onDeadAsked?.();
      }
      if (unit === DEAD_RELAY) {
        deadRelayAsked.push(performance.now());
        onDeadRelayAsked?.();
      }
      return dispatch(unit, pdu);
    };
    await sim.start();
    const where = transport === 'tcp' ? `type: tcp, host: 127.0.0.1, port: ${sim.endpoint.port}` : `type: rtu, path: '${sim.path}', baud: 9600`;
    const { config, problems } = parseConfig(`
site: { id: dead, name: 测试 }
buses:
  - { id: line1, ${where}, timeout_ms: ${TIMEOUT_MS}, retries: ${RETRIES}, down_poll_s: ${DOWN_POLL_S} }
sensors:
  - { id: wl1, kind: water_level, stages: { warning: 2.5 }, modbus: { bus: line1, unit: ${PROBE}, profile: qdy30a, poll_s: ${POLL_MS / 1000} } }
  - { id: wl9, kind: water_level, stages: { warning: 2.5 }, modbus: { bus: line1, unit: ${DEAD}, profile: qdy30a, poll_s: ${POLL_MS / 1000} } }
actuators:
  - { id: siren1, kind: siren, zones: [site], modbus: { bus: line1, unit: ${RELAY}, profile: waveshare-modbus-rtu-relay } }
  - { id: siren8, kind: siren, zones: [site], modbus: { bus: line1, unit: ${DEAD_RELAY}, profile: waveshare-modbus-rtu-relay } }
`);
    if (!config) throw new Error(problems.map(formatProblem).join('\n'));
    bus = new Bus(pino({ level: 'silent' }));
    bus.on('reading', (r) => {
      if (r.sensor === 'wl1' && r.quality === 'good') probeReadings.push(performance.now());
      if (r.sensor === 'wl9') deadReadings.push({ at: performance.now(), good: r.quality === 'good' });
    });
    bus.on('actuatorReport', (r) => reports.push(r));
    field = new FieldBuses({ config, bus, log: pino({ level: 'silent' }), clock: systemClock() }, profiles);
    await field.start();
  });

  afterAll(async () => {
    await field?.stop();
    await sim.stop();
  });

  it('a siren write waits for at most the one try on the line, not for the dead unit’s retries; the probe keeps its interval', async () => {
    const waits: number[] = [];
    const firstProbe = probeReadings.length;
    const from = performance.now();
    // Three sirens, each sounded the moment a request for the dead unit reaches the line (every
    // third one, so the probe is watched over the dead unit's three polls before it is down):
    // the worst case for a write, the whole try still ahead of it.
    for (let i = 0; i < 3; i++) {
      let skip = i === 0 ? 0 : 2;
      await new Promise<void>((resolve) => (onDeadAsked = () => void (skip-- === 0 && resolve())));
      onDeadAsked = null;
      const writesBefore = relay.writes.length;
      const asked = performance.now();
      bus.emit('effect', siren('siren1', `act-${transport}-${i}`));
      const w = await until('the siren write', () => relay.writes.slice(writesBefore).find((x) => x.source === 'master'), 10_000, 5);
      waits.push(w.mono - asked);
    }
    const to = performance.now();
    // One try on the line (timeout_ms), the silence before the write and its 8-byte request frame.
    const bound = TIMEOUT_MS + 2 + wireMs(transport, 8) + LOAD_MS;
    expect(Math.max(...waits)).toBeLessThanOrEqual(bound);

    // The probe, over the same seconds: no gap longer than its interval plus one dead try and one
    // siren turn (write and read-back: 30 bytes on the wire), and about one reading a second.
    const got = probeReadings.slice(firstProbe).filter((at) => at >= from && at <= to);
    const gaps = got.slice(1).map((at, i) => at - got[i]!);
    expect(Math.max(...gaps)).toBeLessThanOrEqual(POLL_MS + TIMEOUT_MS + wireMs(transport, 30) + LOAD_MS);
    expect(got.length).toBeGreaterThanOrEqual(Math.floor((to - from) / POLL_MS) - 1);
  }, 30_000);

  it('a write to a live relay does not wait for a dead relay’s retries; the dead relay’s write keeps its tries', async () => {
    const askedBefore = deadRelayAsked.length;
    const arrived = new Promise<void>((resolve) => (onDeadRelayAsked = resolve));
    // One 30 s on-step: its closing write is long after this test (the off at the pattern's end).
    bus.emit('effect', siren('siren8', `dead-${transport}`, [30]));
    await arrived;
    onDeadRelayAsked = null;
    const writesBefore = relay.writes.length;
    const asked = performance.now();
    bus.emit('effect', siren('siren1', `live-${transport}`));
    const w = await until('the live siren write', () => relay.writes.slice(writesBefore).find((x) => x.source === 'master'), 10_000, 5);
    // One try of the dead relay's write on the line at most (see the first test for the margin).
    expect(w.mono - asked).toBeLessThanOrEqual(TIMEOUT_MS + 2 + wireMs(transport, 8) + LOAD_MS);
    // The dead relay's write was tried retries + 1 times, each its own transaction, then reported.
    await until('the dead relay reported', () => reports.find((r) => r.actuator === 'siren8' && r.report === 'fault'), 10_000);
    expect(deadRelayAsked.length - askedBefore).toBe(RETRIES + 1);
    expect(reports.find((r) => r.actuator === 'siren8')!.detail).toMatchObject({ reason: 'write_failed', code: 'E_TIMEOUT' });
  }, 30_000);

  it('a unit that failed three polls is down: one try every down_poll_s, its readings still errors', async () => {
    // Down after three failed polls: from then on one request per down_poll_s (± 10 % jitter).
    await until('the dead unit down', () => field.schedulers.get('line1')!.unitDown(DEAD) || undefined, 15_000);
    const since = performance.now();
    const askedBefore = deadAsked.length;
    const readingsBefore = deadReadings.length;
    await new Promise((r) => setTimeout(r, 2 * DOWN_POLL_S * 1000));
    const window = performance.now() - since;
    // At most one request per down interval (the shortest, 0.9 × down_poll_s), plus the one in flight.
    expect(deadAsked.length - askedBefore).toBeLessThanOrEqual(Math.floor(window / (0.9 * DOWN_POLL_S * 1000)) + 1);
    expect(deadAsked.length - askedBefore).toBeGreaterThanOrEqual(1);
    // Each of those polls still gives the engine an error reading (its fault stays raised).
    const later = deadReadings.slice(readingsBefore);
    expect(later.length).toBeGreaterThanOrEqual(1);
    expect(later.every((r) => !r.good)).toBe(true);
  }, 30_000);

  it('a down unit that answers again is polled at full speed', async () => {
    addRiverProbe(sim, DEAD, 1.5);
    const back = await until('a good reading from the unit that was down', () => deadReadings.find((r) => r.good), (1.1 * DOWN_POLL_S + 2) * 1000 + LOAD_MS);
    await until('three more good readings', () => deadReadings.filter((r) => r.good && r.at > back.at).length >= 3, 3 * POLL_MS + 3000);
    expect(field.schedulers.get('line1')!.unitDown(DEAD)).toBe(false);
  }, 30_000);
});
