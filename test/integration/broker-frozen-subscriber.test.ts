// A subscriber that stops reading (an officer's laptop going to sleep) while devices flood the
// broker: the box must live on past the drain timeout, and a siren command must reach its relay
// while the frozen client is still connected (issue 15).
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import type { SiteConfig } from '../../gateway/config/types.ts';
import { BrokerRig, Inbox, T, brokerSite, subscribeCode, until, type LogLine } from '../helpers/broker-rig.ts';
import { fillWithEvents, frozenSubscriber, type Frozen } from '../helpers/frozen-subscriber.ts';

let config: SiteConfig;
let rig: BrokerRig | undefined;
let frozen: Frozen | undefined;

beforeAll(async () => {
  config = await brokerSite();
});

afterEach(async () => {
  frozen?.destroy();
  frozen = undefined;
  await rig?.stop();
  rig = undefined;
});

/** `count` QoS 0 readings from device rg1, written as fast as mqtt.js takes them. */
function floodReadings(rg1: MqttClient, count: number): void {
  for (let i = 0; i < count; i++) rg1.publish(T.sensorReading('rg1'), JSON.stringify({ value: i }), { qos: 0 });
}

describe('a frozen subscriber', () => {
  it('lives on past the drain timeout (it used to overflow the stack releasing the backlog), and the frozen client is cut once', async () => {
    const logs: LogLine[] = [];
    rig = await BrokerRig.start(config, { drainTimeoutMs: 2000 }, logs);
    const rg1 = await rig.connect('rg1');
    frozen = await frozenSubscriber(rig, 'li');
    // Its socket fills with large events, then 20,000 small ones (the box's own publishes are
    // not held back by the broker the way a device's next publish is) and the device's readings.
    const sent = Promise.all([fillWithEvents(rig), fillWithEvents(rig, 20_000, 100)]);
    floodReadings(rg1, 5000);
    // Events go on until the frozen client is cut (the old code died at the drain timeout).
    const big = Buffer.alloc(32 * 1024, 0x62);
    const more = setInterval(() => void rig!.broker.publish(T.event(), big, { qos: 0 }).catch(() => undefined), 20);
    try {
      await until(() => rig!.broker.stats().clients === 1, 'the frozen subscriber to be cut', 30_000);
    } finally {
      clearInterval(more);
    }
    await sent;
    await until(() => rig!.readings.length === 5000, 'the flood of readings to reach the box', 30_000);
    const zhen = await rig.connect('zhen');
    const inbox = new Inbox(zhen);
    expect(await subscribeCode(zhen, T.event(), 0)).toBe(0);
    await rig.broker.publish(T.event(), 'after', { qos: 0 });
    expect((await inbox.next(T.event(), 10_000)).text).toBe('after');
    // One line for the cut client, with what it lost.
    const cut = logs.filter((l) => l.username === 'li' && l.msg !== 'client connected');
    expect(cut.map((l) => l.msg)).toEqual(['slow client disconnected']);
    expect(cut[0]!.dropped_deliveries).toBeGreaterThan(0);
  });

  it('cuts a client that keeps dropping at its output limit, long before the drain timeout', async () => {
    const logs: LogLine[] = [];
    rig = await BrokerRig.start(config, { drainTimeoutMs: 60_000, publishTimeoutMs: 60_000, output: { maxDroppingMs: 300 } }, logs);
    frozen = await frozenSubscriber(rig, 'li');
    void fillWithEvents(rig);
    const big = Buffer.alloc(32 * 1024, 0x62);
    const more = setInterval(() => void rig!.broker.publish(T.event(), big, { qos: 0 }).catch(() => undefined), 20);
    try {
      await until(() => rig!.broker.stats().clients === 0, 'the frozen subscriber to be cut', 30_000);
    } finally {
      clearInterval(more);
    }
    const cut = logs.filter((l) => l.username === 'li' && l.msg !== 'client connected');
    expect(cut.map((l) => l.msg)).toEqual(['slow client disconnected']);
    expect((cut[0]!.err as { message: string }).message).toMatch(/^output limit: \d+ bytes waiting/);
    expect(cut[0]!.dropped_deliveries).toBeGreaterThan(0);
  });

  it('does not hold back a siren command: it reaches the relay while the frozen client is still connected', async () => {
    // A drain timeout far beyond the wait below: the command cannot be freed by the drop.
    rig = await BrokerRig.start(config, { drainTimeoutMs: 60_000, publishTimeoutMs: 60_000 });
    const siren = await rig.connect('siren1');
    const rg1 = await rig.connect('rg1');
    expect(await subscribeCode(siren, T.actuatorCommand('siren1'), 1)).toBe(1);
    let connectedAtArrival: number | null = null;
    siren.on('message', () => (connectedAtArrival ??= rig!.broker.stats().clients));
    frozen = await frozenSubscriber(rig, 'li');
    void fillWithEvents(rig);
    void fillWithEvents(rig, 20_000, 100);
    floodReadings(rg1, 5000);
    void rig.broker.publish(T.actuatorCommand('siren1'), JSON.stringify({ type: 'siren', pattern: 'alarm' }), { qos: 1 });
    await until(() => connectedAtArrival !== null, 'the siren command at the relay', 15_000);
    // siren1, rg1 and the frozen officer.
    expect(connectedAtArrival).toBe(3);
    expect(frozen.closed()).toBe(false);
  });
});
