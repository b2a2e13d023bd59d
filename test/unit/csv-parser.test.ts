import { describe, expect, it } from 'vitest';
import { BATCH_ERRORS, CsvParser, CsvRowError, MAX_LINE_CHARS, type RowBatch } from '../../gateway/replay/csv-parser.ts';

const HEADER = 'time,sensor,value\n';

/** Parses `text` fed in `chunk`-sized pieces; returns the batches as emitted. */
function parse(text: string, chunk = 1 << 20): RowBatch[] {
  const batches: RowBatch[] = [];
  const p = new CsvParser(['rg1', 'sm1'], [false, true], (b) => batches.push({ ...b, at: b.at.slice(0, b.n), sensor: b.sensor.slice(0, b.n), value: b.value.slice(0, b.n) }));
  for (let i = 0; i < text.length; i += chunk) p.push(text.slice(i, i + chunk));
  p.end();
  return batches;
}

const errors = (batches: RowBatch[]): string[] => batches.flatMap((b) => b.errors.map((e) => `line ${e.line}: ${e.message}`));
const rows = (batches: RowBatch[]): [number, number][] => batches.flatMap((b) => Array.from(b.at, (at, i) => [at, b.value[i]!] as [number, number]));

describe('CSV parser: times', () => {
  it('takes ISO 8601 times with Z, ±hh:mm or ±hhmm, seconds and fractions optional', () => {
    const b = parse(`${HEADER}2021-07-20T16:31:00+08:00,rg1,1\n2021-07-20T08:32Z,rg1,2\n2021-07-20T16:33:00.250+0800,rg1,3\n2021-07-20 16:34:00+08:00,rg1,4\n`);
    expect(errors(b)).toEqual([]);
    expect(rows(b).map(([at]) => new Date(at).toISOString())).toEqual(['2021-07-20T08:31:00.000Z', '2021-07-20T08:32:00.000Z', '2021-07-20T08:33:00.250Z', '2021-07-20T08:34:00.000Z']);
  });

  it('a day that does not exist, an hour past 23, an offset past 14 h or a year outside 1900–9999 is a bad row, not the next valid time', () => {
    const b = parse(
      [
        'time,sensor,value',
        '2021-02-30T00:00:00+08:00,rg1,1',
        '2021-13-01T00:00:00+08:00,rg1,1',
        '2021-07-20T24:00:00+08:00,rg1,1',
        '2021-07-20T16:60:00+08:00,rg1,1',
        '2021-07-20T16:00:00+15:00,rg1,1',
        '1899-12-31T23:59:59Z,rg1,1',
        '+275760-09-13T00:00:00Z,rg1,11',
        'Tue Jul 20 2021 16:00:00 +08:00,rg1,1',
        '2024-02-29T00:00:00+08:00,rg1,1',
      ].join('\n'),
    );
    expect(errors(b)).toEqual([
      "line 2: '2021-02-30T00:00:00+08:00' is not a real date and time",
      "line 3: '2021-13-01T00:00:00+08:00' is not a real date and time",
      "line 4: '2021-07-20T24:00:00+08:00' is not a real date and time",
      "line 5: '2021-07-20T16:60:00+08:00' is not a real date and time",
      "line 6: '2021-07-20T16:00:00+15:00' is not a real date and time",
      "line 7: '1899-12-31T23:59:59Z' is outside the years 1900–9999",
      "line 8: '+275760-09-13T00:00:00Z' is not an ISO 8601 time with a UTC offset",
      "line 9: 'Tue Jul 20 2021 16:00:00 +08:00' is not an ISO 8601 time with a UTC offset",
    ]);
    expect(rows(b).map(([at]) => new Date(at).toISOString())).toEqual(['2024-02-28T16:00:00.000Z']); // 2024 is a leap year
  });
});

