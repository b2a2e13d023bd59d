/**
 * The actuator router and speakers (gateway/shell/actuators.ts): speakers the box plays itself
 * get no MQTT command, a fault naming an activity frees the speaker like done, an MQTT speaker
 * that never reports done becomes a fault, and actuator faults are logged as events.
 */
import { pino } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { plan } from '../../gateway/planner/plan.ts';
import { createPlannerState } from '../../gateway/planner/state.ts';
import type { Command, Effect } from '../../gateway/planner/types.ts';
import { ActuatorRouter } from '../../gateway/shell/actuators.ts';
import { Bus, type ActuatorReport } from '../../gateway/shell/bus.ts';
import type { EventSink } from '../../gateway/shell/record.ts';
import { site, T0 } from '../helpers/site.ts';

const cfg = site(`
site: { id: t, name: 测试村 }
zones: [{ id: north }]
sensors:
  - { id: sm1, kind: smoke, zone: north }
actuators:
  - { id: spk-mqtt, kind: speaker, name: 北区广播, zones: [north] }
  - { id: spk-local, kind: speaker, zones: [north], audio: { sink: file } }
actions: { broadcast_max_s: 60 }
`);

function rig() {
  let mono = 0;
  const bus = new Bus(pino({ level: 'silent' }));
  const sent: { topic: string; payload: any }[] = [];
  const events: { type: string; payload: any }[] = [];
  const sink: EventSink = {
    appendMany: (evs) => evs.map((e) => events.push(e as { type: string; payload: any })),
    addReading: () => undefined,
    saveSnapshot: () => undefined,
  };
  const router = new ActuatorRouter({ config: cfg, bus, log: pino({ level: 'silent' }), clock: { wall: () => T0, mono: () => mono, trusted: () => true, boot: 'b' } }, async (topic, payload) => void sent.push({ topic, payload: JSON.parse(payload) }), sink);
  void router.start();
  const commands: Command[] = [];
  bus.on('command', (c) => commands.push(c as Command));
  const reports: ActuatorReport[] = [];
  bus.on('actuatorReport', (r) => reports.push(r));
  return { bus, sent, events, commands, reports, router, advance: (ms: number) => (mono += ms) };
}

function planned(...commands: Command[]): Effect[] {
  const st = createPlannerState(cfg);
  return commands.flatMap((c, i) => plan(st, { type: 'command', command: c }, T0 + i * 1000).effects);
}
const speak: Command = { type: 'broadcast', source: 'officer', by: 'wang', textZh: '请注意', zones: ['north'] };
const flush = (): Promise<void> => new Promise((r) => setImmediate(r));

afterEach(() => {
  vi.useRealTimers();
});

describe('actuator router and speakers', () => {
  it('a speaker with audio gets no cmd/ message: drivers/speaker plays it', async () => {
    const { bus, sent } = rig();
    for (const e of planned(speak)) bus.emit('effect', e);
    await flush();
    expect(sent.map((m) => m.topic)).toEqual(['sb/v1/t/cmd/spk-mqtt']);
  });

  it('a fault that names an activity frees the speaker, once; one without an activity frees nothing', () => {
    const { bus, commands } = rig();
    bus.emit('actuatorReport', { actuator: 'spk-local', report: 'fault', detail: { reason: 'recording_failed' } });
    bus.emit('actuatorReport', { actuator: 'spk-local', report: 'fault', activity: 'act-7', detail: { reason: 'tts_failed' } });
    bus.emit('actuatorReport', { actuator: 'spk-local', report: 'done', activity: 'act-7' });
    expect(commands).toEqual([{ type: 'broadcast_done', actuator: 'spk-local', activity: 'act-7' }]);
  });

  it('faults go into the event log, once a minute per actuator and reason, in both languages', () => {
    const { bus, events, advance } = rig();
    const fault = (reason: string, activity?: string): void => bus.emit('actuatorReport', { actuator: 'spk-mqtt', report: 'fault', ...(activity ? { activity } : {}), detail: { reason } });
    fault('amp_write_failed');
    advance(5000);
    fault('amp_write_failed');
    fault('playback_failed', 'act-3');
    advance(60_000);
    fault('amp_write_failed');
    expect(events.map((e) => [e.type, e.payload.reason])).toEqual([
      ['fault', 'amp_write_failed'],
      ['fault', 'playback_failed'],
      ['fault', 'amp_write_failed'],
    ]);
    expect(events[1]!.payload).toEqual({
      actuator: 'spk-mqtt',
      actuator_kind: 'speaker',
      reason: 'playback_failed',
      activity: 'act-3',
      zone: null,
      detail: { reason: 'playback_failed' },
      text_zh: '广播「北区广播」故障:playback_failed,本次广播未能播出',
      text_en: 'Speaker spk-mqtt fault: playback_failed; this broadcast was not heard',
    });
  });

  it('an MQTT speaker that never reports done becomes a no_done fault after twice the expected time and 15 s (at most broadcast_max_s)', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const { bus, reports, commands } = rig();
    const [e] = planned(speak).filter((x) => 'actuator' in x && x.actuator === 'spk-mqtt');
    bus.emit('effect', e!);
    await vi.advanceTimersByTimeAsync(0);
    // 请注意 once: chime 1.6 s + pauses 0.7 s + 3 characters ≈ 3.1 s → 21 s.
    await vi.advanceTimersByTimeAsync(20_000);
    expect(reports).toEqual([]);
    await vi.advanceTimersByTimeAsync(2000);
    expect(reports).toEqual([{ actuator: 'spk-mqtt', report: 'fault', activity: (e as { activity: string }).activity, zone: 'north', detail: { reason: 'no_done', after_s: 21 } }]);
    expect(commands).toEqual([{ type: 'broadcast_done', actuator: 'spk-mqtt', activity: (e as { activity: string }).activity }]);
  });

  it('a done in time, or a stop, ends the watch', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const { bus, reports } = rig();
    const [a, b] = planned(speak, { type: 'stop', by: 'wang' }).filter((x) => 'actuator' in x && x.actuator === 'spk-mqtt');
    bus.emit('effect', a!);
    await vi.advanceTimersByTimeAsync(0);
    bus.emit('effect', b!);
    const [c] = planned(speak).filter((x) => 'actuator' in x && x.actuator === 'spk-mqtt');
    bus.emit('effect', { ...c!, activity: 'act-99' } as Effect);
    await vi.advanceTimersByTimeAsync(0);
    bus.emit('actuatorReport', { actuator: 'spk-mqtt', report: 'done', activity: 'act-99' });
    await vi.advanceTimersByTimeAsync(120_000);
    expect(reports.filter((r) => r.report === 'fault')).toEqual([]);
  });
});
