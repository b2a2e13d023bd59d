/**
 * What the box tells the local broker: each alert's current state (retained), every logged
 * event in seq order on `event`, the box's own status (retained; `offline` when it stops), and
 * what became of each command sent on this broker (`cmd/box/result`, not retained).
 *
 * None of this may delay a siren: the step that raises an alert also emits its effects, and
 * the siren command's delivery is still in aedes' promise chain when the step returns; that
 * chain ends in a `setImmediate` of its own (aedes' deliverQoS), scheduled from a microtask
 * after the step. So messages wait in an outbox and are built and published together two
 * `setImmediate` hops later, in the loop turn after the command was written to the relay's
 * socket (`afterCommands`; after one hop the outbox would run first and hold the command up
 * by 0.3–0.7 ms). Order is kept.
 */
import type { Logger } from 'pino';
import { topics, type SiteTopics } from '../broker/topics.ts';
import { alertKey, alertState } from '../alert-state.ts';
import type { AlertTransition } from '../engine/types.ts';
import { toWire, wallTime } from '../wire.ts';
import type { Publish } from './actuators.ts';
import { afterCommands } from './after-commands.ts';
import type { BoxStatus, UplinkState } from './bus.ts';
import type { BoxContext, Module } from './module.ts';

/**
 * The event log's entries in the status's `problems`: `storage_degraded:<reason>` while events
 * are held in memory (read_only, disk_full, io_error, corrupt, busy, newer_schema,
 * cannot_open: the store's DegradeReason), and `storage_log_replaced:corrupt` for the rest of
 * the run once a damaged log was moved aside and a new one started (a technician should keep
 * the old file). Kept to these fixed words: dashboards match on them.
 */
export function storageProblems(h: { degraded: boolean; reason: string | null; replacedLog?: string | null }): string[] {
  const out: string[] = [];
  if (h.degraded) out.push(`storage_degraded:${h.reason ?? 'unknown'}`);
  if (h.replacedLog) out.push('storage_log_replaced:corrupt');
  return out;
}

export interface StatusSource {
  /** Number of active alerts now. */
  activeAlerts(): number;
  /** Problems officers must know about (e.g. `storage_degraded:disk_full`). */
  problems(): string[];
  /** An active alert's response clock on the wire (status-report.ts `clockOnWire`), null if none. */
  responseClock?(alert: string): unknown;
  /** An active alert's current state, null if it is not active (to publish its clock again after an escalation). */
  alertState?(alert: string): AlertTransition | null;
  /** The township uplink's state; absent (or null) when the site has none. */
  uplink?(): UplinkState | null;
}

export class Publisher implements Module {
  readonly name = 'publisher';
  private offs: (() => void)[] = [];
  private readonly log: Logger;
  private last = '';
  private outbox: { topic: string; payload: () => unknown; retain: boolean }[] = [];
  /** A flush is scheduled (a flush that `stop()` runs first leaves it nothing to do). */
  private flushDue = false;
  /** An alert changed: the status (which counts active alerts) is recomputed at the next flush. */
  private statusDue = false;
  private readonly topics: SiteTopics;
  /**
   * Between start() and stop(). A status asked for before (the store degrading while it starts,
   * ahead of the broker) would go to a broker not yet listening, and being remembered as sent,
   * the one start() publishes would be skipped as unchanged: the retained status never said it.
   */
  private running = false;

  constructor(private readonly ctx: BoxContext, private readonly publish: Publish, private readonly source: StatusSource) {
    this.log = ctx.log.child({ module: 'publisher' });
    this.topics = topics(ctx.config.site.id);
  }

  private now(): string {
    return wallTime(this.ctx.clock.wall(), this.ctx.config.site.utcOffset);
  }

  private send(topic: string, payload: () => unknown, retain: boolean): void {
    this.outbox.push({ topic, payload, retain });
    if (this.flushDue) return;
    this.flushDue = true;
    afterCommands(() => this.flush());
  }

  private flush(): void {
    this.flushDue = false;
    if (this.statusDue) {
      // Counting the active alerts scans every alert slot (0.3 ms at 1,000 sensors): it waits
      // here with the rest, not in the step that sends the siren command.
      this.statusDue = false;
      this.status();
    }
    const batch = this.outbox;
    this.outbox = [];
    for (const m of batch) {
      let text: string;
      try {
        text = JSON.stringify(m.payload());
      } catch (err) {
        this.log.error({ err, topic: m.topic }, 'message could not be built; not published');
        continue;
      }
      this.publish(m.topic, text, { qos: 1, retain: m.retain }).catch((err) => this.log.error({ err, topic: m.topic }, 'publish failed'));
    }
  }

  async start(): Promise<void> {
    const { bus } = this.ctx;
    this.offs.push(
      bus.on('transition', (t) => this.alert(t)),
      // Officers' and township accounts' commands on this broker hear what became of them (the uplink answers its own).
      bus.on('commandResult', (r) => {
        if (r.via === 'mqtt') this.send(this.topics.boxCommandResult(), () => ({ command_id: r.commandId, ok: r.ok, ...(r.error === undefined ? {} : { error: r.error }), by: r.by }), false);
      }),
      // An escalation or the township's answer moves the alert's response clock: its retained state says so.
      bus.on('logged', (e) => {
        if (e.type !== 'escalation' || !this.source.alertState) return;
        const state = this.source.alertState((e.payload as { alert: string }).alert);
        if (state) this.alert(state);
      }),
      bus.on('logged', (e) => this.send(this.topics.event(), () => ({ seq: e.seq, type: e.type, at: wallTime(e.atWall, this.ctx.config.site.utcOffset), payload: e.payload && typeof e.payload === 'object' ? toWire(e.payload) : e.payload }), false)),
    );
    this.running = true;
    this.status('online');
  }

  async stop(): Promise<void> {
    for (const off of this.offs) off();
    this.offs = [];
    this.statusDue = false; // `offline` is the last word
    this.status('offline');
    this.running = false;
    this.flush();
  }

  /** Publishes the status if it changed (or always for `offline`/`stopping`). */
  status(state: BoxStatus['state'] = 'online'): void {
    if (!this.running && state === 'online') return;
    const s: BoxStatus = { state, problems: this.source.problems(), active_alerts: this.source.activeAlerts(), at: this.now() };
    const uplink = this.source.uplink?.();
    if (uplink) s.uplink = uplink;
    const key = JSON.stringify({ ...s, at: '' });
    if (key === this.last && state === 'online') return;
    this.last = key;
    this.ctx.bus.emit('status', s);
    this.send(this.topics.status(), () => s, true);
  }

  /** After a restart: the active alerts' current states, retained again (aedes keeps them in memory only). */
  republish(states: readonly AlertTransition[]): void {
    for (const t of states) this.alert(t);
  }

  private alert(t: AlertTransition): void {
    const at = this.now();
    // The retained topic is the alert's subject (`rg1/rain`), so the next occurrence replaces it.
    this.send(this.topics.alert(alertKey(t)), () => {
      // Read when the message is built: the broadcast planned in the alert's own step is on it.
      const clock = t.transition !== 'cleared' && this.source.responseClock ? { response_clock: this.source.responseClock(t.alert) } : {};
      return { ...alertState(t, at), ...clock };
    }, true);
    this.statusDue = true;
  }
}
