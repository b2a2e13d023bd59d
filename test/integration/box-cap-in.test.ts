/**
 * CAP warnings from the township in the running box: the test plays the uplink, emitting
 * `townshipCap` on the box's bus with the Baoding example and messages written here, and reads
 * what the speaker and the siren are told on the local broker (real Aedes, real SQLite log,
 * mqtt.js actuators). The box's wall clock runs from the evening of the Baoding warning.
 */
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock, type Clock } from '../../gateway/shell/clock.ts';
import { startBoxRig, type BoxRig } from '../helpers/box-rig.ts';
import { BAODING, BAODING_NOW, capXml } from '../helpers/cap-messages.ts';
import { until } from '../helpers/until.ts';

const BAODING_ID = '13060041600000_20240712213138';
const BAODING_SENDER = 'Baoding_Meteorological_Observatory';
const SENT = '2024-07-12T21:50:00+08:00';
const EXPIRES = '2024-07-13T03:00:00+08:00';
const HERE = '130602000000';

let rig: BoxRig;
let speaker: MqttClient;
let siren: MqttClient;
const said: any[] = [];
const sounded: any[] = [];

function fakeClock(startWall: number): Clock {
  const sys = systemClock();
  const t0 = Date.now();
  return { ...sys, wall: () => startWall + (Date.now() - t0), trusted: () => true, boot: sys.boot };
}

const cap = (xml: string | Buffer, topic = 'sb/v1/cap/130602/met'): void => rig.box.ctx.bus.emit('townshipCap', { topic, payload: Buffer.isBuffer(xml) ? xml : Buffer.from(xml) });
const msg = (over: Parameters<typeof capXml>[0] & { severity?: string; urgency?: string; headline?: string; geocode?: string }) => {
  const { severity, urgency, headline, geocode, ...rest } = over;
  return capXml({ sender: 'county', sent: SENT, ...rest, infos: [{ severity, urgency, headline, geocode: geocode ?? HERE, expires: EXPIRES }] });
};
const notes = (): any[] => rig.box.store.since(0).filter((e) => e.type === 'note' && (e.payload as { note?: string }).note === 'cap_in').map((e) => e.payload);

beforeAll(async () => {
  rig = await startBoxRig('', { siteYaml: "cap: { area_code: '130602', geocode: '130602101203' }", clock: fakeClock(BAODING_NOW) });
  speaker = await rig.connect('spk1');
  siren = await rig.connect('siren1');
  speaker.on('message', (_t, p) => said.push(JSON.parse(p.toString())));
  siren.on('message', (_t, p) => sounded.push(JSON.parse(p.toString())));
  await speaker.subscribeAsync('sb/v1/itest/cmd/spk1', { qos: 1 });
  await siren.subscribeAsync('sb/v1/itest/cmd/siren1', { qos: 1 });
});

afterAll(async () => rig?.stop());

