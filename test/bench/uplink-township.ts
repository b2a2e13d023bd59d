/**
 * The uplink bench's township subscriber, in a process of its own (as a township's consumer
 * is): argv URL USER PASS SITE. Subscribes to `sb/v1/<site>/event` (MQTT 5, QoS 1), counts,
 * and prints `R <alert> <epoch ms>` for each raised transition when it arrives (the bench
 * compares with its own `performance.timeOrigin + now()`: one machine, one clock). `ready`
 * once subscribed.
 */
import mqtt from 'mqtt';
import { say } from '../helpers/say.ts';

const [url, username, password, site] = process.argv.slice(2);
const client = await mqtt.connectAsync(url!, { username, password, protocolVersion: 5, reconnectPeriod: 0 });
client.on('message', (_t, payload) => {
  // Only alerts are parsed: the backlog's notes are just taken.
  if (!payload.includes('"raised"')) return;
  const e = JSON.parse(payload.toString()) as { alert: string; transition: string };
  if (e.transition === 'raised') say(`R ${e.alert} ${performance.timeOrigin + performance.now()}`);
});
await client.subscribeAsync(`sb/v1/${site}/event`, { qos: 1 });
say('ready');
process.stdin.on('end', () => void client.endAsync(true).then(() => process.exit(0)));
process.stdin.resume();
