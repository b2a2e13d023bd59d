/**
 * Reaching the panel's Arduino: the seam (`OpenBoard`) the module opens it through, the real
 * opener (StandardFirmata over our own serialport 13, by firmata-io), and the johnny-five Board
 * made over whatever io the opener gave.
 *
 * johnny-five is never let to open a port itself: its own serialport 8 has no native binding
 * built here, and its port auto-detection lists ports through udevadm. It gets an `io`.
 */
import type { EventEmitter } from 'node:events';
import firmataIo from 'firmata-io';
import five from 'johnny-five';
import { SerialPort } from 'serialport';
import { withDeadline } from '../../gateway/shell/timing.ts';
import { closePort, type SerialBinding } from '../serial/port.ts';

export class PanelHwError extends Error {
  constructor(
    readonly code: 'E_PANEL_HW_OPEN' | 'E_PANEL_HW_TIMEOUT' | 'E_PANEL_HW_HANDSHAKE',
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'PanelHwError';
  }
}

/** One pin as Firmata's capability report describes it. */
export interface FirmataPin {
  supportedModes: number[];
}

/** What the panel uses of a Firmata io (firmata-io's board, mock-firmata's in tests). */
export interface FirmataIo extends EventEmitter {
  readonly MODES: { INPUT: number; OUTPUT: number; PWM: number; PULLUP?: number };
  readonly HIGH: number;
  readonly pins: FirmataPin[];
  readonly isReady: boolean;
  /** StandardFirmata's name and version, when the firmware said them. */
  readonly firmware?: { name?: string; version?: { major: number; minor: number } };
  /** Asks the firmware for its protocol version (firmata-io): the heartbeat. Absent on ios that cannot. */
  reportVersion?(cb: () => void): void;
}

/** An open link to the board: its io (ready, or becoming ready) and how to let it go. */
export interface BoardLink {
  io: FirmataIo;
  /** Whether the transport is still open (an error without a close: the port is gone). */
  isOpen?(): boolean;
  /** Lets the port go; resolves within a deadline whatever the port does. */
  close(): Promise<void>;
}

/** How the module reaches the board. Rejects (PanelHwError) when it cannot: absent, unplugged, busy. */
export type OpenBoard = () => Promise<BoardLink>;

export interface SerialFirmataOptions {
  path: string;
  baudRate: number;
  /** serialport binding; MockBinding in unit tests. Default: the platform's. */
  binding?: SerialBinding;
  openTimeoutMs?: number;
  closeTimeoutMs?: number;
}

/**
 * StandardFirmata on a serial port. The port is made closed, firmata-io put on it, then opened:
 * firmata-io hears the port's `open` and says `connect`, which johnny-five's Board waits for
 * before its `ready`. An Uno or Nano resets when its port opens (DTR) and its firmware reports
 * its version by itself about 2 s later; firmata-io asks for it after 2.5 s if it did not.
 */
export function serialFirmata(o: SerialFirmataOptions): OpenBoard {
  const openMs = o.openTimeoutMs ?? 5000;
  const closeMs = o.closeTimeoutMs ?? 2000;
  return async () => {
    const options = { path: o.path, baudRate: o.baudRate, autoOpen: false };
    // As drivers/serial/port.ts: a binding given in the options replaces the platform one.
    const port = new SerialPort(o.binding ? Object.assign(options, { binding: o.binding }) : options);
    // Errors are the module's once it listens; until then (and after) a stray one must not crash the box.
    port.on('error', () => undefined);
    const io = new firmataIo.Firmata(port, { reportVersionTimeout: 2500 }) as unknown as FirmataIo & { reportVersionTimeoutId?: NodeJS.Timeout };
    io.on('error', () => undefined);
    const close = async (): Promise<void> => {
      clearTimeout(io.reportVersionTimeoutId);
      if (port.isOpen) await withDeadline(new Promise<void>((r) => port.drain(() => r())), closeMs, () => undefined);
      await closePort(port, closeMs);
      io.removeAllListeners();
      io.on('error', () => undefined);
    };
    let late = false;
    const opening = new Promise<void>((resolve, reject) => {
      port.open((err) => {
        if (err) return reject(new PanelHwError('E_PANEL_HW_OPEN', `cannot open ${o.path}: ${err.message}`, { cause: err }));
        if (late) void close();
        resolve();
      });
    });
    try {
      await withDeadline(opening, openMs, (ms): never => {
        late = true;
        throw new PanelHwError('E_PANEL_HW_TIMEOUT', `opening ${o.path} took longer than ${ms} ms`);
      });
    } catch (err) {
      clearTimeout(io.reportVersionTimeoutId);
      io.removeAllListeners();
      throw err;
    }
    return { io, isOpen: () => port.isOpen, close };
  };
}

export type Board = InstanceType<typeof five.Board>;

/**
 * A johnny-five Board over the link's io, once it is ready (Firmata's handshake and capability
 * report done), within `timeoutMs`; else rejects and leaves nothing behind.
 */
export async function readyBoard(link: BoardLink, timeoutMs: number): Promise<Board> {
  const { io } = link;
  const board = new five.Board({ io, repl: false, debug: false, sigint: false, timeout: timeoutMs });
  // The Board holds its `ready` back until it has heard `connect`, which firmata-io said when the
  // port opened, before this Board existed: a port already open is said to it again.
  if (link.isOpen?.()) io.emit('connect');
  // johnny-five emits 'error' for its own log lines too: an EventEmitter with no listener would throw it.
  board.on('error', () => undefined);
  const ready = new Promise<void>((resolve) => board.once('ready', () => resolve()));
  try {
    await withDeadline(ready, timeoutMs, (ms): never => {
      throw new PanelHwError('E_PANEL_HW_HANDSHAKE', `no Firmata answer within ${ms} ms: is StandardFirmata flashed on the board, at this baud rate?`);
    });
  } catch (err) {
    releaseBoard(board);
    throw err;
  }
  return board;
}

/** Lets a Board go: its timer, its listeners, and its place in johnny-five's registry (else every reconnect would keep one). */
export function releaseBoard(board: Board): void {
  if (board.timer) clearTimeout(board.timer);
  board.removeAllListeners();
  board.on('error', () => undefined);
  const i = five.Board.cache.indexOf(board);
  if (i >= 0) five.Board.cache.splice(i, 1);
}
