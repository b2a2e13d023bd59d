/**
 * Commands on the local broker's cmd/box, answered on cmd/box/result, through the running box
 * (Aedes on loopback, a real SQLite file, mqtt.js clients as the officer `wang` and the
 * township account `town`): results with command_id, malformed and role-refused commands,
 * report, set_threshold/clear_threshold, and 吹哨 escalation with the response clock.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBox } from '../../gateway/box.ts';
import type { CommandResult } from '../../gateway/shell/bus.ts';
import { startBoxRig, type BoxRig } from '../helpers/box-rig.ts';
import { boxSite } from '../helpers/box-site.ts';
import { until } from '../helpers/until.ts';

const T = 'sb/v1/itest';
let rig: BoxRig;
let wang: MqttClient;
let town: MqttClient;
let wl1: MqttClient;
/** Everything seen on cmd/box/result and event, in order. */
const results: any[] = [];
const events: any[] = [];

beforeAll(async () => {
  rig = await startBoxRig();
  wang = await rig.connect('wang');
  town = await rig.connect('town');
  wl1 = await rig.connect('wl1');
  await wang.subscribeAsync([`${T}/cmd/box/result`, `${T}/event`], { qos: 1 });
  wang.on('message', (topic, payload) => {
    const m = JSON.parse(payload.toString());
    if (topic === `${T}/cmd/box/result`) results.push(m);
    else events.push(m);
  });
});

afterAll(async () => rig?.stop());

async function send(c: MqttClient, body: unknown): Promise<void> {
  await c.publishAsync(`${T}/cmd/box`, typeof body === 'string' ? body : JSON.stringify(body), { qos: 1 });
}
const resultOf = (id: string) => until(`result ${id}`, () => results.find((r) => r.command_id === id));
const eventWhere = (what: string, pred: (e: any) => boolean) => until(what, () => events.find(pred));
const level = async (value: number) => wl1.publishAsync(`${T}/sensor/wl1/reading`, JSON.stringify({ value, unit: 'm' }), { qos: 1 });

describe('cmd/box/result', () => {
  it('answers an officer’s command with its command_id, after logging it with its sender and result', async () => {
    await send(wang, { type: 'stop', command_id: 'o-1' });
    expect(await resultOf('o-1')).toEqual({ command_id: 'o-1', ok: true, by: 'wang' });
    const logged = rig.box.store.since(0).filter((e) => e.type === 'command').map((e) => e.payload as any);
    expect(logged.find((p) => p.commandId === 'o-1')).toMatchObject({ command: { type: 'stop', by: 'wang' }, by: 'wang', role: 'officer', via: 'mqtt', result: { ok: true } });
  });

  it('answers a malformed command with the reason, with its command_id when it can be read, and the box goes on', async () => {
    await send(wang, '{"type":"nuke","command_id":"o-2"}');
    expect(await resultOf('o-2')).toMatchObject({ ok: false, by: 'wang', error: expect.stringMatching(/^schema: /) });
    const before = results.length;
    await send(wang, 'stop everything');
    const r = await until('not-json result', () => results.slice(before).find((x) => x.command_id === null));
    expect(r).toEqual({ command_id: null, ok: false, error: 'not_json: payload is not JSON', by: 'wang' });
    await send(wang, { type: 'stop', command_id: 'o-2b' });
    expect((await resultOf('o-2b')).ok).toBe(true);
  });

  it('refuses the township’s commands to an officer, and escalate to the township, saying so', async () => {
    await send(wang, { type: 'report', command_id: 'o-3' });
    expect(await resultOf('o-3')).toEqual({ command_id: 'o-3', ok: false, error: "not_allowed: 'report' is for the township account only; this is an officer account", by: 'wang' });
    await send(wang, { type: 'set_threshold', sensor: 'wl1', threshold: 'stage_warning', value: 2, for_s: 60, command_id: 'o-4' });
    expect((await resultOf('o-4')).error).toMatch(/^not_allowed: 'set_threshold' is for the township account only/);
    await send(town, { type: 'escalate', alert: 'x', text: 't', command_id: 't-0' });
    expect((await resultOf('t-0')).error).toBe("not_allowed: 'escalate' is for the officer account only; this is a township account");
  });

  it('says what a command could not do: an unknown siren pattern, an unknown alert to acknowledge', async () => {
    await send(wang, { type: 'siren', pattern: 'no_such', command_id: 'o-5' });
    expect(await resultOf('o-5')).toMatchObject({ ok: false, error: "unknown siren pattern 'no_such': nothing sounded for it" });
    await send(wang, { type: 'ack', alert: 'wl1/stage/1', command_id: 'o-6' });
    expect(await resultOf('o-6')).toMatchObject({ ok: false, error: "no active alert 'wl1/stage/1' to acknowledge" });
  });

  it('a township command from the uplink is answered on the bus for the uplink, not on the local result topic', async () => {
    const seen: CommandResult[] = [];
    const off = rig.box.ctx.bus.on('commandResult', (r) => seen.push(r));
    rig.box.ctx.bus.emit('command', { type: 'stop', by: 'township:zhen', commandId: 'u-1' }, { by: 'township:zhen', role: 'township', via: 'uplink' });
    off();
    expect(seen).toEqual([{ commandId: 'u-1', ok: true, by: 'township:zhen', via: 'uplink' }]);
    // The publisher keeps order: a local result sent after it arrives with nothing of u-1 before it.
    await send(wang, { type: 'stop', command_id: 'o-7' });
    await resultOf('o-7');
    expect(results.some((r) => r.command_id === 'u-1')).toBe(false);
  });
});

