/**
 * The planner's state and the one helper every decision uses to put sound on zones.
 */
import type { SiteConfig } from '../config/types.ts';
import type { AlertKind, Level } from '../engine/types.ts';
import type { Channel, Item } from './channels.ts';
import { newChannel, request } from './channels.ts';
import type { Effect, Indicator, IndicatorState, PlanNote, Priority, Source } from './types.ts';

export interface AlertMemo {
  level: Level;
  kind: AlertKind;
  zones: string[];
  acked: boolean;
  /** Sirens were silenced at this level: they sound again only for a higher one. */
  silencedAt: Level | null;
  sounded: boolean;
  broadcast: boolean;
}

/** Owned state, updated in place like the engine's (see engine/state.ts). */
export interface PlannerState {
  config: SiteConfig;
  /** Each sensor's sound zones (looked up on every transition; a site may have 1,000 sensors). */
  soundZones: Map<string, readonly string[]>;
  channels: Map<string, Channel>;
  alerts: Map<string, AlertMemo>;
  indicators: Record<Indicator, IndicatorState>;
  drill: { by: string; since: number; activity: string } | null;
  seq: number;
}

export function createPlannerState(config: SiteConfig): PlannerState {
  const channels = new Map<string, Channel>();
  for (const z of config.zones) {
    channels.set(`${z.id}/siren`, newChannel());
    channels.set(`${z.id}/speaker`, newChannel());
  }
  return { config, soundZones: new Map(config.sensors.map((s) => [s.id, s.soundZones])), channels, alerts: new Map(), indicators: { alarm: 'off', fault: 'off', drill: 'off', buzzer: 'off' }, drill: null, seq: 0 };
}

export interface Ctx {
  st: PlannerState;
  now: number;
  effects: Effect[];
  notes: PlanNote[];
}

export interface SoundSpec {
  zones: string[];
  priority: Priority;
  source: Source;
  by: string;
  alert: string | null;
  /** For an all-clear: the subject of the alert it ends (see channels.ts `request`). */
  clears?: string;
  drill: boolean;
  resumable: boolean;
  pattern: string | null;
  speech: ((zone: string) => { textZh: string; textEn: string }) | null;
  repeat: number;
}

export function channel(st: PlannerState, zone: string, kind: 'siren' | 'speaker'): Channel {
  return st.channels.get(`${zone}/${kind}`)!;
}

/** Requests a siren pattern and/or speech on each zone. Returns the activity id. */
export function sound(ctx: Ctx, spec: SoundSpec): string {
  const { st, now } = ctx;
  const activity = `act-${++st.seq}`;
  const steps = spec.pattern ? st.config.actions.patterns[spec.pattern]?.steps : undefined;
  if (spec.pattern && !steps) ctx.notes.push({ at: now, note: 'unknown_pattern', detail: { pattern: spec.pattern, activity } });
  for (const zone of spec.zones) {
    if (!st.channels.has(`${zone}/siren`)) {
      ctx.notes.push({ at: now, note: 'unknown_zone', detail: { zone, activity } });
      continue;
    }
    const base = { activity, zone, priority: spec.priority, source: spec.source, by: spec.by, alert: spec.alert, ...(spec.clears === undefined ? {} : { clears: spec.clears }), drill: spec.drill, resumable: spec.resumable, startedAt: now, endsAt: now };
    if (steps) {
      const item: Item = { ...base, channel: 'siren', pattern: spec.pattern!, steps: [...steps] };
      request(channel(st, zone, 'siren'), item, now, st.config.actions, ctx.effects);
    }
    if (spec.speech) {
      const item: Item = { ...base, channel: 'speaker', ...spec.speech(zone), repeat: spec.repeat };
      request(channel(st, zone, 'speaker'), item, now, st.config.actions, ctx.effects);
    }
  }
  return activity;
}
