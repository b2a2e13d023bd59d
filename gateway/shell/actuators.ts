/**
 * Carries each effect to the one actuator the planner addressed it to (`effect.actuator`):
 * the planner arbitrates per physical siren and speaker, so an actuator gets only what was
 * decided for it. MQTT actuators get it on `cmd/<actuator>`; Modbus relay sirens get theirs
 * from drivers/modbus. A speaker's `done` report frees that speaker's channel in the planner.
 */
import type { Logger } from 'pino';
import { BOX_TARGET, topics } from '../broker/topics.ts';
import type { ActuatorConfig } from '../config/types.ts';
import type { Effect } from '../planner/types.ts';
import { servesZone } from '../planner/targets.ts';
import { toWire } from '../wire.ts';
import { actuatorFaultWords } from '../engine/actuator-fault-words.ts';
import type { ActuatorReport, EffectMeta } from './bus.ts';
import type { BoxContext, Module } from './module.ts';
import { record, type EventSink } from './record.ts';
import { estimateS } from '../../drivers/speaker/script.ts';

export type Publish = (topic: string, payload: string, opts?: { qos?: 0 | 1; retain?: boolean }) => Promise<void>;

/** Lives in the planner now, which decides per actuator (planner/targets.ts); re-exported for code that imports it from here. */
export { servesZone };

function channelOf(e: Effect): 'siren' | 'speaker' | null {
  if (e.type === 'siren' || e.type === 'siren_off') return 'siren';
  if (e.type === 'broadcast' || e.type === 'broadcast_stop') return 'speaker';
  return null;
}

export class ActuatorRouter implements Module {
  readonly name = 'actuators';
  private offs: (() => void)[] = [];
  private readonly log: Logger;
  /** `actuator/activity` of broadcasts already reported done: a resent report frees nothing twice. */
  private readonly done = new Set<string>();
  /** `kind/zone` pairs already reported as unserved: a site without a speaker warns once, not per alarm. */
  private readonly unserved = new Set<string>();
  /** `actuator/activity` → the deadline of an MQTT speaker's `done` (see `watch`). */
  private readonly awaiting = new Map<string, NodeJS.Timeout>();
  /** `actuator/reason` → when that fault was last written to the event log (box mono ms). */
  private readonly faultLogged = new Map<string, number>();

  /**
   * `sink`: where actuator faults are logged as events (the box passes its store). `extras`:
   * fields added to an MQTT actuator's command (the IP speakers' audio URL, drivers/ip-speaker/).
   */
  constructor(
    private readonly ctx: BoxContext,
    private readonly publish: Publish,
    private readonly sink?: EventSink,
    private readonly extras?: (e: Effect, a: ActuatorConfig) => Record<string, unknown> | null,
  ) {
    this.log = ctx.log.child({ module: 'actuators' });
  }

  async start(): Promise<void> {
    const { bus } = this.ctx;
    this.offs.push(
      bus.on('effect', (e, meta) => this.route(e, meta)),
      bus.on('actuatorReport', (r) => this.report(r)),
    );
  }

  async stop(): Promise<void> {
    for (const off of this.offs) off();
    this.offs = [];
    for (const t of this.awaiting.values()) clearTimeout(t);
    this.awaiting.clear();
  }

  private route(e: Effect, meta?: EffectMeta): void {
    const kind = channelOf(e);
    if (!kind || !('actuator' in e)) return;
    if (e.actuator === null) {
      if (!this.unserved.has(`${kind}/${e.zone}`)) {
        this.unserved.add(`${kind}/${e.zone}`);
        this.log.warn({ effect: e.type, zone: e.zone }, `no ${kind} serves zone ${e.zone}; its effects are logged but reach nobody (warned once per zone)`);
      }
      return;
    }
    const a: ActuatorConfig | undefined = this.ctx.config.actuators.find((x) => x.id === e.actuator);
    // Actuators on a Modbus bus are driven by drivers/modbus, speakers with audio by
    // drivers/speaker; this router serves MQTT ones.
    if (!a || a.modbus || a.audio) return;
    if (e.type === 'broadcast_stop') this.unwatch(a.id, e.activity);
    const { at: _at, ...rest } = e;
    const issuedAt = performance.now();
    if (a.id === BOX_TARGET) return; // cmd/box addresses the box (topics.ts); the broker warns at start
    this.publish(topics(this.ctx.config.site.id).actuatorCommand(a.id), JSON.stringify(toWire({ ...rest, ...this.extra(e, a) })), { qos: 1 }).then(
      () => {
        this.sent(a.id, e, issuedAt, meta);
        if (e.type === 'broadcast') this.watch(a.id, e);
      },
      (err) => this.log.error({ err, actuator: a.id }, 'effect not delivered'),
    );
  }

