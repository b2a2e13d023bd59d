/**
 * Shared vocabulary of the serial sensor driver: what a parser returns, why input is discarded,
 * and the driver's errors (STYLE.md: one taxonomy, `Error` subclasses with a `code`).
 */
import type { Quality } from '../../gateway/engine/types.ts';

/**
 * Why received bytes never reached the bus. Transport damage (`garbage`, `partial`,
 * `too_long`, `bad_crc`) is kept apart from well-formed records the box cannot use
 * (`unknown_id`, `bad_value`), as nanoMODBUS keeps transport errors apart from exceptions.
 */
export const DISCARD_REASONS = ['garbage', 'partial', 'too_long', 'bad_crc', 'unknown_id', 'bad_value'] as const;
export type DiscardReason = (typeof DISCARD_REASONS)[number];

export interface Discard {
  reason: DiscardReason;
  /** A short printable excerpt of the offending input (escaped text or hex), for the debug log. */
  sample: string;
  /** The device id on the wire, when the record got that far. */
  device?: string;
}

/**
 * A reading as a parser sees it: everything but the time, which the driver stamps when the
 * bytes arrive. `quality` is not `good` when the device reported that it cannot measure
 * (never a number then), and `value` is null.
 */
export interface SensorSample {
  sensor: string;
  value: number | null;
  quality: Quality;
  /** The device id on the wire. */
  device: string;
}

export interface ParseResult {
  samples: SensorSample[];
  discards: Discard[];
  /** Complete lines handed to the line grammar (ASCII), terminator seen, within LINE_MAX. */
  lines: number;
  /** Candidate frames with a good closing flag, whatever their CRC (framed). */
  frames: number;
}

/** How a smoke detector's record becomes a value: the panel's state, or the obscuration. */
export type SmokeMode = 'state' | 'analog';

/** One device on the line, resolved: which box sensor it feeds and how. */
export interface DeviceEntry {
  sensor: string;
  mode: SmokeMode;
}

/** Keyed by the device id as written on the wire (`"7"` for framed device 7). */
export type DeviceTable = ReadonlyMap<string, DeviceEntry>;

/** A byte-stream parser: pure, no timers, no I/O. */
export interface SerialParser {
  push(bytes: Uint8Array): ParseResult;
  /** Whether bytes of an unfinished record are held (the driver then arms the silence timer). */
  pending(): boolean;
  /** The line went quiet: whatever is held is discarded as `partial` (or `garbage`). */
  flush(): ParseResult;
}

export function emptyResult(): ParseResult {
  return { samples: [], discards: [], lines: 0, frames: 0 };
}

export type SerialErrorCode =
  /** Options the driver cannot work with (bad device ids, no devices, bad baud rate). */
  | 'E_SERIAL_CONFIG'
  /** The port could not be opened (absent, busy, permission). */
  | 'E_SERIAL_OPEN'
  /** Open did not complete within its deadline. */
  | 'E_SERIAL_TIMEOUT'
  /** stop() was called while the port was being opened. */
  | 'E_SERIAL_STOPPED'
  /** A value that the wire format cannot carry (encoders). */
  | 'E_SERIAL_VALUE'
  /** A write to the port failed or did not finish in time (simulator). */
  | 'E_SERIAL_WRITE';

export class SerialError extends Error {
  constructor(
    readonly code: SerialErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'SerialError';
  }
}

/** Printable excerpt of raw bytes: ASCII kept, the rest as \xNN, at most `max` bytes. */
export function excerpt(bytes: Uint8Array, max = 48): string {
  let s = '';
  for (const b of bytes.subarray(0, max)) s += b >= 0x20 && b < 0x7f && b !== 0x5c ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, '0')}`;
  return bytes.length > max ? `${s}…(${bytes.length} bytes)` : s;
}
