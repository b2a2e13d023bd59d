import { describe, expect, it } from 'vitest';
import { FailureLockout } from '../../gateway/broker/auth.ts';
import { FrameGuard } from '../../gateway/broker/frame-guard.ts';
import { LogThrottle } from '../../gateway/broker/log-throttle.ts';
import { checkCommand, commandIdOf, checkDeviceStatus, checkReading, checkReport, type RejectReason } from '../../gateway/broker/payloads.ts';
import type { SensorConfig } from '../../gateway/config/types.ts';

const sensor = (kind: SensorConfig['kind'], mode?: 'state' | 'analog'): SensorConfig => ({ id: `${kind}1`, kind, ...(mode ? { mode } : {}) }) as SensorConfig;
const rain = sensor('rain');
const water = sensor('water_level');
const smokeState = sensor('smoke', 'state');
const smokeAnalog = sensor('smoke', 'analog');
const buf = (s: string): Buffer => Buffer.from(s, 'utf8');

describe('checkReading', () => {
  it.each<[SensorConfig, string, RejectReason]>([
    [rain, 'nope', 'not_json'],
    [rain, '', 'not_json'],
    [rain, '{"value": NaN}', 'not_json'],
    [rain, '{"value": Infinity}', 'not_json'],
    [rain, '{"value": 1e999}', 'not_finite'],
    [rain, '{"value": -1e999}', 'not_finite'],
    [rain, '[1]', 'schema'],
    [rain, '1', 'schema'],
    [rain, 'null', 'schema'],
    [rain, '{}', 'schema'],
    [rain, '{"value": true}', 'schema'],
    [rain, '{"value": [1]}', 'schema'],
    [rain, '{"value": 1, "by": "x"}', 'schema'],
    [rain, '{"value": 1, "quality": "bad"}', 'schema'],
    [rain, '{"value": 1, "unit": 5}', 'schema'],
    [rain, '{"value": "1"}', 'wrong_type'],
    [rain, '{"value": 2e9}', 'out_of_range'],
    [rain, '{"value": -1000000001}', 'out_of_range'],
    [rain, '{"value": 1, "unit": "m"}', 'wrong_unit'],
    [rain, '{"value": null}', 'null_value'],
    [rain, '{"value": null, "quality": "good"}', 'null_value'],
    [water, '{"value": 1, "unit": "mm"}', 'wrong_unit'],
    [smokeState, '{"value": "fire"}', 'unknown_state'],
    [smokeState, '{"value": "ALARM"}', 'unknown_state'],
    [smokeState, '{"value": 6}', 'out_of_range'],
    [smokeState, '{"value": 1.5}', 'out_of_range'],
    [smokeState, '{"value": 1, "unit": "db_m"}', 'wrong_unit'],
    [smokeAnalog, '{"value": "alarm"}', 'wrong_type'],
    [smokeAnalog, '{"value": 0.1, "unit": "state"}', 'wrong_unit'],
  ])('%o %s → %s', (s, payload, reason) => {
    const r = checkReading(s, buf(payload), 256, 0);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toBe(reason);
  });

  it('rejects an oversize payload before parsing it', () => {
    const r = checkReading(rain, buf(`{"value": 1, "unit": "${'m'.repeat(300)}"}`), 256, 0);
    expect(r).toMatchObject({ ok: false, reason: 'oversize' });
  });

  it('rejects a reading for a sensor that is not configured', () => {
    expect(checkReading(undefined, buf('{"value": 1}'), 256, 0)).toMatchObject({ ok: false, reason: 'unknown_sensor' });
  });

  it.each<[SensorConfig, string, number | null, string]>([
    [rain, '{"value": 12.5}', 12.5, 'good'],
    [rain, '{"value": 0, "unit": "mm", "quality": "good", "at": "2026-07-20T16:00:00+08:00"}', 0, 'good'],
    [rain, '{"value": -3}', -3, 'good'],
    [water, '{"value": 3.2, "unit": "m"}', 3.2, 'good'],
    [water, '{"value": null, "quality": "error"}', null, 'error'],
    [water, '{"value": null, "quality": "missing"}', null, 'missing'],
    [water, '{"value": 4, "quality": "error"}', null, 'error'],
    [smokeState, '{"value": "normal"}', 0, 'good'],
    [smokeState, '{"value": "alarm", "unit": "state"}', 1, 'good'],
    [smokeState, '{"value": "tamper"}', 5, 'good'],
    [smokeState, '{"value": 2}', 2, 'good'],
    [smokeAnalog, '{"value": 0.15, "unit": "db_m"}', 0.15, 'good'],
  ])('%o %s → %s', (s, payload, value, quality) => {
    expect(checkReading(s, buf(payload), 256, 42)).toEqual({ ok: true, value: { sensor: s.id, value, at: 42, quality } });
  });
});

