/**
 * Test rig for the embedded broker: a site config with MQTT accounts (fast scrypt parameters),
 * a real BrokerModule on 127.0.0.1 with ephemeral ports, real mqtt.js clients, and waits on
 * events with timeouts instead of sleeps.
 */
import { connect as netConnect, type Socket } from 'node:net';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { pino } from 'pino';
import { BrokerModule, type BrokerOptions } from '../../gateway/broker/broker.ts';
import { topics } from '../../gateway/broker/topics.ts';
import type { SiteConfig } from '../../gateway/config/types.ts';
import type { Reading } from '../../gateway/engine/types.ts';
import { Bus, type ActuatorReport, type BoxCommand, type CommandMeta } from '../../gateway/shell/bus.ts';
import { systemClock } from '../../gateway/shell/clock.ts';
import { hashSecret } from '../../gateway/shell/secrets.ts';
import { site } from './site.ts';

export const SITE = 't1';
export const T = topics(SITE);

/** Small scrypt parameters: tests need speed, not strength. */
const FAST = { N: 1024, r: 8, p: 1 };

export const ACCOUNTS = {
  rg1: 'device',
  wl1: 'device',
  sm1: 'device',
  sm2: 'device',
  siren1: 'device',
  spk1: 'device',
  li: 'officer',
  zhen: 'township',
  obs: 'observer',
} as const;
export type Username = keyof typeof ACCOUNTS;

export const secretOf = (u: string): string => `${u}-secret-pass`;

export async function brokerSite(maxPayloadBytes = 256): Promise<SiteConfig> {
  const accounts = await Promise.all(
    Object.entries(ACCOUNTS).map(async ([username, role]) => `    - { username: ${username}, role: ${role}, secret_hash: '${await hashSecret(secretOf(username), FAST)}' }`),
  );
  return site(`
site: { id: ${SITE}, name: 测试村 }
zones:
  - { id: east }
sensors:
  - { id: rg1, kind: rain }
  - { id: wl1, kind: water_level, stages: { warning: 3.5 } }
  - { id: sm1, kind: smoke, mode: state }
  - { id: sm2, kind: smoke, mode: analog }
actuators:
  - { id: siren1, kind: siren, zones: [east] }
  - { id: spk1, kind: speaker, zones: [east] }
mqtt:
  host: 127.0.0.1
  port: 0
  ws_port: 0
  max_payload_bytes: ${maxPayloadBytes}
  accounts:
${accounts.join('\n')}
`);
}

