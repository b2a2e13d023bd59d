/**
 * Spotting resent commands. A QoS 1 PUBLISH the client resends because our PUBACK was lost
 * carries DUP = 1 and the same packet id (MQTT 3.1.1 §4.3.2). A command must not act twice (a
 * second broadcast, a second siren), so a resend of an id seen from the same client within the
 * window is recognised and the broker drops it.
 */
import type { PublishPacket } from 'aedes';

/** How long a command's packet id is remembered to recognise a resend. */
export const COMMAND_DEDUPE_MS = 60_000;

export class CommandResends {
  /** Per client: packet id → when it was last seen. Gone with the client. */
  private readonly recent = new WeakMap<object, Map<number, number>>();

  constructor(private readonly windowMs = COMMAND_DEDUPE_MS) {}

  /** Records the packet's id and says whether it is a resend of one seen lately. */
  isResend(client: object, packet: PublishPacket): boolean {
    if (!packet.qos || packet.messageId === undefined) return false;
    const now = Date.now();
    let seen = this.recent.get(client);
    if (!seen) this.recent.set(client, (seen = new Map()));
    for (const [id, at] of seen) if (now - at > this.windowMs) seen.delete(id);
    const resend = packet.dup === true && seen.has(packet.messageId);
    seen.set(packet.messageId, now);
    return resend;
  }
}
