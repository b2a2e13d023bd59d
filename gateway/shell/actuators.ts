/**
 * Carries each effect to the one actuator the planner addressed it to (`effect.actuator`):
 * the planner arbitrates per physical siren and speaker, so an actuator gets only what was
 * decided for it. MQTT actuators get it on `cmd/<actuator>`; Modbus relay sirens get theirs
 * from drivers/modbus. A speaker's `done` report frees that speaker's channel in the planner.
 */
import type { Logger } from 'pino';
import type { ActuatorConfig } from '../config/types.ts';
import type { Effect } from '../planner/types.ts';
import { servesZone } from '../planner/targets.ts';
import { toWire } from '../wire.ts';
import type { ActuatorReport, EffectMeta } from './bus.ts';
import type { BoxContext, Module } from './module.ts';

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

  constructor(private readonly ctx: BoxContext, private readonly publish: Publish) {
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
    // Actuators on a Modbus bus are driven by drivers/modbus; this router serves MQTT ones.
    if (!a || a.modbus) return;
    const { at: _at, ...rest } = e;
    const issuedAt = performance.now();
    this.publish(`sb/v1/${this.ctx.config.site.id}/cmd/${a.id}`, JSON.stringify(toWire(rest)), { qos: 1 }).then(
      () => this.sent(a.id, e, issuedAt, meta),
      (err) => this.log.error({ err, actuator: a.id }, 'effect not delivered'),
    );
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

  private report(r: ActuatorReport): void {
    if (r.report === 'fault') this.log.error({ actuator: r.actuator, detail: r.detail }, 'actuator fault');
    if (r.report !== 'done' || !r.activity) return;
    const key = `${r.actuator}/${r.activity}`;
    if (this.done.has(key)) return;
    this.done.add(key);
    if (this.done.size > 10_000) this.done.clear();
    this.ctx.bus.emit('command', { type: 'broadcast_done', actuator: r.actuator, activity: r.activity }, { by: r.actuator, role: 'device', via: 'actuator' });
  }
}
