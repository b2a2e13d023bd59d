import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { Effect } from '../../gateway/planner/types.ts';
import { ActuatorRouter } from '../../gateway/shell/actuators.ts';
import { Bus } from '../../gateway/shell/bus.ts';
import { site, T0 } from '../helpers/site.ts';

const cfg = site(`
site: { id: t, name: 测试村 }
zones: [{ id: north }, { id: south }]
sensors:
  - { id: sm1, kind: smoke, zone: north }
actuators:
  - { id: box, kind: siren, zones: [south] }
  - { id: s-north, kind: siren, zones: [north] }
  - { id: s-all, kind: siren, zones: [site] }
  - { id: spk-north, kind: speaker, zones: [north] }
`);

function rig(): { bus: Bus; sent: { topic: string; payload: any }[]; warnings: string[]; infos: any[] } {
  const warnings: string[] = [];
  const infos: any[] = [];
  const log = pino({ level: 'info' }, {
    write: (line: string) => {
      const o = JSON.parse(line);
      if (o.level === 40) warnings.push(o.msg);
      else infos.push(o);
    },
  });
  const bus = new Bus(log);
  const sent: { topic: string; payload: any }[] = [];
  const router = new ActuatorRouter({ config: cfg, bus, log, clock: { wall: () => T0, mono: () => 0, trusted: () => true, boot: 'b' } }, async (topic, payload) => void sent.push({ topic, payload: JSON.parse(payload) }));
  void router.start();
  return { bus, sent, warnings, infos };
}

const siren = (zone: string): Effect => ({ type: 'siren', zone, at: T0, activity: 'act-1', priority: 'auto_red', pattern: 'fire', steps: [1000, 500], clamped: false }) as unknown as Effect;
const broadcast = (zone: string): Effect => ({ type: 'broadcast', zone, at: T0, activity: 'act-2', chime: true, repeat: 2, textZh: '火警', textEn: 'fire' }) as unknown as Effect;

describe('actuator router', () => {
  it('sends a siren effect to every siren serving its zone (site-wide ones included), without the planner time', () => {
    const { bus, sent } = rig();
    bus.emit('effect', siren('north'));
    expect(sent.map((m) => m.topic)).toEqual(['sb/v1/t/cmd/s-north', 'sb/v1/t/cmd/s-all']);
    expect(sent[0]!.payload).toMatchObject({ type: 'siren', zone: 'north', pattern: 'fire' });
    expect(sent[0]!.payload.at).toBeUndefined();
  });

  it('never commands an actuator named box: cmd/box addresses the box itself (the broker says so at start)', () => {
    const { bus, sent } = rig();
    bus.emit('effect', siren('south'));
    expect(sent.map((m) => m.topic)).toEqual(['sb/v1/t/cmd/s-all']);
  });

  it('warns once per zone that has no speaker, not at every broadcast', () => {
    const { bus, sent, warnings } = rig();
    for (let i = 0; i < 5; i++) bus.emit('effect', broadcast('south'));
    bus.emit('effect', broadcast('north'));
    expect(sent.map((m) => m.topic)).toEqual(['sb/v1/t/cmd/spk-north']);
    expect(warnings).toEqual(['no speaker serves zone south; its effects are logged but reach nobody (warned once per zone)']);
  });

  it('logs each command once the broker has called back, with when it was issued and how long after its input', async () => {
    const { bus, infos } = rig();
    const since = performance.now() - 2;
    bus.emit('effect', siren('north'), { since });
    await new Promise((r) => setImmediate(r));
    const lines = infos.filter((o) => o.msg === 'siren command sent to s-north' || o.msg === 'siren command sent to s-all');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({ actuator: 's-north', effect: 'siren', activity: 'act-1' });
    expect(lines[0].latency_ms).toBeGreaterThanOrEqual(2);
    expect(lines[0].latency_ms).toBeLessThan(10_000);
    expect(Math.abs(lines[0].issued_at - Date.now())).toBeLessThan(1000);
    expect(lines[0].broker_ms).toBeGreaterThanOrEqual(0);
  });

  it('an effect without its origin (the wind-down at SIGTERM) logs no latency', async () => {
    const { bus, infos } = rig();
    bus.emit('effect', siren('south'));
    await new Promise((r) => setImmediate(r));
    expect(infos.find((o) => o.msg === 'siren command sent to s-all')).toMatchObject({ latency_ms: null });
  });
});
