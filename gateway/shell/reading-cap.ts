/**
 * What one device may cost: a per-sensor cap on readings, ahead of the raw-readings table and
 * the engine. After the engine's flapping guard and observation gate a babbling device makes
 * almost no events, but every reading is still a row: a device at 3,000 readings/s writes
 * ~150 KB/s, 13 GB a day, to an SD card. The cap is far above any real sensor and above the
 * benchmarks' floods (see READINGS_PER_S), so only abuse ever meets it.
 *
 * Decisions:
 * - **A token bucket per sensor**: READINGS_PER_S sustained, BURST at once (a QoS 1 resend
 *   burst after a reconnect, a poller catching up), on the box's monotonic clock.
 * - **Never an alarm**: a smoke detector's alarm state (or an analog value at its alarm
 *   threshold) passes whatever the bucket says, so a fire is never dropped nor delayed.
 * - **The latest always gets through**: the newest reading dropped is held and handed on at
 *   the next tick (within a second) unless a newer one passed first, so a cumulative rain
 *   counter's last total or a latched state is never lost when a flood stops.
 * - **Counted, and said once per LOG_INTERVAL_MS** per sensor (one log line with the count):
 *   the flood that is being cut down must not become a flood of log lines.
 */
import type { SensorConfig } from '../config/types.ts';
import { smokeState } from '../engine/smoke.ts';
import type { Reading } from '../engine/types.ts';

/**
 * 200/s: test/bench/e2e.bench.ts floods 120 readings/s per sensor (200 sensors) to measure what
 * the box sustains, and must measure that, not the cap; the flood bench of issue 15 sends 48/s
 * per sensor across 1,000. A real sensor sends one a second at most.
 */
export const READINGS_PER_S = 200;
export const BURST = 400;
export const LOG_INTERVAL_MS = 60_000;

interface Bucket {
  tokens: number;
  at: number;
  /** The newest reading dropped, with the wall time it came, until a newer one passes or a tick hands it on. */
  held: { reading: Reading; atWall: number } | null;
  /** Dropped since `droppedSince`, not yet logged; when the count was last logged. */
  dropped: number;
  droppedSince: number;
  loggedAt: number;
}

/** A count to log: `dropped` readings of `sensor` over the last `intervalS` seconds. */
export interface CapReport {
  sensor: string;
  dropped: number;
  intervalS: number;
}

export class ReadingCap {
  /** One per configured sensor that has sent (unknown ids are not capped here), so bounded by the config. */
  private readonly buckets = new Map<string, Bucket>();

  constructor(private readonly sensors: ReadonlyMap<string, SensorConfig>) {}

  /** Whether `r`, arriving at `now` (monotonic ms), goes on; if not, it is counted and held. */
  admit(r: Reading, atWall: number, now: number): boolean {
    // Unknown ids are the engine's to report (one window for all of them: observation-gate.ts).
    const cfg = this.sensors.get(r.sensor);
    if (!cfg) return true;
    let b = this.buckets.get(r.sensor);
    if (!b) this.buckets.set(r.sensor, (b = { tokens: BURST, at: now, held: null, dropped: 0, droppedSince: now, loggedAt: Number.NEGATIVE_INFINITY }));
    b.tokens = Math.min(BURST, b.tokens + ((now - b.at) * READINGS_PER_S) / 1000);
    b.at = now;
    if (b.tokens >= 1) {
      b.tokens--;
      b.held = null;
      return true;
    }
    if (isAlarm(cfg, r)) {
      b.held = null;
      return true;
    }
    if (b.dropped === 0) b.droppedSince = now;
    b.dropped++;
    b.held = { reading: r, atWall };
    return false;
  }

  /**
   * Clock tick: the held readings to hand on now (the newest of each flood), and the counts to
   * log (one per sensor per LOG_INTERVAL_MS).
   */
  tick(now: number): { release: { reading: Reading; atWall: number }[]; reports: CapReport[] } {
    const release: { reading: Reading; atWall: number }[] = [];
    const reports: CapReport[] = [];
    for (const [sensor, b] of this.buckets) {
      if (b.held) {
        release.push(b.held);
        b.held = null;
      }
      if (b.dropped > 0 && now - b.loggedAt >= LOG_INTERVAL_MS) {
        reports.push({ sensor, dropped: b.dropped, intervalS: Math.round((now - b.droppedSince) / 1000) });
        b.dropped = 0;
        b.loggedAt = now;
      }
    }
    return { release, reports };
  }
}

function isAlarm(cfg: SensorConfig, r: Reading): boolean {
  return cfg.kind === 'smoke' && r.quality === 'good' && r.value !== null && smokeState(cfg, r.value) === 'alarm';
}
