/**
 * Runs the pure core inside the box: readings and commands from the bus in, a 1 s tick from
 * the monotonic clock; every transition, effect, command, observation and note is logged
 * before anyone acts on it (DESIGN.md), then emitted on the bus. Readings pass a per-sensor rate
 * cap first (reading-cap.ts): what one device may cost is bounded, and an alarm is never capped.
 */
import type { Logger } from 'pino';
import { createCore, step, type Core, type CoreInput, type CoreOutput } from '../core.ts';
import { pristineOf, SNAPSHOT_VERSION, takeSnapshot, type Pristine } from '../core-snapshot.ts';
import { currentState } from '../engine/alert-slot.ts';
import { activeAlerts } from '../engine/evaluate.ts';
import type { AlertTransition, Reading } from '../engine/types.ts';
import { plan, windDown } from '../planner/plan.ts';
import { resumeAfterRestart } from '../planner/resume.ts';
import type { StoreHealth } from '../store/types.ts';
import { wallTime } from '../wire.ts';
import type { BoxCommand, CommandMeta } from './bus.ts';
import type { BoxContext, Module } from './module.ts';
import { afterCommands } from './after-commands.ts';
import { ReadingCap, READINGS_PER_S } from './reading-cap.ts';
import { record, recordAll, type EventSink, type EventTypeName } from './record.ts';
import { restoreCore, type RestoreSource } from './restore.ts';
import { clockOnWire, statusReport } from './status-report.ts';

/** What a `report` says of the box beyond the core: its problems and the store's health (box.ts). */
export interface ReportSource {
  problems(): string[];
  store(): StoreHealth | null;
}

type LogEvent = { type: EventTypeName; payload: unknown };

export class EngineRunner implements Module {
  readonly name = 'engine';
  private core: Core | null = null;
  /** The core as the config starts it: a snapshot is the difference from it (core-snapshot.ts). */
  private pristine: Pristine | null = null;
  /** Restored from the log: `resume()` has the outside to bring in line, and these transitions to act on. */
  private restored: AlertTransition[] | null = null;
  private snapshotFailed = false;
  /** A snapshot is to be taken once this turn's siren commands are out (snapshotSoon). */
  private snapshotDue = false;
  private timer: NodeJS.Timeout | null = null;
  /** Monotonic ms of the last tick whose step completed (the start, before the first); null when stopped. */
  private tickedAt: number | null = null;
  private offs: (() => void)[] = [];
  private readonly log: Logger;
  /** What one device may cost (reading-cap.ts): readings over its rate are counted, not stored or judged. */
  private readonly cap: ReadingCap;
  /**
   * The engine's clock: the monotonic clock (never jumps) offset by the wall time at start.
   * Windows only use differences; the offset makes alert ids (`<key>/<raise time>`) unique
   * across restarts instead of restarting at 0 with every boot. After a restart it continues
   * the previous run's clock (restore.ts), so the restored alerts' times stay meaningful.
   */
  private base = 0;

  constructor(
    private readonly ctx: BoxContext,
    private readonly sink: EventSink,
    private readonly tickMs = 1000,
    /** The log's snapshot and readings, to rebuild the core after a restart (restore.ts). */
    private readonly source?: RestoreSource,
    private readonly reportSource?: ReportSource,
  ) {
    this.log = ctx.log.child({ module: 'engine' });
    this.cap = new ReadingCap(new Map(ctx.config.sensors.map((s) => [s.id, s])));
  }

  async start(): Promise<void> {
    const { bus, clock, config } = this.ctx;
    const wall = clock.wall();
    this.base = Math.round(wall - clock.mono());
    this.core = createCore(config, this.now());
    this.pristine = pristineOf(createCore(config, this.now()));
    if (this.source) {
      const t0 = performance.now();
      const r = restoreCore(this.core, this.pristine, config, this.source, this.log, wall);
      this.base = Math.round(wall - clock.mono() + r.offset);
      this.restored = r.transitions;
      const alerts = activeAlerts(this.core.engine);
      this.log.info(
        { readings: r.readings, sensors: config.sensors.length, ms: Math.round(performance.now() - t0), snapshot: r.snapshot !== null, alerts: alerts.length, drill: this.core.planner.drill !== null, decided: r.transitions.length },
        'engine state restored from the log',
      );
    }
    this.offs.push(
      bus.on('reading', (r) => {
        const since = performance.now();
        const atWall = clock.wall();
        if (this.cap.admit(r, atWall, clock.mono())) this.take(r, atWall, since);
      }),
      bus.on('command', (c, meta) => this.command(c, meta)),
    );
    this.tickedAt = clock.mono();
    this.timer = setInterval(() => this.tick(), this.tickMs);
  }

