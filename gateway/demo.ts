/**
 * `shaobing demo` (npm start): the box with the demo site config and simulated field devices
 * that connect as real MQTT clients with their own credentials. Runs until SIGINT/SIGTERM.
 */
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import { DemoField } from '../simulators/demo-devices.ts';
import { DemoModbus } from '../simulators/demo-modbus.ts';
import { startBox } from './box.ts';
import { loadSiteIsolated } from './config/isolated.ts';

export const DEMO_SITE = fileURLToPath(new URL('../simulators/demo-site.yaml', import.meta.url));

export interface DemoOptions {
  log: Logger;
  stepMs?: number;
  tcpPort?: number;
  wsPort?: number;
  /** The panel's port instead of the site's 8080 (tests: 0). */
  panelPort?: number;
  dbPath?: string;
  /** Where the demo speaker's WAVs go instead of the site's data/audio (tests: a temp folder). */
  audioFolder?: string;
}

export async function startDemo(o: DemoOptions): Promise<{ stop(reason?: string): Promise<void>; field: DemoField; box: Awaited<ReturnType<typeof startBox>> }> {
  const { config: site, profiles } = await loadSiteIsolated(DEMO_SITE);
  const modbus = new DemoModbus(site, new Map(profiles.map((p) => [p.model, p])), o.log.child({ module: 'simulators' }));
  const onBus = await modbus.start();
  const audioFolder = o.audioFolder;
  const config = audioFolder === undefined ? onBus : { ...onBus, actuators: onBus.actuators.map((a) => (a.audio ? { ...a, audio: { ...a.audio, folder: audioFolder } } : a)) };
  const box = await startBox({ config, profiles, log: o.log, tcpPort: o.tcpPort, wsPort: o.wsPort, panelPort: o.panelPort, dbPath: o.dbPath });
  const field = new DemoField(config, `mqtt://127.0.0.1:${box.broker.tcpPort}`, o.log.child({ module: 'simulators' }), modbus, o.stepMs);
  await field.start();
  o.log.info({ mqtt: box.broker.tcpPort, ws: box.broker.wsPort }, 'demo running: a rainstorm, a rising river and a stairwell fire, looping');
  if (box.panel?.port) {
    // The demo officer's sign-in is in the README too; a real site's passwords are never printed.
    const page = `http://127.0.0.1:${box.panel.port}/`;
    const api = `${page}api/`;
    o.log.info({ panel: page, panel_api: api, username: 'wang', password: 'demo-officer-pass' }, `duty officer's panel at ${page} (also on the LAN, port ${box.panel.port}); sign in as wang / demo-officer-pass. The API: curl -c jar -H 'content-type: application/json' -d '{"username":"wang","password":"demo-officer-pass"}' ${api}session`);
  }
  return {
    field,
    box,
    async stop(reason?: string) {
      await field.stop();
      await box.stop(reason);
      await modbus.stop();
    },
  };
}
