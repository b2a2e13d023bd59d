/**
 * The framed binary protocol (frame diagram in wire.ts): bytes in, samples and discards out.
 * Pure: no timers, no I/O. Resynchronises on the next 0x7E after garbage or a false start.
 */
import { SMOKE_STATES } from '../../gateway/engine/types.ts';
import { smokeSample } from './decode.ts';
import { type DeviceTable, type Discard, emptyResult, type ParseResult, type SensorSample, type SerialParser } from './types.ts';
import {
  crc16Modbus,
  FLAG,
  FRAME_OVERHEAD,
  KIND_SMOKE,
  KIND_VALUE,
  MAX_PAYLOAD,
  NO_VALUE,
  SCALE,
  SMOKE_PAYLOAD_LEN,
  VALUE_PAYLOAD_LEN,
} from './wire.ts';

/** A run of garbage is reported (one discard) at least this often, even if it never ends. */
const GARBAGE_REPORT_BYTES = 256;

export class FramedParser implements SerialParser {
  /** Unconsumed bytes; always starts with FLAG when not empty. At most one frame long. */
  private buf: Buffer = Buffer.alloc(0);
  /** Bytes skipped since the last frame or report, and the first of them for the log. */
  private garbage = 0;
  private garbageSample: number[] = [];
  /** `buf` starts with the closing flag of the last frame, not with a flag seen on its own. */
  private headIsClosingFlag = false;

  constructor(private readonly devices: DeviceTable) {}

  push(bytes: Uint8Array): ParseResult {
    const out = emptyResult();
    this.buf = this.buf.length ? Buffer.concat([this.buf, bytes]) : Buffer.from(bytes);
    for (;;) {
      const start = this.buf.indexOf(FLAG);
      if (start < 0) {
        this.skip(this.buf.length, out);
        break;
      }
      if (start > 0) this.skip(start, out);
      if (this.buf.length < 2) break;
      const len = this.buf[1]!;
      if (len === FLAG) {
        // Two flags in a row: the first closed the previous frame (or is idle fill).
        this.buf = this.buf.subarray(1);
        this.headIsClosingFlag = false;
        continue;
      }
      if (len < 1 || len > MAX_PAYLOAD) {
        this.skip(1, out);
        continue;
      }
      const size = len + FRAME_OVERHEAD;
      if (this.buf.length < size) break;
      if (this.buf[size - 1] !== FLAG) {
        // False start: a 0x7E inside garbage. Resynchronise on the next one.
        this.skip(1, out);
        continue;
      }
      this.reportGarbage(out);
      out.frames++;
      this.frame(this.buf.subarray(0, size), out);
      // Keep the closing flag: it may also open the next frame (shared flags).
      this.buf = this.buf.subarray(size - 1);
      this.headIsClosingFlag = true;
    }
    return out;
  }

  pending(): boolean {
    return this.garbage > 0 || this.buf.some((b) => b !== FLAG);
  }

  flush(): ParseResult {
    const out = emptyResult();
    this.reportGarbage(out);
    // Bytes behind a frame's closing flag are more likely trailing noise than a frame that
    // shares that flag; bytes behind a flag of their own are a frame cut short.
    if (this.buf.some((b) => b !== FLAG)) out.discards.push({ reason: this.headIsClosingFlag ? 'garbage' : 'partial', sample: hex(this.buf) });
    this.buf = Buffer.alloc(0);
    this.headIsClosingFlag = false;
    return out;
  }

  private skip(n: number, out: ParseResult): void {
    for (const b of this.buf.subarray(0, n)) if (this.garbageSample.length < 24) this.garbageSample.push(b);
    this.garbage += n;
    this.buf = this.buf.subarray(n);
    this.headIsClosingFlag = false;
    if (this.garbage >= GARBAGE_REPORT_BYTES) this.reportGarbage(out);
  }

  private reportGarbage(out: ParseResult): void {
    if (this.garbage === 0) return;
    out.discards.push({ reason: 'garbage', sample: `${hex(Buffer.from(this.garbageSample))}${this.garbage > this.garbageSample.length ? `…(${this.garbage} bytes)` : ''}` });
    this.garbage = 0;
    this.garbageSample = [];
  }

  private frame(f: Buffer, out: ParseResult): void {
    const len = f[1]!;
    const crc = f.readUInt16LE(2 + len);
    if (crc16Modbus(f, 1, 2 + len) !== crc) {
      out.discards.push({ reason: 'bad_crc', sample: hex(f) });
      return;
    }
    const result = this.payload(f.subarray(2, 2 + len), hex(f));
    if ('reason' in result) out.discards.push(result);
    else out.samples.push(result);
  }

  private payload(p: Buffer, sample: string): Discard | SensorSample {
    const device = String(p[0]);
    const entry = this.devices.get(device);
    if (!entry) return { reason: 'unknown_id', sample, device };
    const kind = p[1];
    if (kind === KIND_SMOKE && p.length === SMOKE_PAYLOAD_LEN) {
      const state = p[2]!;
      const raw = p.readInt32BE(3);
      if (state >= SMOKE_STATES.length) return { reason: 'bad_value', sample, device };
      return smokeSample(device, entry, state, raw === NO_VALUE ? null : raw / SCALE);
    }
    if (kind === KIND_VALUE && p.length === VALUE_PAYLOAD_LEN) {
      const raw = p.readInt32BE(2);
      // NO_VALUE has no meaning for a generic value; the device cannot send "nothing" as a number.
      if (raw === NO_VALUE) return { reason: 'bad_value', sample, device };
      return { sensor: entry.sensor, value: raw / SCALE, quality: 'good', device };
    }
    // A good CRC around a payload this version does not know (newer device, wrong length).
    return { reason: 'bad_value', sample, device };
  }
}

function hex(b: Uint8Array): string {
  const s = Buffer.from(b.subarray(0, 48)).toString('hex');
  return b.length > 48 ? `${s}…(${b.length} bytes)` : s;
}
