/**
 * Modbus RTU transports for the simulated bus: a real pseudo-terminal line (socat pair, opened
 * with serialport on our end) for integration tests, and an in-memory port that plugs straight
 * into modbus-serial (`new ModbusRTU(port)`, like its ports/testport.js) for unit tests.
 *
 * Why not modbus-serial's ServerSerial (read in servers/serverserial.js): it rewrites the CRC of
 * every request it receives instead of checking it, answers one unit id or all of them, and
 * collapses FC05's value field to a boolean; a bus of several units with CRC and fault
 * injection needs its own framing (rtu-frame.ts).
 */
import { EventEmitter } from 'node:events';
import { SerialPort } from 'serialport';
import { openPtyPair, type PtyPair } from './pty.ts';
import { RtuFramer, crcOk, replyBytes, type FrameHandler, type RtuStats } from './rtu-frame.ts';

function respond(dispatch: FrameHandler, frame: Buffer): { bytes: Buffer; delayMs: number } | null {
  const unit = frame[0] as number;
  const reply = dispatch(unit, Buffer.from(frame.subarray(1, -2)));
  const bytes = replyBytes(unit, reply);
  return bytes && reply ? { bytes, delayMs: reply.delayMs } : null;
}

/** One RS-485 line on a pty pair; the master opens `path`. */
export class RtuTransport {
  private pty: PtyPair | null = null;
  private port: SerialPort | null = null;
  private framer: RtuFramer | null = null;
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(
    private readonly dispatch: FrameHandler,
    private readonly silenceMs = 15,
  ) {}

  /** The path a Modbus master opens (the other end of the pty pair). */
  get path(): string {
    if (!this.pty) throw new Error('the RTU line is not started');
    return this.pty.masterPath;
  }

  get stats(): RtuStats {
    return this.framer?.stats ?? { framesOk: 0, crcErrors: 0 };
  }

  async start(): Promise<void> {
    this.pty = await openPtyPair();
    const port = new SerialPort({ path: this.pty.slavePath, baudRate: 9600, autoOpen: false });
    this.port = port;
    try {
      await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
    } catch (err) {
      await this.stop();
      throw err;
    }
    const framer = new RtuFramer((frame) => this.onFrame(frame), this.silenceMs);
    this.framer = framer;
    port.on('data', (chunk: Buffer) => framer.push(chunk));
    port.on('error', () => undefined); // a closing pty reports EIO; stop() handles the rest
  }

  private onFrame(frame: Buffer): void {
    const out = respond(this.dispatch, frame);
    if (!out) return;
    const send = () => {
      if (this.port?.isOpen) this.port.write(out.bytes);
    };
    if (out.delayMs <= 0) return send();
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      send();
    }, out.delayMs);
    this.timers.add(timer);
  }

  /** Closes our end and kills socat. Always resolves. */
  async stop(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.framer?.stop();
    const port = this.port;
    this.port = null;
    if (port?.isOpen) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 1000);
        port.close(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    const pty = this.pty;
    this.pty = null;
    await pty?.close();
  }
}

/**
 * An in-memory serial port for modbus-serial's client (`new ModbusRTU(bus.memoryPort())`):
 * every `write()` is one RTU request frame; replies come back as one 'data' event.
 */
export class MemoryRtuPort extends EventEmitter {
  private open_ = false;
  private readonly timers = new Set<NodeJS.Timeout>();
  readonly stats: RtuStats = { framesOk: 0, crcErrors: 0 };

  constructor(private readonly dispatch: FrameHandler) {
    super();
  }

  get isOpen(): boolean {
    return this.open_;
  }

  open(callback?: (err: Error | null) => void): void {
    this.open_ = true;
    callback?.(null);
  }

  close(callback?: (err?: Error | null) => void): void {
    this.open_ = false;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    callback?.(null);
    this.emit('close');
  }

  write(data: Buffer): void {
    if (!this.open_) return;
    const frame = Buffer.from(data);
    if (!crcOk(frame)) return void this.stats.crcErrors++;
    this.stats.framesOk++;
    const out = respond(this.dispatch, frame);
    if (!out) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (this.open_) this.emit('data', out.bytes);
    }, out.delayMs);
    this.timers.add(timer);
  }
}
