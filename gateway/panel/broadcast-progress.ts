/**
 * What became of each broadcast, per zone, for the panel (`broadcasts` in GET /api/state): a
 * broadcast lands once on each speaker serving its zones (planner/state.ts `sound`), and each
 * speaker's part is `queued`, `playing`, `done` (the speaker reported it), `failed` or `stopped`.
 *
 * Two sources, because neither alone knows it all: the planner's channels say what is playing
 * or waiting now (`LivePart`s, read at each view), and the effects and the speakers' reports say
 * how a part ended, which the channels forget at once. Pure: the caller passes the clock.
 *
 * - `failed`: the speaker reported a fault for it, no speaker serves the zone (planned for
 *   `actuator: null`: heard by nobody), or it left the channel without a `done` (the planner
 *   frees a speaker after `broadcast_max_s`: nobody can say it was heard).
 * - `stopped`: a `broadcast_stop` (stop, drill end, replaced, cleared), or pre-empted and not
 *   resumed (drills and tests are dropped); a pre-empted part that waits again is `queued`.
 *
 * A broadcast is listed while any part is queued or playing, and KEEP_MS after the last ended
 * (so the officer sees that it finished, and how); at most MAX are remembered.
 */
import type { ActuatorReport } from '../shell/bus.ts';
import type { Effect } from '../planner/types.ts';
import { unservedKey } from '../planner/targets.ts';

export type PartState = 'queued' | 'playing' | 'done' | 'failed' | 'stopped';

export const KEEP_MS = 60_000;
export const MAX = 100;

/** One speaker's part of a broadcast as the planner's channels hold it now. */
export interface LivePart {
  activity: string;
  /** The planner's channel key: the speaker's id, or the unserved zone's key. */
  channel: string;
  actuator: string | null;
  /** The requested zones this speaker plays it for. */
  zones: string[];
  state: 'playing' | 'queued';
  textZh: string;
  template: string | null;
  repeat: number;
  priority: string;
  by: string;
  drill: boolean;
  /** Wall ms it started on this speaker; null while queued. */
  startedAt: number | null;
}

interface Part {
  actuator: string | null;
  zones: string[];
  state: PartState;
  endedAt: number | null;
}

interface Tracked {
  activity: string;
  template: string | null;
  textZh: string;
  repeat: number;
  priority: string;
  by: string;
  drill: boolean;
  startedAt: number | null;
  parts: Map<string, Part>;
}

export interface BroadcastView {
  activity: string;
  template: string | null;
  text_zh: string;
  zones: string[];
  repeat: number;
  priority: string;
  started_at: string | null;
  by: string;
  drill: boolean;
  zones_state: Record<string, PartState>;
}

/** Which state a zone shows when two speakers play one broadcast there: the one that still needs watching. */
const PRECEDENCE: PartState[] = ['playing', 'queued', 'failed', 'stopped', 'done'];
const open = (s: PartState): boolean => s === 'playing' || s === 'queued';
const order = (activity: string): number => Number(/(\d+)$/.exec(activity)?.[1] ?? 0);

export class BroadcastProgress {
  private readonly tracked = new Map<string, Tracked>();

  constructor(private readonly keepMs = KEEP_MS, private readonly max = MAX) {}

  /** A broadcast effect started a part; a stop ended one (or put it back in the queue, if pre-empted). */
  effect(e: Effect, wallNow: number): void {
    if (e.type === 'broadcast') {
      const t = this.track({ activity: e.activity, template: e.template ?? null, textZh: e.textZh, repeat: e.repeat, priority: e.priority, by: e.by, drill: e.drill, startedAt: wallNow });
      t.startedAt ??= wallNow;
      const p = this.part(t, e.actuator ?? unservedKey(e.zone, 'speaker'), e.actuator, [e.zone]);
      this.set(p, e.actuator === null ? 'failed' : 'playing', wallNow);
    } else if (e.type === 'broadcast_stop') {
      const p = this.tracked.get(e.activity)?.parts.get(e.actuator ?? unservedKey(e.zone, 'speaker'));
      if (p && open(p.state)) this.set(p, e.reason === 'preempted' ? 'queued' : 'stopped', wallNow);
    }
  }

