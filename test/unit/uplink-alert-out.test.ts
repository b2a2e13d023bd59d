/**
 * The township's retained alert states: the local broker's payload (one shape, alert-state.ts),
 * keyed by the topic so an outage keeps only the newest; a cleared alert clears the retained
 * message with an empty payload.
 */
import { describe, expect, it } from 'vitest';
import { alertState } from '../../gateway/alert-state.ts';
import { alertMessage } from '../../gateway/uplink/alert-out.ts';
import { townshipTopics } from '../../gateway/uplink/township-topics.ts';
import { rainTransition } from '../helpers/site.ts';

const topics = townshipTopics('demo');
const AT = '2026-07-20T00:00:00+08:00';

describe('alert/<key> for the township', () => {
  it('retains each active transition under the alert subject, with the local payload', () => {
    for (const type of ['raised', 'escalated', 'deescalated', 'acknowledged'] as const) {
      const t = rainTransition(type, 'red', { previousLevel: type === 'raised' ? null : 'orange', acknowledgedBy: type === 'acknowledged' ? 'officer:li' : undefined });
      const m = alertMessage(topics, t, AT);
      expect(m).toMatchObject({ topic: 'sb/v1/demo/alert/rg1/rain', retain: true, qos: 1, key: 'sb/v1/demo/alert/rg1/rain' });
      const payload = JSON.parse(m.payload as string);
      expect(payload).toEqual(alertState(t, AT));
      expect(payload).toMatchObject({ alert: 'rg1/rain/1', transition: type, state: 'active', level: 'red', at: AT, values: { rain_3h_mm: 104.2 }, text_zh: t.textZh });
      expect(payload.previous_level).toBe(type === 'raised' ? null : 'orange');
      if (type === 'acknowledged') expect(payload.acknowledged_by).toBe('officer:li');
      else expect(payload).not.toHaveProperty('acknowledged_by');
    }
  });

  it('clears the retained message when the alert clears (empty payload, still retained)', () => {
    const m = alertMessage(topics, rainTransition('cleared', 'red'), AT);
    expect(m).toEqual({ topic: 'sb/v1/demo/alert/rg1/rain', payload: '', retain: true, qos: 1, key: 'sb/v1/demo/alert/rg1/rain' });
  });

  it('gives the next occurrence of a subject the same key, and another subject another', () => {
    const first = alertMessage(topics, rainTransition('raised', 'red'), AT);
    const next = alertMessage(topics, rainTransition('raised', 'orange', { alert: 'rg1/rain/2' }), AT);
    const other = alertMessage(topics, rainTransition('raised', 'orange', { alert: 'rg2/rain/1', sensors: ['rg2'] }), AT);
    expect(next.key).toBe(first.key);
    expect(other.key).toBe('sb/v1/demo/alert/rg2/rain');
  });

  it('refuses an alert id that cannot be a topic path', () => {
    expect(() => alertMessage(topics, rainTransition('raised', 'red', { alert: 'rg+/rain/1' }), AT)).toThrow(/not a topic path/);
  });
});
