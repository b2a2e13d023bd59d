/**
 * The flood benchmark's listening clients, each in a worker thread of its own so that neither
 * the measuring process's work nor the other client delays its receive timestamps (the peer's
 * load.mjs puts its siren subscriber in a worker for the same reason):
 *  - `relay`: the siren relay (account siren1) on `cmd/siren1`, QoS 1, as in the quiet phase.
 *    Posts {type: 'siren', alert, recv} for every siren command, `recv` in epoch ms.
 *  - `officer`: an officer's dashboard that reads everything it may (`filter`), counting.
 * Started with workerData {url, role, filter, username, password, clientId}; answers
 * {cmd: 'count'} with {type: 'count', count}, ends on {cmd: 'stop'}.
 */
import { parentPort, workerData } from 'node:worker_threads';
import mqtt from 'mqtt';

const { url, role, filter, username, password, clientId } = workerData as { url: string; role: 'relay' | 'officer'; filter: string; username: string; password: string; clientId: string };
const port = parentPort!;
let count = 0;
let closes = 0;
const c = mqtt.connect(url, { protocolVersion: 4, clientId, username, password, reconnectPeriod: 1000, connectTimeout: 5000 });
c.on('error', (err) => port.postMessage({ type: 'error', error: String(err) }));
c.on('close', () => closes++);
c.once('connect', () => {
  c.subscribe(filter, { qos: role === 'relay' ? 1 : 0 }, (err, granted) =>
    port.postMessage({ type: 'ready', error: err ? String(err) : null, granted: granted?.[0]?.qos ?? null }),
  );
});
c.on('message', (_topic, payload) => {
  const recv = performance.timeOrigin + performance.now();
  count++;
  if (role !== 'relay') return;
  const m = JSON.parse(payload.toString()) as { type?: string; alert?: string | null };
  if (m.type === 'siren') port.postMessage({ type: 'siren', alert: m.alert ?? null, recv });
});
port.on('message', (m: { cmd: string }) => {
  if (m.cmd === 'count') port.postMessage({ type: 'count', count, closes });
  else if (m.cmd === 'stop') c.end(true, () => process.exit(0));
});