describe('CSV parser: values', () => {
  it('a value is a decimal number: hex, binary and octal literals are not read as numbers', () => {
    const t = '2021-07-20T16:00:00+08:00';
    const b = parse(`${HEADER}${t},rg1,0x10\n${t},rg1,0b11\n${t},rg1,0O7\n${t},rg1,Infinity\n${t},rg1,-1.5e2\n${t},rg1,0.5\n${t},rg1,.5\n${t},rg1,007\n`);
    expect(errors(b)).toEqual(["line 2: '0x10' is not a number", "line 3: '0b11' is not a number", "line 4: '0O7' is not a number", "line 5: 'Infinity' is not a number"]);
    expect(rows(b).map(([, v]) => v)).toEqual([-150, 0.5, 0.5, 7]);
  });
});

describe('CSV parser: bounded memory', () => {
  it(`bad rows are handed on every ${BATCH_ERRORS}, not held until ${1 << 16} good rows arrive`, () => {
    const bad = '2021-07-20T16:00:00+08:00,zz9,1\n'.repeat(3 * BATCH_ERRORS + 5);
    const batches: RowBatch[] = [];
    const p = new CsvParser(['rg1'], [false], (b) => batches.push(b));
    p.push(HEADER + bad);
    // Before end(): three full batches of errors are already out.
    expect(batches.map((b) => b.errors.length)).toEqual([BATCH_ERRORS, BATCH_ERRORS, BATCH_ERRORS]);
    p.end();
    expect(batches.at(-1)!.errors.length).toBe(5);
    expect(batches.at(-1)!.errors.at(-1)!.line).toBe(3 * BATCH_ERRORS + 6);
  });

  it(`a line longer than ${MAX_LINE_CHARS} characters is a bad row, even spread over many chunks; the lines after it keep their numbers`, () => {
    const long = `2021-07-20T16:00:00+08:00,rg1,${'1'.repeat(5 * MAX_LINE_CHARS)}`;
    const text = `${HEADER}2021-07-20T16:00:00+08:00,rg1,1\n${long}\n2021-07-20T16:01:00+08:00,rg1,2\n${long}\n${long}`;
    for (const chunk of [7, 100, MAX_LINE_CHARS, 1 << 20]) {
      const b = parse(text, chunk);
      expect(errors(b), `chunk ${chunk}`).toEqual([`line 3: longer than ${MAX_LINE_CHARS} characters`, `line 5: longer than ${MAX_LINE_CHARS} characters`, `line 6: longer than ${MAX_LINE_CHARS} characters`]);
      expect(rows(b).map(([, v]) => v)).toEqual([1, 2]);
    }
  });

  it('a line of exactly the limit is read', () => {
    const row = '2021-07-20T16:00:00+08:00,rg1,';
    const b = parse(`${HEADER}${row}${'0'.repeat(MAX_LINE_CHARS - row.length - 1)}5\n`, 64);
    expect(errors(b)).toEqual([]);
    expect(rows(b).map(([, v]) => v)).toEqual([5]);
  });
});

describe('CSV parser: the file as a whole', () => {
  const fatal = (text: string): CsvRowError => {
    try {
      parse(text);
    } catch (e) {
      return e as CsvRowError;
    }
    throw new Error('no error');
  };

  it('an empty file, or a header with no readings, is refused', () => {
    expect(fatal('')).toMatchObject({ code: 'E_CSV_ROW', line: 1, message: "line 1: the file is empty (the header must be 'time,sensor,value')" });
    expect(fatal('time,sensor,value\n\n')).toMatchObject({ line: 2, message: 'line 2: no readings after the header' });
  });

  it('a UTF-16 file is named as such, and a long header is cut short in the message', () => {
    const utf16 = Buffer.from(`\uFEFF${HEADER}`, 'utf16le').toString('utf8');
    expect(fatal(utf16).message).toBe('line 1: the file is UTF-16 (or has NUL bytes); save it as UTF-8');
    expect(fatal(`${'x'.repeat(5000)}\n`).message).toBe(`line 1: the header must be 'time,sensor,value', not '${'x'.repeat(80)}…'`);
  });
});
