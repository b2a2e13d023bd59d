import { describe, expect, it } from 'vitest';
import { isUrgent, isUrgentAlert } from '../../gateway/uplink/event-wire.ts';

describe('uplink: what goes in the live lane', () => {
  it('an escalation (吹哨, the call for help) is urgent, like a red or orange alert raised', () => {
    expect(isUrgent('escalation', { alert: 'rain:rg1', step: 1 })).toBe(true);
    expect(isUrgent('transition', { transition: 'raised', level: 'red' })).toBe(true);
    expect(isUrgent('transition', { transition: 'escalated', level: 'orange' })).toBe(true);
  });

  it('a yellow alert, a clear, a reading note are not', () => {
    expect(isUrgent('transition', { transition: 'raised', level: 'yellow' })).toBe(false);
    expect(isUrgent('transition', { transition: 'cleared', level: 'red' })).toBe(false);
    expect(isUrgent('note', { level: 'red' })).toBe(false);
  });

  it('the retained state and CAP of red and orange alerts (fire is red) skip the backlog, the rest wait', () => {
    expect(isUrgentAlert({ level: 'red' })).toBe(true);
    expect(isUrgentAlert({ level: 'orange' })).toBe(true);
    expect(isUrgentAlert({ level: 'yellow' })).toBe(false);
    expect(isUrgentAlert({ level: 'blue' })).toBe(false);
  });
});