  /** The extras for this command; a failure there costs the command nothing but them. */
  private extra(e: Effect, a: ActuatorConfig): Record<string, unknown> | null {
    try {
      return this.extras?.(e, a) ?? null;
    } catch (err) {
      this.log.error({ err, actuator: a.id }, 'command extras failed; the command goes without them');
      return null;
    }
  }

  /**
   * Logged once the broker has called back (it has written the command to every connected
   * subscriber of the actuator's topic), so the line costs the alarm path nothing. `issued_at`
   * is when the command was handed to the broker, as epoch ms with a fraction (to compare with
   * another process's clock: the e2e benchmark does); `latency_ms` is the box's own measure of
   * its alarm path, from the input that caused the effect reaching the engine to that moment;
   * `broker_ms` is how long the broker then took to call back.
   */
  private sent(actuator: string, e: Effect, issuedAt: number, meta?: EffectMeta): void {
    const ms = (x: number): number => Math.round(x * 1000) / 1000;
    const activity = 'activity' in e ? e.activity : undefined;
    const alert = 'alert' in e ? e.alert : undefined;
    this.log.info(
      { actuator, effect: e.type, activity, alert, latency_ms: meta ? ms(issuedAt - meta.since) : null, broker_ms: ms(performance.now() - issuedAt), issued_at: performance.timeOrigin + issuedAt },
      `${e.type} command sent to ${actuator}`,
    );
  }

  /**
   * A speaker that never says it is done is a fault, not a silence the box waits out: an MQTT
   * speaker gets twice the broadcast's expected length and 15 s more (at most the planner's
   * `broadcast_max_s`, after which the planner gives up on it anyway); then the box reports the
   * fault for it, which frees its channel as a `done` would.
   */
  private watch(actuator: string, e: Extract<Effect, { type: 'broadcast' }>): void {
    const key = `${actuator}/${e.activity}`;
    const afterS = Math.round(Math.min(this.ctx.config.actions.broadcastMaxS, 2 * estimateS(e, true) + 15));
    const t = setTimeout(() => {
      this.awaiting.delete(key);
      this.log.error({ actuator, activity: e.activity, after_s: afterS }, `speaker ${actuator} did not report broadcast ${e.activity} done within ${afterS} s`);
      this.ctx.bus.emit('actuatorReport', { actuator, report: 'fault', activity: e.activity, zone: e.zone, detail: { reason: 'no_done', after_s: afterS } });
    }, afterS * 1000);
    t.unref();
    this.awaiting.set(key, t);
  }

  private unwatch(actuator: string, activity: string): void {
    const key = `${actuator}/${activity}`;
    clearTimeout(this.awaiting.get(key));
    this.awaiting.delete(key);
  }

  /**
   * Every actuator fault goes into the event log (at most once a minute per actuator and
   * reason: a relay that keeps failing its keep-alive writes is one fault, not thousands).
   */
  private logFault(r: ActuatorReport): void {
    const reason = String(r.detail?.reason ?? 'fault');
    this.log.error({ actuator: r.actuator, activity: r.activity, detail: r.detail }, `actuator ${r.actuator} fault: ${reason}`);
    if (!this.sink) return;
    const key = `${r.actuator}/${reason}`;
    const now = this.ctx.clock.mono();
    const last = this.faultLogged.get(key);
    if (last !== undefined && now - last < 60_000) return;
    this.faultLogged.set(key, now);
    const a = this.ctx.config.actuators.find((x) => x.id === r.actuator);
    const name = a?.name ?? r.actuator;
    const speaker = a?.kind === 'speaker';
    const words = actuatorFaultWords(reason);
    record(this.ctx, this.sink, 'fault', {
      actuator: r.actuator,
      actuator_kind: a?.kind ?? null,
      reason,
      activity: r.activity ?? null,
      zone: r.zone ?? null,
      detail: r.detail ?? {},
      text_zh: `${speaker ? '广播' : '设备'}「${name}」故障:${words.zh}${r.activity ? ',本次广播未能播出' : ''}`,
      text_en: `${speaker ? 'Speaker' : 'Actuator'} ${r.actuator} fault: ${words.en}${r.activity ? '; this broadcast was not heard' : ''}`,
    });
  }

  /**
   * `done` frees the speaker's channel; so does a `fault` that names an activity (that
   * broadcast failed and ended). A fault without an activity ends nothing (a relay that did not
   * follow, a recording spoken by TTS instead).
   */
  private report(r: ActuatorReport): void {
    if (r.report === 'fault') this.logFault(r);
    if ((r.report !== 'done' && r.report !== 'fault') || !r.activity) return;
    this.unwatch(r.actuator, r.activity);
    const key = `${r.actuator}/${r.activity}`;
    if (this.done.has(key)) return;
    this.done.add(key);
    if (this.done.size > 10_000) this.done.clear();
    this.ctx.bus.emit('command', { type: 'broadcast_done', actuator: r.actuator, activity: r.activity }, { by: r.actuator, role: 'device', via: 'actuator' });
  }
}
