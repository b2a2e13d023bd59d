/** Test helpers for the pure planner: a rain alert transition to vary, and a driver that keeps what it said. */
import type { SiteConfig } from '../../gateway/config/types.ts';
import type { AlertTransition, Level } from '../../gateway/engine/types.ts';
import { plan } from '../../gateway/planner/plan.ts';
import { createPlannerState, type PlannerState } from '../../gateway/planner/state.ts';
import type { Command, Effect } from '../../gateway/planner/types.ts';
import { T0 } from './site.ts';

/** A red-rain-shaped transition of gauge rg1 on the site zone; `over` makes any other alert. */
export function rainAlert(transition: AlertTransition['transition'], level: Level, over: Partial<AlertTransition> = {}): AlertTransition {
  return {
    transition,
    alert: 'rg1/rain/1',
    kind: 'rain',
    sensors: ['rg1'],
    zone: 'site',
    rule: 'rain_3h',
    level,
    previousLevel: null,
    values: { rain_3h_mm: 104.2 },
    textZh: '3 小时降雨量 104.2 毫米,达到暴雨红色预警标准',
    textEn: '104.2 mm of rain in 3 h: red rainstorm level',
    at: T0,
    ...over,
  };
}

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
