// Who may publish, subscribe and receive what (gateway/broker/acl.ts), including retained
// messages and last wills — real mqtt.js clients against real Aedes on 127.0.0.1.
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { SiteConfig } from '../../gateway/config/types.ts';
import { BrokerRig, Inbox, T, brokerSite, publish1, subscribeCode, until } from '../helpers/broker-rig.ts';

let config: SiteConfig;
let rig: BrokerRig | undefined;

beforeAll(async () => {
  config = await brokerSite();
});

afterEach(async () => {
  await rig?.stop();
  rig = undefined;
});

describe('broker publish ACL', () => {
  it('drops what a device may not publish, without disconnecting it, and forwards nothing', async () => {
    rig = await BrokerRig.start(config);
    const officer = await rig.connect('li');
    const watch = new Inbox(officer);
    expect(await subscribeCode(officer, T.all(), 1)).toBe(1);
    const rg1 = await rig.connect('rg1');
    let closed = false;
    rg1.on('close', () => (closed = true));
    const forbidden = [
      T.sensorReading('wl1'), // another sensor's id
      T.actuatorReport('rg1'), // not an actuator
      T.deviceStatus('wl1'),
      T.boxCommand(),
      T.actuatorCommand('siren1'),
      T.alert('rg1/rain'),
      T.event(),
      T.status(),
      'sb/v1/other-site/sensor/rg1/reading',
      `${T.root}/unknown`,
      '$SYS/x/heartbeat',
    ];
    // QoS 1: each is acknowledged (PUBACK) — the device is not kicked off.
    for (const topic of forbidden) await publish1(rg1, topic, '{"value": 1}');
    await publish1(rg1, T.sensorReading('rg1'), '{"value": 2}');
    await watch.next(T.sensorReading('rg1'));
    expect(watch.messages.map((m) => m.topic)).toEqual([T.sensorReading('rg1')]);
    expect(rig.readings).toMatchObject([{ sensor: 'rg1', value: 2, quality: 'good' }]);
    expect(rig.broker.stats().aclDenials).toBe(forbidden.length);
    expect(closed).toBe(false);
    expect(rg1.connected).toBe(true);
  });

  it('lets officers and the township publish only cmd/box, and observers nothing', async () => {
    rig = await BrokerRig.start(config);
    const [li, zhen, obs] = await Promise.all([rig.connect('li'), rig.connect('zhen'), rig.connect('obs')]);
    const zhenWatch = new Inbox(zhen);
    expect(await subscribeCode(zhen, T.all(), 1)).toBe(1);
    await publish1(li, T.sensorReading('rg1'), '{"value": 5}');
    await publish1(li, T.actuatorCommand('siren1'), '{"type":"siren","pattern":"long"}');
    await publish1(obs, T.boxCommand(), '{"type":"stop"}');
    await publish1(obs, T.status(), '{"state":"offline"}');
    await publish1(li, T.boxCommand(), '{"type":"silence"}');
    await publish1(zhen, T.boxCommand(), '{"type":"stop"}');
    await until(() => zhenWatch.on(T.boxCommand()).length === 2, 'two commands forwarded');
    expect(zhenWatch.messages.map((m) => m.topic)).toEqual([T.boxCommand(), T.boxCommand()]);
    expect(rig.readings).toEqual([]);
    expect(rig.commands.map(([c, m]) => [c.type, m.by, m.role])).toEqual([
      ['silence', 'li', 'officer'],
      ['stop', 'zhen', 'township'],
    ]);
    expect(rig.broker.stats().aclDenials).toBe(4);
  });

  it('stores client publishes unretained except a device’s own status', async () => {
    rig = await BrokerRig.start(config);
    const rg1 = await rig.connect('rg1');
    const li = await rig.connect('li');
    await publish1(rg1, T.sensorReading('rg1'), '{"value": 3}', true);
    await publish1(rg1, T.deviceStatus('rg1'), 'online', true);
    await publish1(li, T.boxCommand(), '{"type":"test"}', true);
    const late = await rig.connect('zhen');
    const inbox = new Inbox(late);
    expect(await subscribeCode(late, T.all(), 1)).toBe(1);
    await rig.broker.publish(T.event(), 'sentinel', { qos: 1 });
    await inbox.next(T.event());
    expect(inbox.messages.map((m) => [m.topic, m.text, m.retain])).toEqual([
      [T.deviceStatus('rg1'), 'online', true],
      [T.event(), 'sentinel', false],
    ]);
  });
});

