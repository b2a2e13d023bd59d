import { pino } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { windDown } from '../../gateway/planner/plan.ts';
import { plan } from '../../gateway/planner/plan.ts';
import { createPlannerState } from '../../gateway/planner/state.ts';
import { Bus } from '../../gateway/shell/bus.ts';
import type { Clock } from '../../gateway/shell/clock.ts';
import { EngineRunner } from '../../gateway/shell/engine-runner.ts';
import type { EventSink, EventTypeName } from '../../gateway/shell/record.ts';
import { createCore, step } from '../../gateway/core.ts';
import { pristineOf, SNAPSHOT_VERSION, takeSnapshot } from '../../gateway/core-snapshot.ts';
import type { RestoreSource } from '../../gateway/shell/restore.ts';
import { site, T0 } from '../helpers/site.ts';
import { until } from '../helpers/until.ts';

const cfg = site(`
site: { id: t, name: 测试村 }
sensors:
  - { id: sm1, kind: smoke }
`);

function fakeClock(): Clock & { advance(ms: number): void } {
  let mono = 0;
  return { wall: () => T0 + mono, mono: () => mono, trusted: () => true, boot: 'b1', advance: (ms) => void (mono += ms) };
}

class MemorySink implements EventSink {
  events: { seq: number; type: EventTypeName; payload: unknown }[] = [];
  readings = 0;
  /** Events per commit: one step's outputs are durable together. */
  commits: number[] = [];
  /** Per commit: whether the core's snapshot was in it. */
  withSnapshot: boolean[] = [];
  appendMany(events: readonly { type: EventTypeName; payload: unknown }[], snapshot?: { version: number; body: string } | null): number[] {
    this.commits.push(events.length);
    this.withSnapshot.push(Boolean(snapshot));
    return events.map((e) => this.events.push({ seq: this.events.length + 1, type: e.type, payload: e.payload }));
  }
  addReading(): void {
    this.readings++;
  }
  snapshots: string[] = [];
  saveSnapshot(s: { version: number; body: string }): void {
    this.snapshots.push(s.body);
  }
}

/** A runner on a fake clock and an in-memory log (not started). */
function rig(): { bus: Bus; clock: ReturnType<typeof fakeClock>; sink: MemorySink; runner: EngineRunner } {
  const log = pino({ level: 'silent' });
  const bus = new Bus(log);
  const clock = fakeClock();
  const sink = new MemorySink();
  return { bus, clock, sink, runner: new EngineRunner({ config: cfg, bus, log, clock }, sink) };
}

