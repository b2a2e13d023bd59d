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
import { boxSite, pw } from './box-site.ts';

export interface BoxRig {
  box: Box;
  url: string;
  /** An MQTT 3.1.1 client logged in as `user` (password `pw(user)`). */
  connect(user: string): Promise<MqttClient>;
  stop(): Promise<void>;
}

export async function startBoxRig(extraYaml = '', opts: Pick<BoxOptions, 'uplinkTimings'> & { log?: BoxOptions['log'] } = {}): Promise<BoxRig> {
  const dir = mkdtempSync(join(tmpdir(), 'sb-box-'));
  const box = await startBox({ config: await boxSite(join(dir, 'box.db'), extraYaml), log: opts.log ?? pino({ level: process.env.BOX_RIG_LOG ?? 'silent' }), tcpPort: 0, wsPort: 0, uplinkTimings: opts.uplinkTimings });
  const url = `mqtt://127.0.0.1:${box.broker.tcpPort}`;
  const clients: MqttClient[] = [];
  return {
    box,
    url,
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
