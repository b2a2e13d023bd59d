/**
 * Simple serial sensors (smoke detector panels, ASCII or framed) as a box module: opens the
 * port, turns bytes into readings on the bus, and keeps the link alive by itself: a port that
 * errors or closes (a replugged USB adapter, a restarted pty) is reopened forever with backoff
 * (a link must come back by itself). Input that is not a reading is counted per reason and never reaches the bus.
 */
import type { Logger } from 'pino';
import type { SerialPort } from 'serialport';
import type { Reading } from '../../gateway/engine/types.ts';
import type { BoxContext, Module } from '../../gateway/shell/module.ts';
import { backoff, withDeadline, type Backoff } from '../../gateway/shell/timing.ts';
import { AsciiLineParser } from './ascii-parser.ts';
import { FramedParser } from './framed-parser.ts';
import { closePort, openPort, type SerialBinding } from './port.ts';
import { DISCARD_REASONS, type DeviceEntry, type DiscardReason, type ParseResult, SerialError, type SerialParser, type SmokeMode } from './types.ts';

export interface SerialSensorOptions {
  /** Device path, e.g. `/dev/ttyUSB0` or a `/dev/serial/by-id/…` link (survives replugging). */
  path: string;
  baudRate: number;
  protocol: 'ascii' | 'framed';
  /**
   * Device ids as written on the wire (`"7"` for framed device 7) → box sensor. `mode` defaults
   * to the mode of that smoke sensor in the site config, else `state`.
   */
  devices: Record<string, { sensor: string; mode?: SmokeMode }>;
  /** serialport binding; `MockBinding` in unit tests. Default: the platform's. */
  binding?: SerialBinding;
  /** First reopen delay after the port is lost; doubles up to `maxReopenMs`. Default 1000. */
  reopenMs?: number;
  /** Default 30000. */
  maxReopenMs?: number;
  /** Deadline of one open attempt. Default 5000. */
  openTimeoutMs?: number;
  /** Deadline of close, and so of stop(). Default 2000. */
  closeTimeoutMs?: number;
  /** A record left unfinished this long is discarded as `partial`. Default 1000. */
  silenceMs?: number;
  /**
   * Reopen the port when no byte arrived for this long (0 = never, the default). For panels
   * that report periodically: catches a link that died without the port noticing.
   */
  idleReopenMs?: number;
}

export interface SerialStats {
  /** ASCII lines received (terminated, within the length cap). */
  lines: number;
  /** Frames received with a good closing flag, whatever their CRC. */
  frames: number;
  /** Readings emitted on the bus. */
  readings: number;
  discarded: Record<DiscardReason, number>;
  /** Successful opens of the port, the first included. */
  opens: number;
}

/** At most one warning per this long about discarded input; the rest go to debug. */
const WARN_EVERY_MS = 60_000;

