/**
 * Feeds the panel's broadcast progress (broadcast-progress.ts) from the box: broadcast effects
 * and stops, the speakers' reports, and the planner's speaker channels as they are now. The
 * planner frees a speaker that never reported `done` after `broadcast_max_s` without logging
 * anything, so the channels are looked at once a second (a few channels: microseconds) and the
 * live stream is told when what they hold changed.
 */
import type { PlannerState } from '../planner/state.ts';
import type { EngineRunner } from '../shell/engine-runner.ts';
import type { BoxContext } from './state-types.ts';
import type { BroadcastProgress, LivePart } from './broadcast-progress.ts';

export const LOOK_MS = 1000;

/** Every speaker channel's current and waiting broadcasts. `engineNow`/`wallNow` turn the planner's times into wall ms. */
export function liveParts(planner: Readonly<PlannerState>, engineNow: number, wallNow: number): LivePart[] {
  const out: LivePart[] = [];
  for (const [channel, ch] of planner.channels) {
    if (ch.kind !== 'speaker') continue;
    const items = ch.current ? [ch.current, ...ch.queue] : ch.queue;
    for (const i of items) {
      const playing = i === ch.current;
      out.push({
        activity: i.activity,
        channel,
        actuator: ch.actuator,
        zones: i.zones ?? [i.zone],
        state: playing ? 'playing' : 'queued',
        textZh: i.textZh ?? '',
        template: i.template ?? null,
        repeat: i.repeat ?? 1,
        priority: i.priority,
        by: i.by,
        drill: i.drill,
        startedAt: playing ? wallNow - (engineNow - i.startedAt) : null,
      });
    }
  }
  return out;
}

/** Subscribes `progress` to the bus and looks at the channels every LOOK_MS; `changed` when they hold something else. Returns the unsubscribers. */
export function watchBroadcasts(ctx: BoxContext, engine: EngineRunner, progress: BroadcastProgress, changed: () => void): (() => void)[] {
  const offs = [
    ctx.bus.on('effect', (e) => {
      if (e.type === 'broadcast' || e.type === 'broadcast_stop') progress.effect(e, ctx.clock.wall());
    }),
    ctx.bus.on('actuatorReport', (r) => progress.report(r, ctx.clock.wall())),
  ];
  let last = '';
  const timer = setInterval(() => {
    const now = engine.read((core) => {
      let s = '';
      for (const [key, ch] of core.planner.channels) if (ch.kind === 'speaker' && (ch.current || ch.queue.length)) s += `${key}:${ch.current?.activity ?? ''}:${ch.queue.map((i) => i.activity).join(',')};`;
      return s;
    });
    if (now !== null && now !== last) {
      last = now;
      changed();
    }
  }, LOOK_MS);
  timer.unref();
  offs.push(() => clearInterval(timer));
  return offs;
}
