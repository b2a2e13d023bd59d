/**
 * Officer, township and schedule commands. Every command carries who gave it; the shell logs
 * the command before it reaches here, and the effects carry `by` too.
 */
import type { AlertKind, Level } from '../engine/types.ts';
import { LEVEL_ZH } from '../engine/text.ts';
import { finished, stopWhere, type Item } from './channels.ts';
import type { Ctx } from './state.ts';
import { channelsIn, sound } from './state.ts';
import { announce, fromTemplate, type Spoken } from './template.ts';
import type { Command, Priority, Source, StopReason } from './types.ts';

const KIND_ZH: Record<AlertKind, string> = { rain: '暴雨', water_level: '洪水', smoke: '火警', fault: '设备故障' };
const KIND_EN: Record<AlertKind, string> = { rain: 'rainstorm', water_level: 'flood', smoke: 'fire', fault: 'equipment fault' };

function priorityOf(source: Source, emergency: boolean | undefined): Priority {
  if (source === 'township') return 'township';
  if (source === 'officer' && emergency) return 'emergency';
  if (source === 'engine') return 'alarm';
  return 'routine';
}

function allZones(ctx: Ctx, zones: string[] | undefined): string[] {
  return zones && zones.length ? zones : ctx.st.config.zones.map((z) => z.id);
}

/**
 * Stops matching items on the actuators of the given kinds that serve the zones. A site-wide
 * siren serves every zone, so silencing building 3 silences it too: it is heard there, and
 * the planner must not believe a siren still plays what the officer had stopped.
 */
function stopIn(ctx: Ctx, zones: string[], kinds: ('siren' | 'speaker')[], match: (i: Item) => boolean, reason: StopReason, by: string): Item[] {
  const removed: Item[] = [];
  for (const ch of channelsIn(ctx.st, zones, kinds)) removed.push(...stopWhere(ch, match, ctx.now, reason, by, ctx.st.config.actions, ctx.effects));
  return removed;
}

/** Stops what a keyed broadcast put anywhere (but activity `except`): every channel, whatever zones it was asked for. */
function stopKey(ctx: Ctx, key: string, reason: StopReason, by: string, except?: string): Item[] {
  const removed: Item[] = [];
  const match = (i: Item): boolean => i.key === key && i.activity !== except;
  for (const ch of ctx.st.channels.values()) removed.push(...stopWhere(ch, match, ctx.now, reason, by, ctx.st.config.actions, ctx.effects));
  return removed;
}

/** Silencing holds at its level every active alert sounding in those zones or on the actuators stopped. */
function silenceAlerts(ctx: Ctx, zones: string[], stopped: Item[]): void {
  const alerts = new Set(stopped.map((i) => i.alert));
  for (const [id, m] of ctx.st.alerts) {
    if (alerts.has(id) || m.zones.some((z) => zones.includes(z))) m.silencedAt = m.level;
  }
}

/**
 * What a broadcast command says on each zone: its template filled for the zone (with the
 * officer's words, if any, in `{text}`), or the officer's words as given. Null, with a note, for
 * a template the site does not have (the validator refuses one before it gets here) or a
 * broadcast with neither words nor template: nothing is played.
 */
function broadcastSpeech(ctx: Ctx, c: Extract<Command, { type: 'broadcast' }>): ((zone: string) => Spoken) | null {
  const config = ctx.st.config;
  const own = c.textZh === undefined ? undefined : { textZh: c.textZh, ...(c.textEn === undefined ? {} : { textEn: c.textEn }) };
  if (c.template !== undefined) {
    if (!Object.hasOwn(config.broadcasts.templates, c.template)) {
      ctx.notes.push({ at: ctx.now, note: 'unknown_template', detail: { template: c.template } });
      return null;
    }
    const id = c.template;
    return (zone) => fromTemplate(config, id, zone, own, c.drill === true)!;
  }
  if (!own) {
    ctx.notes.push({ at: ctx.now, note: 'unknown_template', detail: { template: '' } });
    return null;
  }
  const text = { textZh: own.textZh, textEn: own.textEn ?? own.textZh };
  return () => text;
}

