/**
 * schedule/cron.ts: the subset of cron the self-tests take, every refusal with its words, and
 * that what it takes node-schedule schedules at the time meant, in the site's offset
 * (schedule-zone.ts), whatever the machine's own time zone.
 */
import schedule from 'node-schedule';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { cronError } from '../../gateway/schedule/cron.ts';
import { cronZone, useSiteZone } from '../../gateway/schedule/schedule-zone.ts';

afterEach(() => {
  vi.useRealTimers();
});

const GOOD = [
  '0 10 * * 1',
  '5 10 1 * *',
  '0 8 * * *',
  '0 0 8 * * *',
  '59 59 23 31 12 *',
  '0 10 * * 0',
  '0 10 * * 7',
  '0 10 * * 1,4',
  '0 10 * * 1-5',
  '0 10 */2 * *',
  '0 10 1-15/7 * *',
  '0 10 * 1,4,7,10 *',
  '0 10 * */3 *',
  '  0 10 * * 1  ',
  '0  10 * *   1',
];

describe('cron subset', () => {
  it.each(GOOD)('takes %j', (c) => {
    expect(cronError(c)).toBeNull();
  });

  it.each([
    ['0 10 * *', /has 4 field\(s\); a cron has 5 .* or 6/],
    ['0 0 0 10 * * 1', /has 7 field\(s\)/],
    ['', /has 1 field/],
    ['60 10 * * 1', /^field 1 \(minute\): 60 is outside 0–59$/],
    ['0 24 * * 1', /^field 2 \(hour\): 24 is outside 0–23$/],
    ['0 10 0 * *', /^field 3 \(day of month\): 0 is outside 1–31$/],
    ['0 10 32 * *', /^field 3 \(day of month\): 32 is outside 1–31$/],
    ['0 10 * 13 *', /^field 4 \(month\): 13 is outside 1–12$/],
    ['0 10 * 0 *', /^field 4 \(month\): 0 is outside 1–12$/],
    ['0 10 * * 8', /^field 5 \(day of week\): 8 is outside 0–7$/],
    ['60 0 10 * * *', /^field 1 \(second\): 60 is outside 0–59$/],
    ['0 10 * * MON', /^field 5 \(day of week\): 'MON' is not a number, a range a-b or \*$/],
    ['0 10 * JAN *', /^field 4 \(month\): 'JAN' is not/],
    ['0 10 L * *', /^field 3 \(day of month\): 'L' is not/],
    ['0 10 ? * 1', /^field 3 \(day of month\): '\?' is not/],
    ['0 10 * * 1#2', /^field 5 \(day of week\): '1#2' is not/],
    ['0 10 1-2-3 * *', /'1-2-3' is not/],
    ['0 10 5-1 * *', /^field 3 \(day of month\): range 5-1 runs backwards$/],
    ['0 10 */0 * *', /^field 3 \(day of month\): step '0' must be a whole number from 1$/],
    ['0 10 */x * *', /step 'x' must be/],
    ['0 10 */2/3 * *', /'\*\/2\/3' has two steps/],
    ['0 10 5/2 * *', /'5\/2': a step needs \* or a range before it/],
    ['0 10 1,,2 * *', /^field 3 \(day of month\): an empty list element$/],
    ['0 10 -1 * *', /'-1' is not/],
    ['0 10 1.5 * *', /'1.5' is not/],
    ['0 10 100 * *', /'100' is not/],
  ])('refuses %j', (c, message) => {
    expect(cronError(c)).toMatch(message);
  });

  it.each([
    ['* 10 * * 1', 1, 'minute'],
    ['0 * * * 1', 2, 'hour'],
    ['*/5 10 * * 1', 1, 'minute'],
    ['0 8,20 * * *', 2, 'hour'],
    ['0 8-9 * * *', 2, 'hour'],
    ['* 0 10 * * 1', 1, 'second'],
    ['0 */30 10 * * 1', 2, 'minute'],
  ])('a test runs at most once a day: %j is refused at field %i (%s)', (c, field, name) => {
    expect(cronError(c)).toBe(`field ${field} (${name}) must be one number: a self-test runs at most once a day, at one time of day`);
  });

  it('refuses day of month and day of week together (cron runs on either)', () => {
    expect(cronError('0 10 1 * 1')).toBe('restrict day of month or day of week, not both (cron would run on either)');
    expect(cronError('0 10 1 * *')).toBeNull();
    expect(cronError('0 10 * * 1')).toBeNull();
  });
});

describe('node-schedule runs what the subset takes, in the site offset', () => {
  it('schedules every cron the subset takes', () => {
    for (const c of GOOD) {
      const job = schedule.scheduleJob({ rule: c.trim(), tz: cronZone('+08:00') }, () => undefined);
      expect(job, c).not.toBeNull();
      job!.cancel();
    }
  });

  it.each([
    ['+08:00', '0 10 * * 1', '2026-07-20T10:00:00+08:00'], // T0 is Monday 2026-07-20 00:00 +08:00
    ['+08:00', '5 10 1 * *', '2026-08-01T10:05:00+08:00'],
    ['+08:00', '0 8 * * *', '2026-07-20T08:00:00+08:00'],
    ['+08:00', '30 0 8 * * *', '2026-07-20T08:00:30+08:00'],
    ['-03:30', '0 8 * * *', '2026-07-20T08:00:00-03:30'], // it is 12:30 on the 19th there
    ['+05:45', '0 10 * * 0', '2026-07-26T10:00:00+05:45'],
  ])('offset %s, %j: next at %s', (offset, cron, expected) => {
    vi.useFakeTimers({ now: Date.parse('2026-07-20T00:00:00+08:00') });
    expect(useSiteZone(offset)).toBe(true);
    const job = schedule.scheduleJob({ rule: cron, tz: cronZone(offset) }, () => undefined)!;
    expect(job.nextInvocation()!.getTime()).toBe(Date.parse(expected));
    job.cancel();
  });
});
