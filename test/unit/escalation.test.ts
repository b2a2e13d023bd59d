import { describe, expect, it } from 'vitest';
import { createCore, step, type Core } from '../../gateway/core.ts';
import { parseSnapshot, pristineOf, restorePlanner, takeSnapshot } from '../../gateway/core-snapshot.ts';
import { MAX_ESCALATIONS } from '../../gateway/planner/escalation.ts';
import { T0, site } from '../helpers/site.ts';

const cfg = site(`
site: { id: t, name: 测试村 }
sensors:
  - { id: wl1, kind: water_level, stages: { warning: 2.5, guaranteed: 3.0 }, raise_after_s: 0, clear_after_s: 0 }
actuators:
  - { id: siren1, kind: siren, zones: [site] }
  - { id: spk1, kind: speaker, zones: [site] }
`);
const S = 1000;
const read = (value: number, at: number) => ({ type: 'reading' as const, reading: { sensor: 'wl1', value, at, quality: 'good' as const } });
const escalate = (alert: string, text = '水位还在涨,请求支援') => ({ type: 'township' as const, command: { type: 'escalate' as const, by: 'wang', alert, text } });
const ackEsc = (escalation: string, acknowledgedBy?: string) => ({ type: 'township' as const, command: { type: 'escalation_ack' as const, by: 'town', escalation, ...(acknowledgedBy ? { acknowledgedBy } : {}) } });

/** Raises wl1's stage alert (orange, guaranteed stage) at T0; returns its id. */
function raise(core: Core): string {
  const out = step(core, read(3.1, T0), T0);
  return out.transitions.find((t) => t.transition === 'raised')!.alert;
}