/** Resolves when `check()` is true; rejects after `timeoutMs` with `what`. */
export async function until(check: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** One pino line as logged: `msg`, `level` (20 debug, 30 info, 40 warn) and the fields. */
export interface LogLine {
  msg: string;
  level: number;
  [field: string]: unknown;
}

export interface Msg {
  topic: string;
  text: string;
  retain: boolean;
}

/** Every message a client receives, in order. */
export class Inbox {
  readonly messages: Msg[] = [];
  constructor(client: MqttClient) {
    client.on('message', (topic, payload, packet) => this.messages.push({ topic, text: payload.toString('utf8'), retain: packet.retain }));
  }
  async next(topic: string, timeoutMs = 3000): Promise<Msg> {
    let found: Msg | undefined;
    await until(() => (found = this.messages.find((m) => m.topic === topic)) !== undefined, `a message on ${topic}`, timeoutMs);
    return found!;
  }
  on(topic: string): Msg[] {
    return this.messages.filter((m) => m.topic === topic);
  }
}

export class BrokerRig {
  readonly readings: Reading[] = [];
  readonly commands: [BoxCommand, CommandMeta][] = [];
  readonly reports: ActuatorReport[] = [];
  private readonly clients: MqttClient[] = [];

  private constructor(readonly config: SiteConfig, readonly bus: Bus, readonly broker: BrokerModule) {
    bus.on('reading', (r) => this.readings.push(r));
    bus.on('command', (c, m) => this.commands.push([c, m]));
    bus.on('actuatorReport', (r) => this.reports.push(r));
  }

  /** With `logs`, every line the broker logs (debug and up) is parsed into that array. */
  static async start(config: SiteConfig, opts: BrokerOptions = {}, logs?: LogLine[]): Promise<BrokerRig> {
    const log = logs ? pino({ level: 'debug' }, { write: (line: string) => void logs.push(JSON.parse(line) as LogLine) }) : pino({ level: 'silent' });
    const bus = new Bus(log);
    const broker = new BrokerModule({ config, bus, log, clock: systemClock() }, { tcpPort: 0, wsPort: 0, ...opts });
    await broker.start();
    return new BrokerRig(config, bus, broker);
  }

  /** Connects as `username` (its right secret unless given); rejects with the CONNACK error. */
  connect(username: string, opts: IClientOptions & { url?: string } = {}): Promise<MqttClient> {
    const { url, ...rest } = opts;
    const options: IClientOptions = {
      protocolVersion: 4,
      username,
      password: secretOf(username),
      reconnectPeriod: 0,
      connectTimeout: 5000,
      ...rest,
    };
    const client = url ? mqtt.connect(url, options) : mqtt.connect({ host: '127.0.0.1', port: this.broker.tcpPort, ...options });
    this.clients.push(client);
    return new Promise((resolve, reject) => {
      client.once('connect', () => resolve(client));
      client.once('error', (err) => {
        client.end(true);
        reject(err);
      });
      client.once('close', () => reject(new Error('closed before CONNACK')));
    });
  }

  /** The CONNACK return code a connect attempt gets (0 = accepted). */
  async connackCode(username: string | undefined, password: string | undefined, opts: IClientOptions = {}): Promise<number> {
    try {
      const c = await this.connect(username ?? '', { username, password, ...opts });
      await c.endAsync();
      return 0;
    } catch (err) {
      const code = (err as { code?: number }).code;
      if (typeof code !== 'number') throw err;
      return code;
    }
  }

  async stop(): Promise<void> {
    for (const c of this.clients) c.end(true);
    await this.broker.stop();
  }
}

/** The granted QoS (or 128) for one subscription. */
export function subscribeCode(client: MqttClient, filter: string, qos: 0 | 1 = 0): Promise<number> {
  return new Promise((resolve, reject) => {
    client.subscribe(filter, { qos }, (err, granted, packet) => {
      const code = (packet as { granted?: number[] } | undefined)?.granted?.[0] ?? granted?.[0]?.qos;
      if (typeof code === 'number') resolve(code);
      else reject(err ?? new Error('no SUBACK code'));
    });
  });
}

/** Publishes with QoS 1 and resolves on PUBACK (so the broker accepted the packet). */
export function publish1(client: MqttClient, topic: string, payload: string | Buffer, retain = false): Promise<void> {
  return client.publishAsync(topic, payload, { qos: 1, retain }).then(() => undefined);
}

/** An MQTT string (§1.5.3): two length bytes, then the bytes (a Buffer is sent as it is). */
export const str = (s: string | Buffer): Buffer => {
  const b = typeof s === 'string' ? Buffer.from(s, 'utf8') : s;
  return Buffer.concat([Buffer.from([b.length >> 8, b.length & 0xff]), b]);
};

/** One MQTT packet of a body under 128 bytes (a one-byte remaining length). */
export const packet = (type: number, body: Buffer): Buffer => Buffer.concat([Buffer.from([type, body.length]), body]);

/** MQTT 3.1.1 §3.1: protocol name, level 4, flags (username, password, clean), keepalive 60. */
export const rawConnect = (clientId: string | Buffer, username: string): Buffer =>
  packet(0x10, Buffer.concat([str('MQTT'), Buffer.from([4, 0xc2, 0, 60]), str(clientId), str(username), str(secretOf(username))]));

/** A raw TCP client: what it received, and whether the broker closed it. */
export async function rawClient(port: number): Promise<{ s: Socket; got: () => Buffer; closed: Promise<void> }> {
  const s = netConnect({ host: '127.0.0.1', port });
  let got = Buffer.alloc(0);
  s.on('data', (d: Buffer) => (got = Buffer.concat([got, d])));
  const closed = new Promise<void>((r) => s.once('close', () => r()));
  await new Promise<void>((r) => s.once('connect', () => r()));
  return { s, got: () => got, closed };
}
