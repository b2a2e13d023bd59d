/**
 * An Arduino Uno running StandardFirmata 2.5, as seen from its serial line: for tests of the
 * panel's real path (firmata-io over serialport 13 over a pty). It answers what firmata-io asks
 * at connect (version, firmware, capabilities, analog mapping), keeps the pin modes and output
 * values the host sets, reports an input port when its reporting is turned on and whenever an
 * input on it changes, as StandardFirmata does.
 *
 * Firmata protocol 2.x (firmata/protocol: protocol.md, capability-query.md); pin capabilities
 * as StandardFirmata reports them on an Uno (Boards.h: digital 2-19, PWM 3/5/6/9/10/11, analog 14-19).
 */
import { SerialPort } from 'serialport';

const REPORT_VERSION = 0xf9;
const START_SYSEX = 0xf0;
const END_SYSEX = 0xf7;
const PIN_MODE = 0xf4;
const SET_DIGITAL_PIN_VALUE = 0xf5;
const SYSTEM_RESET = 0xff;
const DIGITAL_MESSAGE = 0x90;
const ANALOG_MESSAGE = 0xe0;
const REPORT_ANALOG = 0xc0;
const REPORT_DIGITAL = 0xd0;
const REPORT_FIRMWARE = 0x79;
const CAPABILITY_QUERY = 0x6b;
const CAPABILITY_RESPONSE = 0x6c;
const ANALOG_MAPPING_QUERY = 0x69;
const ANALOG_MAPPING_RESPONSE = 0x6a;
const EXTENDED_ANALOG = 0x6f;

export const MODE = { INPUT: 0, OUTPUT: 1, ANALOG: 2, PWM: 3, SERVO: 4, PULLUP: 11 } as const;
const PWM_PINS = new Set([3, 5, 6, 9, 10, 11]);
const PINS = 20;
export const FIRMWARE_NAME = 'StandardFirmata.ino';

/** Each pin's modes and their resolutions, as StandardFirmata on an Uno reports them. */
function capabilities(pin: number): [number, number][] {
  if (pin < 2) return []; // the serial line
  const caps: [number, number][] = [[MODE.INPUT, 1], [MODE.OUTPUT, 1], [MODE.PULLUP, 1]];
  if (pin >= 14) caps.push([MODE.ANALOG, 10]);
  else {
    if (PWM_PINS.has(pin)) caps.push([MODE.PWM, 8]);
    caps.push([MODE.SERVO, 14]);
  }
  return caps;
}

const bytes7 = (s: string): number[] => [...Buffer.from(s, 'ascii')].flatMap((c) => [c & 0x7f, (c >> 7) & 0x7f]);

export class FirmataDevice {
  private port: SerialPort | null = null;
  private buf: number[] = [];
  private sysex: number[] | null = null;
  /** Each pin's mode as the host set it. */
  readonly modes = new Map<number, number>();
  /** Each output pin's value: 0/1 for digital, 0-255 for PWM. */
  readonly out = new Map<number, number>();
  /** Every output value a pin had, in order (to see a blink). */
  readonly history = new Map<number, number[]>();
  /** Input levels as wired (pulled up: 1 = released). */
  private readonly levels = new Map<number, number>();
  readonly reporting = new Set<number>();
  /** Requests answered, by name, for the tests to see the handshake. */
  readonly asked: string[] = [];
  /** A hung board (or one without power behind a USB adapter that stays plugged): it reads nothing and says nothing. */
  hung = false;

  constructor(readonly path: string) {}

  async open(): Promise<void> {
    const port = new SerialPort({ path: this.path, baudRate: 57600, autoOpen: false });
    port.on('error', () => undefined);
    await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
    port.on('data', (chunk: Buffer) => {
      for (const b of chunk) this.byte(b);
    });
    this.port = port;
  }

  async close(): Promise<void> {
    const port = this.port;
    this.port = null;
    if (port?.isOpen) await new Promise<void>((r) => port.close(() => r()));
  }

  /** A button or the key switch closing to ground (down) or opening (up). */
  press(pin: number, down: boolean): void {
    this.levels.set(pin, down ? 0 : 1);
    const port = pin >> 3;
    if (this.reporting.has(port)) this.reportPort(port);
  }

  private send(data: number[]): void {
    this.port?.write(Buffer.from(data));
  }

  private isInput(pin: number): boolean {
    const m = this.modes.get(pin);
    return m === MODE.INPUT || m === MODE.PULLUP;
  }

