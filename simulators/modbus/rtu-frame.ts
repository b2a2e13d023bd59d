/**
 * Modbus RTU framing for the simulators (Modbus over serial line V1.02 §2.5.1): address + PDU +
 * CRC-16 (polynomial 0xA001 reflected, init 0xFFFF, low byte first). Frames are cut by the
 * request length each function code implies, or by a silence on the line for anything else
 * (§2.5.1.1: 3.5 character times end a frame; a pty has no character timing, so the silence
 * here is a few ms of no bytes, configurable).
 */
import type { Reply } from './device.ts';

/** CRC-16/MODBUS of a buffer. */
export function crc16(buf: Uint8Array): number {
  let crc = 0xffff;
  for (const b of buf) {
    crc ^= b;
    for (let i = 0; i < 8; i++) crc = crc & 1 ? (crc >>> 1) ^ 0xa001 : crc >>> 1;
  }
  return crc;
}

/** Address + PDU → a complete frame with its CRC. */
export function withCrc(unit: number, pdu: Buffer): Buffer {
  const frame = Buffer.alloc(pdu.length + 3);
  frame[0] = unit;
  pdu.copy(frame, 1);
  frame.writeUInt16LE(crc16(frame.subarray(0, -2)), frame.length - 2);
  return frame;
}

export function crcOk(frame: Buffer): boolean {
  return frame.length >= 4 && crc16(frame.subarray(0, -2)) === frame.readUInt16LE(frame.length - 2);
}

/**
 * Length of the request frame starting the buffer: a number, `'more'` when the length byte has
 * not arrived yet, or null when the function code does not imply one (wait for silence).
 */
export function requestLength(buf: Buffer): number | 'more' | null {
  if (buf.length < 2) return 'more';
  const fc = buf[1] as number;
  if (fc >= 1 && fc <= 6) return 8;
  if (fc === 15 || fc === 16) return buf.length < 7 ? 'more' : 9 + (buf[6] as number);
  return null;
}

/** The bytes to send back for one reply (fault effects applied), or null for silence. */
export function replyBytes(unit: number, reply: Reply | null): Buffer | null {
  if (!reply?.pdu) return null;
  const frame = withCrc(unit, reply.pdu);
  if (reply.badCrc) frame.writeUInt16LE(frame.readUInt16LE(frame.length - 2) ^ 0xffff, frame.length - 2);
  return reply.short ? frame.subarray(0, Math.max(2, Math.floor(frame.length / 2))) : frame;
}

export interface RtuStats {
  framesOk: number;
  crcErrors: number;
}

/** Hands the bus one valid frame; returns what to send (and when) or null. */
export type FrameHandler = (unit: number, pdu: Buffer) => Reply | null;

/**
 * Cuts a byte stream into request frames. `push()` every chunk; complete frames with a good CRC
 * go to `onFrame` at once, anything else waits for `silenceMs` of quiet and is then checked
 * whole (a bad CRC is counted and dropped, as a slave does).
 */
export class RtuFramer {
  private buf = Buffer.alloc(0);
  private timer: NodeJS.Timeout | null = null;
  readonly stats: RtuStats = { framesOk: 0, crcErrors: 0 };

  constructor(
    private readonly onFrame: (frame: Buffer) => void,
    private readonly silenceMs = 15,
  ) {}

  push(chunk: Buffer): void {
    this.buf = Buffer.concat([this.buf, chunk]);
    if (this.buf.length > 256) this.buf = Buffer.alloc(0); // longer than any RTU frame: line noise
    this.drain();
    if (this.timer) clearTimeout(this.timer);
    this.timer = this.buf.length ? setTimeout(() => this.silence(), this.silenceMs) : null;
  }

  private drain(): void {
    for (;;) {
      const len = requestLength(this.buf);
      if (len === null || len === 'more' || this.buf.length < len) return;
      const frame = this.buf.subarray(0, len);
      if (!crcOk(frame)) return; // maybe a different length was meant: decide at the silence
      this.buf = this.buf.subarray(len);
      this.stats.framesOk++;
      this.onFrame(Buffer.from(frame));
    }
  }

  private silence(): void {
    this.timer = null;
    const frame = this.buf;
    this.buf = Buffer.alloc(0);
    if (frame.length === 0) return;
    if (crcOk(frame)) {
      this.stats.framesOk++;
      this.onFrame(Buffer.from(frame));
    } else {
      this.stats.crcErrors++;
    }
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.buf = Buffer.alloc(0);
  }
}
