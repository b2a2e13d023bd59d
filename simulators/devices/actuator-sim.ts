/**
 * A simulated siren relay or speaker: it records every command it was told and logs what it
 * would do. A speaker "speaks" for a time proportional to the text and repeat count, then
 * reports `done` so the box frees this speaker's channel. Given an audio URL (an IP speaker's
 * command, README "IP speakers"), it first fetches the audio as a networked speaker would,
 * keeps what it got in `fetched`, and "plays" that; when the fetch fails it says the text
 * instead, as a speaker with its own TTS does.
 */
import type { MqttClient } from 'mqtt';
import { MqttDevice, type DeviceOptions } from './mqtt-device.ts';

export interface ReceivedCommand {
  at: number;
  command: Record<string, unknown>;
}

/** What a speaker got from a command's audio URL. */
export interface FetchedAudio {
  activity: string;
  url: string;
  status: number | null;
  bytes: Buffer | null;
  /** The server's `error` (401 token_expired, 503 render_failed), or the network error's words. */
  error: string | null;
}

export class ActuatorSim extends MqttDevice {
  readonly received: ReceivedCommand[] = [];
  readonly fetched: FetchedAudio[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(o: DeviceOptions, readonly kind: 'siren' | 'speaker', private readonly msPerChar = 20) {
    super(o);
  }

  protected override async started(client: MqttClient): Promise<void> {
    client.on('message', (_topic, payload) => this.onCommand(payload));
    await client.subscribeAsync(this.topics.actuatorCommand(this.o.id), { qos: 1 });
  }

  /** Sends one report of its own, as a device does when it finds a fault (`{report: 'fault', detail: {reason}}`). */
  async report(body: Record<string, unknown>): Promise<void> {
    await this.client?.publishAsync(this.topics.actuatorReport(this.o.id), JSON.stringify(body), { qos: 1 });
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
    if (effect === 'siren') this.sound(command);
    else if (effect === 'siren_off') this.log.info({ reason: command.reason, by: command.by, zone }, `siren ${this.o.id}: off`);
    else if (effect === 'broadcast') this.speak(command);
    else if (effect === 'broadcast_stop') this.log.info({ reason: command.reason, zone }, `speaker ${this.o.id}: stopped`);
    void activity;
  }

  /**
   * A siren says what it is doing as it starts a pattern (`state`, with the activity): the
   * box's siren self-test needs an MQTT siren to report, or it cannot tell it sounded (README
   * "Self-tests"). Not `done`: the router takes `done` for a speaker's, and logs a command for it.
   */
  private sound(c: Record<string, unknown>): void {
    this.log.info({ pattern: c.pattern, steps: c.steps, zone: c.zone, drill: c.drill }, `siren ${this.o.id}: sounding ${String(c.pattern)}`);
    const state = { report: 'state', activity: c.activity, zone: c.zone, detail: { sounding: c.pattern } };
    void this.client?.publishAsync(this.topics.actuatorReport(this.o.id), JSON.stringify(state), { qos: 1 }).catch((err) => this.log.error({ err }, 'report not sent'));
  }

  /** GET the command's audio URL; never throws. */
  private async fetchAudio(activity: string, url: string): Promise<FetchedAudio> {
    const got: FetchedAudio = { activity, url, status: null, bytes: null, error: null };
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(15_000) });
      got.status = res.status;
      const body = Buffer.from(await res.arrayBuffer());
      if (res.ok) got.bytes = body;
      else got.error = String((JSON.parse(body.toString('utf8')) as { error?: unknown }).error ?? res.statusText);
    } catch (err) {
      got.error = (err as Error).message;
    }
    this.fetched.push(got);
    return got;
  }

  private speak(c: Record<string, unknown>): void {
    const audio = c.audio as { url?: unknown } | undefined;
    if (typeof audio?.url !== 'string') return this.say(c);
    void this.fetchAudio(String(c.activity), audio.url).then((got) => {
      if (got.bytes) this.log.info({ zone: c.zone, bytes: got.bytes.length }, `speaker ${this.o.id}: 🔔 playing the box's audio`);
      else this.log.warn({ status: got.status, error: got.error }, `speaker ${this.o.id}: no audio from the box; speaking the text itself`);
      this.say(c);
    });
  }

  private say(c: Record<string, unknown>): void {
    const text = String(c.text_zh ?? '');
    const repeat = Number(c.repeat ?? 1);
    this.log.info({ zone: c.zone, repeat, text_en: c.text_en }, `speaker ${this.o.id}: 🔔 ${text}`);
    const t = setTimeout(() => {
      this.timers.delete(t);
      void this.client
        ?.publishAsync(this.topics.actuatorReport(this.o.id), JSON.stringify({ report: 'done', activity: c.activity, zone: c.zone }), { qos: 1 })
        .catch((err) => this.log.error({ err }, 'report not sent'));
    }, text.length * repeat * this.msPerChar);
    this.timers.add(t);
  }
}