  private reportPort(port: number): void {
    let value = 0;
    for (let i = 0; i < 8; i++) {
      const pin = port * 8 + i;
      if (this.isInput(pin) && (this.levels.get(pin) ?? 1)) value |= 1 << i;
    }
    this.send([DIGITAL_MESSAGE | port, value & 0x7f, (value >> 7) & 0x7f]);
  }

  private setOut(pin: number, value: number): void {
    if (this.out.get(pin) === value) return;
    this.out.set(pin, value);
    const h = this.history.get(pin) ?? [];
    h.push(value);
    this.history.set(pin, h);
  }

  private byte(b: number): void {
    if (this.hung) return;
    if (this.sysex) {
      if (b === END_SYSEX) {
        const s = this.sysex;
        this.sysex = null;
        this.onSysex(s);
      } else this.sysex.push(b);
      return;
    }
    if (b === START_SYSEX) {
      this.sysex = [];
      return;
    }
    if (b & 0x80) this.buf = [b];
    else if (this.buf.length) this.buf.push(b);
    else return; // a data byte with no command: noise
    const cmd = this.buf[0]!;
    const need = cmd === REPORT_VERSION || cmd === SYSTEM_RESET ? 0 : (cmd & 0xf0) === REPORT_ANALOG || (cmd & 0xf0) === REPORT_DIGITAL ? 1 : 2;
    if (this.buf.length - 1 < need) return;
    const [, d1 = 0, d2 = 0] = this.buf;
    this.buf = [];
    if (cmd === REPORT_VERSION) {
      this.asked.push('version');
      this.send([REPORT_VERSION, 2, 5]);
    } else if (cmd === PIN_MODE) {
      this.modes.set(d1, d2);
    } else if (cmd === SET_DIGITAL_PIN_VALUE) {
      if (this.modes.get(d1) === MODE.OUTPUT) this.setOut(d1, d2 ? 1 : 0);
    } else if ((cmd & 0xf0) === DIGITAL_MESSAGE) {
      const port = cmd & 0x0f;
      const value = d1 | (d2 << 7);
      for (let i = 0; i < 8; i++) {
        const pin = port * 8 + i;
        const bit = (value >> i) & 1;
        if (this.modes.get(pin) === MODE.OUTPUT) this.setOut(pin, bit);
        // StandardFirmata's older way to enable a pull-up: a high write to an input pin.
        else if (this.modes.get(pin) === MODE.INPUT && bit) this.modes.set(pin, MODE.PULLUP);
      }
    } else if ((cmd & 0xf0) === ANALOG_MESSAGE) {
      const pin = cmd & 0x0f;
      if (this.modes.get(pin) === MODE.PWM) this.setOut(pin, d1 | (d2 << 7));
    } else if ((cmd & 0xf0) === REPORT_DIGITAL) {
      const port = cmd & 0x0f;
      if (d1) {
        this.reporting.add(port);
        this.reportPort(port); // StandardFirmata reports the port at once
      } else this.reporting.delete(port);
    }
  }

  private onSysex(s: number[]): void {
    const [cmd, ...data] = s;
    switch (cmd) {
      case REPORT_FIRMWARE:
        this.asked.push('firmware');
        this.send([START_SYSEX, REPORT_FIRMWARE, 2, 5, ...bytes7(FIRMWARE_NAME), END_SYSEX]);
        return;
      case CAPABILITY_QUERY: {
        this.asked.push('capabilities');
        const body: number[] = [];
        for (let pin = 0; pin < PINS; pin++) body.push(...capabilities(pin).flat(), 0x7f);
        this.send([START_SYSEX, CAPABILITY_RESPONSE, ...body, END_SYSEX]);
        return;
      }
      case ANALOG_MAPPING_QUERY: {
        this.asked.push('analog_mapping');
        const body = Array.from({ length: PINS }, (_, pin) => (pin >= 14 ? pin - 14 : 0x7f));
        this.send([START_SYSEX, ANALOG_MAPPING_RESPONSE, ...body, END_SYSEX]);
        return;
      }
      case EXTENDED_ANALOG: {
        const [pin = 0, ...v] = data;
        if (this.modes.get(pin) === MODE.PWM) this.setOut(pin, v.reduce((acc, b, i) => acc | (b << (7 * i)), 0));
        return;
      }
      default:
        return; // sampling interval and the rest: nothing to answer
    }
  }
}
