/**
 * Sirens on Modbus relays, driven by the device profile's actions:
 * - a relay with a timed `flash_on` action (Waveshare: FC05 to 0x0200 + relay with the on-time
 *   in 100 ms counts) gets each on-step as one timed write, so the relay hardware ends every
 *   on-step by itself even if the gateway dies mid-pattern;
 * - a plain coil (our field node) gets `siren_on`, renewed every few seconds while the step
 *   lasts: the node's own silence timeout and maximum on-time turn it off if the gateway falls
 *   silent.
 * Every write is read back; a relay that does not follow is reported as a fault.
 */
import type { Logger } from 'pino';
import type { Effect } from '../../gateway/planner/types.ts';
import type { BoxContext, Module } from '../../gateway/shell/module.ts';
import type { BusScheduler } from './bus-scheduler.ts';
import type { ActionDef, DeviceProfile } from './profile-types.ts';

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

/** The count a timed action takes for an on-time of `ms`, within the action's bounds. */
export function pulseCount(a: ActionDef, ms: number): number {
  const unit = a.pulse?.unitMs ?? 100;
  const max = a.valueMax !== null ? Math.floor((a.valueMax * 1000) / unit) : 0xffff;
  return Math.max(1, Math.min(max, 0xffff, Math.round(ms / unit)));
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
    this.off = this.ctx.bus.on('effect', (e) => this.onEffect(e));
  }

  async stop(): Promise<void> {
    this.off?.();
    for (const p of this.playing.values()) p.timers.forEach(clearTimeout);
    this.playing.clear();
  }

  private onEffect(e: Effect): void {
    if (e.type !== 'siren' && e.type !== 'siren_off') return;
    for (const s of this.sirens) {
      if (s.actuator !== e.actuator) continue; // the planner decided per physical siren
      const p = this.playing.get(s.actuator);
      if (e.type === 'siren_off') {
        if (p && p.activity !== e.activity) continue; // an older pattern's stop
        this.cancel(s);
        void this.write(s, false, 0);
      } else this.play(s, e.activity, e.steps);
    }
  }

  private cancel(s: RelaySiren): void {
    const p = this.playing.get(s.actuator);
    if (p) p.timers.forEach(clearTimeout);
    this.playing.delete(s.actuator);
  }

  /** Schedules the whole pattern from its start time (no drift from chained timers). */
  private play(s: RelaySiren, activity: string, steps: number[]): void {
    this.cancel(s);
    const p: Playing = { activity, timers: [] };
    this.playing.set(s.actuator, p);
    const at = (ms: number, fn: () => void): void => {
      const t = setTimeout(fn, ms);
      t.unref();
      p.timers.push(t);
    };
    const flash = action(s.profile, 'flash_on');
    let offset = 0;
    steps.forEach((sec, i) => {
      const ms = sec * 1000;
      if (i % 2 === 0 && ms > 0) {
        if (flash?.pulse) at(offset, () => void this.write(s, true, ms));
        else for (let from = 0; from < ms; from += RENEW_MS) at(offset + from, () => void this.write(s, true, 0));
      } else if (i % 2 === 1) at(offset, () => void this.write(s, false, 0));
      offset += ms;
    });
    at(offset, () => {
      if (steps.length % 2 === 1) void this.write(s, false, 0); // a pattern ending on an on-step
      if (this.playing.get(s.actuator) === p) this.playing.delete(s.actuator);
    });
  }

  /** On for `ms` (timed by the relay when it can), or off; then reads the relay back. */
  private async write(s: RelaySiren, on: boolean, ms: number): Promise<void> {
    const sched = this.buses.get(s.bus);
    if (!sched) return;
    const flash = action(s.profile, 'flash_on');
    const plain = action(s.profile, on ? 'siren_on' : 'siren_off');
    const a = on && ms > 0 && flash?.pulse ? flash : plain;
    if (!a) return this.fault(s, 'profile_has_no_action', { wanted: on });
    const address = a.address + s.coil;
    const confirm = a.confirm ? s.profile.registers.find((r) => r.name === a.confirm) : undefined;
    try {
      // Write and read back in one bus transaction pair, so no other write slips in between.
      const state = await sched.request(s.unit, 'write', async (l) => {
        await (a.encoding === 'raw' ? l.writeCoilRaw(s.unit, address, pulseCount(a, ms)) : l.writeCoil(s.unit, address, Boolean(a.value)));
        return confirm ? (await l.read(s.unit, confirm.table, confirm.address + s.coil, 1))[0] : undefined;
      });
      if (state !== undefined && Boolean(state) !== on) this.fault(s, 'relay_did_not_follow', { wanted: on, read_back: Boolean(state) });
    } catch (err) {
      this.fault(s, 'write_failed', { code: (err as { code?: string }).code ?? String(err), wanted: on });
    }
  }

  private fault(s: RelaySiren, reason: string, detail: Record<string, unknown>): void {
    this.log.error({ actuator: s.actuator, reason, ...detail }, 'siren relay fault');
    this.ctx.bus.emit('actuatorReport', { actuator: s.actuator, report: 'fault', detail: { reason, ...detail } });
  }
}
