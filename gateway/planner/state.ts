/**
 * The planner's state and the one helper every decision uses to put sound on zones: a request
 * names zones, and lands once on each physical actuator serving them (targets.ts).
 */
import type { SiteConfig } from '../config/types.ts';
import type { AlertKind, Level } from '../engine/types.ts';
import type { Channel, Item } from './channels.ts';
import { newChannel, request } from './channels.ts';
import { channelTargets, type ChannelKind } from './targets.ts';
import type { Escalation, ResponseClock } from './escalation.ts';
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
  /** Raised → acknowledged → broadcast → escalated → township ack (escalation.ts). */
  clock: ResponseClock;
  /** Escalations sent for it so far (their ids count on from this). */
  escalations: number;
}

/** Owned state, updated in place like the engine's (see engine/state.ts). */
export interface PlannerState {
  config: SiteConfig;
  /** Each sensor's sound zones (looked up on every transition; a site may have 1,000 sensors). */
  soundZones: Map<string, readonly string[]>;
  /** One channel per actuator id, and one per zone a kind has no actuator for (targets.ts). */
  channels: Map<string, Channel>;
  /** Each zone's channel keys of each kind: the actuators that serve it. */
  zoneChannels: Map<string, Record<ChannelKind, string[]>>;
  alerts: Map<string, AlertMemo>;
  indicators: Record<Indicator, IndicatorState>;
  drill: { by: string; since: number; activity: string } | null;
  seq: number;
  /** 吹哨 escalations by id, oldest first, at most MAX_ESCALATIONS (escalation.ts). */
  escalations: Map<string, Escalation>;
}

export function createPlannerState(config: SiteConfig): PlannerState {
  const { targets, byZone } = channelTargets(config);
  const channels = new Map<string, Channel>(targets.map((t) => [t.key, newChannel(t.kind, t.actuator)]));
  return { config, soundZones: new Map(config.sensors.map((s) => [s.id, s.soundZones])), channels, zoneChannels: byZone, alerts: new Map(), indicators: { alarm: 'off', fault: 'off', drill: 'off', buzzer: 'off' }, drill: null, seq: 0, escalations: new Map() };
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
  /** See planner/types.ts broadcast `key`. */
  key?: string;
  /**
   * Orders requests of one priority on an actuator (channels.ts): automatic alarms rank by
   * level, then a confirmed fire above rain and flood (on-alert.ts `urgencyOf`). Default 0.
   */
  urgency?: number;
  pattern: string | null;
  /** Siren channels that get no pattern (the all-clear where another alarm still holds the siren). */
  sirenSkip?: ReadonlySet<string>;
  speech: ((zone: string) => { textZh: string; textEn: string }) | null;
  /** The named broadcast `speech` fills (template.ts), carried to the broadcast effect. */
  template?: string;
  repeat: number;
}

/** The keys of the channels of the given kinds serving any of `zones`, each once, in zone order. */
export function channelKeys(st: PlannerState, zones: readonly string[], kinds: readonly ChannelKind[]): Set<string> {
  const keys = new Set<string>();
  for (const zone of zones) {
    const byKind = st.zoneChannels.get(zone);
    if (byKind) for (const kind of kinds) for (const key of byKind[kind]) keys.add(key);
  }
  return keys;
}

export function channelsIn(st: PlannerState, zones: readonly string[], kinds: readonly ChannelKind[]): Channel[] {
  return [...channelKeys(st, zones, kinds)].map((k) => st.channels.get(k)!);
}

/**
 * Requests a siren pattern and/or speech on the zones: once on each actuator serving any of
 * them, for the first requested zone it serves (whose name the speech fills in). Returns the
 * activity id.
 */
export function sound(ctx: Ctx, spec: SoundSpec): string {
  const { st, now } = ctx;
  const activity = `act-${++st.seq}`;
  const steps = spec.pattern ? st.config.actions.patterns[spec.pattern]?.steps : undefined;
  if (spec.pattern && !steps) ctx.notes.push({ at: now, note: 'unknown_pattern', detail: { pattern: spec.pattern, activity } });
  const done = new Set<string>();
  // Each speaker's share of the requested zones: the panel shows a broadcast's progress per zone.
  const heardIn = new Map<string, string[]>();
  if (spec.speech) {
    for (const zone of spec.zones) {
      for (const key of st.zoneChannels.get(zone)?.speaker ?? []) {
        const zs = heardIn.get(key) ?? [];
        if (!zs.includes(zone)) zs.push(zone);
        heardIn.set(key, zs);
      }
    }
  }
  for (const zone of spec.zones) {
    const byKind = st.zoneChannels.get(zone);
    if (!byKind) {
      ctx.notes.push({ at: now, note: 'unknown_zone', detail: { zone, activity } });
      continue;
    }
    const base = { activity, zone, priority: spec.priority, urgency: spec.urgency ?? 0, source: spec.source, by: spec.by, alert: spec.alert, ...(spec.clears === undefined ? {} : { clears: spec.clears }), ...(spec.key === undefined ? {} : { key: spec.key }), drill: spec.drill, resumable: spec.resumable, startedAt: now, endsAt: now };
    for (const key of steps ? byKind.siren : []) {
      if (done.has(key) || spec.sirenSkip?.has(key)) continue;
      done.add(key);
      const item: Item = { ...base, channel: 'siren', pattern: spec.pattern!, steps: [...steps!] };
      request(st.channels.get(key)!, item, now, st.config.actions, ctx.effects);
    }
    for (const key of spec.speech ? byKind.speaker : []) {
      if (done.has(key)) continue;
      done.add(key);
      const item: Item = { ...base, channel: 'speaker', ...spec.speech!(zone), ...(spec.template === undefined ? {} : { template: spec.template }), zones: heardIn.get(key) ?? [zone], repeat: spec.repeat };
      request(st.channels.get(key)!, item, now, st.config.actions, ctx.effects);
    }
  }
  return activity;
}
