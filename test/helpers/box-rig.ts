/**
 * The running box for integration tests: boxSite in a temp folder, Aedes on a loopback port,
 * and mqtt.js clients logged in as the site's accounts, all closed by `stop()`.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { pino } from 'pino';
import { startBox, type Box, type BoxOptions } from '../../gateway/box.ts';
import type { Clock } from '../../gateway/shell/clock.ts';
import { boxSite, pw } from './box-site.ts';

export interface BoxRig {
  box: Box;
  url: string;
  /** The panel's base URL (`http://127.0.0.1:<port>`), when the site has a panel (`panel: {host: 127.0.0.1, port: 0}` in the extra YAML). */
  panelUrl: string | null;
  /** An MQTT 3.1.1 client logged in as `user` (password `pw(user)`). */
  connect(user: string): Promise<MqttClient>;
  stop(): Promise<void>;
}

export interface BoxRigOptions extends Pick<BoxOptions, 'uplinkTimings' | 'panelHw'> {
  /** More keys of the test site's `site` (see boxSite). */
  siteYaml?: string;
  clock?: Clock;
  log?: BoxOptions['log'];
}

export async function startBoxRig(extraYaml = '', o: BoxRigOptions = {}): Promise<BoxRig> {
  const dir = mkdtempSync(join(tmpdir(), 'sb-box-'));
  const config = await boxSite(join(dir, 'box.db'), extraYaml, o.siteYaml);
  const log = o.log ?? pino({ level: process.env.BOX_RIG_LOG ?? 'silent' });
  const box = await startBox({ config, log, tcpPort: 0, wsPort: 0, uplinkTimings: o.uplinkTimings, panelHw: o.panelHw, ...(o.clock ? { clock: o.clock } : {}) });
  const url = `mqtt://127.0.0.1:${box.broker.tcpPort}`;
  const clients: MqttClient[] = [];
  return {
    box,
    url,
    panelUrl: box.panel?.port ? `http://127.0.0.1:${box.panel.port}` : null,
    async connect(user) {
      const c = await mqtt.connectAsync(url, { protocolVersion: 4, username: user, password: pw(user), clientId: `${user}-${Math.random().toString(16).slice(2, 8)}`, reconnectPeriod: 0 });
      clients.push(c);
      return c;
    },
    async stop() {
      await Promise.all(clients.map((c) => c.endAsync(true)));
      await box.stop();
    },
  };
}