describe('CAP warnings from the township, in the running box', () => {
  it('the Baoding lightning warning is spoken in Chinese at township priority, no siren; its Cancel stops it', async () => {
    cap(BAODING);
    await until('the speaker is told the warning', () => said.some((m) => m.type === 'broadcast'));
    const b = said.find((m) => m.type === 'broadcast');
    expect(b).toMatchObject({ actuator: 'spk1', priority: 'township', source: 'township', by: `cap:${BAODING_SENDER}`, drill: false });
    expect(b.text_zh).toMatch(/^保定市气象台更新雷电黄色预警\[Ⅲ级\/较重\]。保定市气象台2024年07月12日21时29分继续发布/);
    const logged = rig.box.store.since(0);
    const note = logged.find((e) => e.type === 'note' && (e.payload as any).identifier === BAODING_ID)!;
    const command = logged.find((e) => e.type === 'command' && (e.payload as any).via === 'cap')!;
    expect(note.payload).toMatchObject({ note: 'cap_in', outcome: 'broadcast', reason: 'in_area', sender: BAODING_SENDER, msg_type: 'Update', priority: 'township', siren: false });
    expect(command.payload).toMatchObject({ by: `cap:${BAODING_SENDER}`, role: 'township', via: 'cap', command: { type: 'broadcast', key: `cap:${BAODING_SENDER}:13060041600000_20240712073642` } });
    expect(note.seq).toBeLessThan(command.seq);

    cap(capXml({ sender: BAODING_SENDER, identifier: 'cancel-1', sent: '2024-07-12T21:55:00+08:00', msgType: 'Cancel', references: `${BAODING_SENDER},${BAODING_ID},2024-07-12T21:31:38+08:00`, infos: [] }));
    await until('the speaker is told to stop', () => said.some((m) => m.type === 'broadcast_stop'));
    expect(said.find((m) => m.type === 'broadcast_stop')).toMatchObject({ activity: b.activity, reason: 'cancelled', by: `cap:${BAODING_SENDER}` });
    expect(sounded).toEqual([]);
  });

  it('a Test message sounds nothing (the Minor warning sent after it is the first thing the speaker hears)', async () => {
    said.length = 0;
    cap(msg({ identifier: 't-1', status: 'Test', severity: 'Extreme', urgency: 'Immediate', headline: '测试:溃坝' }));
    cap(msg({ identifier: 'fence-1', severity: 'Minor', headline: '例行提示' }));
    await until('the Minor warning', () => said.some((m) => m.type === 'broadcast'));
    expect(said.filter((m) => m.type === 'broadcast').map((m) => m.text_zh)).toEqual(['例行提示。预计未来3小时内有50毫米以上降雨。']);
    expect(said.find((m) => m.type === 'broadcast')).toMatchObject({ priority: 'routine' });
    expect(sounded).toEqual([]);
    expect(notes().find((n) => n.identifier === 't-1')).toMatchObject({ outcome: 'ignored', reason: 'test_message', status: 'Test' });
  });

  it('Extreme/Immediate sounds the siren and speaks at emergency priority; its Update replaces it; its Cancel stops both', async () => {
    said.length = 0;
    cap(msg({ identifier: 'x-1', severity: 'Extreme', urgency: 'Immediate', headline: '山洪红色预警' }));
    await until('siren and speaker', () => sounded.some((m) => m.type === 'siren') && said.some((m) => m.type === 'broadcast' && m.priority === 'emergency'));
    const s1 = sounded.find((m) => m.type === 'siren');
    expect(s1).toMatchObject({ pattern: 'air_raid_alarm', priority: 'emergency', source: 'township', by: 'cap:county' });
    const first = said.find((m) => m.type === 'broadcast' && m.priority === 'emergency');
    expect(first.text_zh).toMatch(/^山洪红色预警。/);

    cap(msg({ identifier: 'x-2', msgType: 'Update', references: `county,x-1,${SENT}`, severity: 'Severe', urgency: 'Expected', headline: '山洪预警降为橙色' }));
    await until('the update spoken', () => said.some((m) => m.type === 'broadcast' && /^山洪预警降为橙色/.test(m.text_zh)));
    expect(said.find((m) => m.type === 'broadcast_stop' && m.activity === first.activity)).toMatchObject({ reason: 'replaced' });
    expect(sounded.find((m) => m.type === 'siren_off')).toMatchObject({ activity: s1.activity, reason: 'replaced' });
    const second = said.find((m) => /^山洪预警降为橙色/.test(m.text_zh ?? ''));
    expect(second).toMatchObject({ priority: 'township' });

    cap(msg({ identifier: 'x-3', msgType: 'Cancel', references: `county,x-1,${SENT} county,x-2,${SENT}` }));
    await until('the update stopped', () => said.some((m) => m.type === 'broadcast_stop' && m.activity === second.activity));
    expect(said.find((m) => m.type === 'broadcast_stop' && m.activity === second.activity)).toMatchObject({ reason: 'cancelled' });
    expect(sounded.filter((m) => m.type === 'siren')).toHaveLength(1); // the Update (Severe) did not sound it again
  });

  it('malformed, out-of-area, expired and duplicate messages sound nothing; all but out-of-area are on record with their reason', async () => {
    said.length = 0;
    const before = sounded.length;
    cap('<alert><identifier>broken</alert>', 'sb/v1/cap/bad');
    cap(msg({ identifier: 'poly-1', headline: '多边形' }).replace('<geocode><valueName>CPEAS Geographic Code</valueName><value>130602000000</value></geocode>', '<polygon>38.8,115.4 38.9,115.4 38.9,115.5</polygon>'));
    cap(msg({ identifier: 'far-1', geocode: '410102000000', headline: '外地' }));
    cap(capXml({ sender: 'county', identifier: 'old-1', sent: '2024-07-12T08:00:00+08:00', infos: [{ geocode: HERE, expires: '2024-07-12T12:00:00+08:00', headline: '过期' }] }));
    cap(msg({ identifier: 'x-1', severity: 'Extreme', urgency: 'Immediate', headline: '重复' }));
    // Township priority, so it plays at once even over the routine fence-1 resumed after the last test.
    cap(msg({ identifier: 'fence-2', severity: 'Moderate', headline: '围栏' }));
    await until('the fence', () => said.some((m) => m.type === 'broadcast' && m.text_zh.startsWith('围栏')));
    expect(said.filter((m) => m.type === 'broadcast' && /^(多边形|外地|过期|重复)/.test(m.text_zh))).toEqual([]);
    expect(sounded.length).toBe(before);
    const byId = (id: string) => notes().find((n) => n.identifier === id);
    expect(notes().find((n) => n.topic === 'sb/v1/cap/bad')).toMatchObject({ outcome: 'rejected', reason: 'not_xml' });
    expect(notes().find((n) => n.reason === 'unclosed_polygon')).toMatchObject({ outcome: 'rejected' });
    expect(byId('far-1')).toBeUndefined(); // logged at debug only
    expect(byId('old-1')).toMatchObject({ outcome: 'ignored', reason: 'expired' });
    expect(notes().filter((n) => n.identifier === 'x-1').map((n) => n.reason)).toEqual(['in_area', 'duplicate']);
  });
});
