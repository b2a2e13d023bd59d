/**
 * One output channel, one physical siren or speaker (see targets.ts): what plays now and what
 * waits. A higher rank pre-empts; a lower or equal one waits. The rank is the priority, then,
 * within a priority, the item's urgency (state.ts `SoundSpec.urgency`). A new level of the same
 * alert replaces that alert's own sound at once.
 */
import type { ActionsConfig } from '../config/types.ts';
import { clampSteps, onStepAt, patternMs } from './siren-limits.ts';
import type { ChannelKind } from './targets.ts';
import type { Effect, Priority, Source, StopReason } from './types.ts';
import { priorityRank } from './types.ts';
import { alertSubject } from '../engine/alert-slot.ts';

export interface Item {
  activity: string;
  /** The zone of the request this actuator plays it for (the first requested zone it serves). */
  zone: string;
  channel: ChannelKind;
  priority: Priority;
  /** Orders items of one priority (higher first); 0 for all but automatic alarms. */
  urgency: number;
  source: Source;
  by: string;
  alert: string | null;
  /** An all-clear carries the subject of the alert it ends (alertSubject): see `request`. */
  clears?: string;
  drill: boolean;
  /** The broadcast command's `key`, if it had one: `broadcast_cancel` and a later broadcast of that key find it by this. */
  key?: string;
  /** Pre-empted items start again later; drills and tests are dropped instead. */
  resumable: boolean;
  pattern?: string;
  steps?: number[];
  textZh?: string;
  textEn?: string;
  /** The named broadcast the speech was filled from (planner/template.ts), carried to the effect. */
  template?: string;
  /** The requested zones this actuator plays it for (the panel's broadcast progress); absent in snapshots from before it. */
  zones?: string[];
  repeat?: number;
  startedAt: number;
  endsAt: number;
}

export interface Channel {
  kind: ChannelKind;
  /** The actuator this channel drives; null for a zone no actuator of its kind serves. */
  actuator: string | null;
  current: Item | null;
  queue: Item[];
  /** The last siren pattern that played and when it stopped, for the on-time limit. */
  lastSiren: { steps: number[]; startedAt: number; endedAt: number } | null;
}

export function newChannel(kind: ChannelKind, actuator: string | null): Channel {
  return { kind, actuator, current: null, queue: [], lastSiren: null };
}

/** Urgency stays below this, so no urgency lifts an item over a higher priority. */
const URGENCY_SPAN = 100;

function rank(i: Item): number {
  return priorityRank(i.priority) * URGENCY_SPAN + Math.min(i.urgency, URGENCY_SPAN - 1);
}

/** Continuous on-time the siren already has at `now`, if the new pattern follows without a rest. */
function alreadyOnS(ch: Channel, now: number, restS: number): number {
  const last = ch.lastSiren;
  if (!last || (now - last.endedAt) / 1000 >= restS) return 0;
  const step = onStepAt(last.steps, last.startedAt, last.endedAt);
  return step.on ? (last.endedAt - step.since) / 1000 : 0;
}

function start(ch: Channel, item: Item, now: number, actions: ActionsConfig, out: Effect[], replaces?: { activity: string; reason: StopReason }): void {
  item.startedAt = now;
  ch.current = item;
  const address = { actuator: ch.actuator, zone: item.zone, activity: item.activity };
  const attribution = { priority: item.priority, source: item.source, by: item.by, alert: item.alert, drill: item.drill };
  if (item.channel === 'siren') {
    const { steps, clamped } = clampSteps(item.steps!, actions.sirenMaxOnS, actions.sirenRestS, alreadyOnS(ch, now, actions.sirenRestS));
    item.endsAt = now + patternMs(steps);
    ch.lastSiren = { steps, startedAt: now, endedAt: item.endsAt };
    out.push({ type: 'siren', at: now, ...address, ...attribution, pattern: item.pattern!, steps, clamped, ...(replaces ? { replaces } : {}) });
  } else {
    item.endsAt = now + actions.broadcastMaxS * 1000;
    out.push({ type: 'broadcast', at: now, ...address, ...attribution, chime: true, repeat: item.repeat!, textZh: item.textZh!, textEn: item.textEn!, ...(item.template === undefined ? {} : { template: item.template }) });
  }
}

