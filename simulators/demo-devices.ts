/**
 * The demo's simulated field, driven by the demo-storm scenario at `stepMs` real milliseconds
 * per scenario minute: Modbus devices get their registers set (see demo-modbus.ts); every other
 * sensor and actuator is an MQTT client with its own credentials.
 */
import type { Logger } from 'pino';
import type { SiteConfig } from '../gateway/config/types.ts';
import { SMOKE_STATES } from '../gateway/engine/types.ts';
import { ActuatorSim } from './devices/actuator-sim.ts';
import { SensorSim } from './devices/mqtt-device.ts';
import type { DemoModbus } from './demo-modbus.ts';
import { demoReadings } from './scenarios/demo-storm.ts';

/** The demo site's device passwords (their hashes are in demo-site.yaml; see README). */
export const demoPassword = (id: string): string => `demo-${id}-pass`;

const UNITS = { rain: 'mm', water_level: 'm', smoke: 'state' } as const;

export class DemoField {
  readonly sensors = new Map<string, SensorSim>();
  readonly actuators: ActuatorSim[] = [];
  private timer: NodeJS.Timeout | null = null;
  minute = 0;

  constructor(private readonly config: SiteConfig, url: string, private readonly log: Logger, private readonly modbus: DemoModbus | null, private readonly stepMs = 500) {
    const base = { url, site: config.site.id, log };
    for (const s of config.sensors) if (!s.modbus) this.sensors.set(s.id, new SensorSim({ ...base, id: s.id, password: demoPassword(s.id) }, UNITS[s.kind]));
    // A speaker with audio is played by the box itself (drivers/speaker/), not over MQTT.
    for (const a of config.actuators) if (!a.modbus && !a.audio) this.actuators.push(new ActuatorSim({ ...base, id: a.id, password: demoPassword(a.id) }, a.kind));
  }

  /** The simulated Modbus devices by box id (empty without Modbus). */
  modbusDevices(): DemoModbus['devices'] {
    return this.modbus?.devices ?? new Map();
  }

  async start(): Promise<void> {
    await Promise.all([...this.sensors.values(), ...this.actuators].map((d) => d.start()));
    this.timer = setInterval(() => void this.step(), this.stepMs);
  }

  async step(): Promise<void> {
    const minute = this.minute++;
    if (minute % 10 === 0) this.log.info({ scenario_minute: minute }, 'scenario');
    for (const r of demoReadings(minute)) {
      if (this.modbus?.set(r.sensor, r.value)) continue;
      const sim = this.sensors.get(r.sensor);
      // Smoke detectors speak in state names, as the reading format allows.
      const value = this.config.sensors.find((s) => s.id === r.sensor)?.kind === 'smoke' ? SMOKE_STATES[r.value]! : r.value;
      await sim?.publish(value).catch((err) => this.log.error({ err, sensor: r.sensor }, 'publish failed'));
    }
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await Promise.all([...this.sensors.values(), ...this.actuators].map((d) => d.stop().catch(() => undefined)));
  }
}
