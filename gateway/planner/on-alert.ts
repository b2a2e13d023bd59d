/**
 * What an alert transition makes the box do. Red and orange sound sirens and speak (priority
 * `alarm`); yellow and blue at or above the broadcast level speak (`advisory`); a smoke
 * pre-alarm and sensor faults only light the panel, for a person to check.
 */
import type { AlertTransition, Level } from '../engine/types.ts';
import { levelRank } from '../engine/types.ts';
import { alertSubject } from '../engine/alert-slot.ts';
import { stopWhere } from './channels.ts';
import type { Ctx } from './state.ts';
import { sound } from './state.ts';
import { announce } from './template.ts';
import type { Priority } from './types.ts';

function zonesOf(ctx: Ctx, t: AlertTransition): string[] {
  const zones = new Set<string>();
  for (const id of t.sensors) {
    for (const z of ctx.st.soundZones.get(id) ?? [t.zone]) zones.add(z);
  }
  return [...zones];
}

function sirenPattern(ctx: Ctx, t: AlertTransition): string | null {
  const a = ctx.st.config.actions;
  if (t.kind === 'smoke') return t.level === 'red' ? a.firePattern : null;
  return a.levelPatterns[t.level] ?? null;
}

/** Does this alert speak to the public at this level? */
function speaks(ctx: Ctx, t: AlertTransition, level: Level): boolean {
  if (t.kind === 'fault') return false;
  if (t.kind === 'smoke') return level === 'red';
  return levelRank(level) >= levelRank(ctx.st.config.actions.broadcastMinLevel);
}

function stopAlert(ctx: Ctx, alert: string, reason: 'cleared' | 'replaced', kinds: ('siren' | 'speaker')[]): void {
  const { st, now, effects } = ctx;
  for (const [key, ch] of st.channels) {
    if (!kinds.some((k) => key.endsWith(`/${k}`))) continue;
    stopWhere(ch, (i) => i.alert === alert, now, reason, 'planner', st.config.actions, effects);
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
      const m = memo ?? { level: t.level, kind: t.kind, zones, acked: false, silencedAt: null, sounded: false, broadcast: false };
      m.level = t.level;
      st.alerts.set(t.alert, m);
      if (!speaks(ctx, t, t.level)) return;
      const silenced = m.silencedAt !== null && levelRank(t.level) <= levelRank(m.silencedAt);
      const pattern = silenced ? null : sirenPattern(ctx, t);
      sound(ctx, { ...base, pattern, speech });
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
        sound(ctx, { ...base, alert: null, clears: alertSubject(t.alert), priority: 'advisory', pattern: allClear, speech: memo.broadcast ? speech : null });
      }
      return;
    }
    case 'acknowledged':
      if (memo) memo.acked = true;
      return;
  }
}