  /**
   * The monotonic ms of the last tick whose step completed (the start's, before the first);
   * null when the engine is not running. A tick that throws does not count: an engine that
   * fails every tick no longer times its windows, and the systemd watchdog (watchdog.ts) sees it.
   */
  lastTickAt(): number | null {
    return this.tickedAt;
  }

  /** A reading the cap let through: stored, then judged. `r.at` is on the monotonic clock. */
  private take(r: Reading, atWall: number, since = performance.now()): void {
    this.sink.addReading({ sensor: r.sensor, value: r.value, quality: r.quality, atWall });
    this.run({ type: 'reading', reading: { ...r, at: this.base + r.at } }, since);
  }

  private tick(): void {
    // The newest reading of each capped flood first, so the tick judges what the sensor says now.
    const { release, reports } = this.cap.tick(this.ctx.clock.mono());
    for (const h of release) this.take(h.reading, h.atWall);
    for (const c of reports) this.log.warn({ sensor: c.sensor, dropped: c.dropped, interval_s: c.intervalS, cap_per_s: READINGS_PER_S }, 'readings over the per-sensor rate cap were dropped (counted, not stored or judged)');
    if (this.run({ type: 'tick' }).ok) this.tickedAt = this.ctx.clock.mono();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.tickedAt = null;
    for (const off of this.offs) off();
    this.offs = [];
    this.saveDueSnapshot(); // the store stops after the engine: a snapshot still due is written now
  }

  /**
   * After a restart, once the actuators listen (box.ts calls it after every
   * module started): sirens of alarms still within their pattern start again, lit indicators are
   * lit again (planner/resume.ts), and what the readings since the snapshot decided is acted on.
   * Returns the active alerts' current states, for the publisher.
   */
  resume(): AlertTransition[] {
    if (!this.core || !this.restored) return [];
    const since = performance.now();
    const now = this.now();
    const { engine, planner } = this.core;
    // The readings since the snapshot may have cleared an alert: no siren for it, but its memo stays for the clear.
    const active = new Set(activeAlerts(engine).map((a) => a.alert));
    const keep = new Set([...active, ...this.restored.map((t) => t.alert)]);
    const out: CoreOutput = { transitions: this.restored, observations: [], effects: resumeAfterRestart(planner, active, now, keep), notes: [], thresholds: [], escalations: [] };
    this.restored = null;
    for (const t of out.transitions) {
      const p = plan(planner, { type: 'transition', transition: t }, now);
      out.effects.push(...p.effects);
      out.notes.push(...p.notes);
    }
    this.emit(out, [], since);
    // What the retained alert topics must say again (the broker kept them in memory only).
    return engine.slots.map((s) => currentState(s, now)).filter((t): t is AlertTransition => t !== null);
  }

  /** SIGTERM: stop sirens and speech unless an alarm holds them; logged and emitted like any effect. */
  windDown(): void {
    if (!this.core) return;
    const effects = windDown(this.core.planner, this.now());
    recordAll(this.ctx, this.sink, effects.map((e) => ({ type: 'effect' as const, payload: e })), () => {
      for (const e of effects) this.ctx.bus.emit('effect', e);
    }, effects.length ? this.snapshot() : null);
  }

  private now(): number {
    return this.base + this.ctx.clock.mono();
  }

  /** An active alert's response clock on the wire, null if it has none (not active, or unknown). */
  responseClock(alert: string): Record<string, string | null> | null {
    return clockOnWire(this.core?.planner.alerts.get(alert)?.clock ?? null, (t) => this.wall(t));
  }

  /** An active alert's current state, null if no alert of that id is active. */
  alertState(alert: string): AlertTransition | null {
    const slot = this.core?.engine.slots.find((s) => s.active?.id === alert);
    return slot ? currentState(slot, this.now()) : null;
  }

