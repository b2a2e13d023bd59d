/**
 * What the box refuses at CONNECT, before any secret is checked, and the one test for
 * ill-formed strings that CONNECT, PUBLISH and SUBSCRIBE share.
 */
import type { ConnectPacket } from 'aedes';

/**
 * MQTT 3.1.1 §3.1.3.1: a server must accept client ids of 1–23 bytes and MAY allow longer
 * ones. Real devices use longer ids (a MAC or serial number with a prefix, a UUID: 36), so the
 * box allows 128 UTF-8 bytes, as AWS IoT does; a longer id gets CONNACK 2 ([MQTT-3.1.3-9]).
 * Longer ids served no device and cost memory in every log line and session key.
 */
export const MAX_CLIENT_ID_BYTES = 128;

/**
 * MQTT 3.1.1 §1.5.3: a string must be well-formed UTF-8 ([MQTT-1.5.3-1]) without U+0000
 * ([MQTT-1.5.3-2]); otherwise the receiver MUST close the connection. mqtt-packet decodes
 * strings with Buffer#toString('utf8'), which turns every ill-formed sequence (a stray byte,
 * an overlong form, an encoded surrogate) into U+FFFD, so U+FFFD in a decoded string stands
 * for ill-formed input. A client could send a real U+FFFD, but no topic, username or
 * device id of ours can hold one (config ids are `[a-z0-9_-]`), so none is lost.
 */
export function wellFormed(s: string): boolean {
  return !/[\u0000\uFFFD]/.test(s);
}

export type ConnectRefusal =
  /** Close without CONNACK (§1.5.3). */
  | { action: 'close'; reason: 'ill_formed_utf8' }
  /** CONNACK 1: unacceptable protocol level. */
  | { action: 'connack'; returnCode: 1; reason: 'protocol_version' }
  /** CONNACK 2: identifier rejected. */
  | { action: 'connack'; returnCode: 2; reason: 'client_id_too_long' };

/** Why a CONNECT is refused, or `null` to go on to authentication. */
export function refuseConnect(packet: ConnectPacket): ConnectRefusal | null {
  const strings = [packet.protocolId ?? '', packet.clientId, packet.username ?? '', packet.will?.topic ?? ''];
  if (!strings.every(wellFormed)) return { action: 'close', reason: 'ill_formed_utf8' };
  // The README promises MQTT 3.1.1 only; aedes also takes 3.1 (level 3, 'MQIsdp').
  if (packet.protocolVersion !== 4) return { action: 'connack', returnCode: 1, reason: 'protocol_version' };
  if (Buffer.byteLength(packet.clientId, 'utf8') > MAX_CLIENT_ID_BYTES) return { action: 'connack', returnCode: 2, reason: 'client_id_too_long' };
  return null;
}
