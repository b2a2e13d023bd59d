// The embedded broker's front door: accounts, scrypt secrets, lockout, client ids, protocol
// versions and the WebSocket listener — real mqtt.js clients against real Aedes on 127.0.0.1.
import { connect as netConnect } from 'node:net';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { SiteConfig } from '../../gateway/config/types.ts';
import { BrokerRig, Inbox, T, brokerSite, packet, publish1, rawClient, rawConnect, secretOf, str, subscribeCode, until } from '../helpers/broker-rig.ts';

let config: SiteConfig;


let rig: BrokerRig | undefined;

beforeAll(async () => {
  config = await brokerSite();
});

afterEach(async () => {
  await rig?.stop();
  rig = undefined;
});

describe('broker authentication', () => {
  it('accepts a configured account with its secret', async () => {
    rig = await BrokerRig.start(config);
    const c = await rig.connect('li');
    expect(c.connected).toBe(true);
    await until(() => rig!.broker.stats().clients === 1, 'one client');
    expect(rig.broker.stats().authFailures).toBe(0);
  });

  it('refuses wrong secrets, unknown users and anonymous clients, and counts them', async () => {
    rig = await BrokerRig.start(config);
    expect(await rig.connackCode('li', 'not-the-secret')).toBe(4); // bad user name or password
    expect(await rig.connackCode('mallory', 'whatever-secret')).toBe(4);
    expect(await rig.connackCode(undefined, undefined)).toBe(5); // not authorized
    expect(await rig.connackCode('li', undefined)).toBe(4);
    expect(rig.broker.stats().authFailures).toBe(4);
    expect(rig.broker.stats().clients).toBe(0);
  });

  it('checks secrets concurrently without blocking other clients', async () => {
    rig = await BrokerRig.start(config);
    const results = await Promise.all([
      rig.connackCode('rg1', secretOf('rg1')),
      rig.connackCode('wl1', 'wrong-secret-1'),
      rig.connackCode('sm1', secretOf('sm1')),
      rig.connackCode('li', secretOf('li')),
    ]);
    expect(results).toEqual([0, 4, 0, 0]);
  });

  it('holds packets pipelined behind CONNECT until the secret is checked', async () => {
    rig = await BrokerRig.start(config);
    const connect = rawConnect('pipe', 'rg1');
    const publish = packet(0x32, Buffer.concat([str(T.sensorReading('rg1')), Buffer.from([0, 1]), Buffer.from('{"value":7}')]));
    const s = netConnect({ host: '127.0.0.1', port: rig.broker.tcpPort });
    let got = Buffer.alloc(0);
    s.on('data', (d: Buffer) => (got = Buffer.concat([got, d])));
    s.write(Buffer.concat([connect, publish])); // one write: PUBLISH arrives while scrypt runs
    await until(() => got.length >= 8, 'CONNACK and PUBACK');
    expect([...got.subarray(0, 8)]).toEqual([0x20, 2, 0, 0, 0x40, 2, 0, 1]);
    expect(rig.readings).toMatchObject([{ sensor: 'rg1', value: 7 }]);
    s.destroy();
  });

  it('locks a username out from one address after repeated failures, then lets it in again', async () => {
    rig = await BrokerRig.start(config, { lockout: { maxFailures: 3, windowMs: 10_000, lockMs: 400 } });
    for (let i = 0; i < 3; i++) expect(await rig.connackCode('rg1', 'wrong-secret-x')).toBe(4);
    // Locked: even the right secret is refused (and no scrypt runs).
    expect(await rig.connackCode('rg1', secretOf('rg1'))).toBe(5);
    // Other accounts are unaffected.
    expect(await rig.connackCode('wl1', secretOf('wl1'))).toBe(0);
    expect(rig.broker.stats().authFailures).toBe(4);
    await new Promise((r) => setTimeout(r, 450));
    expect(await rig.connackCode('rg1', secretOf('rg1'))).toBe(0);
  });

  it('does not let one account take over another account’s client id', async () => {
    rig = await BrokerRig.start(config);
    const device = await rig.connect('siren1', { clientId: 'shared-id' });
    let deviceClosed = false;
    device.on('close', () => (deviceClosed = true));
    const officer = await rig.connect('li', { clientId: 'shared-id' });
    await until(() => rig!.broker.stats().clients === 2, 'two clients');
    // Both sessions live: the device still gets its commands.
    const inbox = new Inbox(device);
    expect(await subscribeCode(device, T.actuatorCommand('siren1'), 1)).toBe(1);
    await rig.broker.publish(T.actuatorCommand('siren1'), '{"type":"siren_off"}', { qos: 1 });
    await inbox.next(T.actuatorCommand('siren1'));
    expect(deviceClosed).toBe(false);
    expect(officer.connected).toBe(true);
    // The same account reusing its id takes its own session over, as MQTT 3.1.1 §3.1.4 says.
    await rig.connect('siren1', { clientId: 'shared-id' });
    await until(() => deviceClosed, 'the first siren1 session to be closed');
  });

  it('forces clean sessions: nothing is queued for a client while it is away', async () => {
    rig = await BrokerRig.start(config);
    const first = await rig.connect('li', { clientId: 'panel', clean: false });
    expect(await subscribeCode(first, T.event(), 1)).toBe(1);
    await first.endAsync();
    await until(() => rig!.broker.stats().clients === 0, 'the panel to leave');
    for (let i = 0; i < 100; i++) await rig.broker.publish(T.event(), `{"seq":${i}}`, { qos: 1 });
    const again = await rig.connect('li', { clientId: 'panel', clean: false, resubscribe: false });
    const inbox = new Inbox(again);
    let sessionPresent: boolean | undefined;
    again.on('packetreceive', (p) => {
      if (p.cmd === 'connack') sessionPresent = p.sessionPresent;
    });
    // A live subscription works; nothing from the time away arrives before the sentinel.
    expect(await subscribeCode(again, T.event(), 1)).toBe(1);
    await rig.broker.publish(T.event(), 'sentinel', { qos: 1 });
    await inbox.next(T.event());
    expect(inbox.messages.map((m) => m.text)).toEqual(['sentinel']);
    expect(sessionPresent).not.toBe(true);
  });
});

