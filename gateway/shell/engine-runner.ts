/**
 * Runs the pure core inside the box: readings and commands from the bus in, a 1 s tick from
 * the monotonic clock; every transition, effect, command, observation and note is logged
 * before anyone acts on it (DESIGN.md), then emitted on the bus.
 */
import type { Logger } from 'pino';
import { createCore, step, type Core, type CoreInput, type CoreOutput } from '../core.ts';
import { activeAlerts } from '../engine/evaluate.ts';
import { windDown } from '../planner/plan.ts';
import type { BoxCommand, CommandMeta } from './bus.ts';
import type { BoxContext, Module } from './module.ts';
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

  constructor(private readonly ctx: BoxContext, private readonly sink: EventSink, private readonly tickMs = 1000) {
    this.log = ctx.log.child({ module: 'engine' });
  }

  async start(): Promise<void> {
    const { bus, clock } = this.ctx;
    this.base = Math.round(clock.wall() - clock.mono());
    this.core = createCore(this.ctx.config, this.now());
    this.offs.push(
      bus.on('reading', (r) => {
        this.sink.addReading({ sensor: r.sensor, value: r.value, quality: r.quality, atWall: clock.wall() });
        this.run({ type: 'reading', reading: { ...r, at: this.base + r.at } });
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

  private run(input: CoreInput): void {
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
    // Everything this step produced becomes durable in one commit, before any of it is acted on;
    // then effects go out first (the siren must not wait for the alert to be published).
    const events = [
      ...out.observations.map((o) => ({ type: 'observation' as const, payload: o })),
      ...out.notes.map((n) => ({ type: 'note' as const, payload: n })),
      ...out.transitions.map((t) => ({ type: t.kind === 'fault' ? ('fault' as const) : ('transition' as const), payload: t })),
      ...out.effects.map((e) => ({ type: 'effect' as const, payload: e })),
    ];
    recordAll(this.ctx, this.sink, events, () => {
      for (const e of out.effects) this.ctx.bus.emit('effect', e);
      for (const t of out.transitions) {
        this.log.warn({ alert: t.alert, transition: t.transition, level: t.level, rule: t.rule, values: t.values, text_en: t.textEn }, t.textZh);
        this.ctx.bus.emit('transition', t);
      }
    });
  }
}