describe('broker subscribe and forward ACL', () => {
  it('answers SUBACK 0x80 to filters outside the role, wildcards included', async () => {
    rig = await BrokerRig.start(config);
    const [siren1, rg1, li, obs] = await Promise.all([rig.connect('siren1'), rig.connect('rg1'), rig.connect('li'), rig.connect('obs')]);
    const cases: [typeof li, string, number][] = [
      [siren1, T.actuatorCommand('siren1'), 1],
      [siren1, T.all(), 128],
      [siren1, '#', 128],
      [siren1, 'sb/v1/+/cmd/siren1', 128],
      [siren1, `${T.root}/cmd/+`, 128],
      [siren1, T.actuatorCommand('spk1'), 128],
      [siren1, T.alerts(), 128],
      [siren1, '$SYS/#', 128],
      [rg1, T.actuatorCommand('rg1'), 128],
      [rg1, T.sensorReading('rg1'), 128],
      [li, T.all(), 1],
      [li, `${T.root}/sensor/+/reading`, 1],
      [li, T.actuatorCommand('siren1'), 128],
      [li, '#', 128],
      [li, 'sb/v1/#', 128],
      [li, '$SYS/#', 128],
      [obs, T.alerts(), 1],
      [obs, T.event(), 1],
      [obs, T.status(), 1],
      [obs, T.all(), 128],
      [obs, T.boxCommand(), 128],
      [obs, `${T.root}/+`, 128],
      [obs, T.sensorReading('rg1'), 128],
    ];
    const got: number[] = [];
    for (const [client, filter] of cases) got.push(await subscribeCode(client, filter, 1));
    expect(got).toEqual(cases.map((c) => c[2]));
    expect(rig.broker.stats().aclDenials).toBe(cases.filter((c) => c[2] === 128).length);
    // A refused filter does not cost the connection.
    expect([siren1, rg1, li, obs].every((c) => c.connected)).toBe(true);
  });

  it('never delivers a retained alert to a device, whatever wildcard it tries', async () => {
    rig = await BrokerRig.start(config);
    await rig.broker.publish(T.alert('rg1/rain'), '{"level":"red"}', { qos: 1, retain: true });
    await rig.broker.publish(T.status(), '{"state":"online"}', { qos: 1, retain: true });
    const siren1 = await rig.connect('siren1');
    const inbox = new Inbox(siren1);
    for (const f of ['#', T.all(), T.alerts(), 'sb/v1/+/alert/#', '+/+/+/+/+']) expect(await subscribeCode(siren1, f, 1)).toBe(128);
    expect(await subscribeCode(siren1, T.actuatorCommand('siren1'), 1)).toBe(1);
    await rig.broker.publish(T.actuatorCommand('siren1'), 'sentinel', { qos: 1 });
    await inbox.next(T.actuatorCommand('siren1'));
    expect(inbox.messages.map((m) => m.topic)).toEqual([T.actuatorCommand('siren1')]);
  });

  it('gives officers retained status and alerts but withholds actuator commands, live and retained', async () => {
    rig = await BrokerRig.start(config);
    await rig.broker.publish(T.status(), '{"state":"online"}', { qos: 1, retain: true });
    await rig.broker.publish(T.alert('rg1/rain'), '{"level":"orange"}', { qos: 1, retain: true });
    await rig.broker.publish(T.actuatorCommand('siren1'), '{"type":"siren"}', { qos: 1, retain: true });
    const li = await rig.connect('li');
    const inbox = new Inbox(li);
    expect(await subscribeCode(li, T.all(), 1)).toBe(1);
    await inbox.next(T.alert('rg1/rain'));
    await inbox.next(T.status());
    await rig.broker.publish(T.actuatorCommand('siren1'), '{"type":"siren_off"}', { qos: 1 });
    await rig.broker.publish(T.event(), 'sentinel', { qos: 1 });
    await inbox.next(T.event());
    expect(inbox.messages.map((m) => m.topic).sort()).toEqual([T.alert('rg1/rain'), T.event(), T.status()].sort());
    expect(inbox.messages.find((m) => m.topic === T.status())?.retain).toBe(true);
  });

  it('lets an observer see alerts, events and status but never commands', async () => {
    rig = await BrokerRig.start(config);
    const obs = await rig.connect('obs');
    const inbox = new Inbox(obs);
    for (const f of [T.alerts(), T.event(), T.status()]) expect(await subscribeCode(obs, f, 1)).toBe(1);
    const li = await rig.connect('li');
    await publish1(li, T.boxCommand(), '{"type":"test"}');
    await rig.broker.publish(T.actuatorCommand('siren1'), '{"type":"siren"}', { qos: 1 });
    await rig.broker.publish(T.alert('wl1/stage'), '{"level":"yellow"}', { qos: 1, retain: true });
    await rig.broker.publish(T.event(), '{"seq":1}', { qos: 1 });
    await inbox.next(T.event());
    expect(inbox.messages.map((m) => m.topic)).toEqual([T.alert('wl1/stage'), T.event()]);
    expect(rig.commands).toHaveLength(1);
  });
});

