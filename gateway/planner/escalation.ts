/**
 * 吹哨 escalation and each alert's response clock (issue 16). Pure, on the planner's state
 * (which the core's snapshot keeps, so both survive a restart):
 *
 * - The response clock of an alert: raised → acknowledged (by an officer) → broadcast (the
 *   first broadcast effect for it) → escalated (the first `escalate`) → township ack (the
 *   first `escalation_ack` of one of its escalations). Each is the engine clock's time (ms)
 *   or null; it lives in the alert's memo and ends with it (a cleared alert has no memo).
 * - `escalate` (an officer) sends the township an escalation naming an active alert, the
 *   officer and a short text, with an id of its own, `<alert id>/e<n>` (alert ids are unique
 *   across restarts, so these are too). An alert may be escalated again (a second whistle):
 *   each gets its own id; the clock keeps the first.
 * - `escalation_ack` (the township) acknowledges one escalation by id, once: it is recorded
 *   even if the alert has cleared since (the township may answer late).
 */
import type { AlertTransition } from '../engine/types.ts';
import type { PlannerState } from './state.ts';
import type { Effect } from './types.ts';

export interface ResponseClock {
  raisedAt: number;
  acknowledgedAt: number | null;
  acknowledgedBy: string | null;
  broadcastAt: number | null;
  escalatedAt: number | null;
  townshipAckAt: number | null;
}

export interface Escalation {
  escalation: string;
  alert: string;
  /** The alert as it was when escalated (it may have cleared by the township's answer). */
  kind: string;
  level: string;
  zone: string;
  /** The officer who escalated. */
  by: string;
  text: string;
  at: number;
  /** The township account that acknowledged, the person it names, and its words. */
  ackBy: string | null;
  acknowledgedBy: string | null;
  ackText: string | null;
  ackAt: number | null;
}

/** What is logged (`escalation` event) when an escalation is sent or the township acknowledges it. */
export interface EscalationEvent {
  phase: 'sent' | 'acknowledged';
  escalation: string;
  alert: string;
  kind: string;
  level: string;
  zone: string;
  /** The officer who escalated. */
  by: string;
  text: string;
  /** The alert's sentence when it was escalated (for a township reader). */
  textZh: string;
  textEn: string;
  at: number;
  /** Acknowledged: the township account, the person it names, and its words. */
  ackBy?: string;
  acknowledgedBy?: string;
  ackText?: string;
  /** The alert's response clock after this step; null when the alert has cleared. */
  responseClock: ResponseClock | null;
}

/** At most this many escalations are remembered (oldest forgotten first): one per alert and officer in a long storm is far fewer. */
export const MAX_ESCALATIONS = 256;

export function newResponseClock(raisedAt: number): ResponseClock {
  return { raisedAt, acknowledgedAt: null, acknowledgedBy: null, broadcastAt: null, escalatedAt: null, townshipAckAt: null };
}

/** After each plan step: the first broadcast effect of an alert stops its clock's `broadcast`. */
export function clockOnEffects(st: PlannerState, effects: readonly Effect[]): void {
  for (const e of effects) {
    if (e.type !== 'broadcast' || e.alert === null) continue;
    const m = st.alerts.get(e.alert);
    if (m && m.clock.broadcastAt === null) m.clock.broadcastAt = e.at;
  }
}

export type EscalationResult = { ok: true; event: EscalationEvent } | { ok: false; error: string };

/** `alert`: the engine's current state of the alert named, null if none is active by that id. */
export function escalate(st: PlannerState, req: { alert: string; by: string; text: string }, alert: AlertTransition | null, now: number): EscalationResult {
  const memo = st.alerts.get(req.alert);
  if (!alert || !memo) return { ok: false, error: `no active alert '${req.alert}' to escalate` };
  memo.escalations += 1;
  const id = `${req.alert}/e${memo.escalations}`;
  memo.clock.escalatedAt ??= now;
  st.escalations.set(id, { escalation: id, alert: req.alert, kind: alert.kind, level: alert.level, zone: alert.zone, by: req.by, text: req.text, at: now, ackBy: null, acknowledgedBy: null, ackText: null, ackAt: null });
  while (st.escalations.size > MAX_ESCALATIONS) st.escalations.delete(st.escalations.keys().next().value!);
  return { ok: true, event: { phase: 'sent', escalation: id, alert: req.alert, kind: alert.kind, level: alert.level, zone: alert.zone, by: req.by, text: req.text, textZh: alert.textZh, textEn: alert.textEn, at: now, responseClock: { ...memo.clock } } };
}

export function ackEscalation(st: PlannerState, req: { escalation: string; by: string; acknowledgedBy?: string; text?: string }, alert: AlertTransition | null, now: number): EscalationResult {
  const e = st.escalations.get(req.escalation);
  if (!e) return { ok: false, error: `no escalation '${req.escalation}' is known (never sent, or long forgotten)` };
  if (e.ackAt !== null) return { ok: false, error: `escalation '${req.escalation}' was already acknowledged by ${e.acknowledgedBy ?? e.ackBy}` };
  e.ackAt = now;
  e.ackBy = req.by;
  e.acknowledgedBy = req.acknowledgedBy ?? null;
  e.ackText = req.text ?? null;
  const memo = st.alerts.get(e.alert);
  if (memo) memo.clock.townshipAckAt ??= now;
  return {
    ok: true,
    event: {
      phase: 'acknowledged',
      escalation: e.escalation,
      alert: e.alert,
      kind: alert?.kind ?? e.kind,
      level: alert?.level ?? e.level,
      zone: alert?.zone ?? e.zone,
      by: e.by,
      text: e.text,
      textZh: alert?.textZh ?? '',
      textEn: alert?.textEn ?? '',
      at: now,
      ackBy: req.by,
      ...(req.acknowledgedBy === undefined ? {} : { acknowledgedBy: req.acknowledgedBy }),
      ...(req.text === undefined ? {} : { ackText: req.text }),
      responseClock: memo ? { ...memo.clock } : null,
    },
  };
}
