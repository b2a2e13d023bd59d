/**
 * The physical panel (issue 17) as a box module: an Arduino with StandardFirmata on a serial
 * port, driven through johnny-five. Its buttons send the commands an officer sends (actions.ts);
 * its LEDs and buzzer follow the box's state (outputs.ts).
 *
 * Absent or unplugged hardware is not an error: `start()` never waits on it nor fails for it;
 * the module opens the board by itself, and retries with backoff (1 s doubling to 10 s) for as
 * long as the box runs. Each outage is logged once (a warning and a `panel_hw` event) and the
 * retries after it at debug; a connect, and a loss, are one line and one event each.
 */
import type { Logger } from 'pino';
import type { PanelHwConfig } from '../../gateway/config/types.ts';
import { maxLevel, type Level } from '../../gateway/engine/types.ts';
import type { EngineRunner } from '../../gateway/shell/engine-runner.ts';
import type { UplinkState } from '../../gateway/shell/bus.ts';
import type { BoxContext, Module } from '../../gateway/shell/module.ts';
import { record, type EventSink } from '../../gateway/shell/record.ts';
import { backoff, withDeadline, type Backoff, type BackoffPolicy } from '../../gateway/shell/timing.ts';
import { evacuationCommand, PANEL_HW_BY, sendCommand } from './actions.ts';
import { readyBoard, releaseBoard, serialFirmata, type Board, type BoardLink, type OpenBoard } from './board.ts';
import { createControls, input, nextDue, resetControls, tick, type Control, type ControlAction, type Controls } from './controls.ts';
import { allOff, pinOutputs, type PanelView, type PinOutput } from './outputs.ts';

export interface PanelHwDeps {
  ctx: BoxContext;
  sink: EventSink;
  engine: Pick<EngineRunner, 'active' | 'read'>;
  /** The township link's state; null when the site has no uplink. */
  uplink(): UplinkState | null;
}

export interface PanelHwOptions {
  /** How the board is reached (tests: mock-firmata). Default: StandardFirmata on the config's port. */
  open?: OpenBoard;
  retry?: BackoffPolicy;
  /** From the port's open to Firmata's ready (handshake and capability report). Default 10 s. */
  readyTimeoutMs?: number;
  /** Half a blink period. Default 500 ms. */
  blinkMs?: number;
  /**
   * How often the board is asked for its version, and how long its answer may take (defaults
   * 5 s and 3 s): a board that hangs or loses power behind a USB adapter that stays plugged
   * closes no port, and its buttons would be dead while the box believed them there.
   */
  heartbeatMs?: number;
  heartbeatTimeoutMs?: number;
}

export interface PanelHwState {
  connected: boolean;
  port: string;
  /** Successful connects so far. */
  connects: number;
  /** Failed opens and handshakes so far. */
  failures: number;
}

const INPUTS: readonly [Control, keyof PanelHwConfig['pins']][] = [
  ['emergency', 'emergency'],
  ['silence', 'silence'],
  ['ack_all', 'ackAll'],
  ['drill_key', 'drillKey'],
];
const ALARM_PINS = ['ledAlarmRed', 'ledAlarmGreen', 'ledAlarmBlue'] as const;
const OUTPUT_PINS = ['ledPower', 'ledUplink', 'ledFault', 'ledDrill', 'buzzer', ...ALARM_PINS] as const;

export class PanelHw implements Module {
  readonly name = 'panel_hw';
  private readonly log: Logger;
  private readonly open: OpenBoard;
  private readonly retry: Backoff;
  private readonly readyTimeoutMs: number;
  private readonly blinkMs: number;
  private readonly heartbeatMs: number;
  private readonly heartbeatTimeoutMs: number;
  private readonly controls: Controls;
  private running = false;
  private attempt: Promise<void> | null = null;
  /** A link opened by the attempt in flight, not yet ready: stop() closes it. */
  private opening: BoardLink | null = null;
  private link: BoardLink | null = null;
  private board: Board | null = null;
  private offs: (() => void)[] = [];
  private retryTimer: NodeJS.Timeout | null = null;
  private dueTimer: NodeJS.Timeout | null = null;
  private blinkTimer: NodeJS.Timeout | null = null;
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private refreshQueued = false;
  private phase = true;
  /** Input pin → control, for the pins this board can read. */
  private inputs = new Map<number, Control>();
  /** Output pins this board can drive, and the PWM ones among them. */
  private outputs = new Set<number>();
  private pwmPins = new Set<number>();
  /** What each output pin was last set to on this connection. */
  private written = new Map<number, number>();
  /** The current outage has been logged (a warning and an event); the retries after it go to debug. */
  private outageLogged = false;
  private writeFailed = false;
  private connects = 0;
  private failures = 0;
  private readonly changeListeners: (() => void)[] = [];

