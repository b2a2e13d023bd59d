/**
 * The township's side of the uplink tests: a Mosquitto with the box's account (allowed only
 * its site's tree, as a township would set it) and a township account reading everything, and
 * a subscriber that collects what arrives on `sb/v1/<site>/event`, deduped by seq.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { startMosquitto, type Mosquitto, type MosquittoOptions } from './mosquitto.ts';

export const BOX_USER = 'sb-itest';
export const BOX_PASS = 'box-uplink-secret';
export const TOWN_USER = 'township';
export const TOWN_PASS = 'township-secret';

/** The box's account may use only its own site's tree (and read the CAP tree); the township reads and writes everything. */
export function townshipAcl(site = 'itest', user = BOX_USER): string[] {
  return [`user ${user}`, `topic readwrite sb/v1/${site}/#`, 'topic read sb/v1/cap/#', `user ${TOWN_USER}`, 'topic readwrite sb/v1/#'];
}

/**
 * `max_queued_messages 0`: Mosquitto's default (1,000) drops QoS 1 messages for a consumer that
 * falls more than that behind, after it has acknowledged them to the box; a township's broker
 * must not (README "Township uplink"). Tests that share the machine's two cores fall behind.
 */
export async function startTownship(o: Partial<MosquittoOptions> = {}): Promise<Mosquitto> {
  return startMosquitto({ accounts: [{ username: BOX_USER, password: BOX_PASS }, { username: TOWN_USER, password: TOWN_PASS }], acl: townshipAcl(), ...o, extra: ['max_queued_messages 0', ...(o.extra ?? [])] });
}

/** A password file holding `password` with a trailing newline, as an editor leaves it. */
export function passwordFile(password = BOX_PASS): string {
  const f = join(mkdtempSync(join(tmpdir(), 'sb-pw-')), 'uplink.pw');
  writeFileSync(f, `${password}\n`, { mode: 0o600 });
  return f;
}

export interface WireEvent {
  site: string;
  seq: number;
  type: string;
  live: boolean;
  [k: string]: unknown;
}

export interface Subscriber {
  client: MqttClient;
  /** Every event message as it arrived (duplicates included). */
  raw: WireEvent[];
  /** First copy of each seq. */
  bySeq: Map<number, WireEvent>;
  /** Other topics' messages, last one per topic. */
  other: Map<string, string>;
  stop(): Promise<void>;
}

/** A township consumer of `sb/v1/<site>/#` (MQTT 5, QoS 1), deduping events by seq. */
export async function subscribe(url: string, site = 'itest', opts: mqtt.IClientOptions = {}): Promise<Subscriber> {
  const client = await mqtt.connectAsync(url, { username: TOWN_USER, password: TOWN_PASS, protocolVersion: 5, reconnectPeriod: 500, clean: false, clientId: `town-${Math.random().toString(16).slice(2, 8)}`, properties: { sessionExpiryInterval: 600 }, ...opts });
  const sub: Subscriber = { client, raw: [], bySeq: new Map(), other: new Map(), stop: async () => void (await client.endAsync(true)) };
  client.on('message', (topic, payload) => {
    if (topic === `sb/v1/${site}/event`) {
      const e = JSON.parse(payload.toString()) as WireEvent;
      sub.raw.push(e);
      if (!sub.bySeq.has(e.seq)) sub.bySeq.set(e.seq, e);
    } else sub.other.set(topic, payload.toString());
  });
  await client.subscribeAsync(`sb/v1/${site}/#`, { qos: 1 });
  return sub;
}
