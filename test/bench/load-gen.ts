/**
 * Load generator for the end-to-end benchmark, run as a child process so its work does not
 * share the box's event loop: N MQTT sensors each publishing at R Hz for D seconds.
 * argv: url site n hz seconds [anon]. Prints one JSON line {published, seconds, errors} at the end.
 */
import mqtt, { type MqttClient } from 'mqtt';

const [url, site, nArg, hzArg, secArg, anon] = process.argv.slice(2);
const n = Number(nArg);
const hz = Number(hzArg);
const seconds = Number(secArg);
const clients: MqttClient[] = [];
let published = 0;
let errors = 0;

/**
 * One sensor's connection. Like a field device, it tries again after a short jittered pause
 * when the box says "not now" (CONNACK 3: its secret-check lanes are full while a thousand
 * gauges connect at once), for up to 60 s.
 */
async function connect(i: number): Promise<MqttClient> {
  const id = `rg${i}`;
  const until = performance.now() + 60_000;
  for (;;) {
    try {
      return await mqtt.connectAsync(url!, {
        protocolVersion: 4,
        clientId: `${id}-load`,
        reconnectPeriod: 0,
        ...(anon ? {} : { username: id, password: `pw-${id}-secret` }),
      });
    } catch (err) {
      if ((err as { code?: number }).code !== 3 || performance.now() > until) throw err;
      await new Promise((r) => setTimeout(r, 100 + Math.random() * 300));
    }
  }
}

const connectStart = performance.now();
for (let i = 0; i < n; i += 50) {
  const batch = await Promise.all(Array.from({ length: Math.min(50, n - i) }, (_, k) => connect(i + k)));
  clients.push(...batch);
}
process.stdout.write(`${JSON.stringify({ connected: clients.length, connect_s: Number(((performance.now() - connectStart) / 1000).toFixed(2)) })}\n`);

const start = performance.now();
const totals = new Float64Array(n);
// Each client publishes on its own schedule, spread over the period so the load is smooth.
const period = 1000 / hz;
const ticks = Math.round(seconds * hz);
await new Promise<void>((resolve) => {
  let done = 0;
  clients.forEach((c, i) => {
    let k = 0;
    const topic = `sb/v1/${site}/sensor/rg${i}/reading`;
    const fire = (): void => {
      // One 0.2 mm tip a second, whatever the rate (12 mm/min: a cloudburst, but real): the
      // engine counts rain per minute of elapsed time (max_rate_mm_per_min, 50 by default), so
      // a tip at every one of 120 readings a second (1,440 mm/min) would be a stream of glitches.
      if (k % Math.max(1, Math.round(hz)) === 0) totals[i]! += 0.2;
      c.publish(topic, `{"value":${totals[i]!.toFixed(1)},"unit":"mm"}`, { qos: 0 }, (err) => (err ? errors++ : published++));
      if (++k >= ticks) {
        if (++done === clients.length) resolve();
        return;
      }
      const next = start + (i / n) * period + k * period - performance.now();
      setTimeout(fire, Math.max(0, next));
    };
    setTimeout(fire, (i / n) * period);
  });
});
const elapsed = (performance.now() - start) / 1000;
await Promise.all(clients.map((c) => c.endAsync()));
process.stdout.write(`${JSON.stringify({ published, seconds: elapsed, errors })}\n`);
