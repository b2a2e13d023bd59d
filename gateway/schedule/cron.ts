/**
 * The cron strings of `self_tests` (config), checked before node-schedule ever sees them.
 * node-schedule (through cron-parser) accepts more than this, and a string it cannot parse as
 * cron it tries as a date, so a typo could silently schedule nothing or the wrong thing; the
 * box takes only a plain subset it can explain, in the site's UTC offset:
 *
 * - 5 fields `minute hour day-of-month month day-of-week`, or 6 with `second` first;
 * - each field `*`, a number, `a-b`, `*` or `a-b` followed by `/step`, or a comma list of those;
 *   day-of-week 0–7 (0 and 7 are Sunday); no names (`MON`), no `L`, `W`, `?`, `#`.
 * - One time of day: second, minute and hour are single numbers, so a self-test runs at most
 *   once a day. A typo such as `* 10 * * 1` would otherwise growl the sirens every minute.
 * - Not both day-of-month and day-of-week: cron then runs on either (`0 10 1 * 1` is every
 *   Monday *and* the 1st), which nobody means.
 */

interface Field {
  name: string;
  min: number;
  max: number;
}

const SECOND: Field = { name: 'second', min: 0, max: 59 };
const FIVE: readonly Field[] = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12 },
  { name: 'day of week', min: 0, max: 7 },
];

const NUMBER = /^\d{1,2}$/;

/** The error in one element of a comma list (a number, a range, either with a step), or null. */
function elementError(el: string, f: Field): string | null {
  const [range, step, extra] = el.split('/');
  if (extra !== undefined) return `'${el}' has two steps`;
  if (step !== undefined && (!NUMBER.test(step) || Number(step) < 1)) return `step '${step}' must be a whole number from 1`;
  if (range === '*') return null;
  const ends = range!.split('-');
  if (ends.length > 2 || ends.some((e) => !NUMBER.test(e))) return `'${el}' is not a number, a range a-b or *`;
  const [a, b] = ends.map(Number) as [number, number | undefined];
  for (const v of [a, b]) if (v !== undefined && (v < f.min || v > f.max)) return `${v} is outside ${f.min}–${f.max}`;
  if (b !== undefined && b < a) return `range ${a}-${b} runs backwards`;
  if (b === undefined && step !== undefined) return `'${el}': a step needs * or a range before it`;
  return null;
}

/**
 * Why `text` is not a cron the box takes (a sentence for `path: message`), or null when it is.
 * Fields are separated by spaces; leading and trailing spaces are ignored.
 */
export function cronError(text: string): string | null {
  const parts = text.trim().split(/\s+/);
  if (parts.length !== 5 && parts.length !== 6) return `'${text}' has ${parts.length} field(s); a cron has 5 (minute hour day-of-month month day-of-week) or 6 (second first)`;
  const fields = parts.length === 6 ? [SECOND, ...FIVE] : FIVE;
  for (const [i, part] of parts.entries()) {
    const f = fields[i]!;
    for (const el of part.split(',')) {
      const e = el === '' ? 'an empty list element' : elementError(el, f);
      if (e) return `field ${i + 1} (${f.name}): ${e}`;
    }
  }
  const timeOfDay = parts.slice(0, parts.length - 3);
  const loose = timeOfDay.findIndex((p) => !NUMBER.test(p));
  if (loose >= 0) return `field ${loose + 1} (${fields[loose]!.name}) must be one number: a self-test runs at most once a day, at one time of day`;
  const [dom, , dow] = parts.slice(-3);
  if (dom !== '*' && dow !== '*') return 'restrict day of month or day of week, not both (cron would run on either)';
  return null;
}
