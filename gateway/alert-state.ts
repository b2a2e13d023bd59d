/**
 * An alert's current state as the retained `alert/<key>` payload: the transition in wire form
 * (snake_case) with `state` (`active` or `cleared`) and `at` as wall time with the site's offset.
 * One shape for both brokers: the local one (shell/publisher.ts) keeps a cleared state retained
 * for the panel, the township one (uplink/alert-out.ts) clears the retained message instead.
 */
import { alertSubject } from './engine/alert-slot.ts';
import type { AlertTransition } from './engine/types.ts';
import { toWire } from './wire.ts';

/** The payload of `alert/<key>` for transition `t`, stamped `at` (wire time). */
export function alertState(t: AlertTransition, at: string): Record<string, unknown> {
  const { at: _at, ...rest } = t;
  return { ...toWire(rest), state: t.transition === 'cleared' ? 'cleared' : 'active', at };
}

/** The retained topic's key: the alert's subject (`rg1/rain`), so the next occurrence replaces it. */
export function alertKey(t: AlertTransition): string {
  return alertSubject(t.alert);
}
