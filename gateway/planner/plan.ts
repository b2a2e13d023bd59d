/**
 * The action planner: `plan(state, input, now) → {state, effects, notes}`. Pure like the engine:
 * alert transitions, commands and clock ticks in; siren, speech and panel effects out.
 * It owns priority, pre-emption and the siren's maximum on-time.
 */
import { levelRank } from '../engine/types.ts';
import { advanceChannel, stopWhere } from './channels.ts';
import { clockOnEffects } from './escalation.ts';
import { onTransition } from './on-alert.ts';
import { onCommand } from './on-command.ts';
import type { Ctx, PlannerState } from './state.ts';
import type { Effect, Indicator, IndicatorState, PlannerInput, PlanResult } from './types.ts';

/** Panel lights: alarm flashes until every alarm is acknowledged; the buzzer until silenced or acknowledged. */
function indicators(ctx: Ctx): void {
  const { st } = ctx;
  const want: Record<Indicator, IndicatorState> = { alarm: 'off', fault: 'off', drill: st.drill ? 'on' : 'off', buzzer: 'off' };
  for (const m of st.alerts.values()) {
    if (m.kind === 'fault') {
      want.fault = 'on';
      continue;
    }
    if (levelRank(m.level) < levelRank('yellow')) continue;
    if (!m.acked) want.alarm = 'flash';
    else if (want.alarm === 'off') want.alarm = 'on';
    if (!m.acked && m.silencedAt === null) want.buzzer = 'on';
  }
  for (const k of Object.keys(want) as Indicator[]) {
    if (st.indicators[k] !== want[k]) {
      st.indicators[k] = want[k];
      ctx.effects.push({ type: 'indicator', at: ctx.now, indicator: k, state: want[k] });
    }
  }
}

export function plan(state: PlannerState, input: PlannerInput, now: number): PlanResult<PlannerState> {
  const ctx: Ctx = { st: state, now, effects: [], notes: [] };
  // Finish what ran its course first, so new requests see the channels as they are now.
  for (const ch of state.channels.values()) advanceChannel(ch, now, state.config.actions, ctx.effects);
  if (input.type === 'transition') onTransition(ctx, input.transition);
  else if (input.type === 'command') onCommand(ctx, input.command);
  indicators(ctx);
  clockOnEffects(state, ctx.effects);
  return { state, effects: ctx.effects, notes: ctx.notes };
}

/**
 * The box is stopping (SIGTERM): everything stops except what an automatic alarm holds, which
 * keeps sounding to the end of its pattern (the relay and the siren node firmware bound it).
 */
export function windDown(state: PlannerState, now: number): Effect[] {
  const effects: Effect[] = [];
  for (const ch of state.channels.values()) stopWhere(ch, (i) => i.priority !== 'alarm', now, 'stopped', 'shutdown', state.config.actions, effects);
  return effects;
}