  constructor(
    private readonly deps: PanelHwDeps,
    private readonly cfg: PanelHwConfig,
    o: PanelHwOptions = {},
  ) {
    this.log = deps.ctx.log.child({ module: 'panel_hw', port: cfg.port });
    this.open = o.open ?? serialFirmata({ path: cfg.port, baudRate: cfg.baud });
    this.retry = backoff(o.retry ?? { firstMs: 1000, maxMs: 10_000 });
    this.readyTimeoutMs = o.readyTimeoutMs ?? 10_000;
    this.blinkMs = o.blinkMs ?? 500;
    this.heartbeatMs = o.heartbeatMs ?? 5000;
    this.heartbeatTimeoutMs = o.heartbeatTimeoutMs ?? 3000;
    const wired = INPUTS.filter(([, key]) => cfg.pins[key] !== null).map(([c]) => c);
    this.controls = createControls(wired, cfg.holdS * 1000, cfg.debounceMs);
  }

  /** Never waits on the hardware: the board is opened in the background, and retried. */
  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    const { bus } = this.deps.ctx;
    this.offs.push(
      bus.on('effect', (e) => {
        if (e.type === 'indicator') this.refreshSoon();
      }),
      bus.on('transition', () => this.refreshSoon()),
      bus.on('status', () => this.refreshSoon()),
    );
    this.connect();
  }

  /** Every output off (the power LED too), the board let go; bounded whatever the port does. */
  async stop(): Promise<void> {
    this.running = false;
    for (const off of this.offs) off();
    this.offs = [];
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    const link = this.link;
    if (this.board) this.write(allOff(this.cfg.pins, this.outputOptions()));
    this.detach();
    const closing = [link?.close(), this.opening?.close(), this.attempt].map((p) => p?.catch(() => undefined));
    await withDeadline(Promise.all(closing), 3000, () => undefined);
  }

  /**
   * `panel_hw_disconnected` while the configured panel is not connected: once the first attempt
   * failed, or since it was lost; not in the moment between the box's start and the first answer.
   */
  problems(): string[] {
    return this.running && this.board === null && this.outageLogged ? ['panel_hw_disconnected'] : [];
  }

  /** Told when `problems()` may have changed. */
  onChange(fn: () => void): void {
    this.changeListeners.push(fn);
  }

  state(): PanelHwState {
    return { connected: this.board !== null, port: this.cfg.port, connects: this.connects, failures: this.failures };
  }

  private connect(): void {
    if (!this.running || this.attempt) return;
    this.attempt = (async () => {
      let link: BoardLink | null = null;
      try {
        link = await this.open();
        this.opening = link;
        if (!this.running) throw new Error('stopped');
        const board = await readyBoard(link, this.readyTimeoutMs);
        if (!this.running) {
          releaseBoard(board);
          throw new Error('stopped');
        }
        this.opening = null;
        this.attach(link, board);
      } catch (err) {
        this.opening = null;
        await link?.close().catch(() => undefined);
        this.failed(err as Error);
      }
    })().finally(() => {
      this.attempt = null;
    });
  }

  private failed(err: Error): void {
    if (!this.running) return;
    this.failures++;
    const retryInMs = this.retry.next();
    if (!this.outageLogged) {
      this.outageLogged = true;
      this.log.warn({ err, retry_in_ms: retryInMs }, 'physical panel not connected (absent, unplugged, or no StandardFirmata on it); the box runs without it and keeps trying');
      this.event({ action: 'absent', port: this.cfg.port, error: err.message });
    } else {
      this.log.debug({ err: err.message, retry_in_ms: retryInMs, failures: this.failures }, 'physical panel still not connected');
    }
    this.retryLater(retryInMs);
  }

  private retryLater(ms: number): void {
    if (!this.running) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.connect();
    }, ms);
    this.retryTimer.unref();
  }

  /** Sets the pins up on a ready board, and starts reading and showing. */
  private attach(link: BoardLink, board: Board): void {
    const io = link.io;
    const supports = (pin: number, mode: number | undefined): boolean => mode !== undefined && (io.pins[pin]?.supportedModes.includes(mode) ?? false);
    const unusable: string[] = [];
    this.inputs = new Map();
    this.outputs = new Set();
    this.pwmPins = new Set();
    this.written = new Map();
    resetControls(this.controls);
    for (const [control, key] of INPUTS) {
      const pin = this.cfg.pins[key];
      if (pin === null) continue;
      // Buttons and the key switch close to ground; the pull-up holds an open (or cut) wire at
      // "not pressed". PULLUP mode where the firmware has it, else the older way StandardFirmata
      // still honours: a high write to an input pin.
      if (supports(pin, io.MODES.PULLUP)) board.pinMode(pin, io.MODES.PULLUP!);
      else if (supports(pin, io.MODES.INPUT)) board.pinMode(pin, io.MODES.INPUT).digitalWrite(pin, io.HIGH);
      else {
        unusable.push(`${key} (pin ${pin}: no digital input)`);
        continue;
      }
      this.inputs.set(pin, control);
    }
    for (const key of OUTPUT_PINS) {
      const pin = this.cfg.pins[key];
      if (pin === null) continue;
      if ((ALARM_PINS as readonly string[]).includes(key) && supports(pin, io.MODES.PWM)) {
        board.pinMode(pin, io.MODES.PWM);
        this.pwmPins.add(pin);
      } else if (supports(pin, io.MODES.OUTPUT)) {
        if ((ALARM_PINS as readonly string[]).includes(key)) unusable.push(`${key} (pin ${pin}: no PWM, orange shows as red)`);
        board.pinMode(pin, io.MODES.OUTPUT);
      } else {
        unusable.push(`${key} (pin ${pin}: no digital output)`);
        continue;
      }
      this.outputs.add(pin);
    }
    // Reading starts once every input is an input: turning a port's reporting on makes the
    // firmware report the whole port at once, and an input whose mode came later would be in
    // that report as low — pressed.
    for (const [pin, control] of this.inputs) board.digitalRead(pin, (v) => this.level(control, v === 0));
    board.on('close', () => this.lost('the port closed'));
    board.on('disconnect', () => this.lost('the board disconnected'));
    board.on('error', (e: unknown) => {
      const err = e instanceof Error ? e : null;
      if (err && link.isOpen && !link.isOpen()) this.lost(err.message);
      else if (err) this.log.warn({ err }, 'physical panel error');
    });
    this.link = link;
    this.board = board;
    this.retry.reset();
    this.outageLogged = false;
    this.writeFailed = false;
    this.connects++;
    const firmware = io.firmware?.name ? `${io.firmware.name} ${io.firmware.version?.major ?? '?'}.${io.firmware.version?.minor ?? '?'}` : null;
    this.log.info({ firmware, connects: this.connects, unusable }, 'physical panel connected');
    if (unusable.length) this.log.error({ unusable }, 'physical panel: some configured pins cannot do their job on this board (see panel_hw.pins)');
    this.event({ action: 'connected', port: this.cfg.port, firmware, ...(unusable.length ? { unusable } : {}) });
    this.phase = true;
    this.blinkTimer = setInterval(() => {
      this.phase = !this.phase;
      this.refresh();
    }, this.blinkMs);
    this.heartbeat(link);
    this.refresh();
  }

  /** Asks the board for its version every `heartbeatMs`; no answer within `heartbeatTimeoutMs` is a lost board. */
  private heartbeat(link: BoardLink): void {
    const ask = link.io.reportVersion?.bind(link.io);
    if (!ask) return;
    const beat = (): void => {
      if (this.link !== link) return;
      let answered = false;
      const timeout = setTimeout(() => {
        // Timers run before the loop reads its sockets: after a stall an answer may be waiting
        // there. The verdict waits one turn (setImmediate comes after the I/O callbacks).
        setImmediate(() => {
          if (!answered && this.link === link) this.lost(`no answer from the board for ${this.heartbeatTimeoutMs} ms (hung, or without power)`);
        });
      }, this.heartbeatTimeoutMs);
      ask(() => {
        answered = true;
        clearTimeout(timeout);
        if (this.link === link) this.heartbeatTimer = setTimeout(beat, this.heartbeatMs);
      });
      this.heartbeatTimer = timeout;
    };
    this.heartbeatTimer = setTimeout(beat, this.heartbeatMs);
  }

  /** The board is gone (unplugged, its port closed): logged once, let go, retried. */
  private lost(reason: string): void {
    if (!this.board) return;
    const link = this.link;
    const held = this.controls.inputs.get('emergency')?.downAt != null;
    this.detach();
    this.log.warn({ reason, emergency_hold_abandoned: held || undefined }, 'physical panel lost (unplugged?); the box runs without it and keeps trying');
    this.event({ action: 'lost', port: this.cfg.port, reason, ...(held ? { emergency_hold_abandoned: true } : {}) });
    this.outageLogged = true;
    void link?.close().catch(() => undefined);
    this.retryLater(this.retry.next());
  }

  private detach(): void {
    if (this.dueTimer) clearTimeout(this.dueTimer);
    if (this.blinkTimer) clearInterval(this.blinkTimer);
    if (this.heartbeatTimer) clearTimeout(this.heartbeatTimer);
    this.dueTimer = null;
    this.blinkTimer = null;
    this.heartbeatTimer = null;
    resetControls(this.controls);
    if (this.board) releaseBoard(this.board);
    this.board = null;
    this.link = null;
  }

  /** One input's level as Firmata reported it (pulled up: low = pressed). */
  private level(control: Control, pressed: boolean): void {
    if (!this.board) return;
    this.act(input(this.controls, control, pressed, this.deps.ctx.clock.mono()));
    this.scheduleDue();
  }

  private scheduleDue(): void {
    if (this.dueTimer) clearTimeout(this.dueTimer);
    this.dueTimer = null;
    const due = nextDue(this.controls);
    if (due === null || !this.board) return;
    this.dueTimer = setTimeout(() => {
      this.dueTimer = null;
      // Timers run before the loop reads its sockets: after a stall a release may be waiting
      // there, and must be seen before a hold is judged (controls.ts tick). setImmediate comes after I/O.
      setImmediate(() => {
        if (!this.board) return;
        this.act(tick(this.controls, this.deps.ctx.clock.mono()));
        this.scheduleDue();
      });
    }, Math.max(0, Math.ceil(due - this.deps.ctx.clock.mono())));
  }

  private act(actions: ControlAction[]): void {
    for (const a of actions) {
      try {
        this.actOne(a);
      } catch (err) {
        this.log.error({ err, action: a.action }, 'physical panel action failed');
      }
    }
  }

  private actOne(a: ControlAction): void {
    const { config } = this.deps.ctx;
    switch (a.action) {
      case 'baseline':
        return this.baseline(a.control, a.pressed);
      case 'emergency_down':
        this.log.warn({ hold_s: this.cfg.holdS }, `emergency button pressed: held ${this.cfg.holdS} s, it broadcasts the evacuation message`);
        return this.event({ action: 'emergency_down', by: PANEL_HW_BY, hold_s: this.cfg.holdS });
      case 'emergency_short':
        this.log.info({ held_ms: Math.round(a.heldMs), hold_s: this.cfg.holdS }, 'emergency button released before the hold time: nothing broadcast');
        return this.event({ action: 'emergency_short', by: PANEL_HW_BY, held_ms: Math.round(a.heldMs), hold_s: this.cfg.holdS });
      case 'emergency':
        return this.send('emergency', evacuationCommand(config), { held_ms: Math.round(a.heldMs) });
      case 'silence':
        return this.send('silence', { type: 'silence' });
      case 'ack_all':
        return this.ackAll();
      case 'drill_on': {
        const drill = this.deps.engine.read((core) => core.planner.drill);
        if (drill) {
          this.log.info({ drill_by: drill.by }, 'drill key turned on while a drill already runs: left as it is');
          return this.event({ action: 'drill_on', by: PANEL_HW_BY, result: { ok: true, note: `a drill by ${drill.by} already runs` } });
        }
        return this.send('drill_on', { type: 'drill' });
      }
      case 'drill_off':
        return this.send('drill_off', { type: 'drill_end' });
    }
  }

  /** Where a control stands at connect does nothing; a button down or a key at odds with the box is said. */
  private baseline(control: Control, pressed: boolean): void {
    if (control === 'drill_key') {
      const drill = this.deps.engine.read((core) => core.planner.drill) ?? null;
      if (pressed && !drill) {
        this.log.warn('drill key is at DRILL but no drill runs: nothing started; turn it to NORMAL and back to start one');
        this.event({ action: 'drill_key_at_connect', by: PANEL_HW_BY, key: 'drill', drill: false });
      } else if (!pressed && drill) {
        this.log.info({ drill_by: drill.by }, 'drill key is at NORMAL while a drill runs (started elsewhere): left as it is');
      }
      return;
    }
    if (pressed) {
      this.log.warn({ control }, 'a panel button reads pressed at connect (stuck, held, or its wire shorted): it does nothing until released');
      this.event({ action: 'stuck_at_connect', by: PANEL_HW_BY, control });
    }
  }

  private ackAll(): void {
    const pending = this.deps.engine.active().filter((a) => a.acknowledgedBy === null);
    if (pending.length === 0) {
      this.log.info('acknowledge-all pressed: no alert waits for acknowledgement');
      this.event({ action: 'ack_all', by: PANEL_HW_BY, alerts: 0 });
      return;
    }
    for (const a of pending) this.send('ack_all', { type: 'ack', alert: a.alert });
  }

  /** A command as an officer's; its record is the engine's `command` event (with by and via). */
  private send(action: string, body: Record<string, unknown>, extra: Record<string, unknown> = {}): void {
    const sent = sendCommand(this.deps.ctx.bus, this.deps.ctx.config, body);
    if (!sent.ok) {
      // Never reached the engine, so nothing else has it on record.
      this.log.error({ action, command: body.type, error: sent.error }, 'physical panel command refused by the validator');
      this.event({ action, by: PANEL_HW_BY, command: body.type, result: { ok: false, error: sent.error } });
      return;
    }
    const r = sent.result;
    const line = { action, command: body.type, ...extra, command_id: r?.commandId ?? null, ok: r?.ok ?? null, error: r?.error };
    if (!r) this.log.error(line, 'physical panel command: the engine did not answer (is it running?)');
    else if (!r.ok) this.log.warn(line, 'physical panel command not carried out');
    else (action === 'emergency' ? this.log.warn : this.log.info).call(this.log, line, `physical panel: ${action}`);
  }

  private event(payload: Record<string, unknown>): void {
    record(this.deps.ctx, this.deps.sink, 'panel_hw', { ...payload, via: 'panel_hw' });
    // Connected, absent and lost are the changes of problems(): the box republishes its status.
    for (const fn of this.changeListeners) fn();
  }

  private view(): PanelView {
    const { engine } = this.deps;
    let level: Level | null = null;
    for (const a of engine.active()) if (a.kind !== 'fault') level = maxLevel(level, a.level as Level);
    const indicators = engine.read((core) => ({ ...core.planner.indicators })) ?? { alarm: 'off', fault: 'off', drill: 'off', buzzer: 'off' };
    const up = this.deps.uplink();
    return { running: this.running, uplink: up === null ? 'none' : up.online ? 'online' : 'offline', level, indicators };
  }

  private outputOptions(): { pwmPins: ReadonlySet<number>; commonAnode: boolean } {
    return { pwmPins: this.pwmPins, commonAnode: this.cfg.alarmCommonAnode };
  }

  /** Once per turn, however many effects and transitions came in it. */
  private refreshSoon(): void {
    if (this.refreshQueued || !this.board) return;
    this.refreshQueued = true;
    setImmediate(() => {
      this.refreshQueued = false;
      this.refresh();
    });
  }

  private refresh(): void {
    if (!this.board) return;
    try {
      this.write(pinOutputs(this.cfg.pins, this.view(), this.phase, this.outputOptions()));
    } catch (err) {
      this.log.error({ err }, 'physical panel outputs could not be worked out');
    }
  }

  /** Writes the outputs whose value changed on this connection. */
  private write(outs: PinOutput[]): void {
    const board = this.board;
    if (!board) return;
    for (const o of outs) {
      if (!this.outputs.has(o.pin) || this.written.get(o.pin) === o.value) continue;
      try {
        if (o.mode === 'pwm') board.analogWrite(o.pin, o.value);
        else board.digitalWrite(o.pin, o.value);
        this.written.set(o.pin, o.value);
      } catch (err) {
        if (!this.writeFailed) this.log.error({ err, pin: o.pin }, 'physical panel output write failed');
        this.writeFailed = true;
      }
    }
  }
}