describe('checkCommand', () => {
  it('sets by and source from the account, never from the payload', () => {
    expect(checkCommand(buf('{"type":"siren","pattern":"long"}'), 512, 'li', 'officer')).toEqual({ ok: true, value: { type: 'siren', pattern: 'long', source: 'officer', by: 'li' } });
    expect(checkCommand(buf('{"type":"broadcast","textZh":"撤离"}'), 512, 'zhen', 'township')).toEqual({ ok: true, value: { type: 'broadcast', textZh: '撤离', source: 'township', by: 'zhen' } });
    expect(checkCommand(buf('{"type":"stop"}'), 512, 'li', 'officer')).toEqual({ ok: true, value: { type: 'stop', by: 'li' } });
    expect(checkCommand(buf('{"type":"ack","alert":"rg1/rain/3"}'), 512, 'li', 'officer')).toEqual({ ok: true, value: { type: 'ack', alert: 'rg1/rain/3', by: 'li' } });
    expect(checkCommand(buf('{"type":"stop","by":"zhen"}'), 512, 'li', 'officer')).toMatchObject({ ok: false, reason: 'identity_in_payload' });
    expect(checkCommand(buf('{"type":"siren","pattern":"p","source":"engine"}'), 512, 'li', 'officer')).toMatchObject({ ok: false, reason: 'identity_in_payload' });
  });

  it('accepts snake_case keys as the same fields, but not both spellings', () => {
    expect(checkCommand(buf('{"type":"broadcast","text_zh":"甲","text_en":"A"}'), 512, 'li', 'officer')).toMatchObject({ ok: true, value: { textZh: '甲', textEn: 'A' } });
    expect(checkCommand(buf('{"type":"broadcast","text_zh":"甲","textZh":"乙"}'), 512, 'li', 'officer')).toMatchObject({ ok: false, reason: 'duplicate_key' });
  });

  it.each([
    ['{"type":"broadcast_done","zone":"a","activity":"x"}', 'schema'],
    ['{"type":"nuke"}', 'schema'],
    ['{"zones":["a"]}', 'schema'],
    ['{"type":"broadcast"}', 'schema'],
    ['{"type":"broadcast","textZh":"a","repeat":0}', 'schema'],
    ['{"type":"broadcast","textZh":"a","emergency":"yes"}', 'schema'],
    ['{"type":"siren","pattern":"Long Wail"}', 'schema'],
    ['{"type":"silence","zones":"east"}', 'schema'],
    ['{"type":"silence","zones":["east","east"]}', 'schema'],
    ['{"type":"drill","kind":"earthquake"}', 'schema'],
    ['{"type":"drill_end","now":true}', 'schema'],
    ['{"type":"ack","alert":""}', 'schema'],
    ['[{"type":"stop"}]', 'schema'],
    ['stop', 'not_json'],
  ])('%s → %s', (payload, reason) => {
    expect(checkCommand(buf(payload), 512, 'li', 'officer')).toMatchObject({ ok: false, reason });
  });
});

