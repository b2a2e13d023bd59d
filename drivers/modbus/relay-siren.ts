/**
 * Sirens on Modbus relays, driven by the device profile's actions:
 * - a relay with a timed `flash_on` action (Waveshare: FC05 to 0x0200 + relay with the on-time
 *   in 100 ms counts) gets each on-step as one timed write, so the relay hardware ends every
 *   on-step by itself even if the gateway dies mid-pattern;
 * - a plain coil (our field node) gets `siren_on`, renewed every few seconds while the step
 *   lasts: the node's own silence timeout and maximum on-time turn it off if the gateway falls
 *   silent.
 * Every write goes out through `writeAction` (the function code follows the action's table: FC05
 * for coils, FC06 for holding-register command boards such as the R421A08) and is read back; a
 * relay that does not follow is reported as a fault. The first write of each effect is logged
 * once the relay has taken it, as the MQTT actuators' are (`<effect> command sent to <actuator>`,
 * `latency_ms` from the input reaching the engine).
 */
import type { Logger } from 'pino';
import type { Effect } from '../../gateway/planner/types.ts';
import type { EffectMeta } from '../../gateway/shell/bus.ts';
import type { BoxContext, Module } from '../../gateway/shell/module.ts';
import type { BusScheduler } from './bus-scheduler.ts';
import type { ActionDef, DeviceProfile } from './profile-types.ts';
import { writeAction } from './write-action.ts';

export interface RelaySiren {
  actuator: string;
  zones: string[];
  bus: string;
  unit: number;
  profile: DeviceProfile;
  /** Relay channel: added to the profile's action and confirm addresses (0 = the first). */
  coil: number;
}

/** A plain coil is rewritten this often while an on-step lasts (a keep-alive for the node). */
const RENEW_MS = 5000;

interface Playing {
  activity: string;
  timers: NodeJS.Timeout[];
}

/** The effect a write carries out first, for its log line. */
interface Cause {
  effect: Effect['type'];
  activity: string;
  alert: string | null;
  meta?: EffectMeta;
}

function action(p: DeviceProfile, name: string): ActionDef | undefined {
  return p.actions.find((a) => a.name === name);
}

export class RelaySirenDriver implements Module {
  readonly name = 'relay-sirens';
  private readonly playing = new Map<string, Playing>();
  private off: (() => void) | null = null;
  private readonly log: Logger;

  constructor(private readonly ctx: BoxContext, private readonly buses: Map<string, BusScheduler>, private readonly sirens: RelaySiren[]) {
    this.log = ctx.log.child({ module: 'relay-sirens' });
  }

  async start(): Promise<void> {
    this.off = this.ctx.bus.on('effect', (e, meta) => this.onEffect(e, meta));
  }

  async stop(): Promise<void> {
    this.off?.();
    for (const p of this.playing.values()) p.timers.forEach(clearTimeout);
    this.playing.clear();
  }

  private onEffect(e: Effect, meta?: EffectMeta): void {
    if (e.type !== 'siren' && e.type !== 'siren_off') return;
    for (const s of this.sirens) {
      if (s.actuator !== e.actuator) continue; // the planner decided per physical siren
      const p = this.playing.get(s.actuator);
      if (e.type === 'siren_off') {
        if (p && p.activity !== e.activity) continue; // an older pattern's stop
        this.cancel(s);
        void this.write(s, false, 0, { effect: e.type, activity: e.activity, alert: null, meta });
      } else this.play(s, e.activity, e.steps, { effect: e.type, activity: e.activity, alert: e.alert, meta });
    }
  }

  private cancel(s: RelaySiren): void {
    const p = this.playing.get(s.actuator);
    if (p) p.timers.forEach(clearTimeout);
    this.playing.delete(s.actuator);
  }

