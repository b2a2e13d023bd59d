/**
 * A speaker zone's amplifier line, switched by a relay coil through the same Modbus relay
 * profiles as sirens (hardware/profiles/, drivers/modbus/write-action.ts): the profile's plain
 * `siren_on` / `siren_off` actions on channel `coil`, each read back through the action's
 * `confirm` register. While on, the coil is rewritten every 5 s, as a siren's plain coil is, so a
 * field node's silence timeout keeps it on only while the gateway lives. A relay that does not
 * answer or follow is reported once until it works again (the broadcast plays anyway: the
 * amplifier may be on by hand).
 */
import type { BusScheduler } from '../modbus/bus-scheduler.ts';
import type { ActionDef, DeviceProfile } from '../modbus/profile-types.ts';
import { writeAction } from '../modbus/write-action.ts';

const RENEW_MS = 5000;

export interface AmpFault {
  reason: 'profile_has_no_action' | 'write_failed' | 'relay_did_not_follow' | 'no_bus';
  wanted: boolean;
  code?: string;
  read_back?: boolean;
}

export class AmpRelay {
  private on = false;
  /** The last write's fault, so a relay that keeps failing its keep-alive is reported once, not every 5 s. */
  private lastFault: string | null = null;
  private renew: NodeJS.Timeout | null = null;
  /** Writes go out one at a time, in the order asked. */
  private chain: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly sched: () => BusScheduler | undefined,
    readonly unit: number,
    readonly profile: DeviceProfile,
    readonly coil: number,
    private readonly onFault: (f: AmpFault) => void,
  ) {}

  isOn(): boolean {
    return this.on;
  }

  /** Switches the line; resolves once the relay has taken (and confirmed) it, or the write failed. */
  set(on: boolean): Promise<void> {
    this.on = on;
    if (this.renew) clearInterval(this.renew);
    this.renew = null;
    if (on) {
      this.renew = setInterval(() => void this.queue(true), RENEW_MS);
      this.renew.unref();
    }
    return this.queue(on);
  }

  stop(): void {
    if (this.renew) clearInterval(this.renew);
    this.renew = null;
  }

  private queue(on: boolean): Promise<void> {
    const p = this.chain.then(() => this.write(on));
    this.chain = p.catch(() => undefined);
    return p;
  }

  private action(name: string): ActionDef | undefined {
    return this.profile.actions.find((a) => a.name === name);
  }

  private fault(f: AmpFault): void {
    const key = `${f.reason}/${f.wanted}`;
    if (this.lastFault === key) return;
    this.lastFault = key;
    this.onFault(f);
  }

  private async write(on: boolean): Promise<void> {
    const sched = this.sched();
    if (!sched) return this.fault({ reason: 'no_bus', wanted: on });
    const a = this.action(on ? 'siren_on' : 'siren_off');
    if (!a || a.value === null) return this.fault({ reason: 'profile_has_no_action', wanted: on });
    const confirm = a.confirm ? this.profile.registers.find((r) => r.name === a.confirm) : undefined;
    try {
      const state = await sched.request(this.unit, 'write', async (l) => {
        await writeAction(l, this.unit, a, null, this.coil);
        return confirm ? (await l.read(this.unit, confirm.table, confirm.address + this.coil, 1))[0] : undefined;
      });
      if (state !== undefined && Boolean(state) !== on) this.fault({ reason: 'relay_did_not_follow', wanted: on, read_back: Boolean(state) });
      else this.lastFault = null;
    } catch (err) {
      this.fault({ reason: 'write_failed', wanted: on, code: (err as { code?: string }).code ?? String(err) });
    }
  }
}
