/**
 * One output channel (the sirens or the speakers of one zone): what plays now and what waits.
 * A higher priority pre-empts; a lower or equal one waits its turn. A new level of the same
 * alert replaces that alert's own sound at once.
 */
import type { ActionsConfig } from '../config/types.ts';
import { clampSteps, onStepAt, patternMs } from './siren-limits.ts';
import type { Effect, Priority, Source, StopReason } from './types.ts';
import { priorityRank } from './types.ts';
import { alertSubject } from '../engine/alert-slot.ts';

export interface Item {
  activity: string;
  zone: string;
  channel: 'siren' | 'speaker';
  priority: Priority;
  source: Source;
  by: string;
  alert: string | null;
  /** An all-clear carries the subject of the alert it ends (alertSubject): see `request`. */
  clears?: string;
  drill: boolean;
  /** Pre-empted items start again later; drills and tests are dropped instead. */
  resumable: boolean;
  pattern?: string;
  steps?: number[];
  textZh?: string;
  textEn?: string;
  repeat?: number;
  startedAt: number;
  endsAt: number;
}

export interface Channel {
  current: Item | null;
  queue: Item[];
  /** The last siren pattern that played and when it stopped, for the on-time limit. */
  lastSiren: { steps: number[]; startedAt: number; endedAt: number } | null;
}

export function newChannel(): Channel {
  return { current: null, queue: [], lastSiren: null };
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
  const attribution = { priority: item.priority, source: item.source, by: item.by, alert: item.alert, drill: item.drill };
  if (item.channel === 'siren') {
    const { steps, clamped } = clampSteps(item.steps!, actions.sirenMaxOnS, actions.sirenRestS, alreadyOnS(ch, now, actions.sirenRestS));
    item.endsAt = now + patternMs(steps);
    ch.lastSiren = { steps, startedAt: now, endedAt: item.endsAt };
    out.push({ type: 'siren', at: now, zone: item.zone, activity: item.activity, ...attribution, pattern: item.pattern!, steps, clamped, ...(replaces ? { replaces } : {}) });
  } else {
    item.endsAt = now + actions.broadcastMaxS * 1000;
    out.push({ type: 'broadcast', at: now, zone: item.zone, activity: item.activity, ...attribution, chime: true, repeat: item.repeat!, textZh: item.textZh!, textEn: item.textEn! });
  }
}

function halt(ch: Channel, now: number, reason: StopReason, by: string, out: Effect[]): Item {
  const item = ch.current!;
  ch.current = null;
  if (item.channel === 'siren') {
    if (ch.lastSiren) ch.lastSiren.endedAt = now;
    out.push({ type: 'siren_off', at: now, zone: item.zone, activity: item.activity, reason, by });
  } else out.push({ type: 'broadcast_stop', at: now, zone: item.zone, activity: item.activity, reason, by });
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
  const rank = priorityRank(item.priority);
  // After every item of higher rank, and after (or, when resuming, before) those of equal rank.
  let i = ch.queue.findIndex((q) => (front ? priorityRank(q.priority) <= rank : priorityRank(q.priority) < rank));
  if (i < 0) i = ch.queue.length;
  ch.queue.splice(i, 0, item);
}

function next(ch: Channel, now: number, actions: ActionsConfig, out: Effect[]): void {
  const item = ch.queue.shift();
  if (item) start(ch, item, now, actions, out);
}

/**
 * Puts an item on the channel. Whatever the channel holds for the same alert is replaced, and
 * so is a waiting or playing all-clear for the same subject (the river probe that cleared and
 * is rising again; a newer all-clear for it): a flapping sensor never builds up a backlog of
 * stale "cleared" announcements that would play long after the fact.
 */
export function request(ch: Channel, item: Item, now: number, actions: ActionsConfig, out: Effect[]): void {
  const subject = item.alert ? alertSubject(item.alert) : (item.clears ?? null);
  const supersedes = (q: Item): boolean => (item.alert !== null && q.alert === item.alert) || (subject !== null && q.clears === subject);
  if (subject !== null && ch.queue.length) ch.queue = ch.queue.filter((q) => !supersedes(q));
  const cur = ch.current;
  if (!cur) return start(ch, item, now, actions, out);
  if (supersedes(cur)) {
    replace(ch, item, now, 'replaced', actions, out);
    return;
  }
  if (priorityRank(item.priority) > priorityRank(cur.priority)) {
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
