/**
 * The wire format: snake_case JSON keys (DESIGN.md contracts) and wall times with the site's
 * UTC offset, `YYYY-MM-DDThh:mm:ss+08:00`.
 */

const snakeCache = new Map<string, string>();

export function snakeKey(key: string): string {
  let s = snakeCache.get(key);
  if (s === undefined) {
    s = key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
    snakeCache.set(key, s);
  }
  return s;
}

/** Top-level keys to snake_case; nested `values` objects are already snake_case data. */
export function toWire(obj: object): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) if (v !== undefined) out[snakeKey(k)] = v;
  return out;
}

/** Minutes east of UTC for `+08:00` / `-05:30`. */
export function offsetMinutes(utcOffset: string): number {
  const m = /^([+-])(\d\d):(\d\d)$/.exec(utcOffset);
  if (!m) throw new RangeError(`bad UTC offset '${utcOffset}'`);
  return (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3]));
}

/** Formats epoch ms as local time with offset, whole seconds. */
export function wallTime(at: number, utcOffset: string): string {
  const shifted = new Date(Math.floor(at / 1000) * 1000 + offsetMinutes(utcOffset) * 60_000);
  return `${shifted.toISOString().slice(0, 19)}${utcOffset}`;
}
