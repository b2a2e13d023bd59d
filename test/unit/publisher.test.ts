import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { AlertTransition } from '../../gateway/engine/types.ts';
import { Bus } from '../../gateway/shell/bus.ts';
import { Publisher, storageProblems } from '../../gateway/shell/publisher.ts';
import { site, T0 } from '../helpers/site.ts';

const cfg = site(`
site: { id: t, name: 测试村 }
sensors:
  - { id: wl1, kind: water_level, stages: { guaranteed: 5 } }
`);

const raised: AlertTransition = {
  transition: 'raised',
  alert: 'wl1/stage/1',
  kind: 'water_level',
  sensors: ['wl1'],
  zone: 'site',
  rule: 'stage_guaranteed',
  level: 'orange',
  previousLevel: null,
  values: { water_level_m: 6 },
  textZh: '水位超过保证水位',
  textEn: 'above the guaranteed stage',
  at: T0,
};

function rig(active: () => number = () => 1): { bus: Bus; sent: { topic: string; payload: any; retain: boolean }[]; publisher: Publisher } {
  const log = pino({ level: 'silent' });
  const bus = new Bus(log);
  const sent: { topic: string; payload: any; retain: boolean }[] = [];
  const publish = async (topic: string, payload: string, opts: { retain?: boolean } = {}): Promise<void> => void sent.push({ topic, payload: JSON.parse(payload), retain: opts.retain ?? false });
  const clock = { wall: () => T0, mono: () => 0, trusted: () => true, boot: 'b1' };
  const publisher = new Publisher({ config: cfg, bus, log, clock }, publish, { activeAlerts: active, problems: () => [] });
  return { bus, sent, publisher };
}

/** Until the publisher's outbox (two setImmediate hops) has been flushed. */
const tick = (): Promise<void> => new Promise((r) => setImmediate(() => setImmediate(r)));

describe('publisher', () => {
  it('publishes nothing while a step is still emitting (the siren command goes first), then everything in order', async () => {
    const { bus, sent, publisher } = rig();
    await publisher.start();
    await tick();
    sent.length = 0;
    bus.emit('logged', { seq: 7, type: 'transition', atWall: T0, payload: raised });
    bus.emit('transition', raised);
    bus.emit('logged', { seq: 8, type: 'effect', atWall: T0, payload: { type: 'siren', zone: 'site' } });
    expect(sent).toEqual([]);
    await tick();
    expect(sent.map((m) => m.topic)).toEqual(['sb/v1/t/event', 'sb/v1/t/alert/wl1/stage', 'sb/v1/t/event']);
    expect(sent.map((m) => m.payload.seq)).toEqual([7, undefined, 8]);
    expect(sent[1]).toMatchObject({ retain: true, payload: { alert: 'wl1/stage/1', state: 'active', level: 'orange' } });
    expect(sent[0]!.retain).toBe(false);
  });

  it('stop() sends what is waiting before saying offline', async () => {
    const { bus, sent, publisher } = rig();
    await publisher.start();
    bus.emit('logged', { seq: 9, type: 'stop', atWall: T0, payload: { boot: 'b1' } });
    await publisher.stop();
    const topics = sent.map((m) => `${m.topic}${m.payload.state ? `:${m.payload.state}` : ''}`);
    expect(topics).toEqual(['sb/v1/t/status:online', 'sb/v1/t/event', 'sb/v1/t/status:offline']);
  });

  it('counts active alerts for the status after the step, not while it emits', async () => {
    let counted = 0;
    let active = 0;
    const { bus, sent, publisher } = rig(() => (counted++, active));
    await publisher.start();
    await tick();
    sent.length = 0;
    counted = 0;
    active = 1;
    bus.emit('transition', raised);
    expect(counted).toBe(0);
    await tick();
    expect(counted).toBe(1);
    expect(sent.map((m) => m.topic)).toEqual(['sb/v1/t/alert/wl1/stage', 'sb/v1/t/status']);
    expect(sent[1]!.payload).toMatchObject({ state: 'online', active_alerts: 1 });
  });

  it('a stop right after a transition ends with offline, not with a late online status', async () => {
    let active = 0;
    const { bus, sent, publisher } = rig(() => active);
    await publisher.start();
    await tick();
    sent.length = 0;
    active = 1;
    bus.emit('transition', raised);
    await publisher.stop();
    await tick();
    expect(sent.map((m) => `${m.topic}${m.payload.state ? `:${m.payload.state}` : ''}`)).toEqual(['sb/v1/t/alert/wl1/stage:active', 'sb/v1/t/status:offline']);
  });

  it('flushes after an immediate that the step scheduled from a microtask (aedes writing the siren command)', async () => {
    const order: string[] = [];
    const { bus, sent, publisher } = rig();
    await publisher.start();
    await tick();
    sent.length = 0;
    bus.emit('transition', raised);
    bus.emit('logged', { seq: 7, type: 'transition', atWall: T0, payload: raised });
    void Promise.resolve().then(() => setImmediate(() => order.push(`siren written (${sent.length} published before)`)));
    await tick();
    expect(order).toEqual(['siren written (0 published before)']);
    expect(sent).toHaveLength(2);
  });
});

describe('the status problems of the event log', () => {
  it('say storage_degraded:<reason> while events are held, and storage_log_replaced:corrupt once a damaged log was moved aside', () => {
    expect(storageProblems({ degraded: false, reason: null, replacedLog: null })).toEqual([]);
    expect(storageProblems({ degraded: true, reason: 'newer_schema', replacedLog: null })).toEqual(['storage_degraded:newer_schema']);
    expect(storageProblems({ degraded: false, reason: null, replacedLog: '/data/events.db.corrupt-20260720T000000Z' })).toEqual(['storage_log_replaced:corrupt']);
    expect(storageProblems({ degraded: true, reason: 'disk_full', replacedLog: '/x' })).toEqual(['storage_degraded:disk_full', 'storage_log_replaced:corrupt']);
  });
});

describe('a status asked for before the publisher starts', () => {
  it('is not sent to a broker that is not listening yet; start() sends it, problem and all', async () => {
    // The store degrades inside its own start, the first module's, before the broker listens.
    const problems: string[] = [];
    const log = pino({ level: 'silent' });
    const bus = new Bus(log);
    const sent: { topic: string; payload: any }[] = [];
    let brokerUp = false;
    const publish = async (topic: string, payload: string): Promise<void> => {
      if (!brokerUp) throw new Error('broker is not running');
      sent.push({ topic, payload: JSON.parse(payload) });
    };
    const clock = { wall: () => T0, mono: () => 0, trusted: () => true, boot: 'b1' };
    const publisher = new Publisher({ config: cfg, bus, log, clock }, publish, { activeAlerts: () => 0, problems: () => problems });
    problems.push('storage_degraded:read_only');
    publisher.status();
    await tick();
    brokerUp = true;
    await publisher.start();
    await tick();
    expect(sent).toEqual([{ topic: 'sb/v1/t/status', payload: expect.objectContaining({ state: 'online', problems: ['storage_degraded:read_only'] }) }]);
  });
});
