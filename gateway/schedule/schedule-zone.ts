/**
 * Crons run in the site's UTC offset (`site.utc_offset`), not in whatever time zone the box's
 * operating system was left in (a Raspberry Pi image starts in Europe/London): "10:00 on
 * Mondays" is the village's 10:00.
 *
 * Each job gets the offset as its `tz` (`UTC+08:00`, a fixed-offset zone luxon needs no time
 * zone database for). That alone would cost memory: cron-parser builds every date in luxon's
 * default zone first and compares zone names, and the system zone's name comes from
 * `new Intl.DateTimeFormat()`, which loads ICU's locale data (~7 MB of RSS, see
 * store/schedule-locale.ts). So the default zone of the luxon copy cron-parser uses is set to the
 * same fixed offset, and the system zone is never asked. That default also applies to the
 * store's jobs (rollup, retention at 03:17): they too run in the site's offset. China keeps one
 * offset all year, so a fixed offset is the site's time zone.
 */
import { createRequire } from 'node:module';

/** `+08:00` → `UTC+08:00` (luxon's fixed-offset zone name). */
export function cronZone(utcOffset: string): string {
  return `UTC${utcOffset}`;
}

/**
 * Sets luxon's default zone (cron-parser's copy) to the site's offset. Returns false when the
 * packages changed shape: times stay right (every job passes `tz`), the memory is spent.
 */
export function useSiteZone(utcOffset: string): boolean {
  const require = createRequire(import.meta.url);
  try {
    const cron = createRequire(require.resolve('node-schedule')).resolve('cron-parser');
    const luxon = createRequire(cron)('luxon') as { Settings?: { defaultZone: unknown } };
    if (!luxon.Settings) return false;
    luxon.Settings.defaultZone = cronZone(utcOffset);
    return true;
  } catch {
    return false;
  }
}
