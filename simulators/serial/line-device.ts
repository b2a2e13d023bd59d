/**
 * A simple serial sensor (a smoke detector panel or a small ASCII sensor) on the far end of a
 * port: writes ASCII lines or CRC frames (wire.ts), and, for fault tests, raw bytes split into
 * chunks with gaps between them. Plugs in at the port (STYLE.md): a real pty end in
 * integration tests, `MockBinding` in unit tests, a USB adapter on the bench.
 *
 *     npx tsx simulators/serial/line-device.ts --path /tmp/sim-a --protocol ascii \
 *       --device 1 --states normal,normal,alarm --dbm 0.05 --every 1000
 */
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import type { SerialPort } from 'serialport';
import type { SmokeState } from '../../gateway/engine/types.ts';
import { closePort, openPort, type SerialBinding, writePort } from '../../drivers/serial/port.ts';
import { SerialError } from '../../drivers/serial/types.ts';
import { smokeFrame, smokeLine, valueFrame, valueLine } from '../../drivers/serial/wire.ts';

export interface LineDeviceOptions {
  path: string;
  baudRate?: number;
  protocol: 'ascii' | 'framed';
  binding?: SerialBinding;
  /** Deadline of open, close and each write. Default 3000. */
  timeoutMs?: number;
}

export interface WriteShape {
  /** Split the bytes into writes of at most this many bytes. */
  chunkSize?: number;
  /** Pause between those writes, ms. */
  gapMs?: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export class LineDevice {
  private port: SerialPort | null = null;
  private readonly timeoutMs: number;

  constructor(private readonly o: LineDeviceOptions) {
    this.timeoutMs = o.timeoutMs ?? 3000;
  }

  get isOpen(): boolean {
    return this.port?.isOpen ?? false;
  }

  async open(): Promise<void> {
    if (this.port?.isOpen) return;
    this.port = await openPort({ path: this.o.path, baudRate: this.o.baudRate ?? 9600, binding: this.o.binding }, this.timeoutMs);
  }

  /** Resolves within the deadline even if the port never confirms. */
  async close(): Promise<void> {
    const port = this.port;
    this.port = null;
    if (port) await closePort(port, this.timeoutMs);
  }

  /** One smoke detector record: an SMK line, or a smoke frame (`id` must then be 0–255). */
  smoke(id: string | number, state: SmokeState | number, dbm: number | null = null, shape?: WriteShape): Promise<void> {
    return this.write(this.o.protocol === 'ascii' ? smokeLine(String(id), state, dbm) : smokeFrame(Number(id), state, dbm), shape);
  }

  /** One generic value: a VAL line, or a value frame. */
  value(id: string | number, value: number, shape?: WriteShape): Promise<void> {
    return this.write(this.o.protocol === 'ascii' ? valueLine(String(id), value) : valueFrame(Number(id), value), shape);
  }

  /** Raw bytes (ASCII strings are sent as latin1), optionally in chunks with gaps. */
  async write(bytes: Uint8Array | string, shape: WriteShape = {}): Promise<void> {
    const port = this.port;
    if (!port?.isOpen) throw new SerialError('E_SERIAL_WRITE', `${this.o.path} is not open`);
    const data = typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : Buffer.from(bytes);
    const size = shape.chunkSize ?? data.length;
    for (let i = 0; i < data.length; i += size) {
      if (i > 0 && shape.gapMs) await sleep(shape.gapMs);
      await writePort(port, data.subarray(i, i + size), this.timeoutMs);
    }
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      path: { type: 'string' },
      baud: { type: 'string', default: '9600' },
      protocol: { type: 'string', default: 'ascii' },
      device: { type: 'string', default: '1' },
      states: { type: 'string', default: 'normal' },
      dbm: { type: 'string' },
      every: { type: 'string', default: '1000' },
    },
  });
  if (!values.path || (values.protocol !== 'ascii' && values.protocol !== 'framed')) {
    console.error('usage: line-device.ts --path DEV [--protocol ascii|framed] [--device ID] [--states normal,alarm] [--dbm 0.05] [--every MS] [--baud 9600]');
    process.exit(2);
  }
  const dev = new LineDevice({ path: values.path, baudRate: Number(values.baud), protocol: values.protocol });
  const states = values.states.split(',') as SmokeState[];
  const dbm = values.dbm === undefined ? null : Number(values.dbm);
  let stopping = false;
  process.once('SIGINT', () => (stopping = true));
  process.once('SIGTERM', () => (stopping = true));
  await dev.open();
  for (let i = 0; !stopping; i++) {
    await dev.smoke(values.device, states[i % states.length]!, dbm).catch((err: unknown) => console.error(String(err)));
    await sleep(Number(values.every));
  }
  await dev.close();
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
