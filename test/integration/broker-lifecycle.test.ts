// Start, stop, the box's own publish(), and slow or stuck clients (every stop resolves; one slow
// subscriber must not stall the others).
import { connect as netConnect, type Socket } from 'node:net';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BrokerModule } from '../../gateway/broker/broker.ts';
import type { SiteConfig } from '../../gateway/config/types.ts';
import { BrokerRig, Inbox, T, brokerSite, subscribeCode, until, type LogLine } from '../helpers/broker-rig.ts';
import { Bus } from '../../gateway/shell/bus.ts';
import { systemClock } from '../../gateway/shell/clock.ts';
import { pino } from 'pino';

let config: SiteConfig;
let rig: BrokerRig | undefined;
const sockets: Socket[] = [];

beforeAll(async () => {
  config = await brokerSite();
});

afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await rig?.stop();
  rig = undefined;
});

function rawSocket(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = netConnect({ host: '127.0.0.1', port }, () => resolve(s));
    s.on('error', reject);
    sockets.push(s);
  });
}

describe('broker lifecycle', () => {
  it('stops within its deadline with stuck clients, and closes its ports', async () => {
    rig = await BrokerRig.start(config, { stopDeadlineMs: 1000 });
    const port = rig.broker.tcpPort;
    const silent = await rawSocket(port); // never sends CONNECT
    const half = await rawSocket(port);
    half.write(Buffer.from([0x10, 0x20])); // a CONNECT header that never completes
    const frozen = await rig.connect('li');
    frozen.stream.pause();
    await rig.connect('rg1');
    const t0 = Date.now();
    await rig.broker.stop();
    expect(Date.now() - t0).toBeLessThan(1500);
    await until(() => silent.destroyed || silent.readableEnded, 'the silent socket to be closed');
    await expect(rawSocket(port)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    expect(rig.broker.stats().clients).toBe(0);
    // stop() twice is fine; publish() after stop is refused with a code.
    await rig.broker.stop();
    await expect(rig.broker.publish(T.status(), 'x')).rejects.toMatchObject({ code: 'E_BROKER_DOWN' });
  });

  it('closes a socket that sends no CONNECT within connectTimeout', async () => {
    rig = await BrokerRig.start(config, { connectTimeoutMs: 150 });
    const s = await rawSocket(rig.broker.tcpPort);
    const closed = new Promise<void>((r) => s.once('close', () => r()));
    await closed;
  });

  it('closes a connection that declares a packet over the size limit, before buffering it', async () => {
    rig = await BrokerRig.start(config); // max_payload_bytes 256: packets up to 256 + 4096
    const s = await rawSocket(rig.broker.tcpPort);
    const closed = new Promise<void>((r) => s.once('close', () => r()));
    // CONNECT (0x10) with remaining length 10 MB (varint 0x80 0x80 0x80 0x05), then a trickle.
    s.write(Buffer.from([0x10, 0x80, 0x80, 0x80, 0x05, 0x00, 0x04]));
    await closed;
    // An authenticated client sending a 10 kB PUBLISH is cut off too; under the limit it is
    // only dropped (see broker-payloads.test.ts).
    const rg1 = await rig.connect('rg1');
    const gone = new Promise<void>((r) => rg1.once('close', () => r()));
    rg1.publish(T.sensorReading('rg1'), Buffer.alloc(10_000, 0x20), { qos: 0 });
    await gone;
    expect(rig.readings).toEqual([]);
    // Over WebSocket as well.
    const panel = await rig.connect('li', { url: `ws://127.0.0.1:${rig.broker.wsPort}` });
    const wsGone = new Promise<void>((r) => panel.once('close', () => r()));
    panel.publish(T.boxCommand(), Buffer.alloc(10_000, 0x20), { qos: 0 });
    await wsGone;
    expect(rig.commands).toEqual([]);
  });

  it('rejects start() when the port is taken, and can be stopped after', async () => {
    rig = await BrokerRig.start(config);
    const log = pino({ level: 'silent' });
    const second = new BrokerModule({ config, bus: new Bus(log), log, clock: systemClock() }, { tcpPort: rig.broker.tcpPort, wsPort: 0 });
    await expect(second.start()).rejects.toMatchObject({ code: 'EADDRINUSE' });
    await second.stop();
  });

  it('publishes as the box only under its own site root', async () => {
    rig = await BrokerRig.start(config);
    await expect(rig.broker.publish('sb/v1/elsewhere/status', 'x')).rejects.toMatchObject({ code: 'E_BROKER_TOPIC' });
    await expect(rig.broker.publish(`${T.root}/alert/#`, 'x')).rejects.toMatchObject({ code: 'E_BROKER_TOPIC' });
    await expect(rig.broker.publish(`${T.root}/`, 'x')).rejects.toMatchObject({ code: 'E_BROKER_TOPIC' });
    await expect(rig.broker.publish(T.event(), Buffer.from('{"seq":1}'), { qos: 1 })).resolves.toBeUndefined();
  });

  it('delivers every message when retained and plain publishes overlap (aedes #994)', async () => {
    rig = await BrokerRig.start(config);
    const li = await rig.connect('li');
    const inbox = new Inbox(li);
    expect(await subscribeCode(li, T.all(), 1)).toBe(1);
    // Overlapping subscriptions still get one copy of each message.
    expect(await subscribeCode(li, T.event(), 1)).toBe(1);
    const rg1 = await rig.connect('rg1');
    const sent: Promise<void>[] = [];
    for (let i = 0; i < 20; i++) {
      sent.push(rig.broker.publish(T.alert(`a${i}/rain`), `alert ${i}`, { qos: 1, retain: true }));
      sent.push(rig.broker.publish(T.event(), `event ${i}`, { qos: 1 }));
      sent.push(rig.broker.publish(T.status(), `status ${i}`, { qos: 0, retain: true }));
      sent.push(rg1.publishAsync(T.deviceStatus('rg1'), `rg1 ${i}`, { qos: 1, retain: true }).then(() => undefined));
    }
    await Promise.all(sent);
    await until(() => inbox.messages.length >= 80, 'all 80 messages');
    await rig.broker.publish(T.event(), 'sentinel', { qos: 1 });
    await until(() => inbox.messages.some((m) => m.text === 'sentinel'), 'the sentinel');
    expect(inbox.messages).toHaveLength(81);
    // One topic from one publisher keeps its order (MQTT 3.1.1 §4.6).
    expect(inbox.on(T.event()).map((m) => m.text)).toEqual([...Array.from({ length: 20 }, (_, i) => `event ${i}`), 'sentinel']);
    expect(inbox.on(T.deviceStatus('rg1')).map((m) => m.text)).toEqual(Array.from({ length: 20 }, (_, i) => `rg1 ${i}`));
  });

  it('does not keep messages published to a topic nobody subscribes to', async () => {
    rig = await BrokerRig.start(config);
    const payload = 'x'.repeat(1024);
    for (let i = 0; i < 2000; i++) await rig.broker.publish(T.event(), payload, { qos: 1 });
    const li = await rig.connect('li');
    const inbox = new Inbox(li);
    expect(await subscribeCode(li, T.all(), 1)).toBe(1);
    await rig.broker.publish(T.event(), 'sentinel', { qos: 1 });
    await inbox.next(T.event());
    expect(inbox.messages.map((m) => m.text)).toEqual(['sentinel']);
  });

  it('disconnects a subscriber that stops reading, and the others keep receiving', async () => {
    const logs: LogLine[] = [];
    // The fast subscriber reads in this process too: 300 ms let a loaded machine drop it as well.
    rig = await BrokerRig.start(config, { drainTimeoutMs: 1500 }, logs);
    const slow = await rig.connect('li');
    const fast = await rig.connect('zhen');
    const inbox = new Inbox(fast);
    let fastCount = 0;
    fast.on('message', () => fastCount++);
    expect(await subscribeCode(slow, T.event(), 1)).toBe(1);
    expect(await subscribeCode(fast, T.event(), 1)).toBe(1);
    let slowClosed = false;
    slow.on('close', () => (slowClosed = true));
    slow.stream.pause(); // stops reading: its socket buffers fill up
    const big = Buffer.alloc(64 * 1024, 0x61);
    const sends: Promise<void>[] = [];
    // QoS 1, as the box publishes its events: QoS 0 ones over a client's output limit would
    // be dropped for the fast subscriber too (client-output.ts).
    for (let i = 0; i < 300; i++) sends.push(rig.broker.publish(T.event(), big, { qos: 1 }));
    await until(() => rig!.broker.stats().clients === 1, 'the slow subscriber to be dropped', 10_000);
    await Promise.all(sends);
    await rig.broker.publish(T.event(), 'after', { qos: 0 });
    await until(() => inbox.messages.some((m) => m.text === 'after'), 'the fast subscriber to get the last message', 5000);
    expect(fastCount).toBe(301);
    slow.stream.resume();
    await until(() => slowClosed, 'the slow client to see its connection closed');
    // One drop, one line (it logged once per message in flight to it: 257 lines), with how
    // many deliveries failed with it.
    const slowId = logs.find((l) => l.msg === 'client connected' && l.username === 'li')?.client;
    const about = logs.filter((l) => l.client === slowId && l.msg !== 'client connected');
    expect(about.map((l) => l.msg)).toEqual(['slow client disconnected']);
    expect(about[0]).toMatchObject({ level: 40, username: 'li' });
    expect(about[0]!.failed_deliveries).toBeGreaterThan(0);
  });
});
