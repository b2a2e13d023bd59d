/**
 * Parses `time,sensor,value` CSV text into columns: a year of 1-minute data for 50 sensors is
 * 26 million rows, so rows go into typed arrays in batches, never into objects. Times repeat
 * across sensors, so the last parsed time is reused.
 *
 * Memory is bounded whatever the input: a line is at most `MAX_LINE_CHARS` (a longer one is a
 * bad row, skipped without being held), and a batch is handed on at `BATCH_ROWS` good rows or
 * `BATCH_ERRORS` bad ones, whichever comes first.
 */
import { SMOKE_STATES } from '../engine/types.ts';
import { parseIsoTime } from './iso-time.ts';

export const BATCH_ROWS = 1 << 16;
export const BATCH_ERRORS = 1024;
/** A good row is under 100 characters (a 25-character time, a 32-character id, a number). */
export const MAX_LINE_CHARS = 1024;

const HEADER = 'time,sensor,value';

/** One batch of good rows, as transferable columns, and the bad rows found among them. */
export interface RowBatch {
  n: number;
  at: Float64Array;
  /** Index into the sensor list the parser was given. */
  sensor: Int32Array;
  /** NaN when the reading is missing (blank value). */
  value: Float64Array;
  errors: { line: number; message: string }[];
}

export class CsvRowError extends Error {
  readonly code = 'E_CSV_ROW';
  constructor(readonly line: number, message: string) {
    super(`line ${line}: ${message}`);
    this.name = 'CsvRowError';
  }
}

/** `Number()` also reads `0x10`, `0b11` and `0o7`; a logger's value is decimal. */
function radixPrefixed(raw: string): boolean {
  if (raw.length < 3 || raw.charCodeAt(0) !== 48) return false; // '0'
  const c = raw.charCodeAt(1) | 32; // lower case
  return c === 120 || c === 98 || c === 111; // x, b, o
}

export class CsvParser {
  private rest = '';
  private line = 0;
  /** Inside a line longer than MAX_LINE_CHARS, already reported: drop text up to its end. */
  private skipping = false;
  private rows = 0;
  private badRows = 0;
  private lastTime = '';
  private lastAt = Number.NaN;
  private batch!: RowBatch;
  private readonly index: Map<string, number>;

  /** `sensors[i]` is the id for index i; `smoke[i]` says whether state names are accepted. */
  constructor(sensors: readonly string[], private readonly smoke: readonly boolean[], private readonly emit: (b: RowBatch) => void) {
    this.index = new Map(sensors.map((s, i) => [s, i]));
    this.fresh();
  }

  private fresh(): void {
    this.batch = { n: 0, at: new Float64Array(BATCH_ROWS), sensor: new Int32Array(BATCH_ROWS), value: new Float64Array(BATCH_ROWS), errors: [] };
  }

  private flush(): void {
    if (this.batch.n === 0 && this.batch.errors.length === 0) return;
    this.emit(this.batch);
    this.fresh();
  }

  private bad(message: string): void {
    this.badRows++;
    if (this.batch.errors.push({ line: this.line, message }) < BATCH_ERRORS) return;
    // Hand the errors on alone: a fresh batch would allocate 1.25 MB of columns per 1,024 bad
    // rows (300,000 bad rows grew the process by 90 MB before the collector caught up).
    this.emit({ n: 0, at: new Float64Array(0), sensor: new Int32Array(0), value: new Float64Array(0), errors: this.batch.errors });
    this.batch.errors = [];
  }

  private value(raw: string, sensor: number): number | undefined {
    if (raw === '') return Number.NaN;
    const n = Number(raw);
    if (Number.isFinite(n)) return radixPrefixed(raw) ? undefined : n;
    if (this.smoke[sensor]) {
      const i = (SMOKE_STATES as readonly string[]).indexOf(raw.toLowerCase());
      if (i >= 0) return i;
    }
    return undefined;
  }

