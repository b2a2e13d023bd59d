/**
 * The life of one alert (one sensor or zone, one rule family): raised → escalated /
 * de-escalated → cleared, plus acknowledged. Rules only say which level the evidence supports
 * now (the candidate); the slot applies minimum durations so a wave crest neither raises nor
 * clears an alarm. Hysteresis bands are the rule's business because they depend on values.
 */
import type { AlertKind, AlertTransition, Level, RuleFacts, TransitionType } from './types.ts';
import { levelRank } from './types.ts';

/**
 * What the evidence supports now. `level: null` = no alert, but `values` still say why (a
 * clearing candidate carries the figures as they are now). `facts` say what the rule is about;
 * the sentences are built from them.
 */
export interface Candidate {
  level: Level | null;
  rule: string;
  values: Record<string, number | string>;
  facts?: RuleFacts;
}

export interface Texts {
  zh: string;
  en: string;
}

/** Makes the human sentences for a transition from the candidate that caused it. */
export type Describe = (shown: Shown, transition: TransitionType) => Texts;

export interface AlertSlot {
  /** `<subject>/<family>`, e.g. `wl1/stage` or `building-3/fire`. */
  key: string;
  kind: AlertKind;
  zone: string;
  sensors: string[];
  /** Candidate must hold this long before the level rises (ms). */
  raiseAfterMs: number;
  /** Lower candidate must hold this long before the level falls or clears (ms). */
  clearAfterMs: number;
  active: { id: string; level: Level; rule: string; values: Candidate['values']; facts: RuleFacts; acknowledgedBy: string | null } | null;
  /** Raise time (integer ms) of the slot's last alert, so a new one never reuses its id. */
  lastRaisedAt: number;
  /** Since when the candidate has been above (up) or below (down) the active level. */
  upSince: number | null;
  downSince: number | null;
  last: Candidate;
  describe: Describe;
}

export const NO_EVIDENCE: Candidate = { level: null, rule: '', values: {} };

export interface SlotSpec {
  key: string;
  kind: AlertKind;
  zone: string;
  sensors: string[];
  raiseAfterS: number;
  clearAfterS: number;
  describe: Describe;
}

export function newSlot(spec: SlotSpec): AlertSlot {
  const { key, kind, zone, sensors, describe } = spec;
  return { key, kind, zone, sensors, describe, raiseAfterMs: spec.raiseAfterS * 1000, clearAfterMs: spec.clearAfterS * 1000, active: null, lastRaisedAt: Number.NEGATIVE_INFINITY, upSince: null, downSince: null, last: NO_EVIDENCE };
}

const NO_FACTS: RuleFacts = {};

/** What a transition shows: the level and rule it is about, its figures and facts. */
export interface Shown {
  level: Level;
  rule: string;
  values: Candidate['values'];
  facts: RuleFacts;
}

function transition(slot: AlertSlot, type: TransitionType, c: Shown, prev: Level | null, now: number): AlertTransition {
  const text = slot.describe(c, type);
  const t: AlertTransition = {
    transition: type,
    alert: slot.active!.id,
    kind: slot.kind,
    sensors: slot.sensors,
    zone: slot.zone,
    rule: c.rule,
    level: c.level,
    previousLevel: prev,
    values: c.values,
    ...c.facts,
    textZh: text.zh,
    textEn: text.en,
    at: now,
  };
  if (slot.active!.acknowledgedBy) t.acknowledgedBy = slot.active!.acknowledgedBy;
  return t;
}

/**
 * Feeds the slot what the evidence supports now and appends the transitions to `out`.
 * Called on every relevant reading and on ticks (with `slot.last`) so durations expire
 * even when readings stop.
 */
