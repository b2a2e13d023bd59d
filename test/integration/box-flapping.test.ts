/**
 * A babbling device must not flood the log (issue 15): a smoke detector sending alternating
 * `dirty`/`normal` states, and a rain gauge sending implausible jumps, through the running box
 * (real Aedes on a loopback port, mqtt.js clients, a real SQLite file). Events and log lines
 * stay bounded however many readings come, and a real fire during the flapping still raises
 * the alarm at once.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBox, type Box } from '../../gateway/box.ts';
import { FLAP_TRANSITIONS } from '../../gateway/engine/flap.ts';
import { boxSite, pw } from '../helpers/box-site.ts';
import { until } from '../helpers/until.ts';

let box: Box;
const lines: { sensor?: string; alert?: string; msg: string; dropped?: number }[] = [];
const clients: MqttClient[] = [];
let url = '';

async function connect(user: string): Promise<MqttClient> {
  const c = await mqtt.connectAsync(url, { protocolVersion: 4, username: user, password: pw(user), clientId: `${user}-flap`, reconnectPeriod: 0 });
  clients.push(c);
  return c;
}

/** QoS 1, in order: the box hands a reading to the engine before it acks it, so once the last ack is in, every one was evaluated. */
async function send(c: MqttClient, sensor: string, values: (number | string)[]): Promise<void> {
  const acks: Promise<unknown>[] = [];
  for (const v of values) acks.push(c.publishAsync(`sb/v1/itest/sensor/${sensor}/reading`, JSON.stringify({ value: v }), { qos: 1 }));
  await Promise.all(acks);
}

/** Everything logged after `seq`: the fault events, and the panel effects they caused. */
const eventsSince = (seq: number) => box.store.since(seq);
/** The alert log lines about `sensor` (the engine logs each transition), and its rate-cap lines. */
const linesOf = (sensor: string) => lines.filter((l) => l.alert?.startsWith(`${sensor}/`) ?? false);
const capLinesOf = (sensor: string) => lines.filter((l) => l.sensor === sensor && l.msg.includes('rate cap'));
/** Log lines wait for the step's siren commands (after-commands.ts: two setImmediate turns). */
const afterLogLines = () => new Promise((r) => setImmediate(() => setImmediate(() => setImmediate(r))));

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sb-flap-'));
  const log = pino({ level: 'info' }, { write: (s: string) => void lines.push(JSON.parse(s)) });
  box = await startBox({ config: await boxSite(join(dir, 'box.db')), log, tcpPort: 0, wsPort: 0 });
  url = `mqtt://127.0.0.1:${box.broker.tcpPort}`;
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.endAsync(true)));
  await box?.stop();
});

describe('a flapping smoke detector', () => {
  it('alternating dirty/normal states make a bounded number of events and log lines, however many come', async () => {
    const sm1 = await connect('sm1');
    const flip = (n: number): string[] => Array.from({ length: n }, (_, i) => (i % 2 === 0 ? 'dirty' : 'normal'));
    const from = box.store.lastSeq();
    await send(sm1, 'sm1', flip(1000));
    const events = eventsSince(from).length;
    // Each alert transition is a log line, written once the step's siren commands are out (afterCommands).
    const transitions = eventsSince(from).filter((e) => e.type === 'fault' || e.type === 'transition').length;
    const logged = (await until('the log lines of the transitions', () => linesOf('sm1').length >= transitions && linesOf('sm1'))).length;
    // Before the fix each state was a fault event, an indicator effect and a log line: 1,000 of each.
    expect(events).toBeLessThanOrEqual(2 * FLAP_TRANSITIONS + 2);
    expect(logged).toBeLessThanOrEqual(FLAP_TRANSITIONS + 2);
    const flapping = eventsSince(from).filter((e) => e.type === 'fault' && (e.payload as { fault?: string }).fault === 'flapping');
    expect(flapping.map((e) => (e.payload as { transition: string }).transition)).toEqual(['raised']);
    // 1,000 more: nothing more is written or logged while it flaps.
    await send(sm1, 'sm1', flip(1000));
    await afterLogLines();
    expect(eventsSince(from).slice(events).map((e) => [e.type, e.payload])).toEqual([]);
    expect(linesOf('sm1').length).toBe(logged);
    // What the per-sensor cap dropped of the 2,000 is one line with the count, at the next tick.
    const [cap] = await until('the rate-cap line', () => capLinesOf('sm1').length > 0 && capLinesOf('sm1'));
    expect(cap).toMatchObject({ sensor: 'sm1', dropped: expect.any(Number) });
  });

  it('a real fire during the flapping still raises the alarm at once', async () => {
    const sm1 = clients.find((c) => c.options.username === 'sm1')!;
    const sm2 = await connect('sm2');
    await send(sm1, 'sm1', ['alarm']);
    const fire = () => box.store.since(0).filter((e) => e.type === 'transition' && (e.payload as { zone: string }).zone === 'b3');
    expect(fire().map((e) => (e.payload as { level: string }).level)).toEqual(['yellow']);
    await send(sm2, 'sm2', ['alarm']);
    expect(fire().map((e) => (e.payload as { level: string }).level)).toEqual(['yellow', 'red']);
    expect(box.store.since(0).some((e) => e.type === 'effect' && (e.payload as { type: string; zone?: string }).type === 'siren' && (e.payload as { zone?: string }).zone === 'b3')).toBe(true);
  });
});

describe('a gauge sending implausible jumps', () => {
  it('makes one observation event per window with a count, not one per reading', async () => {
    const rg1 = await connect('rg1');
    // A baseline, then jumps of 1,000 mm between readings milliseconds apart: far beyond 50 mm/min.
    const from = box.store.lastSeq();
    await send(rg1, 'rg1', Array.from({ length: 800 }, (_, i) => i * 1000));
    const obs = eventsSince(from).filter((e) => e.type === 'observation');
    expect(obs.length).toBeLessThanOrEqual(2);
    await afterLogLines();
    expect(linesOf('rg1')).toEqual([]);
  });
});
