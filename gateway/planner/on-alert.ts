/**
 * What an alert transition makes the box do. Red and orange sound sirens and speak (priority
 * `alarm`); yellow and blue at or above the broadcast level speak (`advisory`); a smoke
 * pre-alarm and sensor faults only light the panel, for a person to check.
 *
 * Two alarms on one actuator (a site-wide rainstorm and a building fire on the same siren) are
 * ordered by urgency within their priority: the higher level first; at the same level a
 * confirmed fire first, because a fire is local and immediate (the people in that building
 * must leave now) while a rainstorm or flood alarm gives minutes to hours. The other resumes
 * afterwards. Otherwise the first keeps the actuator and the second waits.
 */
import type { AlertTransition, Level } from '../engine/types.ts';
import { levelRank } from '../engine/types.ts';
import { alertSubject } from '../engine/alert-slot.ts';
import { newResponseClock } from './escalation.ts';
import { stopWhere } from './channels.ts';
import type { AlertMemo, Ctx } from './state.ts';
import { channelKeys, sound } from './state.ts';
import { announce } from './template.ts';
import type { Priority } from './types.ts';

function zonesOf(ctx: Ctx, t: AlertTransition): string[] {
  const zones = new Set<string>();
  for (const id of t.sensors) {
    for (const z of ctx.st.soundZones.get(id) ?? [t.zone]) zones.add(z);
  }
  return [...zones];
}

function sirenPattern(ctx: Ctx, t: { kind: AlertTransition['kind']; level: Level }): string | null {
  const a = ctx.st.config.actions;
  if (t.kind === 'smoke') return t.level === 'red' ? a.firePattern : null;
  return a.levelPatterns[t.level] ?? null;
}

/** Rank within a priority (see the top of this file): level first, then fire over rain and flood. */
function urgencyOf(t: AlertTransition): number {
  return levelRank(t.level) * 2 + (t.kind === 'smoke' ? 1 : 0);
}

/** An active alert that sounded and still would at its level holds its sirens, silenced or not. */
function holdsSirens(ctx: Ctx, m: AlertMemo): boolean {
  return m.sounded && sirenPattern(ctx, m) !== null;
}

/**
 * The sirens where an all-clear must not sound: those another active alarm holds. 解除警报
 * heard there would tell people that alarm is over too (its speech says which alert cleared).
 */
function heldSirens(ctx: Ctx): Set<string> {
  const held = new Set<string>();
  for (const m of ctx.st.alerts.values()) if (holdsSirens(ctx, m)) for (const k of channelKeys(ctx.st, m.zones, ['siren'])) held.add(k);
  return held;
}

/** Does this alert speak to the public at this level? */
function speaks(ctx: Ctx, t: AlertTransition, level: Level): boolean {
  if (t.kind === 'fault') return false;
  if (t.kind === 'smoke') return level === 'red';
  return levelRank(level) >= levelRank(ctx.st.config.actions.broadcastMinLevel);
}

/** On every channel of the kinds, wherever the alert's sound went. */
function stopAlert(ctx: Ctx, alert: string, reason: 'cleared' | 'replaced', kinds: ('siren' | 'speaker')[]): void {
  const { st, now, effects } = ctx;
  for (const ch of st.channels.values()) {
    if (kinds.includes(ch.kind)) stopWhere(ch, (i) => i.alert === alert, now, reason, 'planner', st.config.actions, effects);
  }
}

export function onTransition(ctx: Ctx, t: AlertTransition): void {
  const { st } = ctx;
  const memo = st.alerts.get(t.alert);
  const zones = zonesOf(ctx, t);
  const speech = (zone: string) => announce(st.config, zone, t.textZh, t.textEn, t.values);
  const priority: Priority = t.level === 'red' || t.level === 'orange' ? 'alarm' : 'advisory';
  const base = { zones, priority, source: 'engine' as const, by: 'engine', alert: t.alert, drill: false, resumable: true, repeat: st.config.actions.broadcastRepeat };

  switch (t.transition) {
    case 'raised':
    case 'escalated': {
      const m = memo ?? { level: t.level, kind: t.kind, zones, acked: false, silencedAt: null, sounded: false, broadcast: false, clock: newResponseClock(t.at), escalations: 0 };
      m.level = t.level;
      // A second detector may bring more sound zones: silence and all-clears must know them all.
      for (const z of zones) if (!m.zones.includes(z)) m.zones.push(z);
      st.alerts.set(t.alert, m);
      if (!speaks(ctx, t, t.level)) return;
      const silenced = m.silencedAt !== null && levelRank(t.level) <= levelRank(m.silencedAt);
      const pattern = silenced ? null : sirenPattern(ctx, t);
      sound(ctx, { ...base, urgency: urgencyOf(t), pattern, speech });
      m.sounded ||= pattern !== null;
      m.broadcast = true;
      return;
    }
    case 'deescalated': {
      if (!memo) return;
      memo.level = t.level;
      // A lower level never sounds louder: the higher level's siren stops, the change is spoken.
      stopAlert(ctx, t.alert, 'replaced', ['siren']);
      if (memo.broadcast) sound(ctx, { ...base, priority: 'advisory', pattern: null, speech });
      return;
    }
    case 'cleared': {
      st.alerts.delete(t.alert);
      if (!memo) return;
      stopAlert(ctx, t.alert, 'cleared', ['siren', 'speaker']);
      const allClear = memo.sounded && memo.silencedAt === null ? st.config.actions.allClearPattern : null;
      if (allClear || memo.broadcast) {
        sound(ctx, { ...base, alert: null, clears: alertSubject(t.alert), priority: 'advisory', pattern: allClear, sirenSkip: allClear ? heldSirens(ctx) : undefined, speech: memo.broadcast ? speech : null });
      }
      return;
    }
    case 'acknowledged':
      if (!memo) return;
      memo.acked = true;
      memo.clock.acknowledgedAt ??= t.at;
      memo.clock.acknowledgedBy ??= t.acknowledgedBy ?? null;
      return;
  }
}