describe('township commands and 吹哨 escalation through the box', () => {
  it('set_threshold judges at once, logs it, and reverts at expiry; out of bounds is refused in words', async () => {
    await level(2.3);
    await send(town, { type: 'set_threshold', sensor: 'wl1', threshold: 'stage_warning', value: 2.2, for_s: 2, command_id: 't-1' });
    expect(await resultOf('t-1')).toEqual({ command_id: 't-1', ok: true, by: 'town' });
    const set = await eventWhere('threshold set', (e) => e.type === 'threshold' && e.payload.change === 'set');
    expect(set.payload).toMatchObject({ sensor: 'wl1', threshold: 'stage_warning', value: 2.2, original: 2.5, unit: 'm', by: 'town', until: expect.stringMatching(/\+08:00$/) });
    const raised = await eventWhere('raised by the override', (e) => e.type === 'transition' && e.payload.alert?.startsWith('wl1/stage/') && e.payload.transition === 'raised');
    expect(raised.payload).toMatchObject({ level: 'yellow', rule: 'stage_warning' });
    const expired = await eventWhere('threshold expired', (e) => e.type === 'threshold' && e.payload.change === 'expired');
    expect(expired.payload).toMatchObject({ threshold: 'stage_warning', ended_by: 'engine' });
    await eventWhere('cleared at expiry', (e) => e.type === 'transition' && e.payload.alert === raised.payload.alert && e.payload.transition === 'cleared');

    await send(town, { type: 'set_threshold', sensor: 'wl1', threshold: 'stage_warning', value: 3.0, for_s: 60, command_id: 't-2' });
    expect(await resultOf('t-2')).toMatchObject({ ok: false, error: 'threshold stage_warning of wl1: 3 m is not below stage guaranteed (3 m): stages rise with their levels' });
    await send(town, { type: 'clear_threshold', sensor: 'wl1', threshold: 'stage_warning', command_id: 't-3' });
    expect(await resultOf('t-3')).toMatchObject({ ok: false, error: "no override of threshold 'stage_warning' of sensor 'wl1' is in force" });
    await send(town, { type: 'set_threshold', sensor: 'sm1', threshold: 'alarm_db_m', value: 0.1, for_s: 60, command_id: 't-4' });
    expect((await resultOf('t-4')).error).toMatch(/reports its alarm state itself/);
  });

  it('raised → acknowledged → broadcast → escalated → township ack, in the escalation events; report shows it', async () => {
    await level(3.2);
    const raised = await eventWhere('orange raised', (e) => e.type === 'transition' && e.payload.transition === 'raised' && e.payload.level === 'orange');
    const alert: string = raised.payload.alert;
    await send(wang, { type: 'ack', alert, command_id: 'o-10' });
    expect((await resultOf('o-10')).ok).toBe(true);
    await send(wang, { type: 'escalate', alert, text: '水位超保证,请求乡镇支援', command_id: 'o-11' });
    expect(await resultOf('o-11')).toEqual({ command_id: 'o-11', ok: true, by: 'wang' });
    const sent = await eventWhere('escalation sent', (e) => e.type === 'escalation' && e.payload.phase === 'sent');
    expect(sent.payload).toMatchObject({ escalation: `${alert}/e1`, alert, by: 'wang', text: '水位超保证,请求乡镇支援', level: 'orange', kind: 'water_level', text_zh: expect.stringContaining('保证水位') });
    const clock = sent.payload.response_clock;
    for (const k of ['raised_at', 'acknowledged_at', 'broadcast_at', 'escalated_at']) expect(clock[k], k).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00$/);
    expect(clock).toMatchObject({ acknowledged_by: 'wang', township_ack_at: null });

    await send(town, { type: 'escalation_ack', escalation: `${alert}/e1`, acknowledged_by: '张科长', command_id: 't-10' });
    expect(await resultOf('t-10')).toEqual({ command_id: 't-10', ok: true, by: 'town' });
    const acked = await eventWhere('escalation acknowledged', (e) => e.type === 'escalation' && e.payload.phase === 'acknowledged');
    expect(acked.payload).toMatchObject({ escalation: `${alert}/e1`, ack_by: 'town', acknowledged_by: '张科长', by: 'wang' });
    expect(acked.payload.response_clock.township_ack_at).toMatch(/\+08:00$/);
    // The alert's retained state carries the clock too, moved by the township's answer.
    const viewer = await rig.connect('wang');
    const retained: any[] = [];
    viewer.on('message', (_t, p) => retained.push(JSON.parse(p.toString())));
    await viewer.subscribeAsync(`${T}/alert/wl1/stage`, { qos: 1 });
    const state = await until('retained clock with the township ack', () => retained.find((m) => m.alert === alert && m.response_clock?.township_ack_at));
    expect(state).toMatchObject({ state: 'active', level: 'orange', response_clock: { acknowledged_by: 'wang', escalated_at: clock.escalated_at, raised_at: clock.raised_at } });
    await send(town, { type: 'escalation_ack', escalation: `${alert}/e1`, command_id: 't-11' });
    expect(await resultOf('t-11')).toMatchObject({ ok: false, error: `escalation '${alert}/e1' was already acknowledged by 张科长` });
    await send(wang, { type: 'escalate', alert: 'wl1/stage/0', text: 'x', command_id: 'o-12' });
    expect(await resultOf('o-12')).toMatchObject({ ok: false, error: "no active alert 'wl1/stage/0' to escalate" });

    await send(town, { type: 'report', command_id: 't-12' });
    expect((await resultOf('t-12')).ok).toBe(true);
    const report = await eventWhere('report', (e) => e.type === 'report');
    expect(report.payload).toMatchObject({ by: 'town', problems: [], drill: null, store: { degraded: false, pending_events: 0 } });
    const a = report.payload.active_alerts.find((x: any) => x.alert === alert);
    expect(a).toMatchObject({ kind: 'water_level', level: 'orange', acknowledged_by: 'wang', text_zh: expect.stringContaining('保证水位') });
    expect(a.response_clock.township_ack_at).toMatch(/\+08:00$/);
    expect(Array.isArray(report.payload.faults)).toBe(true);
  });
});