  /**
   * The box's state now, as a `report` says it (status-report.ts) but not logged: for the panel.
   * Null while the engine is not running.
   */
  statusNow(by: string): Record<string, unknown> | null {
    if (!this.core) return null;
    return statusReport(this.core, this.now(), (t) => this.wall(t), by, this.reportSource?.problems() ?? [], this.reportSource?.store() ?? null);
  }

  /**
   * Reads the core (the panel's view of channels and indicators): `fn` must not change it, nor
   * keep it. Null while the engine is not running.
   */
  read<T>(fn: (core: Readonly<Core>, now: number, wall: (engineMs: number) => string) => T): T | null {
    return this.core ? fn(this.core, this.now(), (t) => this.wall(t)) : null;
  }

  /** Active alerts, for the status topic and the panel. */
  active(): ReturnType<typeof activeAlerts> {
    return this.core ? activeAlerts(this.core.engine) : [];
  }

  /** An engine time as a wall time with the site's offset (the engine clock runs at the wall clock's offset at start). */
  private wall(engineMs: number): string {
    return wallTime(engineMs - this.now() + this.ctx.clock.wall(), this.ctx.config.site.utcOffset);
  }

  /**
   * Every command ends in exactly one `commandResult` (issue 16): ok when carried out, else the
   * reason in words. The command is on record with who sent it before it can cause anything
   * (in the commit of what it causes, or alone if the step fails), and the record says what
   * became of it (`result`).
   */
  private command(c: BoxCommand, meta: CommandMeta): void {
    const { commandId, ...cmd } = c;
    const payload: Record<string, unknown> = { command: cmd, by: meta.by, role: meta.role, via: meta.via, ...(commandId === undefined ? {} : { commandId }) };
    const logged: LogEvent = { type: 'command', payload };
    let r: { ok: boolean; error?: string };
    switch (cmd.type) {
      case 'ack':
        r = this.run({ type: 'ack', alert: cmd.alert, by: meta.by }, performance.now(), logged);
        break;
      case 'report':
        r = this.report(meta, logged);
        break;
      case 'set_threshold':
      case 'clear_threshold':
      case 'escalate':
      case 'escalation_ack':
        r = this.run({ type: 'township', command: { ...cmd, by: meta.by } }, performance.now(), logged);
        break;
      default:
        r = this.run({ type: 'command', command: cmd }, performance.now(), logged);
    }
    this.ctx.bus.emit('commandResult', { commandId: commandId ?? null, ok: r.ok, ...(r.error === undefined ? {} : { error: r.error }), by: meta.by, via: meta.via });
  }

  /** `report`: the box's state now, as a `report` event (status-report.ts), logged with the command. */
  private report(meta: CommandMeta, logged: LogEvent): { ok: boolean; error?: string } {
    if (!this.core) return this.refuse(logged, 'the engine is not running');
    let body: Record<string, unknown>;
    try {
      body = statusReport(this.core, this.now(), (t) => this.wall(t), meta.by, this.reportSource?.problems() ?? [], this.reportSource?.store() ?? null);
    } catch (err) {
      this.log.error({ err }, 'status report could not be built');
      return this.refuse(logged, 'the status report could not be built (see the box log)');
    }
    (logged.payload as Record<string, unknown>).result = { ok: true };
    recordAll(this.ctx, this.sink, [logged, { type: 'report', payload: body }]);
    return { ok: true };
  }

  /** A command that could not be carried out at all: on record with why. */
  private refuse(logged: LogEvent, error: string): { ok: false; error: string } {
    (logged.payload as Record<string, unknown>).result = { ok: false, error };
    record(this.ctx, this.sink, logged.type, logged.payload);
    return { ok: false, error };
  }

  /**
   * The core's snapshot, for the commit of a step that changed alerts, silences or the drill.
   * A state that cannot be saved is logged once and the step goes on without it: a snapshot
   * only spares a restart, the siren must not wait on it.
   */
  private snapshot(): { version: number; body: string } | null {
    try {
      return { version: SNAPSHOT_VERSION, body: JSON.stringify(takeSnapshot(this.core!, this.pristine!, this.now(), this.ctx.clock.wall())) };
    } catch (err) {
      if (!this.snapshotFailed) this.log.error({ err }, 'the core state could not be saved; a restart would forget the alerts since');
      this.snapshotFailed = true;
      return null;
    }
  }

