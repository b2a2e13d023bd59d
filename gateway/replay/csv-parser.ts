/**
 * Parses `time,sensor,value` CSV text into columns: a year of 1-minute data for 50 sensors is
 * 26 million rows, so rows go into typed arrays in batches, never into objects. Times repeat
 * across sensors, so the last parsed time is reused.
 */
import { SMOKE_STATES } from '../engine/types.ts';

export const BATCH_ROWS = 1 << 16;

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

const OFFSET = /(Z|[+-]\d\d:?\d\d)$/;

export class CsvParser {
  private rest = '';
  private line = 0;
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
    this.batch.errors.push({ line: this.line, message });
  }

  private value(raw: string, sensor: number): number | undefined {
    if (raw === '') return Number.NaN;
    const n = Number(raw);
    if (Number.isFinite(n)) return n;
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
    if (this.line === 1) {
      const raw = text.slice(from, to);
      if (raw.replace(/^\uFEFF/, '').replace(/\s/g, '') !== 'time,sensor,value') throw new CsvRowError(1, `the header must be 'time,sensor,value', not '${raw}'`);
      return;
    }
    if (to === from) return;
    const c1 = text.indexOf(',', from);
    const c2 = c1 < 0 || c1 >= to ? -1 : text.indexOf(',', c1 + 1);
    const c3 = c2 < 0 ? -1 : text.indexOf(',', c2 + 1);
    if (c2 < 0 || c2 >= to || (c3 >= 0 && c3 < to)) return this.bad(`expected 3 fields time,sensor,value: '${text.slice(from, Math.min(to, from + 80))}'`);
    if (c1 - from !== this.lastTime.length || !text.startsWith(this.lastTime, from)) {
      const time = text.slice(from, c1);
      const at = Date.parse(time);
      if (!OFFSET.test(time) || Number.isNaN(at)) return this.bad(`'${time.slice(0, 40)}' is not an ISO 8601 time with a UTC offset`);
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
    if (++b.n === BATCH_ROWS) this.flush();
  }

  push(chunk: string): void {
    const text = this.rest + chunk;
    let start = 0;
    let nl = text.indexOf('\n');
    while (nl >= 0) {
      this.handle(text, start, nl);
      start = nl + 1;
      nl = text.indexOf('\n', start);
    }
    this.rest = text.slice(start);
  }

  end(): void {
    if (this.rest !== '') this.handle(this.rest, 0, this.rest.length);
    this.rest = '';
    this.flush();
  }
}
