/**
 * Runs the pure core inside the box: readings and commands from the bus in, a 1 s tick from
 * the monotonic clock; every transition, effect, command, observation and note is logged
 * before anyone acts on it (DESIGN.md), then emitted on the bus.
 */
import type { Logger } from 'pino';
import { createCore, step, type Core, type CoreInput, type CoreOutput } from '../core.ts';
import { NO_EVIDENCE } from '../engine/alert-slot.ts';
import { activeAlerts, evaluate } from '../engine/evaluate.ts';
import { windDown } from '../planner/plan.ts';
import type { BoxCommand, CommandMeta } from './bus.ts';
import type { BoxContext, Module } from './module.ts';
import { afterCommands } from './after-commands.ts';
import { record, recordAll, type EventSink } from './record.ts';

export class EngineRunner implements Module {
  readonly name = 'engine';
  private core: Core | null = null;
  private timer: NodeJS.Timeout | null = null;
  private offs: (() => void)[] = [];
  private readonly log: Logger;
  /**
   * The engine's clock: the monotonic clock (never jumps) offset by the wall time at start.
   * Windows only use differences; the offset makes alert ids (`<key>/<raise time>`) unique
   * across restarts instead of restarting at 0 with every boot.
   */
  private base = 0;

  constructor(
    private readonly ctx: BoxContext,
    private readonly sink: EventSink,
    private readonly tickMs = 1000,
    /** The log's recent readings, to rebuild rain windows after a restart (see `restore`). */
    private readonly history?: (sensors: string[], sinceWall: number) => Iterable<{ sensor: string; atWall: number; value: number }>,
  ) {
    this.log = ctx.log.child({ module: 'engine' });
  }

  async start(): Promise<void> {
    const { bus, clock } = this.ctx;
    this.base = Math.round(clock.wall() - clock.mono());
    this.core = createCore(this.ctx.config, this.now());
    this.restore();
    this.offs.push(
      bus.on('reading', (r) => {
        const since = performance.now();
        this.sink.addReading({ sensor: r.sensor, value: r.value, quality: r.quality, atWall: clock.wall() });
        this.run({ type: 'reading', reading: { ...r, at: this.base + r.at } }, since);
      }),
      bus.on('command', (c, meta) => this.command(c, meta)),
    );
    this.timer = setInterval(() => this.run({ type: 'tick' }), this.tickMs);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    for (const off of this.offs) off();
    this.offs = [];
  }

  /** SIGTERM: stop sirens and speech unless an alarm holds them; logged and emitted like any effect. */
  windDown(): void {
    if (!this.core) return;
    const effects = windDown(this.core.planner, this.now());
    recordAll(this.ctx, this.sink, effects.map((e) => ({ type: 'effect' as const, payload: e })), () => {
      for (const e of effects) this.ctx.bus.emit('effect', e);
    });
  }

  /**
   * A restart mid-storm must not forget the rain that already fell: the last 24 h of rain
   * readings from the log are fed through the engine silently, then every alert slot is reset,
   * so the next reading raises whatever level the restored sums support (and the planner sounds
   * it again, since the box was down). Water level and smoke need only fresh readings.
   */
  private restore(): void {
    if (!this.history || !this.core) return;
    const rain = this.ctx.config.sensors.filter((s) => s.kind === 'rain').map((s) => s.id);
    if (rain.length === 0) return;
    const engine = this.core.engine;
    const t0 = performance.now();
    let readings = 0;
    try {
      // Streamed: a day of 1,000 gauges is 1.44 M rows (see EventStore.history).
      for (const r of this.history(rain, this.ctx.clock.wall() - 24 * 3600_000)) {
        evaluate(engine, { type: 'reading', reading: { sensor: r.sensor, value: r.value, at: r.atWall, quality: 'good' } }, r.atWall);
        readings++;
      }
    } catch (err) {
      // What was read so far stays: rain already counted is better than none.
      this.log.error({ err, readings }, 'rain history could not be read to the end; rain windows hold what was read');
    }
    for (const slot of engine.slots) Object.assign(slot, { active: null, upSince: null, downSince: null, last: NO_EVIDENCE });
    this.log.info({ readings, sensors: rain.length, ms: Math.round(performance.now() - t0) }, 'rain windows restored from the log');
  }

  private now(): number {
    return this.base + this.ctx.clock.mono();
  }

  /** Active alerts, for the status topic and the panel. */
  active(): ReturnType<typeof activeAlerts> {
    return this.core ? activeAlerts(this.core.engine) : [];
  }

  private command(c: BoxCommand, meta: CommandMeta): void {
    // The command is on record, with who sent it, before it can cause anything.
    record(this.ctx, this.sink, 'command', { command: c, by: meta.by, role: meta.role, via: meta.via });
    if (c.type === 'ack') this.run({ type: 'ack', alert: c.alert, by: meta.by });
    else this.run({ type: 'command', command: c });
  }

  private run(input: CoreInput, since = performance.now()): void {
    if (!this.core) return;
    let out: CoreOutput;
    try {
      out = step(this.core, input, this.now());
    } catch (err) {
      // A bug in one rule must not silence the box: log it and keep going with the next input.
      this.log.error({ err, input: input.type }, 'engine step failed');
      return;
    }
    if (!out.transitions.length && !out.effects.length && !out.observations.length && !out.notes.length) return;
    // Everything this step produced is written in one commit before any of it is acted on (its
    // fsync follows off the main thread); then effects go out first (the siren must not wait
    // for the alert to be published, nor for the disk).
    const events = [
      ...out.observations.map((o) => ({ type: 'observation' as const, payload: o })),
      ...out.notes.map((n) => ({ type: 'note' as const, payload: n })),
      ...out.transitions.map((t) => ({ type: t.kind === 'fault' ? ('fault' as const) : ('transition' as const), payload: t })),
      ...out.effects.map((e) => ({ type: 'effect' as const, payload: e })),
    ];
    recordAll(this.ctx, this.sink, events, () => {
      for (const e of out.effects) this.ctx.bus.emit('effect', e, { since });
      for (const t of out.transitions) this.ctx.bus.emit('transition', t);
      // The log line (0.1 ms, measured) waits until the siren command has been written.
      afterCommands(() => {
        // `alert_level`: pino's own `level` (the line's severity) is in the same object, and a JSON
        // object with two `level` keys keeps only one of them in jq and JSON.parse.
        for (const t of out.transitions) this.log.warn({ alert: t.alert, transition: t.transition, alert_level: t.level, rule: t.rule, values: t.values, text_en: t.textEn }, t.textZh);
      });
    });
  }
}
