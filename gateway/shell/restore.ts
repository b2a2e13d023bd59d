/**
 * A restart (watchdog, power cut, kill -9) must not forget what the box and its officers did:
 * the core is rebuilt from the log before the box takes readings.
 *
 * - The snapshot (core-snapshot.ts), written with the events of every step that changed an
 *   alert, a silence or the drill, gives back the alerts (same ids, acknowledgements), pending
 *   durations and the planner's state.
 * - The windows are rebuilt by replaying the log's readings through the engine, its
 *   transitions thrown away: rain gauges over 24 h (rollups, then raw), the other sensors' raw
 *   readings over the last minutes (rise windows, smoke confirmations, health counters).
 * - At the boundary — the snapshot's time, or the longest river/smoke duration back (at most
 *   REPLAY_MAX) if it is older — every slot is
 *   set to the snapshot's state; the readings after the boundary are evaluated against it, which
 *   rebuilds the durations that were counting when the box died. What those readings decide
 *   (the previous run never did: each of its decisions wrote a newer snapshot) is returned, to
 *   be logged and acted on like any step's transitions.
 *
 * Without a snapshot (a log from before it, or one that is corrupt or of another version, which
 * is logged and ignored), the slots are idle at the boundary: alerts are raised again by the
 * readings, those after the boundary or the next ones.
 */
import type { Logger } from 'pino';
import type { SiteConfig } from '../config/types.ts';
import type { Core } from '../core.ts';
import { parseSnapshot, restorePlanner, restoreSlots, type CoreSnapshot, type Pristine } from '../core-snapshot.ts';
import { evaluate, resumeAfterDowntime } from '../engine/evaluate.ts';
import { restoreThresholds } from '../engine/thresholds.ts';
import type { AlertTransition, Quality } from '../engine/types.ts';
import { createPlannerState } from '../planner/state.ts';
import { resetTo } from '../state-diff.ts';
import type { HistoryQuery, HistoryRow, StoredSnapshot } from '../store/event-store.ts';

/** What a restart reads from the log (EventStore implements it). */
export interface RestoreSource {
  snapshot(): StoredSnapshot | null;
  history(q: HistoryQuery): Iterable<HistoryRow>;
}

const MINUTE = 60_000;
/** Rain windows reach back 24 h. */
const RAIN_HISTORY_MS = 24 * 60 * MINUTE;
/** Bounds on the raw replay: a restart of a 1,000-sensor site at 1 Hz reads 60,000 rows a minute. */
const WINDOW_MAX = 60 * MINUTE;
export const REPLAY_MAX = 60 * MINUTE;

export interface Restored {
  /** The engine's clock is the wall clock plus this (it continues the previous run's clock). */
  offset: number;
  snapshot: CoreSnapshot | null;
  /** What the readings after the boundary decide. */
  transitions: AlertTransition[];
  readings: number;
}

/** How far back the windows of the non-rain sensors reach: rise windows, smoke confirmation. */
function windowMs(config: SiteConfig): number {
  let ms = MINUTE;
  for (const s of config.sensors) {
    if (s.kind === 'water_level') ms = Math.max(ms, s.riseWindowMin * MINUTE);
    if (s.kind === 'smoke') ms = Math.max(ms, s.confirmS * 1000);
  }
  return Math.min(ms, WINDOW_MAX);
}

/**
 * The longest duration a river or smoke alert can wait out: their raw readings this far back
 * rebuild a pending one. Rain's (30 min by default) is left out: it would make every restart read
 * half an hour of every other sensor's raw readings; a rain duration pending at an older
 * snapshot starts again instead, which only delays a clear.
 */
function durationMs(config: SiteConfig): number {
  let ms = MINUTE;
  for (const s of config.sensors) if (s.kind !== 'rain') ms = Math.max(ms, s.clearAfterS * 1000, s.kind === 'water_level' ? s.raiseAfterS * 1000 : 0);
  return Math.min(ms, REPLAY_MAX);
}

