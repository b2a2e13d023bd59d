/**
 * The planner after a restart, its state restored from the log's snapshot (core-snapshot.ts):
 * the box was down, so nothing has been playing since, and the relays and the siren node
 * firmware have switched off ("turns off when the gateway falls silent", DESIGN.md).
 *
 * The downtime is treated like a pre-emption (channels.ts): an automatic alarm's siren that was
 * still within its pattern starts that pattern again (resumable items start again once they get
 * their turn), with the on-time limit counting the siren as on until now. Everything else that
 * was playing is dropped: speech is not repeated (the speaker took the whole message, or it is
 * old news), and officer sirens, drills and tests are never resumed, as after any pre-emption.
 * What waited in a queue keeps its turn. Silence, acknowledgements and the drill are state and
 * stay as they were: a silenced alarm stays silent, a drill stays a drill.
 */
import { advanceChannel, finished, request } from './channels.ts';
import type { PlannerState } from './state.ts';
import type { Effect, Indicator } from './types.ts';

/**
 * Effects that bring the outside in line with the restored state. `active`: the alerts the engine
 * holds (only their sirens start again); `keep`: the alerts whose memos stay, the active ones and
 * those a transition is still coming for (a memo of an alert the engine no longer holds and no
 * transition names could never be cleared).
 */
export function resumeAfterRestart(state: PlannerState, active: ReadonlySet<string>, now: number, keep: ReadonlySet<string> = active): Effect[] {
  const effects: Effect[] = [];
  const actions = state.config.actions;
  for (const id of [...state.alerts.keys()]) if (!keep.has(id)) state.alerts.delete(id);
  for (const ch of state.channels.values()) {
    advanceChannel(ch, now, actions, effects);
    const cur = ch.current;
    if (!cur) continue;
    if (cur.channel === 'siren' && ch.lastSiren) ch.lastSiren.endedAt = Math.min(ch.lastSiren.endedAt, now);
    if (cur.channel === 'siren' && cur.resumable && cur.priority === 'alarm' && cur.alert !== null && active.has(cur.alert)) {
      ch.current = null;
      request(ch, { ...cur }, now, actions, effects);
    } else finished(ch, cur.activity, now, actions, effects);
  }
  // The panel and its buzzer restarted too: tell them what is lit.
  for (const k of Object.keys(state.indicators) as Indicator[]) {
    if (state.indicators[k] !== 'off') effects.push({ type: 'indicator', at: now, indicator: k, state: state.indicators[k] });
  }
  return effects;
}
