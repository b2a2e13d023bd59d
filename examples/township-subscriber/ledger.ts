/**
 * The township subscriber's bookkeeping, pure (no I/O, the clock passed in): which (site, seq)
 * have been seen (dedupe: QoS 1 is at least once, and a box resends what it had in flight when
 * a link dropped), which seq gaps each box announced (`seq_skipped`: an unclean stop; not loss),
 * which gaps are real (missing and unannounced), and how far behind the events arrive.
 *
 * Where the seen set lives is a `SeenStore`: `MemorySeen` here for one consumer, or a store
 * shared by every consumer of the group (sqlite-seen.ts; a township's database with a unique
 * key on (site, seq) plays this part in production). A shared subscription hands each message
 * to one consumer of the group, but a resent message may go to another one, so dedupe only
 * holds across consumers when they share the store (or when the broker sends a site's topic
 * to the same consumer every time: EMQX's `hash_topic` strategy).
 */

/** An inclusive seq range. */
export type Range = [from: number, to: number];

/** One event from `sb/v1/<site>/event` (README "Township integration"), as far as the ledger needs it. */
export interface TownshipEvent {
  site: string;
  seq: number;
  boot: string;
  /** Wall time with the site's offset, whole seconds. */
  at: string;
  clockTrusted: boolean;
  type: string;
  live: boolean;
  /** The whole payload, event fields included. */
  fields: Record<string, unknown>;
}

export type Parsed = { ok: true; event: TownshipEvent } | { ok: false; reason: string };

