/**
 * `self_tests` of the site config: defaults, and each cron checked (schedule/cron.ts) with its
 * path. Absent keys take the defaults, so a site gets its weekly speaker test, monthly siren
 * growl and daily reporting check without asking; `false` turns one off.
 */
import { cronError } from '../schedule/cron.ts';
import { SELF_TEST_DEFAULTS } from './defaults.ts';
import type { ConfigProblem } from './normalise.ts';
import type { SelfTestsConfig } from './types.ts';

const CRONS = [
  ['speaker_weekly', 'speakerWeekly'],
  ['siren_monthly', 'sirenMonthly'],
  ['reporting_daily', 'reportingDaily'],
] as const;

export function selfTests(raw: Record<string, unknown> | undefined, problems: ConfigProblem[]): SelfTestsConfig {
  const v: Record<string, unknown> = { ...SELF_TEST_DEFAULTS, ...raw };
  const cron = { speakerWeekly: null, sirenMonthly: null, reportingDaily: null } as SelfTestsConfig['cron'];
  for (const [key, field] of CRONS) {
    const c = v[key];
    if (c === true) problems.push({ path: `self_tests.${key}`, message: "must be a cron string such as '0 10 * * 1', or false for off" });
    if (typeof c !== 'string') continue; // false or null: off (the schema refused anything else)
    const error = cronError(c);
    if (error) problems.push({ path: `self_tests.${key}`, message: error });
    cron[field] = c.trim();
  }
  return { cron, retryAfterMin: v.retry_after_min as number, doneWithinS: v.done_within_s as number, reportingGapIntervals: v.reporting_gap_intervals as number };
}
