/**
 * The running box against simulated Modbus devices on a real TCP bus: a QDY30A river probe
 * reading `metres` (in m, two decimals) at unit 3, and a box started on `yaml` (a site config
 * with `${port}` for the bus and `${store}` for a temp database path; its logs silent).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { loadAllProfiles } from '../../drivers/modbus/profiles.ts';
import { startBox, type Box } from '../../gateway/box.ts';
import { formatProblem, parseConfig } from '../../gateway/config/load.ts';
import { SimulatedBus, type SimulatedDevice } from '../../simulators/modbus/bus.ts';

export const profiles = new Map(loadAllProfiles().map((p) => [p.model, p]));

/** Adds a QDY30A at `unit` reporting in m with two decimals (its unit and decimals registers). */
export function addRiverProbe(sim: SimulatedBus, unit: number, metres: number): SimulatedDevice {
  const level = sim.add(profiles.get('qdy30a')!, unit);
  level.set('unit_code', 1);
  level.set('decimals', 2);
  level.set('level', metres);
  return level;
}

/** Starts the box on `yaml(port, storePath)` once `sim` listens. */
export async function startBoxOnBus(sim: SimulatedBus, yaml: (port: number, store: string) => string): Promise<Box> {
  const dir = mkdtempSync(join(tmpdir(), 'sb-box-mb-'));
  const { config, problems } = parseConfig(yaml(sim.endpoint.port, join(dir, 'box.db')));
  if (!config) throw new Error(problems.map(formatProblem).join('\n'));
  return startBox({ config, log: pino({ level: 'silent' }), tcpPort: 0, wsPort: 0 });
}
