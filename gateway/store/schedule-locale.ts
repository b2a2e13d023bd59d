/**
 * node-schedule computes every next run through cron-parser, which does its date arithmetic in
 * luxon. luxon asks the system for its default locale with one `new Intl.DateTimeFormat()`, and
 * that loads ICU's locale data: +6.9 MB of the box's resident memory (5.5 MB of the ICU data
 * inside the node binary and the objects built from it; measured with /proc/PID/pagemap and
 * VmRSS, 59.3 → 52.4 MB in a bare process scheduling our two jobs), 6 % of the 120 MB budget.
 * Cron arithmetic never formats a date for people, so the locale is irrelevant to it; this sets
 * luxon's default locale on the copy cron-parser resolves, and luxon never asks the system.
 * Times are unchanged (local time zone, as before). If the packages change shape, it does
 * nothing and returns false; the memory is then spent, nothing breaks.
 */
import { createRequire } from 'node:module';

export const SCHEDULE_LOCALE = 'en-US';

export function quietScheduleLocale(): boolean {
  const require = createRequire(import.meta.url);
  try {
    const cron = createRequire(require.resolve('node-schedule')).resolve('cron-parser');
    const luxon = createRequire(cron)('luxon') as { Settings?: { defaultLocale: string | null } };
    if (!luxon.Settings) return false;
    luxon.Settings.defaultLocale = SCHEDULE_LOCALE;
    return true;
  } catch {
    return false;
  }
}

quietScheduleLocale();
