/**
 * A 9600-baud RTU bus with 16 devices (14 rain gauges, a level transmitter, a siren relay) on a
 * real pty, polled by the box's own drivers as fast as the scheduler allows.
 *
 * A pty moves bytes instantly, so each simulated slave delays its answer by the time the wire
 * would take at 9600 baud (request + response bytes × 11 bits, plus the 3.5-character gap
 * before it answers). The measured poll cycle can then be compared with the physical minimum
 * per transaction: (request + response bytes) × 11 / baud + two 3.5-character gaps.
 *
 * Then the level transmitter crosses its guaranteed stage again and again: time from the value
 * changing in the slave to the relay's flash-on write arriving at the relay (aim: one poll
 * cycle plus ≤ 30 ms). `npm run bench -- modbus [SECONDS]`.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { interFrameMs } from '../../drivers/modbus/bus-scheduler.ts';
import { loadAllProfiles } from '../../drivers/modbus/profiles.ts';
import { startBox } from '../../gateway/box.ts';
import { parseConfig } from '../../gateway/config/load.ts';
import { SimulatedBus } from '../../simulators/modbus/bus.ts';

const SECONDS = Number(process.argv[2] ?? 10);
const BAUD = 9600;
const CHAR_MS = (11 * 1000) / BAUD;
const GAP_MS = interFrameMs({ type: 'rtu', baud: BAUD });
// FC03/FC04 of one register: request 8 bytes, response 5 + 2 bytes.
const WIRE_MS = (8 + 7) * CHAR_MS;
const PHYSICAL_MS = WIRE_MS + 2 * GAP_MS;

const profiles = new Map(loadAllProfiles().map((p) => [p.model, p]));
const sim = new SimulatedBus({ transport: 'rtu' });
const gauges = Array.from({ length: 14 }, (_, i) => sim.add(profiles.get('xunchip-xm9505')!, i + 2));
const level = sim.add(profiles.get('qdy30a')!, 16);
const relay = sim.add(profiles.get('waveshare-modbus-rtu-relay')!, 1);
await sim.start();
// The wire time of each answer (plus the slave's 3.5-character gap before answering).
for (const d of [...gauges, level, relay]) d.fault({ kind: 'delay', ms: WIRE_MS + GAP_MS });
level.set('unit_code', 1);
level.set('decimals', 1); // cm with one decimal: 3.5 m is 3500, inside S_WORD
level.set('level', 1);

const dir = mkdtempSync(join(tmpdir(), 'sb-modbus-bench-'));
const sensors = gauges.map((_, i) => `  - { id: rg${i + 2}, kind: rain, modbus: { bus: line, unit: ${i + 2}, profile: xunchip-xm9505, poll_s: 0.1 } }`).join('\n');
const { config, problems } = parseConfig(`
site: { id: mb, name: 压测 }
buses: [{ id: line, type: rtu, path: '${sim.path}', baud: ${BAUD}, timeout_ms: 500, retries: 0 }]
sensors:
${sensors}
  - { id: wl1, kind: water_level, stages: { guaranteed: 3.0 }, raise_after_s: 0, clear_after_s: 0, hysteresis_m: 0, modbus: { bus: line, unit: 16, profile: qdy30a, poll_s: 0.1 } }
actuators: [{ id: siren1, kind: siren, zones: [site], modbus: { bus: line, unit: 1, profile: waveshare-modbus-rtu-relay } }]
actions: { all_clear_pattern: null }
mqtt: { host: 127.0.0.1 }
store: { path: '${join(dir, 'box.db')}' }
`);
if (!config) throw new Error(JSON.stringify(problems));
const box = await startBox({ config, log: pino({ level: 'silent' }), tcpPort: 0, wsPort: 0 });

// Poll cycle: with every unit due at once, how long one round of all 15 sensors takes.
await new Promise((r) => setTimeout(r, 1000));
const before = [...gauges, level].map((d) => d.requests);
const t0 = performance.now();
await new Promise((r) => setTimeout(r, SECONDS * 1000));
const elapsed = performance.now() - t0;
const polls = [...gauges, level].map((d, i) => d.requests - before[i]!);
const transactions = polls.reduce((a, b) => a + b, 0);
const perTransactionMs = elapsed / transactions;
const cycleMs = perTransactionMs * polls.length;
const physicalCycleMs = PHYSICAL_MS * polls.length;
console.log(`poll cycle of ${polls.length} sensors at ${BAUD} baud: ${cycleMs.toFixed(1)} ms measured, ${physicalCycleMs.toFixed(1)} ms physical minimum (${transactions} transactions in ${(elapsed / 1000).toFixed(1)} s)`);

// Threshold → relay write, repeated.
const lat: number[] = [];
for (let k = 0; k < 15; k++) {
  const start = relay.coilWrites().length;
  const t = performance.now();
  level.set('level', 3.5);
  const deadline = t + 5000;
  let seen: number | null = null;
  while (performance.now() < deadline && seen === null) {
    const w = relay.coilWrites().slice(start).find((x) => x.source === 'master' && x.action === 'flash_on');
    if (w) seen = w.mono - t;
    else await new Promise((r) => setTimeout(r, 2));
  }
  if (seen !== null) lat.push(seen);
  level.set('level', 1);
  await new Promise((r) => setTimeout(r, 600)); // cleared, siren stopped
}
lat.sort((a, b) => a - b);
const p = (q: number): number => lat[Math.min(lat.length - 1, Math.floor(lat.length * q))]!;
console.log(`threshold crossing → relay flash-on write: p50 ${p(0.5).toFixed(1)} ms, max ${lat.at(-1)!.toFixed(1)} ms over ${lat.length} crossings (budget: one cycle ${cycleMs.toFixed(0)} ms + 30 ms)`);
await box.stop();
await sim.stop();
console.log(
  JSON.stringify({
    devices: 16,
    baud: BAUD,
    poll_cycle_ms: Number(cycleMs.toFixed(1)),
    physical_min_cycle_ms: Number(physicalCycleMs.toFixed(1)),
    cycle_ratio: Number((cycleMs / physicalCycleMs).toFixed(3)),
    threshold_to_relay_p50_ms: Number(p(0.5).toFixed(1)),
    threshold_to_relay_max_ms: Number(lat.at(-1)!.toFixed(1)),
    threshold_to_relay_over_cycle_max_ms: Number((lat.at(-1)! - cycleMs).toFixed(1)),
  }),
);
process.exit(0);
