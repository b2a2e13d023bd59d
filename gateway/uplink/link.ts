/**
 * One connection to the township broker (mqtt.js v5), made within a deadline. mqtt.js's own
 * reconnect is off (`reconnectPeriod: 0`): the uplink decides when to try again (jittered
 * backoff) and makes a new client each time, so nothing of a dead connection (its in-flight
 * store, a half-open socket) survives into the next (peer-lessons 3 and 5: MQTT.js #1974, #607).
 *
 * MQTT 5 first, unless the config says 4; a broker that refuses 5 (CONNACK "unacceptable
 * protocol version": 0x01 in 3.1.1, 0x84 in 5; Aedes 1.x does this) is asked again at once with
 * 3.1.1, and the uplink remembers it for the rest of the run.
 */
import { readFileSync } from 'node:fs';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { UplinkConfig } from '../config/types.ts';

export interface LinkOptions {
  config: UplinkConfig;
  password: string | null;
  protocol: 4 | 5;
  /** The retained last will on the township's status topic. */
  will: { topic: string; payload: string };
  connectDeadlineMs: number;
}

export interface Link {
  client: MqttClient;
  protocol: 4 | 5;
  /** MQTT 5 CONNACK Receive Maximum, when the broker gave one. */
  receiveMaximum?: number;
}

/** Why a connection attempt failed, as a code the uplink acts on (and logs). */
export class LinkError extends Error {
  constructor(
    readonly code: 'protocol_refused' | 'refused' | 'timeout' | 'tls_files' | 'network',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'LinkError';
  }
}

/** CONNACK codes for "this broker does not speak that protocol version" (MQTT 3.1.1 §3.2.2.3, MQTT 5 §3.2.2.2). */
function protocolRefused(err: unknown, protocol: 4 | 5): boolean {
  const code = (err as { code?: unknown }).code;
  const msg = (err as Error).message ?? '';
  return protocol === 5 && (code === 1 || code === 0x84 || /unacceptable protocol version|unsupported protocol version/i.test(msg));
}

export function tlsOptions(c: UplinkConfig): Pick<IClientOptions, 'ca' | 'cert' | 'key' | 'rejectUnauthorized'> {
  if (!c.url.startsWith('mqtts://')) return {};
  const read = (what: string, path: string | null): Buffer | undefined => {
    if (!path) return undefined;
    try {
      return readFileSync(path);
    } catch (err) {
      throw new LinkError('tls_files', `uplink ${what} ${path} cannot be read: ${(err as Error).message}`, { cause: err });
    }
  };
  // Read at each attempt: a certificate renewed on disk is taken without a restart.
  return { ca: read('ca_file', c.caFile), cert: read('cert_file', c.certFile), key: read('key_file', c.keyFile), rejectUnauthorized: true };
}

/** Connects once with `protocol`; rejects with a LinkError within the deadline, the client ended hard. */
function connectOnce(o: LinkOptions, protocol: 4 | 5): Promise<Link> {
  const c = o.config;
  const opts: IClientOptions = {
    protocolVersion: protocol,
    clientId: c.clientId,
    username: c.username ?? undefined,
    password: o.password ?? undefined,
    keepalive: c.keepaliveS,
    // A clean session: a township command queued for days while the box was away must not
    // sound a siren when it comes back; the township sees the box offline (last will) instead.
    clean: true,
    reconnectPeriod: 0,
    // Ours (below) decides; mqtt.js's own is only a backstop behind it.
    connectTimeout: o.connectDeadlineMs * 2,
    will: { topic: o.will.topic, payload: Buffer.from(o.will.payload), qos: 1, retain: true },
    ...tlsOptions(c),
  };
  return new Promise<Link>((resolve, reject) => {
    let settled = false;
    const client = mqtt.connect(c.url, opts);
    const fail = (err: LinkError): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      client.removeAllListeners();
      client.on('error', () => undefined);
      client.end(true);
      reject(err);
    };
    const timer = setTimeout(() => fail(new LinkError('timeout', `no CONNACK from ${c.url} within ${o.connectDeadlineMs} ms`)), o.connectDeadlineMs);
    client.once('connect', (connack) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      client.removeAllListeners('error');
      resolve({ client, protocol, receiveMaximum: connack.properties?.receiveMaximum });
    });
    client.on('error', (err) => {
      if (protocolRefused(err, protocol)) return fail(new LinkError('protocol_refused', err.message, { cause: err }));
      const code = (err as { code?: unknown }).code;
      fail(new LinkError(typeof code === 'number' ? 'refused' : 'network', err.message, { cause: err }));
    });
    client.on('close', () => fail(new LinkError('network', `connection to ${c.url} closed before CONNACK`)));
  });
}

/** Connects with the protocol asked for, falling back from 5 to 4 when the broker refuses 5. */
export async function openLink(o: LinkOptions): Promise<Link> {
  try {
    return await connectOnce(o, o.protocol);
  } catch (err) {
    if (err instanceof LinkError && err.code === 'protocol_refused') return connectOnce(o, 4);
    throw err;
  }
}
