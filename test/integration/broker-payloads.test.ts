// Readings, commands and actuator reports over MQTT: valid ones reach the bus, bad ones are
// dropped (acknowledged, counted, never forwarded, never on the bus) and the sender stays
// connected. Reason codes per payload are covered in test/unit/broker-payloads.test.ts.
import type { MqttClient } from 'mqtt';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { SiteConfig } from '../../gateway/config/types.ts';
import { BrokerRig, Inbox, T, brokerSite, publish1, subscribeCode } from '../helpers/broker-rig.ts';

let config: SiteConfig;
let rig: BrokerRig | undefined;

beforeAll(async () => {
  config = await brokerSite(256);
});

afterEach(async () => {
  await rig?.stop();
  rig = undefined;
});

async function watcher(r: BrokerRig): Promise<Inbox> {
  const li = await r.connect('li');
  const inbox = new Inbox(li);
  expect(await subscribeCode(li, T.all(), 1)).toBe(1);
  return inbox;
}

function stays(c: MqttClient): () => boolean {
  let closed = false;
  c.on('close', () => (closed = true));
  return () => !closed && c.connected;
}

describe('readings over MQTT', () => {
  it('drops every kind of bad reading and keeps the sensor connected', async () => {
    rig = await BrokerRig.start(config);
    const inbox = await watcher(rig);
    const rg1 = await rig.connect('rg1');
    const alive = stays(rg1);
    const bad = [
      'not json at all',
      '',
      '[1, 2]',
      '"12.5"',
      '12.5',
      'null',
      '{"value": "12.5"}',
      '{"value": true}',
      '{"value": {"mm": 1}}',
      `{"value": 1, "note": "${'x'.repeat(300)}"}`,
      '{"value": 1, "unit": "cm"}',
      '{"value": NaN}',
      '{"value": Infinity}',
      '{"value": -Infinity}',
      '{"value": 1e999}',
      '{"value": 2e9}',
      '{"value": null}',
      '{"value": null, "quality": "good"}',
      '{"value": 1, "quality": "fine"}',
      '{"value": 1, "extra": 1}',
      '{"quality": "good"}',
      '{"value": 1, "at": 12}',
      '{"value": "alarm"}',
    ];
    for (const p of bad) await publish1(rg1, T.sensorReading('rg1'), p);
    await publish1(rg1, T.sensorReading('rg1'), '{"value": 12.5, "unit": "mm", "quality": "good", "at": "2026-07-20T16:00:00+08:00"}');
    const m = await inbox.next(T.sensorReading('rg1'));
    expect(JSON.parse(m.text)).toMatchObject({ value: 12.5 });
    expect(inbox.on(T.sensorReading('rg1'))).toHaveLength(1);
    expect(rig.readings).toHaveLength(1);
    expect(rig.readings[0]).toMatchObject({ sensor: 'rg1', value: 12.5, quality: 'good' });
    expect(typeof rig.readings[0]!.at).toBe('number');
    expect(rig.broker.stats()).toMatchObject({ rejectedReadings: bad.length, aclDenials: 0 });
    expect(alive()).toBe(true);
  });

  it('maps smoke state names to SMOKE_STATES indexes and checks units per kind', async () => {
    rig = await BrokerRig.start(config);
    const [wl1, sm1, sm2] = await Promise.all([rig.connect('wl1'), rig.connect('sm1'), rig.connect('sm2')]);
    await publish1(sm1, T.sensorReading('sm1'), '{"value": "alarm", "unit": "state"}');
    await publish1(sm1, T.sensorReading('sm1'), '{"value": "fire"}'); // unknown state
    await publish1(sm1, T.sensorReading('sm1'), '{"value": 0.3, "unit": "state"}'); // not an index
    await publish1(sm1, T.sensorReading('sm1'), '{"value": "low_battery"}');
    await publish1(sm2, T.sensorReading('sm2'), '{"value": "alarm"}'); // analog detector
    await publish1(sm2, T.sensorReading('sm2'), '{"value": 0.12, "unit": "state"}'); // wrong unit
    await publish1(sm2, T.sensorReading('sm2'), '{"value": 0.12, "unit": "db_m"}');
    await publish1(wl1, T.sensorReading('wl1'), '{"value": 3.2, "unit": "mm"}'); // wrong unit
    await publish1(wl1, T.sensorReading('wl1'), '{"value": 3.2, "unit": "m"}');
    await publish1(wl1, T.sensorReading('wl1'), '{"value": null, "quality": "error"}');
    await publish1(wl1, T.sensorReading('wl1'), '{"value": 7, "quality": "missing"}');
    expect(rig.readings.map((r) => [r.sensor, r.value, r.quality])).toEqual([
      ['sm1', 1, 'good'],
      ['sm1', 4, 'good'],
      ['sm2', 0.12, 'good'],
      ['wl1', 3.2, 'good'],
      ['wl1', null, 'error'],
      ['wl1', null, 'missing'], // a non-good quality never carries a number
    ]);
    expect(rig.broker.stats().rejectedReadings).toBe(5);
  });
});

