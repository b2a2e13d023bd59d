/**
 * A panel board for tests: mock-firmata's io (a board-io board whose methods do nothing) under
 * the module's real johnny-five Board, with its pins made to behave as StandardFirmata's on a
 * wired panel: each input reports its level as soon as it is read (StandardFirmata reports a
 * port when its reporting is turned on), buttons and the key are pulled up (1 = released), and
 * every pin mode and write is kept. `unplug()` closes the board as a pulled USB cable does and
 * makes opens fail until `plug()`; each open is a fresh io, as a replugged board is.
 */
import mock from 'mock-firmata';
import { PanelHwError, type BoardLink, type OpenBoard } from '../../drivers/panel-hw/board.ts';

type MockIo = InstanceType<typeof mock.Firmata>;

export interface PanelBoardRig {
  open: OpenBoard;
  /** The io of the current connection; null before the first open and after an unplug. */
  io: MockIo | null;
  /** Opens tried, and those that succeeded. */
  opensTried: number;
  opens: number;
  /** Each output pin's value as last written (digitalWrite 0/1, analogWrite 0-255), on the current connection. */
  out: Map<number, number>;
  /** Every write on the current connection, in order. */
  writes: { pin: number; value: number; kind: 'digital' | 'pwm' }[];
  modes: Map<number, number>;
  /** Pins whose digital reporting the module turned on. */
  reading: Set<number>;
  /** Presses (low) or releases (high) the input on `pin`, reporting it now. */
  press(pin: number, down: boolean): void;
  unplug(): void;
  plug(): void;
}

export function panelBoardRig(o: { plugged?: boolean } = {}): PanelBoardRig {
  let plugged = o.plugged ?? true;
  /** The physical level of each input: it stays what it is across an unplug. */
  const levels = new Map<number, number>();
  const readers = new Map<number, (v: number) => void>();
  const rig: PanelBoardRig = {
    io: null,
    opensTried: 0,
    opens: 0,
    out: new Map(),
    writes: [],
    modes: new Map(),
    reading: new Set(),
    async open(): Promise<BoardLink> {
      rig.opensTried++;
      if (!plugged) throw new PanelHwError('E_PANEL_HW_OPEN', 'cannot open /dev/mock-panel: No such file or directory');
      const io = new mock.Firmata();
      rig.out = new Map();
      rig.writes = [];
      rig.modes = new Map();
      rig.reading = new Set();
      readers.clear();
      io.pinMode = (pin, mode) => void rig.modes.set(pin, mode);
      io.digitalWrite = (pin, value) => {
        rig.out.set(pin, value);
        rig.writes.push({ pin, value, kind: 'digital' });
      };
      io.analogWrite = (pin, value) => {
        rig.out.set(pin, value);
        rig.writes.push({ pin, value, kind: 'pwm' });
      };
      io.digitalRead = (pin, cb) => {
        rig.reading.add(pin);
        readers.set(pin, cb);
        setImmediate(() => readers.get(pin) === cb && cb(levels.get(pin) ?? 1));
      };
      rig.io = io;
      rig.opens++;
      // The handshake answered: johnny-five's Board hears connect, then ready.
      setImmediate(() => {
        io.emit('connect');
        io.emit('ready');
      });
      return { io: io as unknown as BoardLink['io'], close: async () => undefined };
    },
    press(pin, down) {
      levels.set(pin, down ? 0 : 1);
      readers.get(pin)?.(down ? 0 : 1);
    },
    unplug() {
      plugged = false;
      const io = rig.io;
      rig.io = null;
      readers.clear();
      io?.emit('close');
    },
    plug() {
      plugged = true;
    },
  };
  return rig;
}