  /** One step of the core; for a command's step, what became of the command. */
  private run(input: CoreInput, since = performance.now(), command?: LogEvent): { ok: boolean; error?: string } {
    if (!this.core) return command ? this.refuse(command, 'the engine is not running') : { ok: false };
    let out: CoreOutput;
    try {
      out = step(this.core, input, this.now());
    } catch (err) {
      // A bug in one rule must not silence the box: log it and keep going with the next input.
      this.log.error({ err, input: input.type }, 'engine step failed');
      return command ? this.refuse(command, 'the box failed carrying it out (see the box log); nothing of it was done') : { ok: false };
    }
    const result = out.refused === undefined ? { ok: true } : { ok: false, error: out.refused };
    if (command) (command.payload as Record<string, unknown>).result = result;
    if (!command && !out.transitions.length && !out.effects.length && !out.observations.length && !out.notes.length && !out.thresholds.length) return result;
    this.emit(out, command ? [command] : [], since);
    return result;
  }

  private emit(out: CoreOutput, first: LogEvent[], since: number): void {
    // Everything this step produced is written in one commit before any of it is acted on (its
    // fsync follows off the main thread), with the core's snapshot when alerts, silences or the
    // drill may have changed (never for a reading that only made an observation); then effects
    // go out first (the siren must not wait for the alert to be published, nor for the disk).
    const events: LogEvent[] = [
      ...first,
      ...out.observations.map((o) => ({ type: 'observation' as const, payload: o })),
      ...out.notes.map((n) => ({ type: 'note' as const, payload: n })),
      ...out.transitions.map((t) => ({ type: t.kind === 'fault' ? ('fault' as const) : ('transition' as const), payload: t })),
      ...out.effects.map((e) => ({ type: 'effect' as const, payload: e })),
      ...out.thresholds.map((t) => ({ type: 'threshold' as const, payload: { ...t, setAt: this.wall(t.setAt), until: this.wall(t.until) } })),
      ...out.escalations.map((e) => ({ type: 'escalation' as const, payload: { ...e, responseClock: clockOnWire(e.responseClock, (t) => this.wall(t)) } })),
    ];
    // A command's snapshot is in its own commit: what an officer did (a silence, an ack, a drill)
    // is kept with what it caused, or not at all. An automatic step's is taken after the siren
    // command is out (0.5 ms at p50, 2 ms at p99 at 1,000 sensors, measured: it walks every
    // slot); a kill -9 in between leaves the one before, and the restart rebuilds the rest from
    // the readings (restore.ts), which is what the step itself was made of.
    const byOfficer = first.length > 0;
    // An expired threshold override changes the snapshot too: without it a restart would put it back and expire it again.
    const changed = out.transitions.length > 0 || out.effects.length > 0 || out.thresholds.length > 0;
    recordAll(this.ctx, this.sink, events, () => {
      for (const e of out.effects) this.ctx.bus.emit('effect', e, { since });
      for (const t of out.transitions) this.ctx.bus.emit('transition', t);
      // The log line (0.1 ms, measured) waits until the siren command has been written.
      afterCommands(() => {
        // `alert_level`: pino's own `level` (the line's severity) is in the same object, and a JSON
        // object with two `level` keys keeps only one of them in jq and JSON.parse.
        for (const t of out.transitions) this.log.warn({ alert: t.alert, transition: t.transition, alert_level: t.level, rule: t.rule, values: t.values, text_en: t.textEn }, t.textZh);
      });
      if (changed && !byOfficer) this.snapshotSoon();
    }, byOfficer ? this.snapshot() : null);
  }

  /** One snapshot after the siren commands of however many steps came in this turn. */
  private snapshotSoon(): void {
    if (this.snapshotDue) return;
    this.snapshotDue = true;
    afterCommands(() => this.saveDueSnapshot());
  }

  private saveDueSnapshot(): void {
    if (!this.snapshotDue || !this.core) return;
    this.snapshotDue = false;
    const s = this.snapshot();
    if (s) this.sink.saveSnapshot(s);
  }
}
