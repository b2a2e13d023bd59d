import { describe, expect, it } from 'vitest';
import { formatProblem, parseConfig } from '../../gateway/config/load.ts';

const site = (extra: string): string => `
site: { id: demo, name: 示范社区 }
sensors:
  - { id: rg1, kind: rain }
${extra}
`;
const problems = (yaml: string): string[] => parseConfig(yaml).problems.map(formatProblem);

describe('self_tests config', () => {
  it('absent: every test on at its default time', () => {
    expect(parseConfig(site('')).config!.selfTests).toEqual({
      cron: { speakerWeekly: '0 10 * * 1', sirenMonthly: '5 10 1 * *', reportingDaily: '0 8 * * *' },
      retryAfterMin: 30,
      doneWithinS: 60,
      reportingGapIntervals: 3,
    });
  });

  it('takes its own times and figures; false or null turns a test off', () => {
    const c = parseConfig(site("self_tests: { speaker_weekly: '30 9 * * 3', siren_monthly: false, reporting_daily: null, retry_after_min: 15, done_within_s: 20, reporting_gap_intervals: 5 }")).config!;
    expect(c.selfTests).toEqual({ cron: { speakerWeekly: '30 9 * * 3', sirenMonthly: null, reportingDaily: null }, retryAfterMin: 15, doneWithinS: 20, reportingGapIntervals: 5 });
  });

  it('refuses bad crons, bad figures and unknown keys, all at once, as path: message (line N)', () => {
    const p = problems(site("self_tests:\n  speaker_weekly: '* 10 * * 1'\n  siren_monthly: '0 10 1 * 1'\n  reporting_daily: '0 25 * * *'\n  retry_after_min: 0\n  done_within_s: 601\n  weekly: true"));
    expect(p).toEqual(
      expect.arrayContaining([
        'self_tests.speaker_weekly: field 1 (minute) must be one number: a self-test runs at most once a day, at one time of day (line 6)',
        'self_tests.siren_monthly: restrict day of month or day of week, not both (cron would run on either) (line 7)',
        'self_tests.reporting_daily: field 2 (hour): 25 is outside 0–23 (line 8)',
        expect.stringMatching(/^self_tests\.retry_after_min: must be >= 1/),
        expect.stringMatching(/^self_tests\.done_within_s: must be <= 600/),
        expect.stringMatching(/^self_tests\.weekly: unknown key/),
      ]),
    );
    expect(p).toHaveLength(6);
  });

  it('refuses true and numbers for a test time', () => {
    expect(problems(site('self_tests: { speaker_weekly: true }'))).toEqual(["self_tests.speaker_weekly: must be a cron string such as '0 10 * * 1', or false for off (line 5)"]);
    expect(problems(site('self_tests: { siren_monthly: 10 }'))).toEqual(['self_tests.siren_monthly: must be string,boolean,null (line 5)']);
    expect(problems(site("self_tests: { siren_monthly: '' }"))).toEqual([expect.stringMatching(/^self_tests\.siren_monthly: must NOT have fewer than 1 characters/)]);
  });
});
