/**
 * The box's Modbus field buses as one module: a link and a scheduler per bus, the sensor poller
 * and the relay sirens. Links that fail to open, or drop, are reopened forever with backoff
 * (1 s doubling to 30 s) while the rest of the box goes on: a link must come back by itself.
 */
import type { Logger } from 'pino';
import type { BusConfig, SiteConfig } from '../../gateway/config/types.ts';
import type { BoxContext, Module } from '../../gateway/shell/module.ts';
import { backoff, type Backoff } from '../../gateway/shell/timing.ts';
import { BusScheduler } from './bus-scheduler.ts';
import { ModbusSerialLink, type Link, type LinkConfig } from './link.ts';
import { ModbusPoller, type PolledSensor } from './poller.ts';
import type { DeviceProfile } from './profile-types.ts';
import { sensorRegister } from './sensor-register.ts';

export { sensorRegister } from './sensor-register.ts';
import { RelaySirenDriver, type RelaySiren } from './relay-siren.ts';

export type LinkFactory = (c: LinkConfig) => Link;

const OPEN_RETRY = { firstMs: 1000, maxMs: 30_000 };

export function linkConfig(b: BusConfig): LinkConfig {
  return { id: b.id, type: b.type, path: b.path ?? undefined, host: b.host ?? undefined, port: b.port, baud: b.baud, parity: b.parity, dataBits: b.dataBits, stopBits: b.stopBits, timeoutMs: b.timeoutMs };
}

/** The sensors and sirens of a site that live on Modbus, resolved against the profiles. */
export function modbusDevices(config: SiteConfig, profiles: Map<string, DeviceProfile>): { sensors: PolledSensor[]; sirens: RelaySiren[] } {
  const profile = (name: string, who: string): DeviceProfile => {
    const p = profiles.get(name);
    if (!p) throw new Error(`${who}: unknown device profile '${name}' (known: ${[...profiles.keys()].join(', ')})`);
    return p;
  };
  const sensors: PolledSensor[] = [];
  for (const s of config.sensors) {
    if (!s.modbus) continue;
    const p = profile(s.modbus.profile, `sensor ${s.id}`);
    const register = sensorRegister(p, s.kind, s.modbus.register);
    if (!register) throw new Error(`sensor ${s.id}: profile ${p.model} feeds no register; name one with modbus.register`);
    sensors.push({ sensor: s.id, bus: s.modbus.bus, unit: s.modbus.unit, profile: p, register, pollMs: s.modbus.pollS * 1000 });
  }
  const sirens: RelaySiren[] = [];
  for (const a of config.actuators) {
    if (!a.modbus || a.kind !== 'siren') continue;
    const p = profile(a.modbus.profile, `actuator ${a.id}`);
    sirens.push({ actuator: a.id, zones: a.zones, bus: a.modbus.bus, unit: a.modbus.unit, profile: p, coil: a.modbus.coil });
  }
  return { sensors, sirens };
}

export class FieldBuses implements Module {
  readonly name = 'field-buses';
  readonly schedulers = new Map<string, BusScheduler>();
  readonly poller: ModbusPoller;
  readonly sirens: RelaySirenDriver;
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private running = false;
  private readonly log: Logger;

  constructor(ctx: BoxContext, profiles: Map<string, DeviceProfile>, makeLink: LinkFactory = (c) => new ModbusSerialLink(c)) {
    this.log = ctx.log.child({ module: 'field-buses' });
    for (const b of ctx.config.buses) this.schedulers.set(b.id, new BusScheduler(makeLink(linkConfig(b)), this.log.child({ bus: b.id }), { retries: b.retries, downPollMs: b.downPollMs }));
    const { sensors, sirens } = modbusDevices(ctx.config, profiles);
    this.poller = new ModbusPoller(ctx, this.schedulers, sensors);
    this.sirens = new RelaySirenDriver(ctx, this.schedulers, sirens);
  }

  async start(): Promise<void> {
    this.running = true;
    await Promise.all([...this.schedulers.values()].map((s) => this.open(s, backoff(OPEN_RETRY))));
    await this.sirens.start();
    await this.poller.start();
  }

  async stop(): Promise<void> {
    this.running = false;
    for (const t of this.timers.values()) clearTimeout(t);
    await this.poller.stop();
    await this.sirens.stop();
    await Promise.all([...this.schedulers.values()].map((s) => (s.stop(), s.link.close())));
  }

  /** Opens a link; on failure (or a later drop, seen by the watchdog) tries again with backoff. */
  private async open(s: BusScheduler, retry: Backoff): Promise<void> {
    if (!this.running) return;
    const id = s.link.config.id;
    try {
      await s.link.open();
      this.log.info({ bus: id }, 'bus open');
      this.watch(s);
    } catch (err) {
      const backoffMs = retry.next();
      this.log.error({ err, bus: id, retry_in_ms: backoffMs }, 'bus did not open; retrying');
      const t = setTimeout(() => void this.open(s, retry), backoffMs);
      t.unref();
      this.timers.set(id, t);
    }
  }

  /** Checks every 2 s that the link is still open (a replugged USB adapter closes it). */
  private watch(s: BusScheduler): void {
    const id = s.link.config.id;
    const t = setInterval(() => {
      if (!this.running || s.link.isOpen()) return;
      clearInterval(t);
      this.log.warn({ bus: id }, 'bus closed; reopening');
      void s.link.close().then(() => this.open(s, backoff(OPEN_RETRY)));
    }, 2000);
    t.unref();
    this.timers.set(id, t);
  }
}
