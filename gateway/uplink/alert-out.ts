/**
 * `sb/v1/<site>/alert/<key>` on the township broker: the retained current state of each
 * alert, the same payload the local broker retains (alert-state.ts). A cleared alert clears
 * the retained message (an empty retained payload, MQTT-3.3.1-10/11) instead of leaving a
 * `cleared` state behind: a township dashboard subscribing to `sb/v1/+/alert/#` then sees only
 * what is active. The message's key is its topic, so during an outage only the newest state of
 * each subject waits (a raised-then-cleared alert leaves just the clear).
 */
import { alertKey, alertState } from '../alert-state.ts';
import type { AlertTransition } from '../engine/types.ts';
import type { SideMessage } from './side-message.ts';
import type { TownshipTopics } from './township-topics.ts';

/** The retained message for transition `t`; `at` is the wire time stamped on it (wire.ts wallTime). */
export function alertMessage(topics: TownshipTopics, t: AlertTransition, at: string): SideMessage {
  const topic = topics.alert(alertKey(t));
  const payload = t.transition === 'cleared' ? '' : JSON.stringify(alertState(t, at));
  return { topic, payload, retain: true, qos: 1, key: topic };
}
