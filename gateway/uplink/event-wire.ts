/**
 * An event as the township reads it on `sb/v1/<site>/event` (README "Township uplink"): one
 * flat JSON object, the envelope first, then the event's own fields.
 *
 * - Envelope: `site`, `seq` (the log's), `boot`, `at` (wall time with the site's UTC offset,
 *   gateway/wire.ts), `clock_trusted`, `type`, `live`.
 * - The payload's top-level keys in snake_case (`textZh` → `text_zh`); a key that collides with
 *   the envelope is prefixed with the event type (an effect's `type: "siren"` becomes
 *   `effect_type`, a transition's engine-clock `at` becomes `transition_at`).
 * - Nested objects are sent as logged: their keys are data already (`values: {rain_3h_mm}`,
 *   `label: {zh, en}`, a note's `detail`), and renaming a sensor id used as a key would be wrong.
 * - A payload that is not an object (a bare number or string) goes under `value`.
 */
import type { StoredEvent } from '../store/types.ts';
import { snakeKey, wallTime } from '../wire.ts';

const ENVELOPE = new Set(['site', 'seq', 'boot', 'at', 'clock_trusted', 'type', 'live']);

export function eventWire(e: StoredEvent, site: string, utcOffset: string, live: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = { site, seq: e.seq, boot: e.boot, at: wallTime(e.atWall, utcOffset), clock_trusted: e.clockTrusted, type: e.type, live };
  const p = e.payload;
  if (p !== null && typeof p === 'object' && !Array.isArray(p)) {
    for (const [k, v] of Object.entries(p)) {
      if (v === undefined) continue;
      const key = snakeKey(k);
      out[ENVELOPE.has(key) || key in out ? `${e.type}_${key}` : key] = v;
    }
  } else if (p !== undefined) {
    out.value = p;
  }
  return out;
}

/**
 * Urgent events go in the live lane (outbox.ts): a red or orange alert raised or escalated
 * to, and a fire (a smoke alert: one detector alone is a pre-alarm below orange, a confirmed
 * fire is red — engine/smoke.ts), and an escalation (吹哨: nobody answered an alert and the
 * box calls for help, planner/escalation.ts), whatever else is waiting.
 */
export function isUrgent(type: string, payload: unknown): boolean {
  if (type === 'escalation') return true;
  if (type !== 'transition' || payload === null || typeof payload !== 'object') return false;
  const t = payload as { transition?: unknown; level?: unknown; kind?: unknown };
  if (t.transition !== 'raised' && t.transition !== 'escalated') return false;
  return t.level === 'red' || t.level === 'orange';
}

/** The retained state and CAP message of this transition go ahead of the backlog (outbox `first`): red, orange, fire. */
export function isUrgentAlert(t: { level?: unknown }): boolean {
  return t.level === 'red' || t.level === 'orange';
}
