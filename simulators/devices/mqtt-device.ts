/**
 * Simulated field devices that connect to the box like real ones: MQTT 3.1.1 clients with
 * their own credentials, a retained online status and a last will.
 */
import mqtt, { type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import { topics, type SiteTopics } from '../../gateway/broker/topics.ts';

export interface DeviceOptions {
  url: string;
  site: string;
  id: string;
  password: string;
  log: Logger;
}

export abstract class MqttDevice {
  protected client: MqttClient | null = null;
  protected readonly log: Logger;
  protected readonly topics: SiteTopics;
  constructor(protected readonly o: DeviceOptions) {
    this.log = o.log.child({ device: o.id });
    this.topics = topics(o.site);
  }

  async start(): Promise<void> {
    const status = this.topics.deviceStatus(this.o.id);
    this.client = await mqtt.connectAsync(this.o.url, {
      protocolVersion: 4,
      clientId: `${this.o.id}-sim`,
      username: this.o.id,
      password: this.o.password,
      reconnectPeriod: 1000,
      connectTimeout: 5000,
      will: { topic: status, payload: Buffer.from('offline'), qos: 1, retain: true },
    });
    await this.client.publishAsync(status, 'online', { qos: 1, retain: true });
    await this.started(this.client);
  }

  protected async started(_client: MqttClient): Promise<void> {}

  async stop(): Promise<void> {
    const c = this.client;
    this.client = null;
    if (!c) return;
    await c.publishAsync(this.topics.deviceStatus(this.o.id), 'offline', { qos: 1, retain: true }).catch(() => undefined);
    await c.endAsync();
  }
}

/** A sensor publishing readings in the box's reading format. */
export class SensorSim extends MqttDevice {
  constructor(o: DeviceOptions, private readonly unit: string) {
    super(o);
  }

  async publish(value: number | string | null): Promise<void> {
    if (!this.client) return;
    const body = value === null ? { value: null, quality: 'error' } : { value, unit: this.unit };
    await this.client.publishAsync(this.topics.sensorReading(this.o.id), JSON.stringify(body), { qos: 1 });
  }
}
