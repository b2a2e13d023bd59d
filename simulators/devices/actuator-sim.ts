/**
 * A simulated siren relay or speaker: it records every command it was told and logs what it
 * would do. A speaker "speaks" for a time proportional to the text and repeat count, then
 * reports `done` so the box frees this speaker's channel.
 */
import type { MqttClient } from 'mqtt';
import { MqttDevice, type DeviceOptions } from './mqtt-device.ts';

export interface ReceivedCommand {
  at: number;
  command: Record<string, unknown>;
}

export class ActuatorSim extends MqttDevice {
  readonly received: ReceivedCommand[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(o: DeviceOptions, readonly kind: 'siren' | 'speaker', private readonly msPerChar = 20) {
    super(o);
  }

  protected override async started(client: MqttClient): Promise<void> {
    client.on('message', (_topic, payload) => this.onCommand(payload));
    await client.subscribeAsync(this.topic(`cmd/${this.o.id}`), { qos: 1 });
  }

  override async stop(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    await super.stop();
  }

  private onCommand(payload: Buffer): void {
    let command: Record<string, unknown>;
    try {
      command = JSON.parse(payload.toString('utf8'));
    } catch (err) {
      this.log.error({ err }, 'unreadable command');
      return;
    }
    this.received.push({ at: Date.now(), command });
    const { effect, zone, activity } = { effect: command.type, zone: command.zone, activity: command.activity };
    if (effect === 'siren') this.log.info({ pattern: command.pattern, steps: command.steps, zone, drill: command.drill }, `siren ${this.o.id}: sounding ${command.pattern}`);
    else if (effect === 'siren_off') this.log.info({ reason: command.reason, by: command.by, zone }, `siren ${this.o.id}: off`);
    else if (effect === 'broadcast') this.speak(command);
    else if (effect === 'broadcast_stop') this.log.info({ reason: command.reason, zone }, `speaker ${this.o.id}: stopped`);
    void activity;
  }

  private speak(c: Record<string, unknown>): void {
    const text = String(c.text_zh ?? '');
    const repeat = Number(c.repeat ?? 1);
    this.log.info({ zone: c.zone, repeat, text_en: c.text_en }, `speaker ${this.o.id}: 🔔 ${text}`);
    const t = setTimeout(() => {
      this.timers.delete(t);
      void this.client
        ?.publishAsync(this.topic(`actuator/${this.o.id}/report`), JSON.stringify({ report: 'done', activity: c.activity, zone: c.zone }), { qos: 1 })
        .catch((err) => this.log.error({ err }, 'report not sent'));
    }, text.length * repeat * this.msPerChar);
    this.timers.add(t);
  }
}