function halt(ch: Channel, now: number, reason: StopReason, by: string, out: Effect[]): Item {
  const item = ch.current!;
  ch.current = null;
  const address = { actuator: ch.actuator, zone: item.zone, activity: item.activity };
  if (item.channel === 'siren') {
    if (ch.lastSiren) ch.lastSiren.endedAt = now;
    out.push({ type: 'siren_off', at: now, ...address, reason, by });
  } else out.push({ type: 'broadcast_stop', at: now, ...address, reason, by });
  return item;
}

/**
 * The current item gives way to `item`, which starts at once. Siren to siren, the new pattern
 * simply takes over (its effect carries `replaces`) instead of a `siren_off` then a `siren`: the
 * relay goes straight from one pattern to the next, with no off write between them.
 */
function replace(ch: Channel, item: Item, now: number, reason: StopReason, actions: ActionsConfig, out: Effect[]): Item {
  const cur = ch.current!;
  if (cur.channel !== 'siren') {
    halt(ch, now, reason, 'planner', out);
    start(ch, item, now, actions, out);
    return cur;
  }
  ch.current = null;
  if (ch.lastSiren) ch.lastSiren.endedAt = now;
  start(ch, item, now, actions, out, { activity: cur.activity, reason });
  return cur;
}

function enqueue(ch: Channel, item: Item, front = false): void {
  const r = rank(item);
  // After every item of higher rank, and after (or, when resuming, before) those of equal rank.
  let i = ch.queue.findIndex((q) => (front ? rank(q) <= r : rank(q) < r));
  if (i < 0) i = ch.queue.length;
  ch.queue.splice(i, 0, item);
}

function next(ch: Channel, now: number, actions: ActionsConfig, out: Effect[]): void {
  const item = ch.queue.shift();
  if (item) start(ch, item, now, actions, out);
}

/**
 * Puts an item on the channel. Whatever the channel holds for the same alert (or the same
 * broadcast key: a CAP Update of the warning it plays, whatever its new priority) is replaced, and
 * so is a waiting or playing all-clear for the same subject (the river probe that cleared and
 * is rising again; a newer all-clear for it): a flapping sensor never builds up a backlog of
 * stale "cleared" announcements that would play long after the fact. On a siren, an alarm
 * replaces every all-clear there, whatever it clears: 解除警报 heard after an alarm pattern
 * tells the people who heard it that the danger is over.
 */
export function request(ch: Channel, item: Item, now: number, actions: ActionsConfig, out: Effect[]): void {
  const subject = item.alert ? alertSubject(item.alert) : (item.clears ?? null);
  const alarmOnSiren = item.channel === 'siren' && item.alert !== null;
  const supersedes = (q: Item): boolean =>
    (item.alert !== null && q.alert === item.alert) || (subject !== null && q.clears === subject) || (alarmOnSiren && q.clears !== undefined) || (item.key !== undefined && q.key === item.key);
  if ((subject !== null || item.key !== undefined) && ch.queue.length) ch.queue = ch.queue.filter((q) => !supersedes(q));
  const cur = ch.current;
  if (!cur) return start(ch, item, now, actions, out);
  if (supersedes(cur)) {
    replace(ch, item, now, 'replaced', actions, out);
    return;
  }
  if (rank(item) > rank(cur)) {
    replace(ch, item, now, 'preempted', actions, out);
    if (cur.resumable) enqueue(ch, cur, true);
    return;
  }
  enqueue(ch, item);
}

/** Removes matching items, stopping the current one if it matches. Returns what was removed. */
export function stopWhere(ch: Channel, match: (i: Item) => boolean, now: number, reason: StopReason, by: string, actions: ActionsConfig, out: Effect[]): Item[] {
  const removed = ch.queue.filter(match);
  ch.queue = ch.queue.filter((i) => !match(i));
  if (ch.current && match(ch.current)) {
    removed.push(halt(ch, now, reason, by, out));
    next(ch, now, actions, out);
  }
  return removed;
}

/** Ends what has run its course (sirens by pattern length, speech by its deadline) and starts what waits. */
export function advanceChannel(ch: Channel, now: number, actions: ActionsConfig, out: Effect[]): void {
  while (ch.current && ch.current.endsAt <= now) {
    ch.current = null;
    next(ch, now, actions, out);
  }
}

/** The speaker reported the activity finished. */
export function finished(ch: Channel, activity: string, now: number, actions: ActionsConfig, out: Effect[]): void {
  if (ch.current?.activity !== activity) return;
  ch.current = null;
  next(ch, now, actions, out);
}
