import { describe, expect, it } from 'vitest';
import { filterWithin, mayPublish, mayRead, maySubscribe, mayWill, type Principal } from '../../gateway/broker/acl.ts';
import { parseTopic, topics, TopicError } from '../../gateway/broker/topics.ts';

const t = topics('s1');
const parse = (topic: string) => parseTopic('s1', topic);

const rg1: Principal = { username: 'rg1', role: 'device', isSensor: true, isActuator: false };
const siren1: Principal = { username: 'siren1', role: 'device', isSensor: false, isActuator: true };
const li: Principal = { username: 'li', role: 'officer', isSensor: false, isActuator: false };
const zhen: Principal = { username: 'zhen', role: 'township', isSensor: false, isActuator: false };
const obs: Principal = { username: 'obs', role: 'observer', isSensor: false, isActuator: false };

describe('topics', () => {
  it('builds every topic under sb/v1/<site>/', () => {
    expect([t.sensorReading('rg1'), t.actuatorReport('siren1'), t.deviceStatus('rg1'), t.boxCommand(), t.actuatorCommand('siren1'), t.alert('rg1/rain'), t.alerts(), t.event(), t.status(), t.all()]).toEqual([
      'sb/v1/s1/sensor/rg1/reading',
      'sb/v1/s1/actuator/siren1/report',
      'sb/v1/s1/device/rg1/status',
      'sb/v1/s1/cmd/box',
      'sb/v1/s1/cmd/siren1',
      'sb/v1/s1/alert/rg1/rain',
      'sb/v1/s1/alert/#',
      'sb/v1/s1/event',
      'sb/v1/s1/status',
      'sb/v1/s1/#',
    ]);
  });

  it('refuses ids that are not one topic level, and the reserved actuator id box', () => {
    for (const bad of ['', 'a/b', '+', '#', 'a+b']) expect(() => t.sensorReading(bad)).toThrow(TopicError);
    expect(() => topics('a/b')).toThrow(TopicError);
    expect(() => t.actuatorCommand('box')).toThrow(TopicError);
    expect(() => t.alert('a//b')).toThrow(TopicError);
    expect(() => t.alert('a/#')).toThrow(TopicError);
  });

  it('parses what it builds', () => {
    expect(parse(t.sensorReading('rg1'))).toEqual({ kind: 'sensorReading', sensor: 'rg1' });
    expect(parse(t.actuatorReport('siren1'))).toEqual({ kind: 'actuatorReport', actuator: 'siren1' });
    expect(parse(t.deviceStatus('rg1'))).toEqual({ kind: 'deviceStatus', device: 'rg1' });
    expect(parse(t.boxCommand())).toEqual({ kind: 'boxCommand' });
    expect(parse(t.actuatorCommand('siren1'))).toEqual({ kind: 'actuatorCommand', actuator: 'siren1' });
    expect(parse(t.alert('rg1'))).toEqual({ kind: 'alert', key: 'rg1' });
    expect(parse(t.alert('rg1/rain'))).toEqual({ kind: 'alert', key: 'rg1/rain' });
    expect(parse(t.alert('b3/fire/x/y'))).toEqual({ kind: 'alert', key: 'b3/fire/x/y' });
    expect(parse(t.event())).toEqual({ kind: 'event' });
    expect(parse(t.status())).toEqual({ kind: 'status' });
  });

  it('returns null for anything that is not a concrete topic of the site', () => {
    for (const bad of [
      'sb/v1/s2/event',
      'sb/v2/s1/event',
      'sb/v1/s1',
      'sb/v1/s1/',
      'sb/v1/s1/event/x',
      'sb/v1/s1/sensor/rg1',
      'sb/v1/s1/sensor/rg1/value',
      'sb/v1/s1/sensor//reading',
      'sb/v1/s1/sensor/+/reading',
      'sb/v1/s1/sensor/#/reading',
      'sb/v1/s1/sensor/a+b/reading',
      'sb/v1/s1/sensor/a/b/reading',
      'sb/v1/s1/sensor/reading',
      'sb/v1/s1/sensor/rg1/reading/',
      'sb/v1/s1/sensorx/rg1/reading',
      'sb/v1/s1/#',
      'sb/v1/s1/cmd',
      'sb/v1/s1/cmd/a/b',
      'sb/v1/s1/alert',
      'sb/v1/s1/alert/',
      '$SYS/x/heartbeat',
      '',
    ]) {
      expect(parse(bad), bad).toBeNull();
    }
  });
});

describe('filterWithin', () => {
  it.each([
    ['a/b', 'a/b', true],
    ['a/b', 'a/+', true],
    ['a/b', 'a/#', true],
    ['a', 'a/#', true], // `a/#` matches its parent
    ['a/#', 'a/#', true],
    ['a/+/c', 'a/#', true],
    ['a/+', 'a/+', true],
    ['a/+', 'a/b', false],
    ['a/#', 'a/b', false],
    ['a/#', 'a/+', false],
    ['#', 'a/#', false],
    ['+/b', 'a/b', false],
    ['a/b/c', 'a/b', false],
    ['a', 'a/b', false],
    ['a/b', 'a/b/c', false],
    ['sb/v1/+/cmd/x', 'sb/v1/s1/cmd/x', false],
  ])('%s within %s: %s', (filter, pattern, expected) => {
    expect(filterWithin(filter, pattern)).toBe(expected);
  });
});

