/**
 * Strict ISO 8601 times for readings files. `Date.parse` is too kind for recorded data: it rolls
 * 2021-02-30 over to 2 March, reads `+275760-09-13T00:00:00Z` (a time no wall clock can print)
 * and takes free-form dates such as `Tue Jul 20 2021 16:00 +08:00`. Here a time is
 * `YYYY-MM-DDThh:mm[:ss[.fff]]` (a space may stand for the `T`, RFC 3339 §5.6 note) with `Z` or
 * an offset `±hh:mm` / `±hhmm` of at most 14 h (the widest in use, UTC+14 in Kiribati), and
 * every field must name a real instant in the years 1900–9999.
 */

const ISO = /^(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d)(?::(\d\d)(?:\.(\d{1,9}))?)?(?:Z|([+-])(\d\d):?(\d\d))$/;

export const FIRST_YEAR = 1900;
export const LAST_YEAR = 9999;

function daysIn(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/** Epoch ms for a time in `text`, or the reason it is not one. */
export function parseIsoTime(text: string): number | string {
  const m = ISO.exec(text);
  if (!m) return 'is not an ISO 8601 time with a UTC offset';
  const [year, month, day, hour, minute] = [m[1], m[2], m[3], m[4], m[5]].map(Number) as [number, number, number, number, number];
  const second = m[6] === undefined ? 0 : Number(m[6]);
  const offsetH = m[9] === undefined ? 0 : Number(m[9]);
  const offsetM = m[10] === undefined ? 0 : Number(m[10]);
  if (year < FIRST_YEAR || year > LAST_YEAR) return `is outside the years ${FIRST_YEAR}–${LAST_YEAR}`;
  if (month < 1 || month > 12 || day < 1 || day > daysIn(year, month) || hour > 23 || minute > 59 || second > 59 || offsetH * 60 + offsetM > 14 * 60 || offsetM > 59) {
    return 'is not a real date and time';
  }
  const ms = m[7] === undefined ? 0 : Number(m[7].slice(0, 3).padEnd(3, '0'));
  const offset = (m[8] === '-' ? -1 : 1) * (offsetH * 60 + offsetM);
  return Date.UTC(year, month - 1, day, hour, minute, second, ms) - offset * 60_000;
}
