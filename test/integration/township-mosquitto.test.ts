/**
 * The township-broker harness itself (test/helpers/mosquitto.ts, tls-ca.ts): the uplink's tests
 * rely on its password file, ACL, TLS listener and outages doing what they say.
 */
import { readFileSync } from 'node:fs';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMosquitto, type Mosquitto } from '../helpers/mosquitto.ts';
import { makeTestCa, type TestCa } from '../helpers/tls-ca.ts';

let ca: TestCa;
let mosq: Mosquitto;
const opts = { reconnectPeriod: 0, connectTimeout: 5000 } as const;

beforeAll(async () => {
  ca = makeTestCa();
  mosq = await startMosquitto({
    accounts: [{ username: 'sb-a', password: 'pa' }],
    acl: ['user sb-a', 'topic readwrite sb/v1/a/#'],
    tls: { caFile: ca.caFile, certFile: ca.serverCert, keyFile: ca.serverKey, requireCertificate: false },
  });
}, 30_000);
afterAll(async () => {
  await mosq?.stop();
});

describe('township Mosquitto harness', () => {
  it('refuses anonymous clients and wrong passwords, lets the account in', async () => {
    await expect(mqtt.connectAsync(mosq.url, { ...opts })).rejects.toThrow(/Not authorized|Bad username/i);
    await expect(mqtt.connectAsync(mosq.url, { ...opts, username: 'sb-a', password: 'wrong' })).rejects.toThrow(/Not authorized|Bad username/i);
    const c = await mqtt.connectAsync(mosq.url, { ...opts, username: 'sb-a', password: 'pa', protocolVersion: 5 });
    await c.endAsync();
  });

  it('applies the ACL: a message outside the account\'s tree is not delivered', async () => {
    const c = await mqtt.connectAsync(mosq.url, { ...opts, username: 'sb-a', password: 'pa', protocolVersion: 5 });
    const got: string[] = [];
    c.on('message', (t) => got.push(t));
    await c.subscribeAsync(['sb/v1/a/#', 'sb/v1/b/#'], { qos: 1 });
    // MQTT 5: Mosquitto answers a refused QoS 1 publish with PUBACK reason 0x87, not authorized.
    await expect(c.publishAsync('sb/v1/b/event', 'x', { qos: 1 })).rejects.toThrow(/Not authorized/);
    await c.publishAsync('sb/v1/a/event', 'y', { qos: 1 });
    await new Promise((r) => setTimeout(r, 200));
    expect(got).toEqual(['sb/v1/a/event']);
    await c.endAsync();
  });

  it('serves TLS with the test CA and is refused by a client trusting another CA', async () => {
    const url = `mqtts://127.0.0.1:${mosq.tlsPort}`;
    const c = await mqtt.connectAsync(url, { ...opts, username: 'sb-a', password: 'pa', ca: readFileSync(ca.caFile) });
    await c.endAsync();
    await expect(mqtt.connectAsync(url, { ...opts, username: 'sb-a', password: 'pa', ca: readFileSync(ca.otherCaFile) })).rejects.toThrow(/certificate/i);
  });

  it('comes back on the same port after a kill', async () => {
    await mosq.kill();
    await expect(mqtt.connectAsync(mosq.url, { ...opts, username: 'sb-a', password: 'pa' })).rejects.toThrow();
    await mosq.restart();
    const c = await mqtt.connectAsync(mosq.url, { ...opts, username: 'sb-a', password: 'pa' });
    await c.endAsync();
  });
});
