/** Test helpers: a config from YAML text, and a small driver around the pure core. */
import { formatProblem, parseConfig } from '../../gateway/config/load.ts';
import type { SiteConfig } from '../../gateway/config/types.ts';
import { evaluate } from '../../gateway/engine/evaluate.ts';
import { createEngineState, type EngineState } from '../../gateway/engine/state.ts';
import type { AlertTransition, Level, Observation } from '../../gateway/engine/types.ts';

export function site(yaml: string): SiteConfig {
  const { config, problems } = parseConfig(yaml);
  if (!config) throw new Error(problems.map(formatProblem).join('\n'));
  return config;
}

export const MIN = 60_000;
export const T0 = Date.parse('2026-07-20T00:00:00+08:00');

/** An alert transition of gauge rg1's 3 h rain rule, as the engine makes them, for planner tests. */
export function rainTransition(transition: AlertTransition['transition'], level: Level, over: Partial<AlertTransition> = {}): AlertTransition {
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

/** Drives the engine with a fake clock and collects everything it says. */
export class EngineRig {
  state: EngineState;
  transitions: AlertTransition[] = [];
  observations: Observation[] = [];
  constructor(readonly config: SiteConfig, readonly start = T0) {
    this.state = createEngineState(config, start);
  }
  read(sensor: string, value: number | null, at: number): AlertTransition[] {
    const r = evaluate(this.state, { type: 'reading', reading: { sensor, value, at, quality: value === null ? 'missing' : 'good' } }, at);
    this.state = r.state;
    this.transitions.push(...r.transitions);
    this.observations.push(...r.observations);
    return r.transitions;
  }
  fail(sensor: string, at: number): AlertTransition[] {
    const r = evaluate(this.state, { type: 'reading', reading: { sensor, value: null, at, quality: 'error' } }, at);
    this.transitions.push(...r.transitions);
    this.observations.push(...r.observations);
    return r.transitions;
  }
  tick(at: number): AlertTransition[] {
    const r = evaluate(this.state, { type: 'tick' }, at);
    this.transitions.push(...r.transitions);
    this.observations.push(...r.observations);
    return r.transitions;
  }
  ack(alert: string, by: string, at: number): AlertTransition[] {
    const r = evaluate(this.state, { type: 'ack', alert, by }, at);
    this.transitions.push(...r.transitions);
    return r.transitions;
  }
  /** Feeds a cumulative rain series: `mmPerMin[i]` falls in minute i after `from`. */
  rain(sensor: string, startTotal: number, mmPerMin: number[], from = this.start): number {
    let total = startTotal;
    this.read(sensor, total, from);
    mmPerMin.forEach((mm, i) => {
      total = Math.round((total + mm) * 1000) / 1000;
      this.read(sensor, total, from + (i + 1) * MIN);
    });
    return total;
  }
  of(alertKey: string): AlertTransition[] {
    return this.transitions.filter((t) => t.alert.startsWith(`${alertKey}/`));
  }
}

export const RAIN_SITE = `
site: { id: t, name: 测试村 }
sensors:
  - { id: rg1, kind: rain }
`;
