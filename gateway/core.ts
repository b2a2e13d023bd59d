/**
 * Engine and planner chained: readings, ticks and commands in; alert transitions, effects and
 * notes out. Still pure (no I/O, clock passed in); the replay CLI and the running box both
 * drive this one function, so what a replay shows is what the box does.
 */
import type { SiteConfig } from './config/types.ts';
import { currentState } from './engine/alert-slot.ts';
import { evaluate } from './engine/evaluate.ts';
import { createEngineState, type EngineState } from './engine/state.ts';
import { clearThreshold, expireThresholds, setThreshold, type ThresholdChange } from './engine/thresholds.ts';
import type { AlertTransition, Observation, Reading } from './engine/types.ts';
import { ackEscalation, escalate, type EscalationEvent } from './planner/escalation.ts';
import { plan } from './planner/plan.ts';
import { createPlannerState, type PlannerState } from './planner/state.ts';
import type { Command, Effect, PlanNote } from './planner/types.ts';
import type { TownshipCommand } from './shell/bus.ts';

export interface Core {
  engine: EngineState;
  planner: PlannerState;
}

/** The township's commands and 吹哨 escalation that the core carries out (a `report` only reads it: the shell's). */
export type CoreCommand = Exclude<TownshipCommand, { type: 'report' }>;

export type CoreInput =
  | { type: 'reading'; reading: Reading }
  | { type: 'tick' }
  | { type: 'command'; command: Command }
  | { type: 'ack'; alert: string; by: string }
  | { type: 'township'; command: CoreCommand };

export interface CoreOutput {
  transitions: AlertTransition[];
  observations: Observation[];
  effects: Effect[];
  notes: PlanNote[];
  /** Threshold overrides set, cleared or expired by this step (engine/thresholds.ts). */
  thresholds: ThresholdChange[];
  /** Escalations sent or acknowledged (planner/escalation.ts). */
  escalations: EscalationEvent[];
  /** A command's input: why it was refused, or not wholly carried out, in words; absent when it was. */
  refused?: string;
}

export function createCore(config: SiteConfig, now: number): Core {
  return { engine: createEngineState(config, now), planner: createPlannerState(config) };
}

/** Most readings change nothing worth saying; they share this empty, frozen answer. */
const NOTHING: CoreOutput = Object.freeze({ transitions: Object.freeze([]), observations: Object.freeze([]), effects: Object.freeze([]), notes: Object.freeze([]), thresholds: Object.freeze([]), escalations: Object.freeze([]) }) as unknown as CoreOutput;

const empty = (): CoreOutput => ({ transitions: [], observations: [], effects: [], notes: [], thresholds: [], escalations: [] });

/** The planner's notes that mean a command was not (wholly) carried out, in words. */
function refusedBy(notes: readonly PlanNote[]): string | undefined {
  const words = notes.flatMap((n) => {
    if (n.note === 'unknown_pattern') return [`unknown siren pattern '${n.detail.pattern}': nothing sounded for it`];
    if (n.note === 'unknown_zone') return [`unknown zone '${n.detail.zone}': nothing played there`];
    if (n.note === 'unknown_template') return [n.detail.template === '' ? 'a broadcast needs text_zh or a template: nothing was broadcast' : `template: no template '${n.detail.template}' in this site: nothing was broadcast`];
    return [];
  });
  return words.length ? [...new Set(words)].join('; ') : undefined;
}

/** The engine's current state of the alert with this id, if one is active. */
function activeAlert(core: Core, id: string, now: number): AlertTransition | null {
  const slot = core.engine.slots.find((s) => s.active?.id === id);
  return slot ? currentState(slot, now) : null;
}

/** Plans each transition, adding its effects and notes to `out`. */
function planAll(core: Core, transitions: readonly AlertTransition[], now: number, out: CoreOutput): void {
  for (const t of transitions) {
    const p = plan(core.planner, { type: 'transition', transition: t }, now);
    out.effects.push(...p.effects);
    out.notes.push(...p.notes);
  }
}

function township(core: Core, c: CoreCommand, now: number): CoreOutput {
  const out = empty();
  switch (c.type) {
    case 'set_threshold':
    case 'clear_threshold': {
      const r = c.type === 'set_threshold' ? setThreshold(core.engine, c, now) : clearThreshold(core.engine, c, now);
      if (!r.ok) return { ...out, refused: r.error };
      out.thresholds.push(r.change);
      out.transitions.push(...r.transitions);
      planAll(core, r.transitions, now, out);
      return out;
    }
    case 'escalate':
    case 'escalation_ack': {
      const r =
        c.type === 'escalate'
          ? escalate(core.planner, c, activeAlert(core, c.alert, now), now)
          : ackEscalation(core.planner, c, activeAlert(core, core.planner.escalations.get(c.escalation)?.alert ?? '', now), now);
      if (!r.ok) return { ...out, refused: r.error };
      out.escalations.push(r.event);
      return out;
    }
  }
}

export function step(core: Core, input: CoreInput, now: number): CoreOutput {
  if (input.type === 'command') {
    const p = plan(core.planner, input, now);
    const refused = refusedBy(p.notes);
    return { ...empty(), effects: [...p.effects], notes: [...p.notes], ...(refused ? { refused } : {}) };
  }
  if (input.type === 'township') return township(core, input.command, now);
  const e = evaluate(core.engine, input, now);
  // Before building an answer: a thousand readings a second mostly end here.
  if (input.type === 'reading' && e.transitions.length === 0 && e.observations.length === 0) return NOTHING;
  const out: CoreOutput = { ...empty(), transitions: e.transitions, observations: e.observations };
  if (input.type === 'tick') {
    // Overrides whose time is up go back to the config's values; what that decides is planned like any transition.
    expireThresholds(core.engine, now, out.thresholds, out.transitions);
    const p = plan(core.planner, { type: 'tick' }, now);
    out.effects.push(...p.effects);
    out.notes.push(...p.notes);
  }
  if (input.type === 'ack' && e.transitions.length === 0) {
    const slot = core.engine.slots.find((s) => s.active?.id === input.alert);
    out.refused = slot ? `alert '${input.alert}' was already acknowledged by ${slot.active!.acknowledgedBy}` : `no active alert '${input.alert}' to acknowledge`;
  }
  planAll(core, out.transitions, now, out);
  return out;
}
