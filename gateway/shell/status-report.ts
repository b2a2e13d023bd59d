/**
 * What the box tells the township when asked (`report`, issue 16), logged as a `report` event
 * (so it reaches the local `event` topic and the township's `sb/v1/<site>/event` like every
 * event), and the response clock's wire form, shared with the `escalation` events.
 *
 * Payload (snake_case, times ISO 8601 with the site's offset):
 *
 *     { "by": "town", "problems": ["storage_degraded:disk_full"],
 *       "active_alerts": [{ "alert": "rg1/rain/1733300000000", "kind": "rain", "level": "orange",
 *           "rule": "rain_3h", "zone": "site", "sensors": ["rg1"], "text_zh": "…", "text_en": "…",
 *           "acknowledged_by": "wang" | null, "response_clock": {…} | null }],
 *       "faults": [ …the active alerts of kind fault, same shape… ],
 *       "thresholds": [{ "sensor": "rg1", "threshold": "rain_3h_orange", "value": 30,
 *           "original": 50, "unit": "mm", "by": "town", "until": "2026-…+08:00" }],
 *       "drill": { "by": "wang", "since": "…" } | null,
 *       "store": { "degraded": false, "reason": null, "pending_events": 0,
 *           "dropped_readings": 0, "dropped_events": 0 } }
 *
 * Pure: the core is read, not changed; `wall` turns an engine time into a wall time.
 */
import type { Core } from '../core.ts';
import { currentState } from '../engine/alert-slot.ts';
import { activeThresholds } from '../engine/thresholds.ts';
import type { ResponseClock } from '../planner/escalation.ts';
import type { StoreHealth } from '../store/types.ts';

export type Wall = (engineMs: number) => string;

/** The clock on the wire: each step's wall time, or null while it has not happened. */
export function clockOnWire(c: ResponseClock | null, wall: Wall): Record<string, string | null> | null {
  if (!c) return null;
  const w = (t: number | null): string | null => (t === null ? null : wall(t));
  return {
    raised_at: w(c.raisedAt),
    acknowledged_at: w(c.acknowledgedAt),
    acknowledged_by: c.acknowledgedBy,
    broadcast_at: w(c.broadcastAt),
    escalated_at: w(c.escalatedAt),
    township_ack_at: w(c.townshipAckAt),
  };
}

export function statusReport(core: Core, now: number, wall: Wall, by: string, problems: string[], store: StoreHealth | null): Record<string, unknown> {
  const alerts = [];
  for (const slot of core.engine.slots) {
    const t = currentState(slot, now);
    if (!t) continue;
    alerts.push({
      alert: t.alert,
      kind: t.kind,
      level: t.level,
      rule: t.rule,
      zone: t.zone,
      sensors: t.sensors,
      text_zh: t.textZh,
      text_en: t.textEn,
      // When it was raised: the slot knows it even when no response clock does (an alert
      // restored from a snapshot of a build before the clock existed showed no age on the panel).
      raised_at: wall(slot.lastRaisedAt),
      acknowledged_by: slot.active!.acknowledgedBy,
      response_clock: clockOnWire(core.planner.alerts.get(t.alert)?.clock ?? null, wall),
    });
  }
  const drill = core.planner.drill;
  return {
    by,
    problems,
    active_alerts: alerts.filter((a) => a.kind !== 'fault'),
    faults: alerts.filter((a) => a.kind === 'fault'),
    thresholds: activeThresholds(core.engine).map((o) => ({ sensor: o.sensor, threshold: o.threshold, value: o.value, original: o.original, unit: o.unit, by: o.by, until: wall(o.until) })),
    drill: drill ? { by: drill.by, since: wall(drill.since) } : null,
    store: store ? { degraded: store.degraded, reason: store.reason, pending_events: store.pendingEvents, dropped_readings: store.droppedReadings, dropped_events: store.droppedEvents } : null,
  };
}
