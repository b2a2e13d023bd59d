/**
 * `sb/v1/<site>/rollup` on the township broker: the policy for raw readings.
 *
 * - Raw readings are never forwarded one by one (1,000 sensors at 1 Hz would be 86 M messages
 *   a day over a cellular link; what the township acts on are the events, alerts among them).
 * - Per-minute rollups (store/rollup.ts: per sensor and minute n / errors / min / max / mean /
 *   last) are: **one message per minute with every sensor that reported in it**, sent after
 *   the event backlog (the uplink's business: this lane waits while events wait).
 * - A minute is sent once it ended `settleMs` ago (default 2 min): the rollup job runs every
 *   5 s and a late reading merges into its minute, so a fresh minute could still change. A
 *   reading later than that stays in the box's own rollup but is not sent again.
 * - Thinned under a long outage: an hour that ended more than `thinAfterMs` ago (default
 *   24 h) goes as one message for the hour, one summary per sensor (counts added, min/max
 *   widened, means weighed by n, `last` the newest), marked `thinned: true`. A week offline
 *   is then 24 × 6 hourly messages plus a day of minutes, not 10,080 minutes.
 * - Older than the rollup retention (`store.rollup_retention_days`): gone from the box, skipped.
 * - Minutes without rows send nothing; `from`/`to` say which minutes a message covers, so a
 *   township sees what is missing.
 *
 * Payload (wall times with the site's offset, wire.ts):
 * `{"site":"demo","from":"2026-07-20T08:00:00+08:00","to":"2026-07-20T08:01:00+08:00","thinned":false,
 *   "sensors":{"rg1":{"n":60,"errors":0,"min":12.2,"max":12.6,"mean":12.41,"last":12.6}}}`
 * (`to` is exclusive; a sensor whose minute had only failed reads has n 0 and null figures).
 *
 * Pure: `rollupRange` says which minutes to read next (store/rollup-rows.ts), `rollupMessages`
 * turns those rows into messages and the next cursor: the last epoch minute covered, which the
 * uplink persists once the messages are acknowledged.
 */
import type { RollupRow } from '../store/rollup-rows.ts';
import { wallTime } from '../wire.ts';
import type { SideMessage } from './side-message.ts';
import { townshipTopics } from './township-topics.ts';

const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;

export interface RollupPolicy {
  /** A minute is sent once it ended this long ago (ms). */
  settleMs: number;
  /** An hour that ended longer ago than this (ms) is sent as one summary per sensor. */
  thinAfterMs: number;
  /** Rollups older than this are gone from the box (ms; store.rollup_retention_days). */
  retentionMs: number;
  /**
   * Minutes of rows read per call (a thinned call takes whole hours, at least one). Bounds what
   * one call holds in memory: 60 minutes × 1,000 sensors = 60,000 rows, where 60 thinned hours
   * would be 3.6 M (a day of rows as one array once ran the box out of its heap; store/history.ts).
   */
  maxMinutes: number;
}

export const ROLLUP_POLICY: RollupPolicy = { settleMs: 2 * MINUTE_MS, thinAfterMs: 24 * HOUR_MS, retentionMs: 400 * 24 * HOUR_MS, maxMinutes: 60 };

/** The last epoch minute covered so far (minute = floor(wall ms / 60 000)). */
export type RollupCursor = number;

export interface RollupRange {
  /** Read minutes in (after, through]. */
  after: number;
  through: number;
  thinned: boolean;
}

/** Where a new uplink starts: with the minutes that settle from now on, not the box's year of history. */
export function initialRollupCursor(nowWall: number, policy: RollupPolicy = ROLLUP_POLICY): RollupCursor {
  return settledThrough(nowWall, policy);
}

function settledThrough(nowWall: number, policy: RollupPolicy): number {
  // Minute m ended at (m + 1) × 60 000.
  return Math.floor((nowWall - policy.settleMs) / MINUTE_MS) - 1;
}