  /** Schedules the whole pattern from its start time (no drift from chained timers). */
  private play(s: RelaySiren, activity: string, steps: number[], cause: Cause): void {
    this.cancel(s);
    const p: Playing = { activity, timers: [] };
    this.playing.set(s.actuator, p);
    let first: Cause | undefined = cause; // the effect's own write is logged; the pattern's later ones are not
    const at = (ms: number, on: boolean, pulseMs: number): void => {
      const why = first;
      first = undefined;
      // The pattern's first write is requested now, in the effect's own step, not a timer turn
      // later: a write requested meanwhile (the speaker's amplifier, from the same alarm) would
      // otherwise be on the line first.
      if (ms === 0) return void this.write(s, on, pulseMs, why);
      const t = setTimeout(() => void this.write(s, on, pulseMs, why), ms);
      t.unref();
      p.timers.push(t);
    };
    const flash = action(s.profile, 'flash_on');
    let offset = 0;
    steps.forEach((sec, i) => {
      const ms = sec * 1000;
      if (i % 2 === 0 && ms > 0) {
        if (flash?.pulse) at(offset, true, ms);
        else for (let from = 0; from < ms; from += RENEW_MS) at(offset + from, true, 0);
      } else if (i % 2 === 1) at(offset, false, 0);
      offset += ms;
    });
    const end = setTimeout(() => {
      if (steps.length % 2 === 1) void this.write(s, false, 0); // a pattern ending on an on-step
      if (this.playing.get(s.actuator) === p) this.playing.delete(s.actuator);
    }, offset);
    end.unref();
    p.timers.push(end);
  }

  /** On for `ms` (timed by the relay when it can), or off; then reads the relay back. */
  private async write(s: RelaySiren, on: boolean, ms: number, cause?: Cause): Promise<void> {
    const sched = this.buses.get(s.bus);
    if (!sched) return;
    const flash = action(s.profile, 'flash_on');
    const plain = action(s.profile, on ? 'siren_on' : 'siren_off');
    const a = on && ms > 0 && flash?.pulse ? flash : plain;
    if (!a) return this.fault(s, 'profile_has_no_action', { wanted: on });
    const confirm = a.confirm ? s.profile.registers.find((r) => r.name === a.confirm) : undefined;
    const issued = performance.now();
    try {
      // Write and read back in one bus transaction pair, so no other write slips in between.
      const state = await sched.request(s.unit, 'alarm', async (l) => {
        await writeAction(l, s.unit, a, a.value === null ? ms / 1000 : null, s.coil);
        return confirm ? (await l.read(s.unit, confirm.table, confirm.address + s.coil, 1))[0] : undefined;
      });
      if (cause) this.sent(s, a, cause, issued);
      if (state !== undefined && Boolean(state) !== on) this.fault(s, 'relay_did_not_follow', { wanted: on, read_back: Boolean(state) });
    } catch (err) {
      this.fault(s, 'write_failed', { code: (err as { code?: string }).code ?? String(err), wanted: on });
    }
  }

  /**
   * The relay took the write (and answered the read-back): `latency_ms` runs from the input that
   * caused the effect reaching the engine to here, so it includes the bus; `bus_ms` is the bus
   * turn alone (queue, write, read-back).
   */
  private sent(s: RelaySiren, a: ActionDef, c: Cause, issued: number): void {
    const ms = (x: number): number => Math.round(x * 1000) / 1000;
    const now = performance.now();
    this.log.info(
      { actuator: s.actuator, effect: c.effect, activity: c.activity, alert: c.alert, action: a.name, bus: s.bus, unit: s.unit, latency_ms: c.meta ? ms(now - c.meta.since) : null, bus_ms: ms(now - issued) },
      `${c.effect} command sent to ${s.actuator}`,
    );
  }

  private fault(s: RelaySiren, reason: string, detail: Record<string, unknown>): void {
    this.log.error({ actuator: s.actuator, reason, ...detail }, 'siren relay fault');
    this.ctx.bus.emit('actuatorReport', { actuator: s.actuator, report: 'fault', detail: { reason, ...detail } });
  }
}
