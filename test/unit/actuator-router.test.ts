import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { plan } from '../../gateway/planner/plan.ts';
import { createPlannerState } from '../../gateway/planner/state.ts';
import type { Command, Effect } from '../../gateway/planner/types.ts';
import { ActuatorRouter } from '../../gateway/shell/actuators.ts';
import { Bus } from '../../gateway/shell/bus.ts';
import { site, T0 } from '../helpers/site.ts';

const cfg = site(`
site: { id: t, name: 测试村 }
buses: [{ id: f1, type: tcp, host: 127.0.0.1 }]
zones: [{ id: north }, { id: south }, { id: east }]
sensors:
  - { id: sm1, kind: smoke, zone: north }
actuators:
  - { id: s-north, kind: siren, zones: [north] }
  - { id: s-all, kind: siren, zones: [site] }
  - { id: spk-north, kind: speaker, zones: [north] }
  - { id: s-east, kind: siren, zones: [east], modbus: { bus: f1, unit: 1, profile: waveshare-modbus-rtu-relay } }
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

/** The planner's effects for `commands`, in order: what the router is given in the box. */
function planned(...commands: Command[]): Effect[] {
  const st = createPlannerState(cfg);
  return commands.flatMap((c, i) => plan(st, { type: 'command', command: c }, T0 + i * 1000).effects);
}
const siren = (zones: string[], emergency = false): Command => ({ type: 'siren', source: 'officer', by: 'wang', pattern: 'fire_alarm', zones, emergency });
const speak = (zones: string[]): Command => ({ type: 'broadcast', source: 'officer', by: 'wang', textZh: '通知', zones });

describe('actuator router', () => {
  it('sends each effect to the one actuator it is addressed to, without the planner time', () => {
    const { bus, sent } = rig();
    for (const e of planned(siren(['north']))) bus.emit('effect', e);
    // s-all serves north too and gets its own effect; s-east (Modbus) is the relay driver's.
    expect(sent.map((m) => m.topic)).toEqual(['sb/v1/t/cmd/s-north', 'sb/v1/t/cmd/s-all']);
    expect(sent.map((m) => m.payload.actuator)).toEqual(['s-north', 's-all']);
    expect(sent[0]!.payload).toMatchObject({ type: 'siren', zone: 'north', pattern: 'fire_alarm' });
    expect(sent[0]!.payload.at).toBeUndefined();
  });

  it('an actuator hears only what the planner decided for it: a south request never reaches the north siren', () => {
    const { bus, sent } = rig();
    // The north siren sounds, then a higher-priority south request pre-empts only the site-wide one.
    for (const e of planned(siren(['north']), siren(['south'], true))) bus.emit('effect', e);
    const to = (a: string): string[] => sent.filter((m) => m.topic.endsWith(`/${a}`)).map((m) => `${m.payload.type}:${m.payload.zone}${m.payload.reason ? `:${m.payload.reason}` : ''}`);
    expect(to('s-north')).toEqual(['siren:north']);
    expect(to('s-all')).toEqual(['siren:north', 'siren_off:north:preempted', 'siren:south']);
  });

  it('warns once per zone that has no speaker, not at every broadcast', () => {
    const { bus, sent, warnings } = rig();
    for (const e of planned(...Array.from({ length: 5 }, () => speak(['south'])), speak(['north']))) bus.emit('effect', e);
    expect(sent.map((m) => m.topic)).toEqual(['sb/v1/t/cmd/spk-north']);
    expect(warnings).toEqual(['no speaker serves zone south; its effects are logged but reach nobody (warned once per zone)']);
  });

  it("a speaker's done report frees that speaker in the planner, once", () => {
    const { bus } = rig();
    const commands: unknown[] = [];
    bus.on('command', (c) => commands.push(c));
    for (let i = 0; i < 2; i++) bus.emit('actuatorReport', { actuator: 'spk-north', report: 'done', activity: 'act-4' });
    expect(commands).toEqual([{ type: 'broadcast_done', actuator: 'spk-north', activity: 'act-4' }]);
  });

  it('logs each command once the broker has called back, with when it was issued and how long after its input', async () => {
    const { bus, infos } = rig();
    const since = performance.now() - 2;
    const [toNorth, toAll] = planned(siren(['north']));
    bus.emit('effect', toNorth!, { since });
    bus.emit('effect', toAll!, { since });
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
    for (const e of planned(siren(['south']))) bus.emit('effect', e);
    await new Promise((r) => setImmediate(r));
    expect(infos.find((o) => o.msg === 'siren command sent to s-all')).toMatchObject({ latency_ms: null });
  });
});
