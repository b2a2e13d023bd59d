/**
 * One run of an audible self-test, followed to its verdict (pure: effects, reports and the clock
 * in; each actuator's verdict out). The shell (self-tests.ts) sends the planner a `test` command
 * attributed to `schedule:<test>`; every effect carrying that `by` is this run's.
 *
 * - **Speaker test**: every configured speaker gets the chime and 例行测试,这不是警报 and must
 *   report `done` for that activity within `doneWithinS` of the box sending it; a `fault` report
 *   fails it at once, with the device's words.
 * - **Siren test** (the 3 s `test` pattern): a siren on a Modbus relay passes unless its driver
 *   reports a fault (the write failed, or the relay read back did not follow) before the pattern
 *   plus `doneWithinS` is over; an MQTT siren must report `done` or `state` for the activity in
 *   that time (the box cannot see it otherwise).
 * - Pre-empted by something more important (the planner drops a pre-empted test): the actuator
 *   is `interrupted` and the run is tried again later. Stopped or silenced by an officer: the
 *   actuator is `stopped`, which is no fault, and the test is not retried (someone wanted quiet).
 *   Still waiting for its turn after `waitS` (queued behind a long broadcast): `interrupted`.
 */
import type { ActuatorReport } from '../shell/bus.ts';
import type { Effect } from '../planner/types.ts';

export type AudibleTest = 'speaker_weekly' | 'siren_monthly';

export interface RunTarget {
  actuator: string;
  /** Sirens on a Modbus relay: the driver reads back every write and reports the faults. */
  readBack: boolean;
}

export type TargetStatus = 'waiting' | 'playing' | 'passed' | 'failed' | 'interrupted' | 'stopped';

/** Why an actuator failed, as data (the fault alert's `reason`). */
export type FailReason = 'no_done' | 'no_report' | 'device_fault';

export interface TargetState {
  actuator: string;
  readBack: boolean;
  status: TargetStatus;
  activity: string | null;
  /** When the box sent it this run's effect (ms, the run's clock). */
  sentAt: number | null;
  /** When a playing target is judged. */
  deadline: number | null;
  reason: FailReason | null;
  /** For `stopped`: who; for `device_fault`: what the device said. */
  detail: Record<string, unknown> | null;
}

export interface AudibleRun {
  id: string;
  test: AudibleTest;
  /** The `by` of the test command and of all its effects. */
  by: string;
  startedAt: number;
  /** Targets still waiting for their effect at this time are `interrupted`. */
  waitUntil: number;
  doneWithinMs: number;
  targets: Map<string, TargetState>;
}

export function newRun(id: string, test: AudibleTest, by: string, targets: readonly RunTarget[], now: number, doneWithinS: number, waitS: number): AudibleRun {
  const map = new Map<string, TargetState>();
  for (const t of targets) map.set(t.actuator, { actuator: t.actuator, readBack: t.readBack, status: 'waiting', activity: null, sentAt: null, deadline: null, reason: null, detail: null });
  return { id, test, by, startedAt: now, waitUntil: now + waitS * 1000, doneWithinMs: doneWithinS * 1000, targets: map };
}

const TERMINAL: ReadonlySet<TargetStatus> = new Set(['passed', 'failed', 'interrupted', 'stopped']);

function settle(t: TargetState, status: TargetStatus, reason: FailReason | null = null, detail: Record<string, unknown> | null = null): void {
  if (TERMINAL.has(t.status)) return;
  Object.assign(t, { status, reason, detail, deadline: null });
}

/** An effect the box sent (any effect; those of other `by`s are ignored). */
export function onEffect(run: AudibleRun, e: Effect, now: number): void {
  if (e.type === 'indicator' || e.actuator === null) return;
  // A stop names who stopped it, not the test: those are matched by activity. A siren pattern
  // that takes over from another names it in `replaces` instead of a siren_off (channels.ts).
  if (e.type === 'broadcast_stop' || e.type === 'siren_off') return stopped(run, e.actuator, e.activity, e.reason, e.by);
  if (e.type === 'siren' && e.replaces) stopped(run, e.actuator, e.replaces.activity, e.replaces.reason, e.by);
  const t = run.targets.get(e.actuator);
  if (!t || e.by !== run.by || t.status !== 'waiting') return;
  if ((run.test === 'speaker_weekly' && e.type === 'broadcast') || (run.test === 'siren_monthly' && e.type === 'siren')) {
    const patternMs = e.type === 'siren' ? e.steps.reduce((a, b) => a + b, 0) * 1000 : 0;
    Object.assign(t, { status: 'playing', activity: e.activity, sentAt: now, deadline: now + patternMs + run.doneWithinMs });
  }
}

