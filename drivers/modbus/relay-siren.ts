/**
 * Sirens on Modbus relays: a pattern's on-steps become "flash-on" writes (Waveshare relays take
 * FC05 value 0x02XX as "on for XX × 100 ms, then off by itself"), so the relay hardware bounds
 * every on-time: if the gateway dies mid-pattern, the siren stops within 25.5 s. Long on-steps
 * are renewed before they lapse. Every write is read back; a relay that does not follow is
 * reported as a fault.
 */
import type { Logger } from 'pino';
import type { Effect } from '../../gateway/planner/types.ts';
import type { BoxContext, Module } from '../../gateway/shell/module.ts';
import type { BusScheduler } from './bus-scheduler.ts';

export interface RelaySiren {
  actuator: string;
  zones: string[];
  bus: string;
  unit: number;
  /** Relay channel (coil address). */
  coil: number;
}

/** One flash-on lasts at most 0xFF × 100 ms. */
const MAX_FLASH_DS = 255;
/** Renew a long on-step this long before the relay would drop it. */
const RENEW_MARGIN_MS = 3000;

interface Playing {
  activity: string;
  timers: NodeJS.Timeout[];
}

export function flashValue(ms: number): number {
  const ds = Math.max(1, Math.min(MAX_FLASH_DS, Math.round(ms / 100)));
  return 0x0200 | ds;
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

  private serves(s: RelaySiren, zone: string): boolean {
    return zone === 'site' || s.zones.includes(zone) || s.zones.includes('site');
  }

  private onEffect(e: Effect): void {
    if (e.type !== 'siren' && e.type !== 'siren_off') return;
    for (const s of this.sirens) {
      if (!this.serves(s, e.zone)) continue;
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
    let offset = 0;
    steps.forEach((sec, i) => {
      const ms = sec * 1000;
      if (i % 2 === 0 && ms > 0) {
        // On: flash for the step (bounded by the relay), renewed while the step lasts.
        for (let from = 0; from < ms; from += MAX_FLASH_DS * 100 - RENEW_MARGIN_MS) {
          const left = ms - from;
          at(offset + from, () => void this.write(s, true, left));
        }
      } else if (i % 2 === 1) at(offset, () => void this.write(s, false, 0));
      offset += ms;
    });
    at(offset, () => {
      if (steps.length % 2 === 1) void this.write(s, false, 0); // a pattern ending on an on-step
      if (this.playing.get(s.actuator) === p) this.playing.delete(s.actuator);
    });
  }

  private async write(s: RelaySiren, on: boolean, ms: number): Promise<void> {
    const sched = this.buses.get(s.bus);
    if (!sched) return;
    try {
      await sched.request(s.unit, 'write', (l) => (on ? l.writeCoilRaw(s.unit, s.coil, flashValue(ms)) : l.writeCoil(s.unit, s.coil, false)));
      const [state] = await sched.request(s.unit, 'write', (l) => l.read(s.unit, 'coil', s.coil, 1));
      if (Boolean(state) !== on) this.fault(s, 'relay_did_not_follow', { wanted: on, read_back: Boolean(state) });
    } catch (err) {
      this.fault(s, 'write_failed', { code: (err as { code?: string }).code ?? String(err), wanted: on });
    }
  }

  private fault(s: RelaySiren, reason: string, detail: Record<string, unknown>): void {
    this.log.error({ actuator: s.actuator, reason, ...detail }, 'siren relay fault');
    this.ctx.bus.emit('actuatorReport', { actuator: s.actuator, report: 'fault', detail: { reason, ...detail } });
  }
}