const EVENT_TOPIC = /^sb\/v1\/([^/+#]+)\/event$/;

/** Checks one message from the event topic. Never throws: a bad message gets a reason. */
export function parseEvent(topic: string, payload: Buffer | string): Parsed {
  const m = EVENT_TOPIC.exec(topic);
  if (!m) return { ok: false, reason: `not an event topic: ${topic}` };
  let v: unknown;
  try {
    v = JSON.parse(typeof payload === 'string' ? payload : payload.toString('utf8'));
  } catch {
    return { ok: false, reason: 'payload is not JSON' };
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return { ok: false, reason: 'payload is not a JSON object' };
  const o = v as Record<string, unknown>;
  if (o.site !== m[1]) return { ok: false, reason: `site ${JSON.stringify(o.site)} does not match the topic's ${JSON.stringify(m[1])}` };
  if (typeof o.seq !== 'number' || !Number.isSafeInteger(o.seq) || o.seq < 1) return { ok: false, reason: `seq must be a positive integer, got ${JSON.stringify(o.seq)}` };
  if (typeof o.at !== 'string' || Number.isNaN(Date.parse(o.at))) return { ok: false, reason: `at must be an ISO 8601 time, got ${JSON.stringify(o.at)}` };
  if (typeof o.type !== 'string' || o.type === '') return { ok: false, reason: 'type is missing' };
  return {
    ok: true,
    event: { site: o.site as string, seq: o.seq, boot: typeof o.boot === 'string' ? o.boot : '', at: o.at, clockTrusted: o.clock_trusted === true, type: o.type, live: o.live === true, fields: o },
  };
}

/** The announced gap in a `seq_skipped` storage event (gateway/store/event-store.ts attach()), or null. */
export function announcedSkip(e: TownshipEvent): Range | null {
  const f = e.fields;
  if (e.type !== 'storage' || f.what !== 'seq_skipped') return null;
  const { from, to } = f;
  if (typeof from !== 'number' || typeof to !== 'number' || !Number.isSafeInteger(from) || !Number.isSafeInteger(to) || from > to) return null;
  return [from, to];
}

/** Where (site, seq) and announced gaps are kept. `add` must be atomic across consumers sharing it. */
export interface SeenStore {
  /** Records (site, seq); true when it was not there before. */
  add(site: string, seq: number): boolean;
  announce(site: string, range: Range): void;
  /** The seqs seen, as sorted disjoint ranges, adjacent ones merged. */
  seen(site: string): Range[];
  /** The announced gaps, sorted. */
  announced(site: string): Range[];
  sites(): string[];
}

/** Inserts `seq` into sorted disjoint ranges; false if it was already in one. */
export function addToRanges(ranges: Range[], seq: number): boolean {
  // Binary search for the last range starting at or before seq.
  let lo = 0;
  let hi = ranges.length - 1;
  let at = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (ranges[mid]![0] <= seq) {
      at = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  const prev = at >= 0 ? ranges[at]! : null;
  const next = at + 1 < ranges.length ? ranges[at + 1]! : null;
  if (prev && seq <= prev[1]) return false;
  const joinsPrev = prev !== null && prev[1] === seq - 1;
  const joinsNext = next !== null && next[0] === seq + 1;
  if (joinsPrev && joinsNext) {
    prev[1] = next[1];
    ranges.splice(at + 1, 1);
  } else if (joinsPrev) prev[1] = seq;
  else if (joinsNext) next[0] = seq;
  else ranges.splice(at + 1, 0, [seq, seq]);
  return true;
}

/** The in-memory store: one consumer's view. */
export class MemorySeen implements SeenStore {
  private readonly ranges = new Map<string, Range[]>();
  private readonly skips = new Map<string, Range[]>();

  add(site: string, seq: number): boolean {
    let r = this.ranges.get(site);
    if (!r) this.ranges.set(site, (r = []));
    return addToRanges(r, seq);
  }

  announce(site: string, range: Range): void {
    let s = this.skips.get(site);
    if (!s) this.skips.set(site, (s = []));
    if (!s.some(([a, b]) => a === range[0] && b === range[1])) s.push([range[0], range[1]]);
    s.sort((a, b) => a[0] - b[0]);
  }

  seen(site: string): Range[] {
    return (this.ranges.get(site) ?? []).map(([a, b]) => [a, b]);
  }

  announced(site: string): Range[] {
    return (this.skips.get(site) ?? []).map(([a, b]) => [a, b]);
  }

  sites(): string[] {
    return [...new Set([...this.ranges.keys(), ...this.skips.keys()])].sort();
  }
}

/** Holes between the first and the last seq seen that no announced gap explains: events lost (or not arrived yet). */
export function unexplainedGaps(seen: readonly Range[], announced: readonly Range[]): Range[] {
  const out: Range[] = [];
  for (let i = 1; i < seen.length; i++) {
    let from = seen[i - 1]![1] + 1;
    const to = seen[i]![0] - 1;
    // Subtract the announced ranges (sorted) from [from, to].
    for (const [a, b] of announced) {
      if (b < from || a > to) continue;
      if (a > from) out.push([from, a - 1]);
      from = Math.max(from, b + 1);
      if (from > to) break;
    }
    if (from <= to) out.push([from, to]);
  }
  return out;
}

/** Nearest-rank percentile of unsorted samples; null when there are none. */
export function percentile(samples: readonly number[], p: number): number | null {
  if (samples.length === 0) return null;
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export interface SiteReport {
  /** Distinct seqs seen (by every consumer sharing the store). */
  events: number;
  first: number | null;
  last: number | null;
  /** Gaps the box announced (seq_skipped): not loss. */
  announced: Range[];
  /** Gaps nothing explains: lost, or still on their way. */
  gaps: Range[];
  /** Messages this consumer got again (after dedupe). */
  duplicates: number;
  /** This consumer's lag (now − `at`) of the last and the worst event, ms; `at` has whole seconds. */
  lagLastMs: number | null;
  lagMaxMs: number | null;
}

export interface Accepted {
  fresh: boolean;
  /** now − at (ms), null when the box's clock was not trusted. */
  lagMs: number | null;
  /** The gap this event announced, if it is a seq_skipped. */
  announced: Range | null;
}

/** Samples kept for the lag percentiles (the newest; older ones are overwritten). */
const LAG_SAMPLES = 100_000;

export class Ledger {
  private readonly dup = new Map<string, number>();
  private readonly lag = new Map<string, { last: number; max: number }>();
  private readonly lags: number[] = [];
  private lagNext = 0;

  constructor(readonly store: SeenStore = new MemorySeen()) {}

  /** Books one event received at `nowMs` (epoch ms). */
  accept(e: TownshipEvent, nowMs: number): Accepted {
    const fresh = this.store.add(e.site, e.seq);
    if (!fresh) this.dup.set(e.site, (this.dup.get(e.site) ?? 0) + 1);
    const skip = announcedSkip(e);
    // Again on a resend too (idempotent): a consumer that died between the two writes left it out.
    if (skip) this.store.announce(e.site, skip);
    let lagMs: number | null = null;
    if (e.clockTrusted && fresh) {
      lagMs = nowMs - Date.parse(e.at);
      const l = this.lag.get(e.site);
      if (l) {
        l.last = lagMs;
        l.max = Math.max(l.max, lagMs);
      } else this.lag.set(e.site, { last: lagMs, max: lagMs });
      if (this.lags.length < LAG_SAMPLES) this.lags.push(lagMs);
      else this.lags[this.lagNext++ % LAG_SAMPLES] = lagMs;
    }
    return { fresh, lagMs, announced: skip };
  }

  report(site: string): SiteReport {
    const seen = this.store.seen(site);
    const announced = this.store.announced(site);
    const l = this.lag.get(site);
    return {
      events: seen.reduce((n, [a, b]) => n + b - a + 1, 0),
      first: seen[0]?.[0] ?? null,
      last: seen[seen.length - 1]?.[1] ?? null,
      announced,
      gaps: unexplainedGaps(seen, announced),
      duplicates: this.dup.get(site) ?? 0,
      lagLastMs: l?.last ?? null,
      lagMaxMs: l?.max ?? null,
    };
  }

  sites(): string[] {
    return [...new Set([...this.store.sites(), ...this.dup.keys()])].sort();
  }

  /** Lag percentiles over this consumer's fresh events (ms). */
  lagPercentiles(): { p50: number | null; p99: number | null; samples: number } {
    return { p50: percentile(this.lags, 50), p99: percentile(this.lags, 99), samples: this.lags.length };
  }
}