function stopped(run: AudibleRun, actuator: string, activity: string, reason: string, by: string): void {
  const t = run.targets.get(actuator);
  if (!t || t.activity !== activity) return;
  if (reason === 'preempted') settle(t, 'interrupted', null, { reason, by });
  else settle(t, 'stopped', null, { reason, by });
}

/**
 * What an actuator reported (the broker's `actuator/<id>/report`, or a driver's). The box's
 * router reports `no_done` itself for an MQTT speaker that stays silent past its broadcast's
 * expected length (shell/actuators.ts): that is the speaker's `no_done`, not a fault the device
 * reported, and it usually comes before `doneWithinS`.
 */
export function onReport(run: AudibleRun, r: ActuatorReport, now: number): void {
  const t = run.targets.get(r.actuator);
  // A report about another broadcast is not about the test (a fault without an activity is about the device).
  if (!t || t.status !== 'playing' || (r.activity !== undefined && r.activity !== t.activity)) return;
  if (r.report === 'fault' && r.detail?.reason === 'no_done') {
    return settle(t, 'failed', run.test === 'speaker_weekly' ? 'no_done' : 'no_report', { waited_s: Math.round((now - t.sentAt!) / 1000) });
  }
  if (r.report === 'fault') return settle(t, 'failed', 'device_fault', { ...(r.detail ?? {}), ...(r.activity ? { activity: r.activity } : {}) });
  if (r.activity === undefined) return;
  if (run.test === 'speaker_weekly' ? r.report === 'done' : !t.readBack) settle(t, 'passed');
}

/** The clock: deadlines that passed are judged. */
export function onTime(run: AudibleRun, now: number): void {
  for (const t of run.targets.values()) {
    if (t.status === 'waiting' && now >= run.waitUntil) settle(t, 'interrupted', null, { reason: 'never_started' });
    if (t.status !== 'playing' || now < t.deadline!) continue;
    if (t.readBack) settle(t, 'passed');
    else settle(t, 'failed', run.test === 'speaker_weekly' ? 'no_done' : 'no_report', { waited_s: Math.round((now - t.sentAt!) / 1000) });
  }
}

/** The earliest time `onTime` may change something, or null when every target is settled. */
export function nextDeadline(run: AudibleRun): number | null {
  let next: number | null = null;
  for (const t of run.targets.values()) {
    const at = t.status === 'waiting' ? run.waitUntil : t.status === 'playing' ? t.deadline : null;
    if (at !== null && (next === null || at < next)) next = at;
  }
  return next;
}

export function finished(run: AudibleRun): boolean {
  return [...run.targets.values()].every((t) => TERMINAL.has(t.status));
}

export type RunOutcome = 'passed' | 'failed' | 'interrupted' | 'stopped';

/**
 * The run's outcome: `failed` when any actuator failed (its fault stands whatever the others
 * did), else `stopped` when an officer stopped it, else `interrupted` when something more
 * important took an actuator (tried again later), else `passed`.
 */
export function outcome(run: AudibleRun): RunOutcome {
  const statuses = new Set([...run.targets.values()].map((t) => t.status));
  if (statuses.has('failed')) return 'failed';
  if (statuses.has('stopped')) return 'stopped';
  if (statuses.has('interrupted')) return 'interrupted';
  return 'passed';
}

/** Whether the run asks for a retry: something more important interrupted it, and no officer stopped it. */
export function wantsRetry(run: AudibleRun): boolean {
  const statuses = [...run.targets.values()].map((t) => t.status);
  return statuses.includes('interrupted') && !statuses.includes('stopped');
}