describe('engine runner', () => {
  afterEach(() => void vi.useRealTimers());

  it('logs every transition and effect before emitting any, in one commit per step, and commands with who sent them', async () => {
    const { bus, clock, sink, runner } = rig();
    const order: string[] = [];
    bus.on('transition', () => order.push(`emit transition after ${sink.events.length} events`));
    bus.on('effect', (e) => order.push(`emit ${e.type} after ${sink.events.length} events`));
    await runner.start();
    bus.emit('reading', { sensor: 'sm1', value: 1, at: clock.mono(), quality: 'good' });
    clock.advance(10_000);
    bus.emit('reading', { sensor: 'sm1', value: 1, at: clock.mono(), quality: 'good' });
    expect(sink.readings).toBe(2);
    const types = sink.events.map((e) => e.type);
    expect(types).toEqual(['transition', 'effect', 'effect', 'transition', 'effect', 'effect']);
    // The pre-alarm and its two panel effects were committed together before anything was emitted.
    expect(sink.commits.slice(0, 2)).toEqual([3, 3]);
    // Effects go out first: the siren must not wait for the alert's own publication.
    expect(order.slice(0, 3)).toEqual(['emit indicator after 3 events', 'emit indicator after 3 events', 'emit transition after 3 events']);
    bus.emit('command', { type: 'silence', by: 'ignored' }, { by: 'wang', role: 'officer', via: 'mqtt' });
    const cmd = sink.events.find((e) => e.type === 'command')!;
    expect(cmd.payload).toMatchObject({ by: 'wang', role: 'officer', via: 'mqtt', command: { type: 'silence' } });
    const off = sink.events.filter((e) => e.type === 'effect' && (e.payload as { type: string }).type === 'siren_off');
    expect(off.length).toBeGreaterThan(0);
    expect(off.every((e) => (e.payload as { by: string }).by === 'wang' || (e.payload as { by: string }).by === 'ignored')).toBe(true);
    await runner.stop();
  });

  it("an alarm's commit does not wait for the snapshot, which follows once the commands are out; an officer's command carries its own", async () => {
    const { bus, clock, sink, runner } = rig();
    await runner.start();
    let snapshotsWhenEmitted = -1;
    bus.on('effect', () => (snapshotsWhenEmitted = sink.snapshots.length));
    bus.emit('reading', { sensor: 'sm1', value: 1, at: clock.mono(), quality: 'good' });
    clock.advance(10_000);
    bus.emit('reading', { sensor: 'sm1', value: 1, at: clock.mono(), quality: 'good' }); // confirmed: red
    // Two alarm steps in one turn: committed without a snapshot, effects out before any is taken.
    expect(sink.withSnapshot).toEqual([false, false]);
    expect(snapshotsWhenEmitted).toBe(0);
    await new Promise((r) => setImmediate(() => setImmediate(r)));
    // One snapshot for the turn, taken after both steps: the confirmed (red) fire is in it.
    expect(sink.snapshots).toHaveLength(1);
    expect(sink.snapshots[0]).toContain('site/fire');
    expect(sink.snapshots[0]).toContain('"red"');
    bus.emit('command', { type: 'silence', by: 'wang' }, { by: 'wang', role: 'officer', via: 'mqtt' });
    expect(sink.withSnapshot.at(-1)).toBe(true);
    await runner.stop();
  });

  it('acknowledgements go to the engine with the authenticated officer', async () => {
    const { bus, clock, runner } = rig();
    await runner.start();
    const seen: string[] = [];
    bus.on('transition', (t) => seen.push(`${t.transition}:${t.acknowledgedBy ?? ''}`));
    bus.emit('reading', { sensor: 'sm1', value: 1, at: clock.mono(), quality: 'good' });
    const id = runner.active()[0]!.alert;
    // Alert ids carry the raise time on the wall-offset monotonic clock: unique across restarts.
    expect(id).toBe(`site/fire/${T0}`);
    bus.emit('command', { type: 'ack', alert: id, by: 'wang' }, { by: 'wang', role: 'officer', via: 'mqtt' });
    expect(seen).toEqual(['raised:', 'acknowledged:wang']);
    await runner.stop();
  });

  it('alert ids carry integer ms, though the box clock (monotonic + wall offset) is fractional', async () => {
    const { bus, clock, runner } = rig();
    clock.advance(0.736); // performance.now() / hrtime: fractions of a ms
    await runner.start();
    clock.advance(1000.25);
    bus.emit('reading', { sensor: 'sm1', value: 1, at: clock.mono(), quality: 'good' });
    const id = runner.active()[0]!.alert;
    expect(id).toMatch(/^site\/fire\/\d+$/);
    expect(id).toBe(`site/fire/${Math.floor(T0 + 0.736 + 1000.25)}`);
    await runner.stop();
  });

  it('a transition log line has each key once: the alert colour is alert_level, pino keeps level', async () => {
    const lines: string[] = [];
    const log = pino({ level: 'info' }, { write: (line: string) => void lines.push(line) });
    const bus = new Bus(log);
    const clock = fakeClock();
    const runner = new EngineRunner({ config: cfg, bus, log, clock }, new MemorySink());
    await runner.start();
    bus.emit('reading', { sensor: 'sm1', value: 1, at: clock.mono(), quality: 'good' });
    // The line waits for the siren commands (afterCommands).
    const line = await until('the transition log line', () => lines.find((l) => l.includes('"transition":"raised"')), 5000);
    // Keys of the top-level object, read from the text: JSON.parse would keep only the last duplicate.
    const keys = [...line.matchAll(/[{,]"([a-z_]+)":/g)].map((m) => m[1]!);
    expect(keys).toContain('level');
    expect(keys.filter((k, i) => keys.indexOf(k) !== i)).toEqual([]);
    const parsed = JSON.parse(line) as Record<string, unknown>;
    expect(parsed.level).toBe(40); // pino's warn
    expect(parsed.alert_level).toBe('yellow');
    await runner.stop();
  });

  it('ticks every second on its own timer', async () => {
    vi.useFakeTimers();
    const { clock, sink, runner } = rig();
    await runner.start();
    clock.advance(151_000); // smoke interval 30 s × 5
    vi.advanceTimersByTime(1000);
    expect(sink.events.map((e) => [e.type, (e.payload as { rule?: string }).rule])).toContainEqual(['fault', 'stale']);
    await runner.stop();
  });
});

describe('engine runner after a restart', () => {
  it('an alarm the readings since the snapshot cleared gets its all-clear, and its siren does not start again', async () => {
    const river = site(`
site: { id: t, name: 测试村 }
sensors:
  - { id: wl1, kind: water_level, stages: { warning: 2.5, guaranteed: 3.0, historical_max: 3.5 }, rise: [], raise_after_s: 0, clear_after_s: 10 }
`);
    const before = createCore(river, T0);
    const raised = step(before, { type: 'reading', reading: { sensor: 'wl1', value: 3.6, at: T0, quality: 'good' } }, T0);
    expect(raised.effects.filter((e) => e.type === 'siren')).toHaveLength(1);
    const body = JSON.stringify(takeSnapshot(before, pristineOf(createCore(river, T0)), T0, T0));
    // The river fell back below every stage and stayed there 15 s; the box died before its tick.
    const rows = [3.6, 1, 1].map((value, i) => ({ sensor: 'wl1', atWall: T0 + [0, 10_000, 25_000][i]!, value, quality: 'good' }));
    const source: RestoreSource = { snapshot: () => ({ version: SNAPSHOT_VERSION, seq: 3, atWall: T0, body }), history: () => rows };
    const log = pino({ level: 'silent' });
    const clock: Clock = { wall: () => T0 + 50_000, mono: () => 0, trusted: () => true, boot: 'b2' };
    const sink = new MemorySink();
    const runner = new EngineRunner({ config: river, bus: new Bus(log), log, clock }, sink, 1000, source);
    await runner.start();
    expect(runner.resume()).toEqual([]);
    const effects = sink.events.filter((e) => e.type === 'effect').map((e) => e.payload as { type: string; pattern?: string });
    expect(effects.filter((e) => e.type === 'siren').map((e) => e.pattern)).toEqual(['all_clear']);
    expect(sink.events.filter((e) => e.type === 'transition').map((e) => (e.payload as { transition: string }).transition)).toEqual(['cleared']);
    await runner.stop();
  });
});

describe('wind down (SIGTERM)', () => {
  it('stops everything except what an automatic alarm holds', () => {
    const st = createPlannerState(cfg);
    plan(st, { type: 'command', command: { type: 'broadcast', source: 'officer', by: 'li', textZh: '通知' } }, T0);
    const alarm = { transition: 'raised' as const, alert: 'site/fire/1', kind: 'smoke' as const, sensors: ['sm1'], zone: 'site', rule: 'smoke_two_samples', level: 'red' as const, previousLevel: null, values: {}, textZh: '火警', textEn: 'fire', at: T0 };
    plan(st, { type: 'transition', transition: alarm }, T0 + 1000);
    plan(st, { type: 'command', command: { type: 'siren', source: 'township', by: 'town', pattern: 'test', zones: ['site'] } }, T0 + 2000);
    const effects = windDown(st, T0 + 3000);
    // The fire alarm keeps sounding and speaking; the queued officer notice and township blip are dropped.
    expect(effects).toEqual([]);
    expect([...st.channels.values()].flatMap((c) => c.queue)).toEqual([]);
    expect([...st.channels.values()].map((c) => c.current?.priority).filter(Boolean)).toEqual(['alarm', 'alarm']);
    const st2 = createPlannerState(cfg);
    plan(st2, { type: 'command', command: { type: 'siren', source: 'officer', by: 'wang', pattern: 'all_clear' } }, T0);
    expect(windDown(st2, T0 + 1000).map((e) => e.type === 'siren_off' && [e.reason, e.by])).toEqual([['stopped', 'shutdown']]);
  });
});