function readSnapshot(source: RestoreSource, log: Logger): CoreSnapshot | null {
  let stored: StoredSnapshot | null;
  try {
    stored = source.snapshot();
  } catch (err) {
    log.error({ err }, 'the snapshot could not be read; starting without it (alerts are raised again by the readings)');
    return null;
  }
  if (!stored) return null;
  try {
    return parseSnapshot(stored.version, stored.body);
  } catch (err) {
    log.error({ err, version: stored.version, seq: stored.seq, bytes: stored.body.length }, 'snapshot ignored; starting without it (alerts are raised again by the readings)');
    return null;
  }
}

/**
 * Rebuilds `core` (fresh from the config, as `pristine`) from the log. Never throws for what
 * the log holds: what cannot be read or applied is logged, and the box starts without it.
 */
export function restoreCore(core: Core, pristine: Pristine, config: SiteConfig, source: RestoreSource, log: Logger, wallNow: number): Restored {
  let snap = readSnapshot(source, log);
  // Engine time of the log's readings, and of the snapshot's times: wall + the previous run's offset.
  const replayOffset = snap ? snap.engineNow - snap.wall : 0;
  let offset = replayOffset;
  if (snap && wallNow + offset <= snap.engineNow) {
    // The wall clock is behind the snapshot (set back, or a box without RTC): never run the engine's clock backwards.
    log.warn({ wall: wallNow, snapshotWall: snap.wall }, 'wall clock behind the last snapshot; the engine clock continues from the snapshot');
    offset = snap.engineNow + 1 - wallNow;
  }
  const boundary = Math.max(snap ? snap.wall : Number.NEGATIVE_INFINITY, wallNow - durationMs(config));
  const rawFrom = boundary - windowMs(config);
  const rain: string[] = [];
  const raw: string[] = [];
  for (const s of config.sensors) (s.kind === 'rain' ? rain : raw).push(s.id);

  const transitions: AlertTransition[] = [];
  let crossed = false;
  let failed = false;
  const cross = (): void => {
    crossed = true;
    core.engine.slots.forEach((s, i) => resetTo(s, pristine.slots[i]));
    if (!snap) return;
    try {
      const skipped = restoreSlots(core, snap);
      // Readings between an older snapshot and the boundary were not replayed: what it said was pending is stale.
      if (boundary > snap.wall) for (const s of core.engine.slots) s.upSince = s.downSince = null;
      skipped.push(...restorePlanner(core, snap));
      // Overrides survive a restart (the township set them for a time, and that time goes on);
      // one the current config has no place for is dropped, and said so.
      for (const d of restoreThresholds(core.engine, snap.thresholds ?? [], snap.engineNow)) {
        log.warn({ sensor: d.sensor, threshold: d.threshold, value: d.value, by: d.by, reason: d.reason }, 'threshold override from before the restart dropped');
      }
      if (skipped.length) log.warn({ skipped: skipped.slice(0, 20), count: skipped.length }, 'snapshot parts the current config has no place for were left out');
    } catch (err) {
      log.error({ err }, 'snapshot could not be applied; starting without it (alerts are raised again by the readings)');
      core.engine.slots.forEach((s, i) => resetTo(s, pristine.slots[i]));
      core.planner = createPlannerState(config);
      snap = null;
      failed = true;
    }
  };

  let readings = 0;
  try {
    // Streamed: a day of 1,000 gauges is 1.44 M rows (see EventStore.history).
    for (const r of source.history({ rain, rainSince: wallNow - RAIN_HISTORY_MS, raw, rawSince: rawFrom })) {
      if (!crossed && r.atWall >= boundary) cross();
      const at = r.atWall + replayOffset;
      const out = evaluate(core.engine, { type: 'reading', reading: { sensor: r.sensor, value: r.value, at, quality: r.quality as Quality } }, at);
      if (crossed) transitions.push(...out.transitions);
      readings++;
    }
  } catch (err) {
    // What was read so far stays: rain already counted is better than none.
    log.error({ err, readings }, 'the readings could not be read to the end; windows hold what was read');
  }
  if (!crossed) cross();
  // The readings after a snapshot that failed to apply met idle slots; the planner knows none of what they raised.
  if (failed) core.engine.slots.forEach((s, i) => resetTo(s, pristine.slots[i]));
  resumeAfterDowntime(core.engine, wallNow + offset);
  return { offset, snapshot: snap, transitions: failed ? [] : transitions, readings };
}