describe('checkCommand: command_id, township commands, escalation, roles', () => {
  it('carries command_id (either spelling) on every command, bounded', () => {
    expect(checkCommand(buf('{"type":"stop","command_id":"c-1"}'), 512, 'li', 'officer')).toEqual({ ok: true, value: { type: 'stop', by: 'li', commandId: 'c-1' } });
    expect(checkCommand(buf('{"type":"ack","alert":"a/b/1","commandId":"c-2"}'), 512, 'li', 'officer')).toEqual({ ok: true, value: { type: 'ack', alert: 'a/b/1', by: 'li', commandId: 'c-2' } });
    expect(checkCommand(buf('{"type":"report","command_id":"r1"}'), 512, 'zhen', 'township')).toEqual({ ok: true, value: { type: 'report', by: 'zhen', commandId: 'r1' } });
    expect(checkCommand(buf(`{"type":"stop","command_id":"${'x'.repeat(65)}"}`), 512, 'li', 'officer')).toMatchObject({ ok: false, reason: 'schema', detail: '/commandId must NOT have more than 64 characters' });
    expect(checkCommand(buf('{"type":"stop","command_id":"a b"}'), 512, 'li', 'officer')).toMatchObject({ ok: false, reason: 'schema' });
    expect(checkCommand(buf('{"type":"stop","command_id":7}'), 512, 'li', 'officer')).toMatchObject({ ok: false, reason: 'schema' });
  });

  it('reads the township commands and escalation', () => {
    expect(checkCommand(buf('{"type":"set_threshold","sensor":"rg1","threshold":"rain_3h_orange","value":30,"for_s":3600}'), 512, 'zhen', 'township')).toEqual({ ok: true, value: { type: 'set_threshold', sensor: 'rg1', threshold: 'rain_3h_orange', value: 30, forS: 3600, by: 'zhen' } });
    expect(checkCommand(buf('{"type":"clear_threshold","sensor":"rg1","threshold":"rain_3h_orange"}'), 512, 'zhen', 'township')).toMatchObject({ ok: true, value: { type: 'clear_threshold' } });
    expect(checkCommand(buf('{"type":"escalate","alert":"wl1/stage/1","text":"请求支援"}'), 512, 'li', 'officer')).toEqual({ ok: true, value: { type: 'escalate', alert: 'wl1/stage/1', text: '请求支援', by: 'li' } });
    expect(checkCommand(buf('{"type":"escalation_ack","escalation":"wl1/stage/1/e1","acknowledged_by":"张科长"}'), 512, 'zhen', 'township')).toEqual({ ok: true, value: { type: 'escalation_ack', escalation: 'wl1/stage/1/e1', acknowledgedBy: '张科长', by: 'zhen' } });
  });

  it.each([
    ['{"type":"set_threshold","sensor":"rg1","threshold":"rain_3h_orange","value":30}', 'schema', "(top) must have required property 'forS'"],
    ['{"type":"set_threshold","sensor":"rg1","threshold":"rain_3h_orange","value":30,"for_s":0}', 'schema', '/forS must be >= 1'],
    ['{"type":"set_threshold","sensor":"rg1","threshold":"rain_3h_orange","value":30,"for_s":604801}', 'schema', '/forS must be <= 604800'],
    ['{"type":"set_threshold","sensor":"rg1","threshold":"rain_3h_orange","value":"30","for_s":60}', 'schema', '/value must be number'],
    ['{"type":"set_threshold","sensor":"rg1","threshold":"rain_3h_orange","value":1e999,"for_s":60}', 'not_finite', '/value must be a finite number within ±1000000000'],
    ['{"type":"set_threshold","sensor":"RG1","threshold":"x","value":1,"for_s":60}', 'schema', '/sensor must match pattern "^[a-z0-9][a-z0-9_-]{0,31}$"'],
    ['{"type":"escalate","alert":"wl1/stage/1"}', 'schema', "(top) must have required property 'text'"],
    [`{"type":"escalate","alert":"a","text":"${'长'.repeat(281)}"}`, 'schema', '/text must NOT have more than 280 characters'],
    ['{"type":"escalation_ack","escalation":"a\\u0001"}', 'schema', '/escalation must match pattern "^[^\\u0000-\\u001f]+$"'],
    ['{"type":"report","extra":1}', 'schema', "(top) must NOT have additional properties 'extra'"],
  ])('%s → %s', (payload, reason, detail) => {
    expect(checkCommand(buf(payload), 1024, 'zhen', 'township')).toEqual({ ok: false, reason, detail });
  });

  it('refuses by role as clearly as by schema', () => {
    const officer = (p: string) => checkCommand(buf(p), 512, 'li', 'officer');
    const town = (p: string) => checkCommand(buf(p), 512, 'zhen', 'township');
    expect(officer('{"type":"report"}')).toEqual({ ok: false, reason: 'not_allowed', detail: "'report' is for the township account only; this is an officer account" });
    expect(officer('{"type":"set_threshold","sensor":"rg1","threshold":"rain_3h_orange","value":30,"for_s":60}')).toMatchObject({ ok: false, reason: 'not_allowed' });
    expect(officer('{"type":"clear_threshold","sensor":"rg1","threshold":"rain_3h_orange"}')).toMatchObject({ ok: false, reason: 'not_allowed' });
    expect(officer('{"type":"escalation_ack","escalation":"a/e1"}')).toMatchObject({ ok: false, reason: 'not_allowed' });
    expect(town('{"type":"escalate","alert":"a","text":"t"}')).toEqual({ ok: false, reason: 'not_allowed', detail: "'escalate' is for the officer account only; this is a township account" });
    // The rest both may send.
    for (const p of ['{"type":"stop"}', '{"type":"drill"}', '{"type":"test"}', '{"type":"ack","alert":"a"}']) {
      expect(officer(p).ok && town(p).ok, p).toBe(true);
    }
  });

  it('finds the command_id of a refused command when it can', () => {
    expect(commandIdOf(buf('{"type":"nuke","command_id":"c-9"}'), 512)).toBe('c-9');
    expect(commandIdOf(buf('{"commandId":"c-8"}'), 512)).toBe('c-8');
    expect(commandIdOf(buf('{"command_id":"has space"}'), 512)).toBeNull();
    expect(commandIdOf(buf('{"command_id":5}'), 512)).toBeNull();
    expect(commandIdOf(buf('not json'), 512)).toBeNull();
    expect(commandIdOf(buf(`{"command_id":"${'x'.repeat(65)}"}`), 512)).toBeNull();
    expect(commandIdOf(Buffer.alloc(600, 32), 512)).toBeNull();
  });
});