describe('broker protocol versions and transports', () => {
  it('refuses MQTT 5 cleanly (Aedes 1.x speaks 3.1.1) and accepts 3.1.1', async () => {
    rig = await BrokerRig.start(config);
    await expect(rig.connect('li', { protocolVersion: 5 })).rejects.toThrow(/Unacceptable protocol version/i);
    const c = await rig.connect('li', { protocolVersion: 4 });
    expect(c.connected).toBe(true);
    expect(rig.broker.stats().authFailures).toBe(0);
  });

  it('refuses MQTT 3.1 (MQIsdp, level 3) with CONNACK 1: the box speaks 3.1.1 only', async () => {
    rig = await BrokerRig.start(config);
    await expect(rig.connect('li', { protocolVersion: 3, protocolId: 'MQIsdp' })).rejects.toMatchObject({ code: 1 });
    expect(rig.broker.stats().clients).toBe(0);
  });

  it('refuses client ids over 128 bytes with CONNACK 2 (MQTT 3.1.1 §3.1.3.1, [MQTT-3.1.3-9])', async () => {
    rig = await BrokerRig.start(await brokerSite(8192)); // a 5,000-byte CONNECT within the packet limit
    expect(await rig.connackCode('rg1', secretOf('rg1'), { clientId: 'x'.repeat(5000) })).toBe(2);
    expect(await rig.connackCode('rg1', secretOf('rg1'), { clientId: '中'.repeat(43) })).toBe(2); // 129 bytes
    expect(await rig.connackCode('rg1', secretOf('rg1'), { clientId: 'x'.repeat(128) })).toBe(0);
    expect(await rig.connackCode('rg1', secretOf('rg1'), { clientId: '中'.repeat(42) })).toBe(0); // 126 bytes
  });

  it('closes a connection whose CONNECT carries ill-formed UTF-8 (MQTT 3.1.1 §1.5.3, [MQTT-1.5.3-1])', async () => {
    rig = await BrokerRig.start(config);
    for (const clientId of [Buffer.from([0x61, 0xff, 0x62]), Buffer.from([0xed, 0xa0, 0x80]) /* a surrogate */, Buffer.from([0xc0, 0xaf]) /* overlong '/' */]) {
      const c = await rawClient(rig.broker.tcpPort);
      c.s.write(rawConnect(clientId, 'rg1'));
      await c.closed;
      expect([...c.got().subarray(0, 4)]).not.toEqual([0x20, 2, 0, 0]); // never accepted
    }
    expect(rig.broker.stats().clients).toBe(0);
  });

  it('closes a connection that publishes or subscribes to a topic of ill-formed UTF-8, and acts on nothing', async () => {
    rig = await BrokerRig.start(config);
    const bad = Buffer.concat([Buffer.from(`${T.root}/sensor/rg1`), Buffer.from([0xff]), Buffer.from('/reading')]);
    const pub = await rawClient(rig.broker.tcpPort);
    pub.s.write(Buffer.concat([rawConnect('p', 'rg1'), packet(0x32, Buffer.concat([str(bad), Buffer.from([0, 1]), Buffer.from('{"value":7}')]))]));
    await pub.closed;
    expect([...pub.got()]).toEqual([0x20, 2, 0, 0]); // CONNACK, and no PUBACK
    const sub = await rawClient(rig.broker.tcpPort);
    sub.s.write(Buffer.concat([rawConnect('s', 'li'), packet(0x82, Buffer.concat([Buffer.from([0, 1]), str(Buffer.from([0x73, 0x62, 0x2f, 0xfe])), Buffer.from([0])]))]));
    await sub.closed;
    expect([...sub.got()]).toEqual([0x20, 2, 0, 0]); // CONNACK, and no SUBACK
    // A well-formed topic from the same device still gets through.
    const rg1 = await rig.connect('rg1');
    await publish1(rg1, T.sensorReading('rg1'), '{"value": 8}');
    expect(rig.readings).toMatchObject([{ sensor: 'rg1', value: 8 }]);
  });

  it('serves MQTT over WebSocket with the same accounts and ACL', async () => {
    rig = await BrokerRig.start(config);
    expect(rig.broker.wsPort).toBeGreaterThan(0);
    const url = `ws://127.0.0.1:${rig.broker.wsPort}`;
    await expect(rig.connect('li', { url, password: 'wrong-secret-1' })).rejects.toMatchObject({ code: 4 });
    const panel = await rig.connect('obs', { url });
    const inbox = new Inbox(panel);
    expect(await subscribeCode(panel, T.status(), 1)).toBe(1);
    expect(await subscribeCode(panel, T.all(), 1)).toBe(128);
    await rig.broker.publish(T.status(), '{"state":"online"}', { qos: 1, retain: true });
    expect((await inbox.next(T.status())).text).toBe('{"state":"online"}');
  });

  it('does not start a WebSocket listener when ws_port is 0 and no override is given', async () => {
    rig = await BrokerRig.start(config, { wsPort: undefined });
    expect(rig.broker.wsPort).toBe(0);
    const c = await rig.connect('rg1');
    await publish1(c, T.sensorReading('rg1'), '{"value": 1}');
    await until(() => rig!.readings.length === 1, 'a reading');
  });
});
