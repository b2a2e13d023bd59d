/**
 * The ASCII line protocol (grammar in wire.ts): bytes in, samples and discards out. Pure: no
 * timers, no I/O; the driver calls flush() when the line has been silent too long.
 */
import { parseDecimal, parseSmokeState, smokeSample } from './decode.ts';
import { type Discard, type DeviceTable, emptyResult, excerpt, type ParseResult, type SerialParser } from './types.ts';
import { LINE_MAX } from './wire.ts';

/** Record keywords, upper case, with their separator. */
const KEYWORDS = ['SMK,', 'VAL,'];
const LF = 0x0a;
const CR = 0x0d;

function printable(b: number): boolean {
  return b >= 0x20 && b < 0x7f;
}

export class AsciiLineParser implements SerialParser {
  private readonly line = Buffer.alloc(LINE_MAX);
  private length = 0;
  /** Inside a line that overflowed LINE_MAX: drop bytes up to its terminator (already counted). */
  private skipping = false;

  constructor(private readonly devices: DeviceTable) {}

  push(bytes: Uint8Array): ParseResult {
    const out = emptyResult();
    for (const b of bytes) {
      if (b === LF || b === CR) {
        // CRLF gives an empty line after the CR, which is skipped like any blank line.
        if (this.skipping) this.skipping = false;
        else if (this.length > 0) {
          out.lines++;
          this.decode(this.line.subarray(0, this.length), out);
        }
        this.length = 0;
      } else if (this.skipping) {
        continue;
      } else if (this.length === LINE_MAX) {
        out.discards.push({ reason: 'too_long', sample: excerpt(this.line) });
        this.length = 0;
        this.skipping = true;
      } else {
        this.line[this.length++] = b;
      }
    }
    return out;
  }

  pending(): boolean {
    return this.length > 0 || this.skipping;
  }

  flush(): ParseResult {
    const out = emptyResult();
    if (this.length > 0) out.discards.push({ reason: 'partial', sample: excerpt(this.line.subarray(0, this.length)) });
    this.length = 0;
    this.skipping = false;
    return out;
  }

  private decode(raw: Buffer, out: ParseResult): void {
    // Noise glued to the front of a line (a break's NUL, bit errors while a panel powers up)
    // must not cost the alarm behind it: a line that does not start with a keyword is read
    // from the last keyword in it, and the bytes before are counted as garbage. The rest must
    // still match the grammar as a whole.
    const upper = Buffer.from(raw.map((b) => (b >= 0x61 && b <= 0x7a ? b - 0x20 : b))).toString('latin1');
    const lead = upper.length - upper.trimStart().length;
    const start = KEYWORDS.some((k) => upper.startsWith(k, lead)) ? lead : Math.max(...KEYWORDS.map((k) => upper.lastIndexOf(k)));
    if (start < 0) {
      out.discards.push({ reason: 'garbage', sample: excerpt(raw) });
      return;
    }
    if (start > lead) out.discards.push({ reason: 'garbage', sample: excerpt(raw.subarray(0, start)) });
    const body = raw.subarray(start);
    if (!body.every(printable)) {
      out.discards.push({ reason: 'garbage', sample: excerpt(body) });
      return;
    }
    const result = this.record(body.toString('latin1').trim());
    if ('reason' in result) out.discards.push(result);
    else out.samples.push(result);
  }

  private record(text: string): Discard | ParseResult['samples'][number] {
    const sample = excerpt(Buffer.from(text, 'latin1'));
    const fields = text.split(',').map((f) => f.trim());
    const keyword = fields[0]!.toUpperCase();
    const id = fields[1] ?? '';
    const wellFormed = id !== '' && ((keyword === 'SMK' && (fields.length === 3 || fields.length === 4)) || (keyword === 'VAL' && fields.length === 3));
    if (!wellFormed) return { reason: 'garbage', sample };
    const entry = this.devices.get(id);
    if (!entry) return { reason: 'unknown_id', sample, device: id };
    if (keyword === 'VAL') {
      const value = parseDecimal(fields[2]!);
      return value === null ? { reason: 'bad_value', sample, device: id } : { sensor: entry.sensor, value, quality: 'good', device: id };
    }
    const state = parseSmokeState(fields[2]!);
    const dbmText = fields[3] ?? '';
    const dbm = dbmText === '' ? null : parseDecimal(dbmText);
    // No checksum on this protocol: a garbled obscuration makes the whole line suspect, even in
    // state mode where the figure is not used.
    if (state === null || (dbmText !== '' && dbm === null)) return { reason: 'bad_value', sample, device: id };
    return smokeSample(id, entry, state, dbm);
  }
}