export function onCommand(ctx: Ctx, c: Command): void {
  const { st, now } = ctx;
  const a = st.config.actions;
  switch (c.type) {
    case 'broadcast': {
      const priority = c.priority ?? priorityOf(c.source, c.emergency);
      const drill = c.drill === true;
      const speech = broadcastSpeech(ctx, c);
      if (!speech) return;
      const activity = sound(ctx, { zones: allZones(ctx, c.zones), priority, source: c.source, by: c.by, alert: null, drill, resumable: !drill, ...(c.key === undefined ? {} : { key: c.key }), ...(c.template === undefined ? {} : { template: c.template }), pattern: c.pattern ?? null, speech, repeat: c.repeat ?? 1 });
      // A keyed broadcast replaces its own earlier one (a CAP Update): where the new one lands,
      // the channel swaps them at once (a siren pattern straight to the next, no off write
      // between: channels.ts `request`); wherever else the old one plays or waits (a siren the
      // new one does not sound, a zone it no longer names), it stops.
      if (c.key !== undefined) stopKey(ctx, c.key, 'replaced', c.by, activity);
      return;
    }
    case 'broadcast_cancel': {
      const stopped = stopKey(ctx, c.key, 'cancelled', c.by);
      if (!stopped.length) ctx.notes.push({ at: now, note: 'cancelled', detail: { key: c.key, stopped: 0 } });
      return;
    }
    case 'siren':
      sound(ctx, { zones: allZones(ctx, c.zones), priority: priorityOf(c.source, c.emergency ?? c.source === 'officer'), source: c.source, by: c.by, alert: null, drill: false, resumable: false, pattern: c.pattern, speech: null, repeat: 1 });
      return;
    case 'silence': {
      const zones = allZones(ctx, c.zones);
      silenceAlerts(ctx, zones, stopIn(ctx, zones, ['siren'], () => true, 'silenced', c.by));
      return;
    }
    case 'stop': {
      const zones = allZones(ctx, c.zones);
      silenceAlerts(ctx, zones, stopIn(ctx, zones, ['siren', 'speaker'], () => true, 'stopped', c.by));
      return;
    }
    case 'drill': {
      if (st.drill) stopIn(ctx, allZones(ctx, undefined), ['siren', 'speaker'], (i) => i.drill, 'drill_end', c.by);
      const kind = c.kind ?? 'water_level';
      const level: Level = c.level ?? 'red';
      const pattern = kind === 'smoke' ? a.firePattern : (a.levelPatterns[level] ?? null);
      const zh = `${KIND_ZH[kind]}${LEVEL_ZH[level]}预警演练`;
      const en = `${level} ${KIND_EN[kind]} warning drill`;
      const activity = sound(ctx, {
        zones: allZones(ctx, c.zones),
        priority: 'drill',
        source: 'officer',
        by: c.by,
        alert: null,
        drill: true,
        resumable: false,
        pattern,
        speech: (zone) => announce(st.config, zone, zh, en, {}, true),
        repeat: a.broadcastRepeat,
      });
      st.drill = { by: c.by, since: now, activity };
      return;
    }
    case 'drill_end':
      stopIn(ctx, allZones(ctx, undefined), ['siren', 'speaker'], (i) => i.drill, 'drill_end', c.by);
      st.drill = null;
      return;
    case 'test':
      sound(ctx, {
        zones: allZones(ctx, c.zones),
        priority: 'test',
        source: 'schedule',
        by: c.by,
        alert: null,
        drill: false,
        resumable: false,
        pattern: a.patterns.test ? 'test' : null,
        // The site's `test` template (a built-in, which a site may reword or record).
        speech: (zone) => fromTemplate(st.config, 'test', zone)!,
        template: 'test',
        repeat: 1,
      });
      return;
    case 'broadcast_done': {
      const ch = st.channels.get(c.actuator);
      if (ch?.kind === 'speaker' && ch.actuator === c.actuator) finished(ch, c.activity, now, a, ctx.effects);
      return;
    }
  }
}
