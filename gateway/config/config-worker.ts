/** Worker thread of isolated.ts: loads the config (and profiles if needed) and answers once. */
import { parentPort, workerData } from 'node:worker_threads';
import { loadAllProfiles } from '../../drivers/modbus/profiles.ts';
import type { ConfigWorkerReply } from './isolated.ts';
import { ConfigError, loadConfig } from './load.ts';

const { file } = workerData as { file: string };
let reply: ConfigWorkerReply;
try {
  const config = loadConfig(file);
  reply = { ok: true, site: { config, profiles: config.buses.length ? loadAllProfiles() : [] } };
} catch (e) {
  reply = e instanceof ConfigError ? { ok: false, problems: e.problems } : { ok: false, error: `${file}: ${(e as Error).message}` };
}
parentPort!.postMessage(reply);