  /** One line is text[from, to): indexes, not a copy. Throws CsvRowError on a bad header. */
  private handle(text: string, from: number, to: number): void {
    this.line++;
    if (to > from && text.charCodeAt(to - 1) === 13) to--; // CR of CRLF
    if (this.line === 1) return this.header(text.slice(from, to));
    if (to === from) return;
    const c1 = text.indexOf(',', from);
    const c2 = c1 < 0 || c1 >= to ? -1 : text.indexOf(',', c1 + 1);
    const c3 = c2 < 0 ? -1 : text.indexOf(',', c2 + 1);
    if (c2 < 0 || c2 >= to || (c3 >= 0 && c3 < to)) return this.bad(`expected 3 fields time,sensor,value: '${text.slice(from, Math.min(to, from + 80))}'`);
    if (c1 - from !== this.lastTime.length || !text.startsWith(this.lastTime, from)) {
      const time = text.slice(from, c1);
      const at = parseIsoTime(time);
      if (typeof at === 'string') return this.bad(`'${time.slice(0, 40)}' ${at}`);
      this.lastTime = time;
      this.lastAt = at;
    }
    const id = text.slice(c1 + 1, c2).trim();
    const sensor = this.index.get(id);
    if (sensor === undefined) return this.bad(id === '' ? 'the sensor is empty' : `unknown sensor '${id.slice(0, 40)}' (not in the site config)`);
    const raw = text.slice(c2 + 1, to).trim();
    const value = this.value(raw, sensor);
    if (value === undefined) return this.bad(`'${raw.slice(0, 40)}' is not a number${this.smoke[sensor] ? ' or a detector state' : ''}`);
    const b = this.batch;
    b.at[b.n] = this.lastAt;
    b.sensor[b.n] = sensor;
    b.value[b.n] = value;
    this.rows++;
    if (++b.n === BATCH_ROWS) this.flush();
  }

  private header(raw: string): void {
    const text = raw.replace(/^\uFEFF/, '');
    if (text.replace(/\s/g, '') === HEADER) return;
    // UTF-16 read as UTF-8: its byte-order mark becomes two U+FFFD and every ASCII letter a NUL.
    if (text.includes('\0') || text.startsWith('\uFFFD\uFFFD')) throw new CsvRowError(1, 'the file is UTF-16 (or has NUL bytes); save it as UTF-8');
    throw new CsvRowError(1, `the header must be '${HEADER}', not '${text.length > 80 ? `${text.slice(0, 80)}…` : text}'`);
  }

  /** The line starting at text[from] is over the limit: report it without keeping it. */
  private tooLong(text: string, from: number): void {
    this.line++;
    if (this.line === 1) this.header(text.slice(from, from + 81));
    this.bad(`longer than ${MAX_LINE_CHARS} characters`);
  }

  push(chunk: string): void {
    let text = chunk;
    let start = 0;
    if (this.skipping) {
      start = chunk.indexOf('\n') + 1;
      if (start === 0) return;
      this.skipping = false;
    } else if (this.rest !== '') text = this.rest + chunk; // rest is under MAX_LINE_CHARS
    let nl = text.indexOf('\n', start);
    while (nl >= 0) {
      if (nl - start > MAX_LINE_CHARS) this.tooLong(text, start);
      else this.handle(text, start, nl);
      start = nl + 1;
      nl = text.indexOf('\n', start);
    }
    if (text.length - start > MAX_LINE_CHARS) {
      this.tooLong(text, start);
      this.skipping = true;
      this.rest = '';
    } else this.rest = text.slice(start);
  }

  /** Throws CsvRowError for an empty file or one with no readings after its header. */
  end(): void {
    if (this.rest !== '') this.handle(this.rest, 0, this.rest.length);
    this.rest = '';
    if (this.line === 0) throw new CsvRowError(1, `the file is empty (the header must be '${HEADER}')`);
    if (this.rows === 0 && this.badRows === 0) throw new CsvRowError(2, 'no readings after the header');
    this.flush();
  }
}
