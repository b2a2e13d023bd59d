/**
 * A running box with speakers the box plays itself, on a real Modbus TCP bus: a simulated
 * Waveshare relay board at unit 1 (relay 1 = coil 0 the siren, relay 2 = coil 1 the speaker's
 * amplifier), a QDY30A river probe at unit 3 (metres, two decimals) whose `historical_max` stage
 * (3.0 m; the simulated register holds up to 3.27 m) raises a red alarm, the panel on an ephemeral port with officer wang signed in.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { startBox, type Box } from '../../gateway/box.ts';
import { formatProblem, parseConfig } from '../../gateway/config/load.ts';
import { hashSecret } from '../../gateway/shell/secrets.ts';
import type { SpeakerActivity } from '../../drivers/speaker/local-speakers.ts';
import type { Effect } from '../../gateway/planner/types.ts';
import { SimulatedBus, type SimulatedDevice } from '../../simulators/modbus/bus.ts';
import { addRiverProbe, profiles } from './box-modbus-rig.ts';
import { FAST, pw } from './box-site.ts';
import { panelClient, type PanelClient } from './panel-client.ts';

export interface SpeakerRig {
  box: Box;
  sim: SimulatedBus;
  relay: SimulatedDevice;
  level: SimulatedDevice;
  /** The WAV folder of the file sinks (the `${folder}` of the YAML). */
  folder: string;
  dir: string;
  panel: PanelClient;
  /** Everything the speakers did, with performance.now() times. */
  activities: SpeakerActivity[];
  /** Every effect, with the performance.now() at which it reached the bus. */
  effects: { e: Effect; at: number }[];
  /** GET /api/state as officer wang. */
  state(): Promise<any>;
  /** POST /api/commands as officer wang. */
  command(body: Record<string, unknown>): Promise<Response>;
  stop(): Promise<void>;
}

/**
 * `actuators`: YAML list items after the siren (use `${folder}`); `extra`: more top-level YAML
 * (audio:, actions:, broadcasts:; `${dir}` is the rig's temp folder); `prepare(dir)` runs before
 * the box starts (to make recordings there).
 */
export async function startSpeakerRig(actuators: string, extra = '', prepare?: (dir: string) => void): Promise<SpeakerRig> {
  const dir = mkdtempSync(join(tmpdir(), 'sb-speaker-'));
  prepare?.(dir);
  const folder = join(dir, 'audio');
  const sim = new SimulatedBus({ transport: 'tcp' });
  const relay = sim.add(profiles.get('waveshare-modbus-rtu-relay')!, 1);
  const level = addRiverProbe(sim, 3, 1.2);
  await sim.start();
  const hash = await hashSecret(pw('wang'), FAST);
  const yaml = `
site: { id: spk, name: 测试村, name_en: Testville }
buses:
  - { id: net1, type: tcp, host: 127.0.0.1, port: ${sim.endpoint.port}, timeout_ms: 300, retries: 0 }
sensors:
  - { id: wl1, kind: water_level, stages: { warning: 2.0, guaranteed: 2.5, historical_max: 3.0 }, raise_after_s: 0, clear_after_s: 0, interval_s: 1, error_window: 4, modbus: { bus: net1, unit: 3, profile: qdy30a, poll_s: 0.2 } }
actuators:
  - { id: siren1, kind: siren, zones: [site], modbus: { bus: net1, unit: 1, profile: waveshare-modbus-rtu-relay } }
${actuators.replaceAll('${folder}', folder)}
mqtt:
  host: 127.0.0.1
  accounts:
    - { username: wang, role: officer, secret_hash: '${hash}' }
store: { path: '${join(dir, 'box.db')}' }
panel: { host: 127.0.0.1, port: 0 }
${extra.replaceAll('${folder}', folder).replaceAll('${dir}', dir)}
`;
  const { config, problems } = parseConfig(yaml);
  if (!config) throw new Error(problems.map(formatProblem).join('\n'));
  const box = await startBox({ config, log: pino({ level: process.env.BOX_RIG_LOG ?? 'silent' }), tcpPort: 0, wsPort: 0 });
  const activities: SpeakerActivity[] = [];
  box.speakers?.onActivity((a) => activities.push(a));
  const effects: { e: Effect; at: number }[] = [];
  box.ctx.bus.on('effect', (e) => effects.push({ e, at: performance.now() }));
  const panel = panelClient(`http://127.0.0.1:${box.panel!.port}`);
  const signed = await panel.signIn('wang');
  if (!signed.ok) throw new Error(`sign-in failed: ${signed.status}`);
  return {
    box,
    sim,
    relay,
    level,
    folder,
    dir,
    panel,
    activities,
    effects,
    async state() {
      const r = await panel.req('GET', '/api/state');
      if (!r.ok) throw new Error(`GET /api/state: ${r.status}`);
      return r.json();
    },
    command: (body) => panel.req('POST', '/api/commands', body),
    async stop() {
      await box.stop();
      await sim.stop();
    },
  };
}