describe('commands over MQTT', () => {
  it('puts the authenticated account in `by` and the role in `source`', async () => {
    rig = await BrokerRig.start(config);
    const [li, zhen] = await Promise.all([rig.connect('li'), rig.connect('zhen')]);
    await publish1(li, T.boxCommand(), JSON.stringify({ type: 'broadcast', textZh: '请转移', textEn: 'Please move', zones: ['east'], repeat: 2, emergency: true }));
    await publish1(zhen, T.boxCommand(), JSON.stringify({ type: 'siren', pattern: 'long', zones: ['east'] }));
    await publish1(li, T.boxCommand(), JSON.stringify({ type: 'broadcast', text_zh: '演练', text_en: 'Drill' })); // snake_case on the wire
    await publish1(li, T.boxCommand(), JSON.stringify({ type: 'ack', alert: 'rg1/rain/1' }));
    await publish1(zhen, T.boxCommand(), JSON.stringify({ type: 'drill', kind: 'rain', level: 'orange' }));
    await publish1(li, T.boxCommand(), JSON.stringify({ type: 'drill_end' }));
    await publish1(li, T.boxCommand(), JSON.stringify({ type: 'test', zones: ['east'] }));
    await publish1(li, T.boxCommand(), JSON.stringify({ type: 'silence' }));
    await publish1(li, T.boxCommand(), JSON.stringify({ type: 'stop', zones: ['east'] }));
    expect(rig.commands).toEqual([
      [{ type: 'broadcast', source: 'officer', by: 'li', textZh: '请转移', textEn: 'Please move', zones: ['east'], repeat: 2, emergency: true }, { by: 'li', role: 'officer', via: 'mqtt' }],
      [{ type: 'siren', source: 'township', by: 'zhen', pattern: 'long', zones: ['east'] }, { by: 'zhen', role: 'township', via: 'mqtt' }],
      [{ type: 'broadcast', source: 'officer', by: 'li', textZh: '演练', textEn: 'Drill' }, { by: 'li', role: 'officer', via: 'mqtt' }],
      [{ type: 'ack', alert: 'rg1/rain/1', by: 'li' }, { by: 'li', role: 'officer', via: 'mqtt' }],
      [{ type: 'drill', kind: 'rain', level: 'orange', by: 'zhen' }, { by: 'zhen', role: 'township', via: 'mqtt' }],
      [{ type: 'drill_end', by: 'li' }, { by: 'li', role: 'officer', via: 'mqtt' }],
      [{ type: 'test', zones: ['east'], by: 'li' }, { by: 'li', role: 'officer', via: 'mqtt' }],
      [{ type: 'silence', by: 'li' }, { by: 'li', role: 'officer', via: 'mqtt' }],
      [{ type: 'stop', zones: ['east'], by: 'li' }, { by: 'li', role: 'officer', via: 'mqtt' }],
    ]);
    expect(rig.broker.stats().rejectedCommands).toBe(0);
  });

  it('drops invalid commands, forged identities and broadcast_done, and keeps the officer connected', async () => {
    rig = await BrokerRig.start(config);
    const inbox = await watcher(rig);
    const li = await rig.connect('li');
    const alive = stays(li);
    const bad = [
      'stop',
      '[]',
      '{}',
      '{"type":"launch"}',
      '{"type":"broadcast_done","zone":"east","activity":"a1"}',
      '{"type":"silence","by":"zhen"}',
      '{"type":"siren","pattern":"long","source":"engine"}',
      '{"type":"siren"}',
      '{"type":"broadcast","textZh":""}',
      '{"type":"broadcast","textZh":"x","repeat":99}',
      '{"type":"broadcast","textZh":"x","textEn":"y","text_en":"z"}',
      '{"type":"stop","zones":["East Side"]}',
      '{"type":"stop","zones":[]}',
      '{"type":"drill","level":"purple"}',
      '{"type":"ack"}',
      '{"type":"silence","extra":true}',
      `{"type":"broadcast","textZh":"${'长'.repeat(100)}"}`, // 300 bytes of UTF-8 > 256
    ];
    for (const p of bad) await publish1(li, T.boxCommand(), p);
    await publish1(li, T.boxCommand(), '{"type":"silence"}');
    await inbox.next(T.boxCommand());
    expect(inbox.messages.map((m) => m.text)).toEqual(['{"type":"silence"}']);
    expect(rig.commands.map(([c]) => c)).toEqual([{ type: 'silence', by: 'li' }]);
    expect(rig.broker.stats().rejectedCommands).toBe(bad.length);
    expect(alive()).toBe(true);
  });
});

describe('actuator reports over MQTT', () => {
  it('passes valid reports to the bus under the actuator’s own id and drops bad ones', async () => {
    rig = await BrokerRig.start(config);
    const spk1 = await rig.connect('spk1');
    const alive = stays(spk1);
    await publish1(spk1, T.actuatorReport('spk1'), '{"report":"done","activity":"a1","zone":"east"}');
    await publish1(spk1, T.actuatorReport('spk1'), '{"report":"fault","detail":{"amp":"overheat"}}');
    await publish1(spk1, T.actuatorReport('spk1'), '{"report":"exploded"}');
    await publish1(spk1, T.actuatorReport('spk1'), '{"report":"done","actuator":"siren1"}');
    await publish1(spk1, T.actuatorReport('spk1'), 'done');
    await publish1(spk1, T.actuatorReport('spk1'), '{"report":"state","detail":[1]}');
    await publish1(spk1, T.actuatorReport('siren1'), '{"report":"done"}'); // not its own id
    expect(rig.reports).toEqual([
      { actuator: 'spk1', report: 'done', activity: 'a1', zone: 'east' },
      { actuator: 'spk1', report: 'fault', detail: { amp: 'overheat' } },
    ]);
    expect(rig.broker.stats()).toMatchObject({ rejectedOther: 4, aclDenials: 1 });
    expect(alive()).toBe(true);
  });
});