export function stepSlot(slot: AlertSlot, candidate: Candidate, now: number, out: AlertTransition[]): void {
  const current = slot.active ? levelRank(slot.active.level) : -1;
  const target = candidate.level === null ? -1 : levelRank(candidate.level);
  if (target === current) {
    slot.upSince = slot.downSince = null;
    if (slot.active) {
      slot.active.values = candidate.values;
      slot.last = candidate;
    }
    // Nothing active and nothing pending: `last` is read only while a duration is pending (and
    // for its rule, which this candidate carries over unchanged), so it keeps the older one.
    // Holding each reading's fresh candidate for a second would promote it to the old
    // generation at 1,000 readings/s, to be paid for in mark-compact pauses.
    return;
  }
  slot.last = candidate;
  if (target > current) {
    slot.downSince = null;
    slot.upSince ??= now;
    if (now - slot.upSince < slot.raiseAfterMs) return;
    slot.upSince = null;
    const c: Shown = { level: candidate.level!, rule: candidate.rule, values: candidate.values, facts: candidate.facts ?? NO_FACTS };
    const prev = slot.active?.level ?? null;
    if (!slot.active) {
      // Integer ms (the box's clock is monotonic + wall offset, fractional), never an id used before.
      slot.lastRaisedAt = Math.max(Math.floor(now), slot.lastRaisedAt + 1);
      slot.active = { id: alertId(slot.key, slot.lastRaisedAt), level: c.level, rule: c.rule, values: c.values, facts: c.facts, acknowledgedBy: null };
      out.push(transition(slot, 'raised', c, null, now));
    } else {
      Object.assign(slot.active, { level: c.level, rule: c.rule, values: c.values, facts: c.facts });
      out.push(transition(slot, 'escalated', c, prev, now));
    }
    return;
  }
  slot.upSince = null;
  slot.downSince ??= now;
  if (now - slot.downSince < slot.clearAfterMs) return;
  slot.downSince = null;
  const active = slot.active!;
  if (candidate.level !== null) {
    const prev = active.level;
    const c: Shown = { level: candidate.level, rule: candidate.rule, values: candidate.values, facts: candidate.facts ?? NO_FACTS };
    Object.assign(active, { level: c.level, rule: c.rule, values: c.values, facts: c.facts });
    out.push(transition(slot, 'deescalated', c, prev, now));
    return;
  }
  // Cleared: report the level and rule being cleared and the figures that show it is over.
  const over: Shown = { level: active.level, rule: active.rule, values: Object.keys(candidate.values).length ? candidate.values : active.values, facts: active.facts };
  out.push(transition(slot, 'cleared', over, active.level, now));
  slot.active = null;
}

/**
 * An active alert's current state, shaped as its latest transition would show it (`acknowledged`
 * once it is, else `raised`): after a restart nothing else carries it to the retained alert topic.
 */
export function currentState(slot: AlertSlot, now: number): AlertTransition | null {
  const a = slot.active;
  if (!a) return null;
  return transition(slot, a.acknowledgedBy ? 'acknowledged' : 'raised', { level: a.level, rule: a.rule, values: a.values, facts: a.facts }, a.acknowledgedBy ? a.level : null, now);
}

/** An alert's id: what it is about (`<sensor or zone>/<family>`) and when it was raised. */
export function alertId(subject: string, raisedAt: number): string {
  return `${subject}/${raisedAt}`;
}

/** What an alert id is about, without its raise time: one river probe's stage, one zone's fire. */
export function alertSubject(id: string): string {
  const i = id.lastIndexOf('/');
  return i < 0 ? id : id.slice(0, i);
}

/** Records an officer's acknowledgement. Returns the transition, or null if the alert is not active. */
export function acknowledge(slot: AlertSlot, alertId: string, by: string, now: number): AlertTransition | null {
  if (!slot.active || slot.active.id !== alertId || slot.active.acknowledgedBy) return null;
  slot.active.acknowledgedBy = by;
  const c: Shown = { level: slot.active.level, rule: slot.active.rule, values: slot.active.values, facts: slot.active.facts };
  return transition(slot, 'acknowledged', c, slot.active.level, now);
}
