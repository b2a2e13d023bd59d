/**
 * CAP times and identifiers. Both are written as wall time in the site's UTC offset, because
 * Chinese receivers (CPEAS, 国家预警信息发布系统) show them as Beijing time and GB/T 35965.1
 * identifiers carry that wall time in their last 14 digits.
 */
import type { SiteConfig } from '../config/types.ts';

/** Offset as minutes east of UTC: '+08:00' → 480, '-03:30' → -210. */
function offsetMinutes(utcOffset: string): number {
  const m = /^([+-])(\d\d):(\d\d)$/.exec(utcOffset);
  if (!m) throw new RangeError(`UTC offset must look like +08:00, got ${JSON.stringify(utcOffset)}`);
  const minutes = Number(m[2]) * 60 + Number(m[3]);
  return m[1] === '-' ? -minutes : minutes;
}

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

/**
 * Formats epoch ms as `YYYY-MM-DDThh:mm:ss+hh:mm` in the given offset.
 * CAP 1.2 §3.3.2: the time zone is always written as an offset ("-00:00" style, never `Z`) and
 * the XSD pattern has no fractional seconds, so milliseconds are truncated, not rounded
 * (rounding up could put `sent` after the moment it describes).
 */
export function capTime(at: number, utcOffset: string): string {
  if (!Number.isFinite(at)) throw new RangeError(`not a time: ${at}`);
  const offset = offsetMinutes(utcOffset);
  const wall = new Date(Math.floor(at / 1000) * 1000 + offset * 60_000);
  const date = `${pad(wall.getUTCFullYear(), 4)}-${pad(wall.getUTCMonth() + 1)}-${pad(wall.getUTCDate())}`;
  const time = `${pad(wall.getUTCHours())}:${pad(wall.getUTCMinutes())}:${pad(wall.getUTCSeconds())}`;
  return `${date}T${time}${utcOffset}`;
}

/** How many recent seconds are remembered, so a clock stepped back a little cannot reuse a suffix. */
const REMEMBERED_SECONDS = 256;

/**
 * Makes identifiers unique per site: GB/T 35965.1 `<area_code><agency_code>_YYYYMMDDhhmmss` in
 * the site's UTC offset; if two messages fall in the same second, the later gets a `_2`,
 * `_3`… suffix. Stateful object owned by the caller (no module-level singletons).
 *
 * CAP 1.2 §3.2.1 requires the identifier to be unique for the sender; the suffix keeps that
 * when a burst of transitions (rain and water rising on one reading) lands in one second.
 * Uniqueness holds for this object's lifetime only: after a restart within the same second,
 * or a clock stepped back by more than REMEMBERED_SECONDS distinct seconds, the caller must
 * persist or offset the state.
 */
export class CapIdentifiers {
  private readonly prefix: string;
  private readonly utcOffset: string;
  /** `YYYYMMDDhhmmss` → how many identifiers that second already has. Insertion-ordered, bounded. */
  private readonly used = new Map<string, number>();

  constructor(config: SiteConfig) {
    this.prefix = `${config.site.cap.areaCode}${config.site.cap.agencyCode}`;
    this.utcOffset = config.site.utcOffset;
  }

  next(at: number): { identifier: string; sent: string } {
    const sent = capTime(at, this.utcOffset);
    const stamp = sent.slice(0, 19).replace(/\D/g, '');
    const n = (this.used.get(stamp) ?? 0) + 1;
    this.used.delete(stamp); // re-insert so the map stays ordered by last use
    this.used.set(stamp, n);
    if (this.used.size > REMEMBERED_SECONDS) this.used.delete(this.used.keys().next().value as string);
    return { identifier: `${this.prefix}_${stamp}${n === 1 ? '' : `_${n}`}`, sent };
  }
}