describe('checkReport and checkDeviceStatus', () => {
  it('takes the actuator id from the account', () => {
    expect(checkReport('spk1', buf('{"report":"done","activity":"a1","zone":"east"}'), 256)).toEqual({ ok: true, value: { actuator: 'spk1', report: 'done', activity: 'a1', zone: 'east' } });
    expect(checkReport('spk1', buf('{"report":"done","actuator":"siren1"}'), 256)).toMatchObject({ ok: false, reason: 'schema' });
    expect(checkReport('spk1', buf('{"report":"boom"}'), 256)).toMatchObject({ ok: false, reason: 'schema' });
    expect(checkReport('spk1', buf('{"report":"fault","detail":"hot"}'), 256)).toMatchObject({ ok: false, reason: 'schema' });
  });
  it('limits a device status only by size', () => {
    expect(checkDeviceStatus(buf('offline'), 256).ok).toBe(true);
    expect(checkDeviceStatus(Buffer.alloc(257), 256)).toMatchObject({ ok: false, reason: 'oversize' });
  });
});

describe('FailureLockout', () => {
  it('locks a key after maxFailures within the window, for lockMs', () => {
    let now = 0;
    const l = new FailureLockout({ maxFailures: 3, windowMs: 1000, lockMs: 5000 }, () => now);
    expect(l.fail('a')).toBe(false);
    now = 500;
    expect(l.fail('a')).toBe(false);
    expect(l.lockedFor('a')).toBe(0);
    now = 900;
    expect(l.fail('a')).toBe(true);
    expect(l.lockedFor('a')).toBe(5000);
    expect(l.lockedFor('b')).toBe(0);
    now = 5899;
    expect(l.lockedFor('a')).toBe(1);
    now = 5900;
    expect(l.lockedFor('a')).toBe(0);
  });
  it('forgets failures older than the window and on success', () => {
    let now = 0;
    const l = new FailureLockout({ maxFailures: 2, windowMs: 1000, lockMs: 5000 }, () => now);
    l.fail('a');
    now = 1500;
    expect(l.fail('a')).toBe(false);
    l.succeed('a');
    expect(l.fail('a')).toBe(false);
  });
});

describe('LogThrottle', () => {
  it('lets the first through, then one per interval with the count suppressed', () => {
    let now = 0;
    const t = new LogThrottle(1000, () => now);
    expect(t.take('k')).toEqual({ suppressed: 0 });
    expect(t.take('k')).toBeNull();
    expect(t.take('k')).toBeNull();
    expect(t.take('other')).toEqual({ suppressed: 0 });
    now = 1000;
    expect(t.take('k')).toEqual({ suppressed: 2 });
  });
});

describe('FrameGuard', () => {
  const publish = (bodyBytes: number): Buffer => {
    // Remaining length as an MQTT varint (§2.2.3).
    const len: number[] = [];
    let n = bodyBytes;
    do {
      let b = n % 128;
      n = Math.floor(n / 128);
      if (n > 0) b |= 0x80;
      len.push(b);
    } while (n > 0);
    return Buffer.concat([Buffer.from([0x30, ...len]), Buffer.alloc(bodyBytes, 1)]);
  };

  it('passes packets up to the limit, however the bytes are split', () => {
    const g = new FrameGuard(300);
    const stream = Buffer.concat([publish(0), publish(127), publish(128), publish(300), Buffer.from([0xc0, 0x00])]);
    for (let i = 0; i < stream.length; i += 7) expect(g.feed(stream.subarray(i, i + 7))).toBe(0);
    expect(g.feed(publish(5))).toBe(0);
  });

  it('reports an oversize packet from its header, split anywhere', () => {
    const big = publish(301).subarray(0, 3);
    const g = new FrameGuard(300);
    expect(g.feed(publish(10))).toBe(0);
    expect(g.feed(big.subarray(0, 2))).toBe(0);
    expect(g.feed(big.subarray(2))).toBe(301);
    expect(new FrameGuard(1000).feed(Buffer.from([0x10, 0x80, 0x80, 0x80, 0x05]))).toBe(5 * 128 ** 3);
    // More than 4 length bytes is malformed (§2.2.3).
    expect(new FrameGuard(1e12).feed(Buffer.from([0x10, 0x80, 0x80, 0x80, 0x80, 0x01]))).toBe(Number.POSITIVE_INFINITY);
  });
});