  /** A speaker said it finished (`done`) or could not play (`fault`) a part. */
  report(r: ActuatorReport, wallNow: number): void {
    if (!r.activity || (r.report !== 'done' && r.report !== 'fault')) return;
    const p = this.tracked.get(r.activity)?.parts.get(r.actuator);
    if (p && open(p.state)) this.set(p, r.report === 'done' ? 'done' : 'failed', wallNow);
  }

  /** The broadcasts to show, oldest first, brought in line with what the channels hold now. */
  view(live: readonly LivePart[], wallNow: number, wall: (ms: number) => string): BroadcastView[] {
    const seen = new Set<string>();
    for (const l of live) {
      const t = this.track(l);
      if (l.startedAt !== null) t.startedAt = t.startedAt === null ? l.startedAt : Math.min(t.startedAt, l.startedAt);
      const p = this.part(t, l.channel, l.actuator, l.zones);
      p.zones = l.zones;
      // A part a speaker reported done or failed stays so: a faulty speaker is held by the
      // planner until broadcast_max_s. Starting again after a pre-emption comes as an effect.
      if (open(p.state)) this.set(p, l.actuator === null ? 'failed' : l.state, wallNow);
      seen.add(`${l.activity}\n${l.channel}`);
    }
    for (const t of this.tracked.values()) {
      for (const [channel, p] of t.parts) {
        if (!open(p.state) || seen.has(`${t.activity}\n${channel}`)) continue;
        // Gone from its channel without a word: dropped from the queue, or freed unreported.
        this.set(p, p.state === 'queued' ? 'stopped' : 'failed', wallNow);
      }
    }
    this.forget(wallNow, new Set(live.map((l) => l.activity)));
    return [...this.tracked.values()].sort((a, b) => order(a.activity) - order(b.activity)).map((t) => this.show(t, wall));
  }

  private track(x: Omit<Tracked, 'parts'>): Tracked {
    let t = this.tracked.get(x.activity);
    if (!t) {
      t = { ...x, startedAt: null, parts: new Map() };
      this.tracked.set(x.activity, t);
    }
    return t;
  }

  private part(t: Tracked, channel: string, actuator: string | null, zones: string[]): Part {
    let p = t.parts.get(channel);
    if (!p) {
      p = { actuator, zones, state: 'queued', endedAt: null };
      t.parts.set(channel, p);
    }
    return p;
  }

  private set(p: Part, state: PartState, wallNow: number): void {
    if (p.state === state && (open(state) || p.endedAt !== null)) return;
    p.state = state;
    p.endedAt = open(state) ? null : wallNow;
  }

  /**
   * Ended longer than keepMs ago, and the oldest ended beyond `max`; never one a channel still
   * holds (a part for no speaker waits out broadcast_max_s there, failed from the start).
   */
  private forget(wallNow: number, live: ReadonlySet<string>): void {
    const ended = (t: Tracked): number | null => {
      if (live.has(t.activity)) return null;
      let last = 0;
      for (const p of t.parts.values()) {
        if (open(p.state)) return null;
        last = Math.max(last, p.endedAt ?? 0);
      }
      return last;
    };
    for (const [id, t] of this.tracked) {
      const e = ended(t);
      if (e !== null && wallNow - e >= this.keepMs) this.tracked.delete(id);
    }
    if (this.tracked.size <= this.max) return;
    const gone = [...this.tracked.values()].filter((t) => ended(t) !== null).sort((a, b) => order(a.activity) - order(b.activity));
    for (const t of gone.slice(0, this.tracked.size - this.max)) this.tracked.delete(t.activity);
  }

  private show(t: Tracked, wall: (ms: number) => string): BroadcastView {
    const zones: string[] = [];
    const states: Record<string, PartState> = {};
    for (const p of t.parts.values()) {
      for (const z of p.zones) {
        if (!zones.includes(z)) zones.push(z);
        const was = states[z];
        if (was === undefined || PRECEDENCE.indexOf(p.state) < PRECEDENCE.indexOf(was)) states[z] = p.state;
      }
    }
    return { activity: t.activity, template: t.template, text_zh: t.textZh, zones, repeat: t.repeat, priority: t.priority, started_at: t.startedAt === null ? null : wall(t.startedAt), by: t.by, drill: t.drill, zones_state: states };
  }
}