describe('device status and last will', () => {
  it('delivers a retained box status to a new officer subscriber', async () => {
    rig = await BrokerRig.start(config);
    await rig.broker.publish(T.status(), '{"state":"online","problems":[]}', { qos: 1, retain: true });
    const li = await rig.connect('li');
    const inbox = new Inbox(li);
    expect(await subscribeCode(li, T.status(), 1)).toBe(1);
    const m = await inbox.next(T.status());
    expect(m).toEqual({ topic: T.status(), text: '{"state":"online","problems":[]}', retain: true });
  });

  it('publishes a device’s last will to officers when its socket dies abruptly', async () => {
    rig = await BrokerRig.start(config);
    const li = await rig.connect('li');
    const inbox = new Inbox(li);
    expect(await subscribeCode(li, `${T.root}/device/+/status`, 1)).toBe(1);
    const rg1 = await rig.connect('rg1', { will: { topic: T.deviceStatus('rg1'), payload: Buffer.from('offline'), qos: 1, retain: true } });
    await publish1(rg1, T.deviceStatus('rg1'), 'online', true);
    expect((await inbox.next(T.deviceStatus('rg1'))).text).toBe('online');
    rg1.stream.destroy();
    await until(() => inbox.on(T.deviceStatus('rg1')).length === 2, 'the last will');
    expect(inbox.on(T.deviceStatus('rg1'))[1]!.text).toBe('offline');
    // Retained: an officer who comes later sees the device is offline.
    const zhen = await rig.connect('zhen');
    const later = new Inbox(zhen);
    expect(await subscribeCode(zhen, T.deviceStatus('rg1'), 1)).toBe(1);
    expect(await later.next(T.deviceStatus('rg1'))).toEqual({ topic: T.deviceStatus('rg1'), text: 'offline', retain: true });
  });

  it('refuses a CONNECT whose will is on a topic the account may not publish', async () => {
    rig = await BrokerRig.start(config);
    for (const topic of [T.status(), T.deviceStatus('wl1'), T.sensorReading('rg1'), T.alert('x/y')]) {
      await expect(rig.connect('rg1', { will: { topic, payload: Buffer.from('offline'), qos: 0, retain: true } })).rejects.toMatchObject({ code: 5 });
    }
    await expect(rig.connect('li', { will: { topic: T.boxCommand(), payload: Buffer.from('{"type":"stop"}'), qos: 0, retain: false } })).rejects.toMatchObject({ code: 5 });
    expect(rig.broker.stats()).toMatchObject({ aclDenials: 5, authFailures: 0, clients: 0 });
    expect(rig.commands).toEqual([]);
  });
});
