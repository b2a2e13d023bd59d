/**
 * A QoS 1 command resent with DUP = 1 (its PUBACK was lost) acts once, written as raw MQTT
 * packets over a socket because mqtt.js chooses packet ids itself.
 */
import { connect as tcp, type Socket } from 'node:net';
import mqttPacket from 'mqtt-packet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BrokerRig, SITE, brokerSite, secretOf } from '../helpers/broker-rig.ts';
import { until } from '../helpers/until.ts';

let rig: BrokerRig;
let sock: Socket;
const acks: number[] = [];

beforeAll(async () => {
  rig = await BrokerRig.start(await brokerSite());
  sock = tcp(rig.broker.tcpPort, '127.0.0.1');
  const parser = mqttPacket.parser({ protocolVersion: 4 });
  let connack = false;
  parser.on('packet', (p) => {
    if (p.cmd === 'connack') connack = true;
    if (p.cmd === 'puback' && p.messageId !== undefined) acks.push(p.messageId);
  });
  sock.on('data', (d) => parser.parse(d));
  sock.write(mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, clientId: 'raw', keepalive: 30, username: 'li', password: Buffer.from(secretOf('li')) }));
  await until('CONNACK', () => connack, 10_000);
});

afterAll(async () => {
  sock?.destroy();
  await rig?.stop();
});

const publish = (messageId: number, dup: boolean, text: string): void => {
  sock.write(mqttPacket.generate({ cmd: 'publish', topic: `sb/v1/${SITE}/cmd/box`, payload: JSON.stringify({ type: 'broadcast', textZh: text }), qos: 1, dup, retain: false, messageId }));
};

describe('commands resent after a lost PUBACK', () => {
  it('act once; a new packet id acts again; every one is acknowledged', async () => {
    publish(7, false, '第一条');
    publish(7, true, '第一条'); // the resend
    publish(8, false, '第二条');
    await until('three PUBACKs', () => acks.length === 3, 10_000);
    expect(acks).toEqual([7, 7, 8]);
    expect(rig.commands.map(([c, m]) => [c.type === 'broadcast' && c.textZh, m.by])).toEqual([
      ['第一条', 'li'],
      ['第二条', 'li'],
    ]);
  });
});
