/**
 * A message for the township broker other than the event log itself (which the uplink reads
 * from its cursor): retained alert states, CAP messages, rollups. The producers in this folder
 * are pure and make these; the uplink's `sendSide()` publishes them. While the link is down,
 * side messages with the same `key` replace each other (only the newest retained alert state
 * of a subject is worth sending after an outage); messages without a key all wait.
 */
export interface SideMessage {
  topic: string;
  payload: string | Buffer;
  retain: boolean;
  qos: 0 | 1;
  /** MQTT 5 message expiry interval (s), counted by the broker from when it receives the message (ignored on MQTT 3.1.1). */
  expirySeconds?: number;
  /**
   * Wall time (epoch ms) the message stops being valid. Set, it wins over `expirySeconds`: the
   * uplink computes the interval when it hands the message to the link, so a CAP message that
   * waited out an outage is sent with what is left of its validity, or dropped if none is.
   */
  expiresAt?: number;
  /** Messages with the same key replace each other while they wait (retained state: only the latest matters). */
  key?: string;
}
