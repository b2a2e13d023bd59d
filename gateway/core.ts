/**
 * Engine and planner chained: readings, ticks and commands in; alert transitions, effects and
 * notes out. Still pure (no I/O, clock passed in); the replay CLI and the running box both
 * drive this one function, so what a replay shows is what the box does.
 */
import type { SiteConfig } from './config/types.ts';
import { evaluate } from './engine/evaluate.ts';
import { createEngineState, type EngineState } from './engine/state.ts';
import type { AlertTransition, Observation, Reading } from './engine/types.ts';
import { plan } from './planner/plan.ts';
import { createPlannerState, type PlannerState } from './planner/state.ts';
import type { Command, Effect, PlanNote } from './planner/types.ts';

export interface Core {
  engine: EngineState;
  planner: PlannerState;
}

export type CoreInput = { type: 'reading'; reading: Reading } | { type: 'tick' } | { type: 'command'; command: Command } | { type: 'ack'; alert: string; by: string };

export interface CoreOutput {
  transitions: AlertTransition[];
  observations: Observation[];
  effects: Effect[];
  notes: PlanNote[];
}

export function createCore(config: SiteConfig, now: number): Core {
  return { engine: createEngineState(config, now), planner: createPlannerState(config) };
}

/** Most readings change nothing worth saying; they share this empty, frozen answer. */
const NOTHING: CoreOutput = Object.freeze({ transitions: Object.freeze([]), observations: Object.freeze([]), effects: Object.freeze([]), notes: Object.freeze([]) }) as unknown as CoreOutput;

export function step(core: Core, input: CoreInput, now: number): CoreOutput {
  if (input.type === 'command') {
    const p = plan(core.planner, input, now);
    return { transitions: [], observations: [], effects: [...p.effects], notes: [...p.notes] };
  }
  const e = evaluate(core.engine, input, now);
  // Before building an answer: a thousand readings a second mostly end here.
  if (input.type === 'reading' && e.transitions.length === 0 && e.observations.length === 0) return NOTHING;
  const out: CoreOutput = { transitions: e.transitions, observations: e.observations, effects: [], notes: [] };
  if (input.type === 'tick') {
    const p = plan(core.planner, { type: 'tick' }, now);
    out.effects.push(...p.effects);
    out.notes.push(...p.notes);
  }
  for (const t of e.transitions) {
    const p = plan(core.planner, { type: 'transition', transition: t }, now);
    out.effects.push(...p.effects);
    out.notes.push(...p.notes);
  }
  return out;
}
