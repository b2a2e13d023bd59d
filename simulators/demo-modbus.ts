/**
 * The demo's Modbus side: one simulated Modbus TCP gateway carrying every device the demo site
 * puts on a bus (TCP, so `npm start` needs no socat; the RTU path is exercised by the tests).
 * The scenario writes engineering values into the simulated registers; what the box writes to
 * the relay is logged as it happens.
 */
import type { Logger } from 'pino';
import type { DeviceProfile } from '../drivers/modbus/profile-types.ts';
import type { SiteConfig } from '../gateway/config/types.ts';
import { SimulatedBus, type SimulatedDevice } from './modbus/bus.ts';

/** The XM9505 register holds 0.1 mm in 16 bits: the real gauge wraps at 6553.6 mm, so does this. */
const XM9505_WRAP_MM = 6553.6;

export class DemoModbus {
  readonly bus = new SimulatedBus({ transport: 'tcp' });
  readonly devices = new Map<string, SimulatedDevice>();
  private timer: NodeJS.Timeout | null = null;
  private seen = new Map<string, number>();

  constructor(private readonly config: SiteConfig, profiles: Map<string, DeviceProfile>, private readonly log: Logger) {
    for (const d of [...config.sensors, ...config.actuators]) {
      if (!d.modbus) continue;
      const device = this.bus.add(profiles.get(d.modbus.profile)!, d.modbus.unit);
      this.devices.set(d.id, device);
      if (d.modbus.profile === 'qdy30a') {
        device.set('unit_code', 1); // cm
        device.set('decimals', 1);
      }
    }
  }

  /** Starts the simulated gateway and points the site's TCP buses at it. */
  async start(): Promise<SiteConfig> {
    await this.bus.start();
    this.timer = setInterval(() => this.logRelayWrites(), 200);
    const port = this.bus.endpoint.port;
    return { ...this.config, buses: this.config.buses.map((b) => (b.type === 'tcp' ? { ...b, host: '127.0.0.1', port } : b)) };
  }

  /** Sets a sensor's register from a scenario value (engineering units). */
  set(sensor: string, value: number): boolean {
    const device = this.devices.get(sensor);
    if (!device) return false;
    const s = this.config.sensors.find((x) => x.id === sensor)!;
    if (s.modbus?.profile === 'xunchip-xm9505') device.set('rainfall_mm', Math.round((value % XM9505_WRAP_MM) * 10) / 10);
    else if (s.modbus?.profile === 'qdy30a') device.set('level', value);
    return true;
  }

  private logRelayWrites(): void {
    for (const [id, device] of this.devices) {
      const writes = device.coilWrites();
      const from = this.seen.get(id) ?? 0;
      for (const w of writes.slice(from)) {
        const what = w.action === 'flash_on' ? `on for ${(Number(w.value) / 10).toFixed(1)} s (relay times it)` : w.value ? 'on' : 'off';
        this.log.info({ actuator: id, by: w.source, fc: w.fc, address: w.address, value: w.value }, `relay ${id}: ${what}`);
      }
      this.seen.set(id, writes.length);
    }
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.bus.stop();
  }
}