/** The next minutes to read, or null when nothing has settled since the cursor. */
export function rollupRange(cursor: RollupCursor, nowWall: number, policy: RollupPolicy = ROLLUP_POLICY): RollupRange | null {
  if (!Number.isInteger(cursor)) throw new RangeError(`rollup cursor must be an epoch minute, got ${cursor}`);
  if (!(policy.maxMinutes >= 1)) throw new RangeError(`maxMinutes must be at least 1, got ${policy.maxMinutes}`);
  const settled = settledThrough(nowWall, policy);
  // Older than the retention: pruned on the box, nothing to read (a minute or so of slack at the edge).
  const after = Math.max(cursor, Math.floor((nowWall - policy.retentionMs) / MINUTE_MS) - 1);
  if (after >= settled) return null;
  // The last minute of the last hour that ended before now − thinAfter.
  const thinThrough = Math.floor((nowWall - policy.thinAfterMs) / HOUR_MS) * 60 - 1;
  if (after < thinThrough) {
    const firstHourEnd = Math.floor((after + 1) / 60) * 60 + 59;
    const hours = Math.max(1, Math.floor(policy.maxMinutes / 60));
    return { after, through: Math.min(thinThrough, firstHourEnd + (hours - 1) * 60), thinned: true };
  }
  return { after, through: Math.min(settled, after + Math.floor(policy.maxMinutes)), thinned: false };
}

/** A sensor's figures for a minute or a thinned hour: a rollup row's, without its key. */
type Summary = Omit<RollupRow, 'sensor' | 'minute'>;

function merge(into: Summary, r: RollupRow): void {
  const n = into.n + r.n;
  if (r.n > 0 && r.mean !== null) into.mean = ((into.mean ?? 0) * into.n + r.mean * r.n) / n;
  into.n = n;
  into.errors += r.errors;
  if (r.min !== null && (into.min === null || r.min < into.min)) into.min = r.min;
  if (r.max !== null && (into.max === null || r.max > into.max)) into.max = r.max;
  if (r.last !== null) into.last = r.last; // rows come minute by minute: the newest wins
}

/**
 * The messages for the rows of `rollupRange(cursor, now)` (rows outside it are ignored, so a
 * caller that read too much loses nothing: they come again next call), and the cursor to keep
 * once they are acknowledged. `rows` must be ordered by minute (rollupRows does).
 */
export function rollupMessages(
  site: { id: string; utcOffset: string },
  rows: readonly RollupRow[],
  cursor: RollupCursor,
  nowWall: number,
  policy: RollupPolicy = ROLLUP_POLICY,
): { messages: SideMessage[]; cursor: RollupCursor } {
  const range = rollupRange(cursor, nowWall, policy);
  if (!range) return { messages: [], cursor };
  const topic = townshipTopics(site.id).rollup();
  const span = range.thinned ? 60 : 1;
  // Bucket start minute → sensor → summary, in minute order.
  const buckets = new Map<number, Map<string, Summary>>();
  for (const r of rows) {
    if (r.minute <= range.after || r.minute > range.through) continue;
    const start = Math.floor(r.minute / span) * span;
    let sensors = buckets.get(start);
    if (!sensors) buckets.set(start, (sensors = new Map()));
    let s = sensors.get(r.sensor);
    if (!s) sensors.set(r.sensor, (s = { n: 0, errors: 0, min: null, max: null, mean: null, last: null }));
    merge(s, r);
  }
  const messages: SideMessage[] = [];
  for (const start of [...buckets.keys()].sort((a, b) => a - b)) {
    const from = Math.max(start, range.after + 1);
    const to = Math.min(start + span, range.through + 1);
    const sensors = Object.fromEntries([...buckets.get(start)!].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    const payload = { site: site.id, from: wallTime(from * MINUTE_MS, site.utcOffset), to: wallTime(to * MINUTE_MS, site.utcOffset), thinned: range.thinned, sensors };
    messages.push({ topic, payload: JSON.stringify(payload), retain: false, qos: 1 });
  }
  return { messages, cursor: range.through };
}