export class SerialSensorDriver implements Module {
  readonly name: string;
  private readonly log: Logger;
  private readonly parser: SerialParser;
  private readonly o: Required<Omit<SerialSensorOptions, 'binding' | 'devices'>> & Pick<SerialSensorOptions, 'binding'>;
  private readonly counts: SerialStats;
  private running = false;
  private port: SerialPort | null = null;
  private connecting: Promise<void> | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private silenceTimer: NodeJS.Timeout | null = null;
  private idleTimer: NodeJS.Timeout | null = null;
  private readonly reopen: Backoff;
  private lastAt = Number.NEGATIVE_INFINITY;
  private lastWarnAt = Number.NEGATIVE_INFINITY;
  private lastLinkWarnAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly ctx: BoxContext,
    opts: SerialSensorOptions,
  ) {
    this.name = `serial:${opts.path}`;
    this.log = ctx.log.child({ module: 'serial', path: opts.path });
    this.o = {
      path: opts.path,
      baudRate: opts.baudRate,
      protocol: opts.protocol,
      binding: opts.binding,
      reopenMs: opts.reopenMs ?? 1000,
      maxReopenMs: opts.maxReopenMs ?? 30_000,
      openTimeoutMs: opts.openTimeoutMs ?? 5000,
      closeTimeoutMs: opts.closeTimeoutMs ?? 2000,
      silenceMs: opts.silenceMs ?? 1000,
      idleReopenMs: opts.idleReopenMs ?? 0,
    };
    if (!opts.path) throw new SerialError('E_SERIAL_CONFIG', 'path is empty');
    if (!Number.isInteger(opts.baudRate) || opts.baudRate <= 0) throw new SerialError('E_SERIAL_CONFIG', `baudRate ${opts.baudRate} is not a positive integer`);
    if (opts.protocol !== 'ascii' && opts.protocol !== 'framed') throw new SerialError('E_SERIAL_CONFIG', `protocol ${String(opts.protocol)} is not ascii or framed`);
    const devices = this.resolveDevices(opts);
    this.parser = opts.protocol === 'ascii' ? new AsciiLineParser(devices) : new FramedParser(devices);
    this.reopen = backoff({ firstMs: this.o.reopenMs, maxMs: this.o.maxReopenMs });
    this.counts = { lines: 0, frames: 0, readings: 0, discarded: Object.fromEntries(DISCARD_REASONS.map((r) => [r, 0])) as Record<DiscardReason, number>, opens: 0 };
  }

  /**
   * Opens the port within `openTimeoutMs`. Rejects (SerialError `E_SERIAL_OPEN`,
   * `E_SERIAL_TIMEOUT` or `E_SERIAL_STOPPED`) if that first open fails, leaving nothing
   * running: the Supervisor retries start(). Once open, losses are retried here, forever.
   */
  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.reopen.reset();
    try {
      await this.connect();
    } catch (err) {
      this.running = false;
      throw err;
    }
  }

  /** Cancels retries and closes the port; resolves within `closeTimeoutMs` whatever the port does. */
  async stop(): Promise<void> {
    this.running = false;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.silence(false);
    this.idle(null);
    this.handle(this.parser.flush());
    const port = this.port;
    this.port = null;
    if (port) this.detach(port);
    // An open in flight sees `running` false and closes its port itself (connect()).
    const work = Promise.all([this.connecting?.catch(() => undefined), port ? closePort(port, this.o.closeTimeoutMs) : null]);
    await withDeadline(work, this.o.closeTimeoutMs, () => undefined);
  }

  stats(): SerialStats {
    return { ...this.counts, discarded: { ...this.counts.discarded } };
  }

  /** Whether the port is open right now. */
  get connected(): boolean {
    return this.port !== null;
  }

  private resolveDevices(opts: SerialSensorOptions): Map<string, DeviceEntry> {
    const entries = Object.entries(opts.devices ?? {});
    if (entries.length === 0) throw new SerialError('E_SERIAL_CONFIG', 'no devices');
    const table = new Map<string, DeviceEntry>();
    for (const [id, d] of entries) {
      const ok = opts.protocol === 'framed' ? /^(?:0|[1-9]\d{0,2})$/.test(id) && Number(id) <= 255 : /^[\x21-\x2b\x2d-\x7e]+$/.test(id);
      if (!ok) throw new SerialError('E_SERIAL_CONFIG', `device id ${JSON.stringify(id)} cannot appear on a ${opts.protocol} line`);
      const sensor = this.ctx.config.sensors.find((s) => s.id === d.sensor);
      if (!sensor) this.log.warn({ device: id, sensor: d.sensor }, 'device feeds a sensor the site config does not have');
      const configMode = sensor?.kind === 'smoke' ? sensor.mode : undefined;
      if (d.mode && configMode && d.mode !== configMode) this.log.warn({ device: id, sensor: d.sensor, mode: d.mode, config_mode: configMode }, 'device mode differs from the sensor config');
      table.set(id, { sensor: d.sensor, mode: d.mode ?? configMode ?? 'state' });
    }
    return table;
  }

  /** One open attempt; attaches the port if the driver still runs. */
  private connect(): Promise<void> {
    const attempt = (async () => {
      const port = await openPort({ path: this.o.path, baudRate: this.o.baudRate, binding: this.o.binding }, this.o.openTimeoutMs);
      if (!this.running) {
        await closePort(port, this.o.closeTimeoutMs);
        throw new SerialError('E_SERIAL_STOPPED', `stopped while opening ${this.o.path}`);
      }
      this.attach(port);
    })();
    this.connecting = attempt;
    return attempt.finally(() => {
      if (this.connecting === attempt) this.connecting = null;
    });
  }

  private attach(port: SerialPort): void {
    this.port = port;
    this.reopen.reset();
    this.counts.opens++;
    port.on('data', (chunk: Buffer) => this.onData(port, chunk));
    port.on('close', (err: Error | null) => this.onLost(port, err ?? new Error('port closed')));
    port.on('error', (err: Error) => {
      this.log.warn({ err }, 'serial port error');
      if (!port.isOpen) this.onLost(port, err);
    });
    this.idle(port);
    this.log.info({ baud: this.o.baudRate, protocol: this.o.protocol, opens: this.counts.opens }, 'serial port open');
  }

  /** Stops listening to a port object that is being given up; a late error on it is ignored. */
  private detach(port: SerialPort): void {
    port.removeAllListeners('data');
    port.removeAllListeners('close');
    port.removeAllListeners('error');
    port.on('error', () => undefined);
  }

  private onData(port: SerialPort, chunk: Buffer): void {
    if (port !== this.port) return;
    this.idle(port);
    this.handle(this.parser.push(chunk));
    this.silence(this.parser.pending());
  }

  private onLost(port: SerialPort, err: Error): void {
    if (port !== this.port) return;
    this.port = null;
    this.detach(port);
    // Still open after an error or an idle timeout: release it (bounded) before reopening.
    if (port.isOpen) void closePort(port, this.o.closeTimeoutMs);
    this.silence(false);
    this.idle(null);
    this.handle(this.parser.flush());
    if (!this.running) return;
    this.log.warn({ err, retry_in_ms: this.reopen.peek() }, 'serial port lost; reopening');
    this.scheduleRetry();
  }

  private scheduleRetry(): void {
    const delay = this.reopen.next();
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      if (!this.running) return;
      this.connect().then(
        () => this.log.info({ opens: this.counts.opens }, 'serial port reopened'),
        (err: unknown) => {
          if (!this.running) return;
          this.linkWarn({ err, retry_in_ms: this.reopen.peek() }, 'serial port reopen failed');
          this.scheduleRetry();
        },
      );
    }, delay);
  }

  /** (Re)arms or clears the timer that discards a record left unfinished by a silent line. */
  private silence(arm: boolean): void {
    if (this.silenceTimer) clearTimeout(this.silenceTimer);
    this.silenceTimer = null;
    if (!arm) return;
    this.silenceTimer = setTimeout(() => {
      this.silenceTimer = null;
      this.handle(this.parser.flush());
    }, this.o.silenceMs);
  }

  /** (Re)arms the idle watchdog for `port`, or clears it (null). */
  private idle(port: SerialPort | null): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
    if (!port || this.o.idleReopenMs <= 0) return;
    this.idleTimer = setTimeout(() => this.onLost(port, new Error(`no bytes for ${this.o.idleReopenMs} ms`)), this.o.idleReopenMs);
  }

  private handle(r: ParseResult): void {
    this.counts.lines += r.lines;
    this.counts.frames += r.frames;
    for (const d of r.discards) {
      this.counts.discarded[d.reason]++;
      this.log.debug({ reason: d.reason, device: d.device, sample: d.sample }, 'serial input discarded');
    }
    if (r.discards.length) {
      const now = this.ctx.clock.mono();
      if (now - this.lastWarnAt >= WARN_EVERY_MS) {
        this.lastWarnAt = now;
        const last = r.discards.at(-1)!;
        this.log.warn({ discarded: { ...this.counts.discarded }, last: last.reason, sample: last.sample }, 'serial input discarded (more at debug level)');
      }
    }
    for (const s of r.samples) {
      // Strictly increasing stamps: the engine drops a reading no newer than the sensor's last
      // one as a duplicate, and an alarm line right behind a normal one must not be that.
      const at = Math.max(this.ctx.clock.mono(), this.lastAt + 0.001);
      this.lastAt = at;
      const reading: Reading = { sensor: s.sensor, value: s.value, at, quality: s.quality };
      this.counts.readings++;
      this.ctx.bus.emit('reading', reading);
    }
  }

  /** Failed reopens: a warning at most once a minute while the outage lasts, debug otherwise. */
  private linkWarn(fields: Record<string, unknown>, msg: string): void {
    const now = this.ctx.clock.mono();
    if (now - this.lastLinkWarnAt >= WARN_EVERY_MS) {
      this.lastLinkWarnAt = now;
      this.log.warn(fields, msg);
    } else this.log.debug(fields, msg);
  }
}
