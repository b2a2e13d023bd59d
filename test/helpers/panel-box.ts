/**
 * A real box serving the officer's page, for the browser tests: the demo site
 * (simulators/demo-site.yaml: its zones, shelter, route, accounts, the demo officer wang /
 * demo-officer-pass) with its simulated devices — the Modbus TCP gateway with the rain gauge,
 * river probe and siren relay, the smoke detectors and the speaker as MQTT clients with their
 * own credentials — but no scenario: the test makes the weather (`smoke()`, `rain()`).
 * Everything on loopback, ephemeral ports; the event log in a temp folder; the uplink points
 * at a port nobody listens on, so the home screen shows it offline with events waiting.
 * The page is built first (scripts/build-panel.mjs; nothing is done when it is up to date).
 */
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino, type Logger } from 'pino';
import { startBox, type Box } from '../../gateway/box.ts';
import { loadSiteIsolated } from '../../gateway/config/isolated.ts';
import { DEMO_SITE } from '../../gateway/demo.ts';
import { demoPassword } from '../../simulators/demo-devices.ts';
import { DemoModbus } from '../../simulators/demo-modbus.ts';
import { ActuatorSim } from '../../simulators/devices/actuator-sim.ts';
import { SensorSim } from '../../simulators/devices/mqtt-device.ts';
import { buildPanel, describe as describeBuild, type PanelManifest } from '../../scripts/build-panel.mjs';

export const OFFICER = { username: 'wang', password: 'demo-officer-pass' };

export interface PanelBox {
  box: Box;
  /** `http://127.0.0.1:<port>` */
  base: string;
  modbus: DemoModbus;
  speaker: ActuatorSim;
  /** The build's manifest (sizes) and one line describing it. */
  build: { manifest: PanelManifest; line: string; built: boolean };
  /** A smoke detector's state over MQTT (sm1, sm2: `alarm`, `normal`, …). */
  smoke(id: 'sm1' | 'sm2', state: string): Promise<void>;
  /** The rain gauge's counter (mm), in its Modbus register; the box reads it within a poll (0.5 s). */
  rain(totalMm: number): void;
  /** The river probe's level (m), in its Modbus registers. */
  river(m: number): void;
  stop(): Promise<void>;
}

async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  return port;
}

export async function startPanelBox(o: { log?: Logger } = {}): Promise<PanelBox> {
  const build = await buildPanel();
  const log = o.log ?? pino({ level: process.env.BOX_RIG_LOG ?? 'silent' });
  const dir = mkdtempSync(join(tmpdir(), 'sb-page-'));
  const { config: site, profiles } = await loadSiteIsolated(DEMO_SITE);
  const modbus = new DemoModbus(site, new Map(profiles.map((p) => [p.model, p])), log.child({ module: 'simulators' }));
  const polled = await modbus.start();
  const dbPath = join(dir, 'demo.db');
  const config = {
    ...polled,
    mqtt: { ...polled.mqtt, host: '127.0.0.1' },
    store: { ...polled.store, path: dbPath },
    panel: { ...polled.panel!, host: '127.0.0.1', port: 0 },
    uplink: polled.uplink ? { ...polled.uplink, url: `mqtt://127.0.0.1:${await closedPort()}` } : null,
  };
  const box = await startBox({ config, profiles, log, tcpPort: 0, wsPort: 0, panelPort: 0, dbPath });
  const url = `mqtt://127.0.0.1:${box.broker.tcpPort}`;
  const dev = (id: string) => ({ url, site: config.site.id, id, password: demoPassword(id), log });
  const sensors = { sm1: new SensorSim(dev('sm1'), 'state'), sm2: new SensorSim(dev('sm2'), 'state') };
  const speaker = new ActuatorSim(dev('spk1'), 'speaker');
  await Promise.all([sensors.sm1.start(), sensors.sm2.start(), speaker.start()]);
  return {
    box,
    base: `http://127.0.0.1:${box.panel!.port}`,
    modbus,
    speaker,
    build: { ...build, line: describeBuild(build.manifest) },
    smoke: (id, state) => sensors[id].publish(state),
    rain: (mm) => void modbus.set('rg1', mm),
    river: (m) => void modbus.set('wl1', m),
    async stop() {
      await Promise.all([sensors.sm1.stop(), sensors.sm2.stop(), speaker.stop()].map((p) => p.catch(() => undefined)));
      await box.stop();
      await modbus.stop();
    },
  };
}