describe('吹哨 escalation and the response clock', () => {
  it('records raised → acknowledged → broadcast → escalated → township ack, each once', () => {
    const core = createCore(cfg, T0);
    const alert = raise(core);
    // The raise plans its warning at once: the first broadcast effect stops `broadcast`.
    expect(core.planner.alerts.get(alert)!.clock).toEqual({ raisedAt: T0, acknowledgedAt: null, acknowledgedBy: null, broadcastAt: T0, escalatedAt: null, townshipAckAt: null });
    step(core, { type: 'ack', alert, by: 'li' }, T0 + 10 * S);
    const sent = step(core, escalate(alert), T0 + 20 * S);
    expect(sent.refused).toBeUndefined();
    expect(sent.escalations).toEqual([
      {
        phase: 'sent',
        escalation: `${alert}/e1`,
        alert,
        kind: 'water_level',
        level: 'orange',
        zone: 'site',
        by: 'wang',
        text: '水位还在涨,请求支援',
        textZh: expect.stringContaining('保证水位'),
        textEn: expect.any(String),
        at: T0 + 20 * S,
        responseClock: { raisedAt: T0, acknowledgedAt: T0 + 10 * S, acknowledgedBy: 'li', broadcastAt: T0, escalatedAt: T0 + 20 * S, townshipAckAt: null },
      },
    ]);
    // A second whistle gets its own id; the clock keeps the first.
    const again = step(core, escalate(alert, '再次请求'), T0 + 30 * S);
    expect(again.escalations[0]).toMatchObject({ escalation: `${alert}/e2`, responseClock: { escalatedAt: T0 + 20 * S } });
    const acked = step(core, ackEsc(`${alert}/e2`, '张科长'), T0 + 40 * S);
    expect(acked.escalations).toMatchObject([{ phase: 'acknowledged', escalation: `${alert}/e2`, by: 'wang', ackBy: 'town', acknowledgedBy: '张科长', at: T0 + 40 * S, responseClock: { townshipAckAt: T0 + 40 * S } }]);
    step(core, ackEsc(`${alert}/e1`), T0 + 50 * S);
    expect(core.planner.alerts.get(alert)!.clock.townshipAckAt).toBe(T0 + 40 * S);
  });

  it('refuses an unknown or cleared alert, an unknown escalation, and a second ack of one, in words', () => {
    const core = createCore(cfg, T0);
    const alert = raise(core);
    expect(step(core, escalate('wl1/stage/1'), T0 + S).refused).toBe("no active alert 'wl1/stage/1' to escalate");
    expect(step(core, ackEsc('wl1/stage/1/e1'), T0 + S).refused).toBe("no escalation 'wl1/stage/1/e1' is known (never sent, or long forgotten)");
    step(core, escalate(alert), T0 + 2 * S);
    step(core, ackEsc(`${alert}/e1`, '张科长'), T0 + 3 * S);
    expect(step(core, ackEsc(`${alert}/e1`), T0 + 4 * S).refused).toBe(`escalation '${alert}/e1' was already acknowledged by 张科长`);
    step(core, read(2.0, T0 + 5 * S), T0 + 5 * S); // cleared
    expect(step(core, escalate(alert), T0 + 6 * S).refused).toBe(`no active alert '${alert}' to escalate`);
  });

  it('a late township ack of a cleared alert is still recorded, with no clock', () => {
    const core = createCore(cfg, T0);
    const alert = raise(core);
    step(core, escalate(alert), T0 + S);
    step(core, read(2.0, T0 + 2 * S), T0 + 2 * S);
    const out = step(core, ackEsc(`${alert}/e1`), T0 + 3 * S);
    expect(out.escalations).toMatchObject([{ phase: 'acknowledged', alert, kind: 'water_level', responseClock: null }]);
  });

  it('acknowledging an alert twice, or one that is not active, is refused', () => {
    const core = createCore(cfg, T0);
    const alert = raise(core);
    expect(step(core, { type: 'ack', alert, by: 'li' }, T0 + S).refused).toBeUndefined();
    expect(step(core, { type: 'ack', alert, by: 'wang' }, T0 + 2 * S).refused).toBe(`alert '${alert}' was already acknowledged by li`);
    expect(step(core, { type: 'ack', alert: 'wl1/stage/9', by: 'li' }, T0 + 2 * S).refused).toBe("no active alert 'wl1/stage/9' to acknowledge");
  });

  it('survives a restart in the snapshot: escalations and the clock', () => {
    const core = createCore(cfg, T0);
    const pristine = pristineOf(createCore(cfg, T0));
    const alert = raise(core);
    step(core, escalate(alert), T0 + S);
    const snap = parseSnapshot(1, JSON.stringify(takeSnapshot(core, pristine, T0 + S, T0 + S)));
    const after = createCore(cfg, T0 + 2 * S);
    restorePlanner(after, snap);
    expect(after.planner.alerts.get(alert)!.clock.escalatedAt).toBe(T0 + S);
    expect(step(after, ackEsc(`${alert}/e1`), T0 + 3 * S).refused).toBeUndefined();
  });

  it('remembers at most MAX_ESCALATIONS, forgetting the oldest', () => {
    const core = createCore(cfg, T0);
    const alert = raise(core);
    for (let i = 0; i <= MAX_ESCALATIONS; i++) step(core, escalate(alert, `#${i}`), T0 + i);
    expect(core.planner.escalations.size).toBe(MAX_ESCALATIONS);
    expect(step(core, ackEsc(`${alert}/e1`), T0 + S).refused).toMatch(/no escalation/);
    expect(step(core, ackEsc(`${alert}/e2`), T0 + S).refused).toBeUndefined();
  });

  it('a command the planner could only partly carry out says what it could not', () => {
    const core = createCore(cfg, T0);
    const out = step(core, { type: 'command', command: { type: 'siren', source: 'officer', by: 'wang', pattern: 'nope', zones: ['site', 'b9'] } }, T0);
    expect(out.refused).toBe("unknown siren pattern 'nope': nothing sounded for it; unknown zone 'b9': nothing played there");
    expect(step(core, { type: 'command', command: { type: 'stop', by: 'wang' } }, T0).refused).toBeUndefined();
  });
});