describe('publish ACL', () => {
  const cases: [Principal, string, boolean][] = [
    [rg1, t.sensorReading('rg1'), true],
    [rg1, t.deviceStatus('rg1'), true],
    [rg1, t.sensorReading('wl1'), false],
    [rg1, t.actuatorReport('rg1'), false],
    [rg1, t.deviceStatus('wl1'), false],
    [rg1, t.boxCommand(), false],
    [siren1, t.actuatorReport('siren1'), true],
    [siren1, t.deviceStatus('siren1'), true],
    [siren1, t.sensorReading('siren1'), false],
    [siren1, t.actuatorCommand('siren1'), false],
    [li, t.boxCommand(), true],
    [zhen, t.boxCommand(), true],
    [li, t.actuatorCommand('siren1'), false],
    [li, t.sensorReading('rg1'), false],
    [li, t.status(), false],
    [obs, t.boxCommand(), false],
    [obs, t.event(), false],
  ];
  it.each(cases)('%o → %s: %s', (p, topic, expected) => {
    expect(mayPublish(p, parse(topic))).toBe(expected);
  });
  it('allows nobody to publish box topics or foreign topics', () => {
    for (const p of [rg1, siren1, li, zhen, obs]) {
      for (const topic of [t.alert('x/y'), t.event(), t.status(), t.actuatorCommand('siren1'), 'sb/v1/s2/cmd/box', '$SYS/a/b']) {
        expect(mayPublish(p, parse(topic)), `${p.username} ${topic}`).toBe(false);
      }
    }
  });
  it('lets nobody but the box write cmd/box/result; officers and the township read it, observers and devices not', () => {
    const result = t.boxCommandResult();
    expect(result).toBe('sb/v1/s1/cmd/box/result');
    expect(parse(result)).toEqual({ kind: 'boxCommandResult' });
    for (const p of [rg1, siren1, li, zhen, obs]) expect(mayPublish(p, parse(result)), p.username).toBe(false);
    expect([rg1, siren1, li, zhen, obs].map((p) => mayRead(p, parse(result)))).toEqual([false, false, true, true, false]);
    expect(maySubscribe('s1', li, result)).toBe(true);
    expect(maySubscribe('s1', obs, result)).toBe(false);
    expect(parse('sb/v1/s1/cmd/box/other')).toBeNull();
  });
  it('allows a last will only on the device’s own status topic', () => {
    expect(mayWill(rg1, parse(t.deviceStatus('rg1')))).toBe(true);
    expect(mayWill(rg1, parse(t.deviceStatus('wl1')))).toBe(false);
    expect(mayWill(rg1, parse(t.sensorReading('rg1')))).toBe(false);
    expect(mayWill(li, parse(t.boxCommand()))).toBe(false);
  });
});

describe('read ACL', () => {
  it('decides forwarding per concrete topic', () => {
    expect(mayRead(siren1, parse(t.actuatorCommand('siren1')))).toBe(true);
    expect(mayRead(siren1, parse(t.actuatorCommand('spk1')))).toBe(false);
    expect(mayRead(siren1, parse(t.alert('rg1/rain')))).toBe(false);
    expect(mayRead(rg1, parse(t.actuatorCommand('rg1')))).toBe(false);
    expect(mayRead(li, parse(t.actuatorCommand('siren1')))).toBe(false);
    for (const topic of [t.sensorReading('rg1'), t.boxCommand(), t.alert('a/b'), t.event(), t.status(), t.deviceStatus('rg1'), t.actuatorReport('siren1')]) {
      expect(mayRead(li, parse(topic)), topic).toBe(true);
      expect(mayRead(zhen, parse(topic)), topic).toBe(true);
    }
    expect([t.alert('a/b'), t.event(), t.status(), t.boxCommand(), t.sensorReading('rg1')].map((x) => mayRead(obs, parse(x)))).toEqual([true, true, true, false, false]);
  });

  it('grants wildcard subscriptions only inside the role’s patterns', () => {
    expect(maySubscribe('s1', siren1, t.actuatorCommand('siren1'))).toBe(true);
    expect(maySubscribe('s1', siren1, 'sb/v1/s1/cmd/+')).toBe(false);
    expect(maySubscribe('s1', siren1, '#')).toBe(false);
    expect(maySubscribe('s1', rg1, '#')).toBe(false);
    expect(maySubscribe('s1', li, 'sb/v1/s1/#')).toBe(true);
    expect(maySubscribe('s1', li, 'sb/v1/s1/cmd/+')).toBe(true); // cmd/<actuator> withheld on forward
    expect(maySubscribe('s1', li, 'sb/v1/s1/cmd/siren1')).toBe(false);
    expect(maySubscribe('s1', li, 'sb/v1/+/#')).toBe(false);
    expect(maySubscribe('s1', obs, 'sb/v1/s1/alert/+/rain')).toBe(true);
    expect(maySubscribe('s1', obs, 'sb/v1/s1/+')).toBe(false);
  });
});