describe('threshold overrides across a restart', () => {
  it('are back after the box restarts, still expiring at their time', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sb-cmds-'));
    const config = await boxSite(join(dir, 'box.db'));
    const log = pino({ level: 'silent' });
    const first = await startBox({ config, log, tcpPort: 0, wsPort: 0 });
    const got: CommandResult[] = [];
    first.ctx.bus.on('commandResult', (r) => got.push(r));
    first.ctx.bus.emit('command', { type: 'set_threshold', by: 'town', sensor: 'rg1', threshold: 'rain_3h_orange', value: 30, forS: 3600, commandId: 'r-1' }, { by: 'town', role: 'township', via: 'mqtt' });
    expect(got).toMatchObject([{ commandId: 'r-1', ok: true }]);
    await first.stop();

    const second = await startBox({ config, log, tcpPort: 0, wsPort: 0 });
    try {
      const got2: CommandResult[] = [];
      second.ctx.bus.on('commandResult', (r) => got2.push(r));
      // The override is in force again: clearing it succeeds, and is logged as cleared.
      second.ctx.bus.emit('command', { type: 'clear_threshold', by: 'town', sensor: 'rg1', threshold: 'rain_3h_orange', commandId: 'r-2' }, { by: 'town', role: 'township', via: 'mqtt' });
      expect(got2).toEqual([{ commandId: 'r-2', ok: true, by: 'town', via: 'mqtt' }]);
      const changes = second.store.since(0).filter((e) => e.type === 'threshold').map((e) => (e.payload as any).change);
      expect(changes).toEqual(['set', 'cleared']);
    } finally {
      await second.stop();
    }
  });
});
