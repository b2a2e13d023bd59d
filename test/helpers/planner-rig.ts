/** Test helper for the pure planner: a driver that keeps what it said (transitions to feed it: `rainTransition` in site.ts). */
import type { SiteConfig } from '../../gateway/config/types.ts';
import type { AlertTransition } from '../../gateway/engine/types.ts';
import { plan } from '../../gateway/planner/plan.ts';
import { createPlannerState, type PlannerState } from '../../gateway/planner/state.ts';
import type { Command, Effect } from '../../gateway/planner/types.ts';
import { T0 } from './site.ts';

/** Feeds one planner state and collects every effect and note. */
export class PlannerRig {
  state: PlannerState;
  effects: Effect[] = [];
  notes: unknown[] = [];
  constructor(config: SiteConfig) {
    this.state = createPlannerState(config);
  }
  t(tr: AlertTransition, at = T0): Effect[] {
    return this.push(plan(this.state, { type: 'transition', transition: tr }, at));
  }
  c(command: Command, at = T0): Effect[] {
    return this.push(plan(this.state, { type: 'command', command }, at));
  }
  tick(at: number): Effect[] {
    return this.push(plan(this.state, { type: 'tick' }, at));
  }
  private push(r: { effects: Effect[]; notes: unknown[] }): Effect[] {
    this.effects.push(...r.effects);
    this.notes.push(...r.notes);
    return r.effects;
  }
}
